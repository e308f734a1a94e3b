"""Export the listening test's ratings to the toolkit's long-format CSV."""

import logging
from pathlib import Path

from .._optional import import_optional
from ..datasets import save_ratings
from ._db import RatingStore

pd = import_optional("pandas", "the ratings export")

__all__ = ["export_ratings", "ratings_frame"]

logger = logging.getLogger(__name__)


def ratings_frame(db_path):
    """The stored ratings as a long DataFrame ``track, rater, rating`` (NaN = declined).

    Rows are sorted by rater, then track.

    Examples
    --------
    >>> import tempfile, os
    >>> from sk_reseq.listen import RatingStore, ratings_frame
    >>> path = os.path.join(tempfile.mkdtemp(), "ratings.sqlite")
    >>> store = RatingStore(path)
    >>> _ = store.register("r1", ["a", "b"])
    >>> _ = store.rate("r1", "a", 0.125), store.rate("r1", "b", None)
    >>> ratings_frame(path)
      track rater  rating
    0     a    r1   0.125
    1     b    r1     NaN
    """
    if not Path(db_path).is_file():
        raise ValueError(f"no ratings database at {str(db_path)!r}: nobody has rated yet "
                         "(or pass the right --db).")
    rows = RatingStore(db_path).rows()
    frame = pd.DataFrame(rows, columns=["track", "rater", "rating"])
    return frame.astype({"track": str, "rater": str, "rating": float})


def export_ratings(panel_dir, csv_path, *, db_path=None):
    """Write the panel's ratings as the CSV read by ``sk_reseq.datasets.load_ratings``.

    The file has the header ``track,rater,rating``, one row per answer;
    an empty rating means the rater declined ("none acceptable"). It is
    written atomically.

    Parameters
    ----------
    panel_dir : str or path-like
        The panel folder served by the listening test.
    csv_path : str or path-like
        Output CSV file.
    db_path : str or path-like, optional
        The ratings database (default ``PANEL_DIR/ratings.sqlite``).

    Returns
    -------
    ratings : pandas.DataFrame
        The exported rows (``track, rater, rating``; NaN = declined).

    Examples
    --------
    >>> import tempfile, os
    >>> from sk_reseq.listen import RatingStore, export_ratings
    >>> panel = tempfile.mkdtemp()
    >>> store = RatingStore(os.path.join(panel, "ratings.sqlite"))
    >>> _ = store.register("r1", ["a"]); _ = store.rate("r1", "a", None)
    >>> _ = export_ratings(panel, os.path.join(panel, "ratings.csv"))
    >>> print(open(os.path.join(panel, "ratings.csv")).read().strip())
    track,rater,rating
    a,r1,
    """
    db_path = Path(panel_dir) / "ratings.sqlite" if db_path is None else db_path
    frame = ratings_frame(db_path)
    if frame.empty:
        raise ValueError(f"the ratings database {str(db_path)!r} holds no ratings yet; "
                         "nothing to export.")
    save_ratings(frame, csv_path)
    logger.info("exported %d ratings of %d raters to %s",
                len(frame), frame["rater"].nunique(), csv_path)
    return frame
