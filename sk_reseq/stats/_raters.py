"""Per-rater statistics of a listening test (the paper's Table 1)."""

import numpy as np

from .._optional import import_optional

pd = import_optional("pandas", "sk_reseq.stats")

__all__ = ["rater_summary", "rater_correlations"]


def _as_frame(ratings):
    """Wide float DataFrame (tracks x raters) from a DataFrame or a 2-D array."""
    if isinstance(ratings, pd.DataFrame):
        frame = ratings
    else:
        if isinstance(ratings, (str, bytes)) or ratings is None:
            raise TypeError(
                "ratings must be a wide DataFrame (tracks x raters) or a 2-D array, "
                f"got {type(ratings).__name__}."
            )
        arr = np.asarray(ratings)
        if arr.ndim != 2:
            raise ValueError(
                f"ratings must be 2-D (n_tracks, n_raters); got shape {arr.shape}."
            )
        frame = pd.DataFrame(arr, columns=[f"s{j + 1:02d}" for j in range(arr.shape[1])])
    try:
        frame = frame.astype(float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"ratings must be numeric (NaN = declined): {exc}") from exc
    if frame.size == 0:
        raise ValueError(f"ratings is empty (shape {frame.shape}).")
    values = frame.to_numpy()
    finite = values[~np.isnan(values)]
    if np.isinf(finite).any() or (finite.size and (finite.min() < 0 or finite.max() > 1)):
        raise ValueError("ratings must lie in [0, 1] (NaN = declined).")
    return frame


def rater_summary(ratings):
    """Rating statistics per rater, as in the paper's Table 1.

    Parameters
    ----------
    ratings : pandas.DataFrame or array-like [shape=(n_tracks, n_raters)]
        Wide ratings in [0, 1], NaN = declined (e.g. from
        :func:`sk_reseq.datasets.load_ratings`). An array's raters are named
        ``s01, s02, ...``.

    Returns
    -------
    summary : pandas.DataFrame [shape=(n_raters, 5)]
        One row per rater with the columns ``"# No rating"`` (declined),
        ``"# 0.0"`` (ratings of exactly 0), ``"Min"``, ``"Median"`` and
        ``"Max"`` of the given ratings (NaN for a rater with none).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.stats import rater_summary
    >>> rater_summary([[0.0, 0.5], [0.25, np.nan], [0.0, 1.0]])
         # No rating  # 0.0  Min  Median   Max
    s01            0      2  0.0    0.00  0.25
    s02            1      0  0.5    0.75  1.00
    """
    frame = _as_frame(ratings)
    given = frame.notna()
    summary = pd.DataFrame(
        {
            "# No rating": (~given).sum().astype(int),
            "# 0.0": (frame == 0).sum().astype(int),
            "Min": frame.min(),
            "Median": frame.median(),
            "Max": frame.max(),
        }
    )
    summary.index = summary.index.astype(str)
    summary.index.name = frame.columns.name
    return summary


def rater_correlations(ratings, min_periods=3):
    """Pearson correlation between every pair of raters (the paper's Fig. 3).

    Each pair is correlated over the tracks both rated (pairwise-complete).

    Parameters
    ----------
    ratings : pandas.DataFrame or array-like [shape=(n_tracks, n_raters)]
        Wide ratings, NaN = declined.
    min_periods : int, default=3
        Fewer common tracks than this give NaN.

    Returns
    -------
    corr : pandas.DataFrame [shape=(n_raters, n_raters)]

    Examples
    --------
    >>> from sk_reseq.stats import rater_correlations
    >>> rater_correlations([[0.0, 0.1], [0.5, 0.4], [1.0, 0.9]]).round(2).to_numpy().tolist()
    [[1.0, 0.99], [0.99, 1.0]]
    """
    frame = _as_frame(ratings)
    return frame.corr(method="pearson", min_periods=min_periods)
