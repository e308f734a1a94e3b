"""Ratings files: a long-format CSV ``track,rater,rating`` (empty = declined).

In memory the ratings are a wide :class:`pandas.DataFrame`: one row per
track (index ``"track"``, str), one column per rater (columns ``"rater"``,
str), values in [0, 1] and NaN where the rater declined or gave no rating.
The listening web app writes its results with :func:`save_ratings`; the
models read them with :func:`load_ratings` and :func:`align_ratings`.
"""

import csv
import io
import math
import os
from pathlib import Path

import numpy as np

from .._atomic import atomic_open
from .._optional import import_optional

pd = import_optional("pandas", "sk_reseq.datasets")

__all__ = ["load_ratings", "save_ratings", "align_ratings", "RATINGS_COLUMNS"]

#: Header of a ratings CSV file.
RATINGS_COLUMNS = ("track", "rater", "rating")


def _parse_rating(text, where):
    """Float in [0, 1] from a CSV cell; NaN for an empty cell (declined)."""
    text = text.strip()
    if text == "":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise ValueError(
            f"{where}: rating {text!r} is not a number; ratings are numbers in [0, 1], "
            "or empty when the rater declined."
        ) from None
    return _check_value(value, where)


def _check_value(value, where):
    if not math.isfinite(value):
        raise ValueError(
            f"{where}: rating {value!r} is not finite; leave the cell empty for a declined rating."
        )
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{where}: rating {value:g} is outside [0, 1].")
    return value


def _wide(rows):
    """Wide DataFrame from ``(track, rater, rating)`` rows, in order of first appearance."""
    tracks = list(dict.fromkeys(r[0] for r in rows))
    raters = list(dict.fromkeys(r[1] for r in rows))
    t_index = {t: i for i, t in enumerate(tracks)}
    r_index = {r: j for j, r in enumerate(raters)}
    values = np.full((len(tracks), len(raters)), np.nan)
    for track, rater, rating in rows:
        values[t_index[track], r_index[rater]] = rating
    return pd.DataFrame(
        values,
        index=pd.Index(tracks, name="track", dtype=object),
        columns=pd.Index(raters, name="rater", dtype=object),
    )


def load_ratings(csv_file):
    """Read a long-format ratings CSV into a wide DataFrame.

    Parameters
    ----------
    csv_file : str, path-like or text file object
        CSV with a header containing ``track``, ``rater`` and ``rating``
        (other columns are ignored). One row per (track, rater) pair; an
        empty ``rating`` means the rater declined. A pair without a row is
        NaN as well.

    Returns
    -------
    ratings : pandas.DataFrame [shape=(n_tracks, n_raters)]
        Index ``track`` and columns ``rater`` (str, in order of first
        appearance), float ratings in [0, 1], NaN = declined.

    Raises
    ------
    ValueError
        Naming the file and the 1-based line: missing columns, empty track
        or rater, non-numeric or out-of-range ratings, duplicate
        (track, rater) rows, or a file without data rows.
    FileNotFoundError
        If the file does not exist.

    Examples
    --------
    >>> import io
    >>> from sk_reseq.datasets import load_ratings
    >>> text = "track,rater,rating\\na,s01,0.25\\na,s02,\\nb,s01,0.5\\n"
    >>> ratings = load_ratings(io.StringIO(text))
    >>> ratings.index.tolist(), ratings.columns.tolist()
    (['a', 'b'], ['s01', 's02'])
    >>> ratings.to_numpy().tolist()
    [[0.25, nan], [0.5, nan]]
    """
    if isinstance(csv_file, (str, os.PathLike)):
        path = Path(csv_file)
        if not path.is_file():
            raise FileNotFoundError(f"Ratings file not found: {path}")
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return _read(handle, str(path))
    if not hasattr(csv_file, "read"):
        raise TypeError(
            f"csv_file must be a path or a text file object, got {type(csv_file).__name__}."
        )
    return _read(csv_file, getattr(csv_file, "name", "ratings CSV"))


def _read(handle, name):
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        raise ValueError(f"{name}: the file is empty; expected a header track,rater,rating.")
    header = [h.strip().lower() for h in header]
    missing = [c for c in RATINGS_COLUMNS if c not in header]
    if missing:
        raise ValueError(
            f"{name}, line 1: missing column(s) {missing}; the header must contain "
            f"{','.join(RATINGS_COLUMNS)} (got {','.join(header)})."
        )
    cols = [header.index(c) for c in RATINGS_COLUMNS]
    rows, seen = [], {}
    for fields in reader:
        line = reader.line_num
        where = f"{name}, line {line}"
        if not any(f.strip() for f in fields):
            continue  # blank line
        if len(fields) < len(header):
            raise ValueError(
                f"{where}: {len(fields)} field(s) but the header has {len(header)}."
            )
        track, rater, rating = (fields[c] for c in cols)
        track, rater = track.strip(), rater.strip()
        if not track or not rater:
            raise ValueError(f"{where}: empty {'track' if not track else 'rater'} id.")
        key = (track, rater)
        if key in seen:
            raise ValueError(
                f"{where}: duplicate rating of track {track!r} by rater {rater!r} "
                f"(first on line {seen[key]})."
            )
        seen[key] = line
        rows.append((track, rater, _parse_rating(rating, where)))
    if not rows:
        raise ValueError(f"{name}: no ratings after the header.")
    return _wide(rows)


def _long_rows(ratings):
    """``(track, rater, rating)`` string rows from a wide or long table, validated."""
    if isinstance(ratings, pd.DataFrame) and set(RATINGS_COLUMNS) <= set(map(str, ratings.columns)):
        table = ratings.rename(columns=str)[list(RATINGS_COLUMNS)]
        items = table.itertuples(index=False, name=None)
        label = "row {i} (track {t!r}, rater {r!r})"
    else:
        if not isinstance(ratings, pd.DataFrame):
            arr = np.asarray(ratings)
            if arr.ndim != 2:
                raise ValueError(
                    "ratings must be a wide DataFrame (tracks x raters), a long DataFrame "
                    f"with columns {list(RATINGS_COLUMNS)}, or a 2-D array; got shape {arr.shape}."
                )
            ratings = pd.DataFrame(arr)
        stacked = ratings.stack(future_stack=True)
        items = ((t, r, v) for (t, r), v in stacked.items())
        label = "cell {i} (track {t!r}, rater {r!r})"
    rows, seen = [], {}
    for i, (track, rater, value) in enumerate(items, start=1):
        where = "ratings " + label.format(i=i, t=track, r=rater)
        track, rater = str(track), str(rater)
        if not track.strip() or not rater.strip():
            raise ValueError(f"{where}: empty track or rater id.")
        if (track, rater) in seen:
            raise ValueError(f"{where}: duplicate (track, rater) pair, "
                             f"first at {seen[track, rater]}.")
        seen[track, rater] = i
        if isinstance(value, str):
            value = _parse_rating(value, where)
        elif value is None or value is pd.NA:
            value = math.nan
        else:
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{where}: rating {value!r} is not a number; ratings are numbers in [0, 1] "
                    "or NaN for declined."
                ) from None
        text = "" if math.isnan(value) else format(_check_value(value, where), ".10g")
        rows.append((track, rater, text))
    if not rows:
        raise ValueError("ratings is empty; nothing to save.")
    return rows


def save_ratings(ratings, csv_file):
    """Write ratings as a long-format CSV ``track,rater,rating``, atomically.

    Parameters
    ----------
    ratings : pandas.DataFrame or array-like
        Either wide (index = tracks, columns = raters, NaN = declined; every
        cell is written, NaN as an empty rating; a 2-D array gets ids
        ``"0", "1", ...``) or long with columns ``track``, ``rater``,
        ``rating`` (its rows are written as they are).
    csv_file : str or path-like
        Destination. Written to a temporary file in the same folder and
        renamed, so a failed write leaves no partial file.

    Raises
    ------
    ValueError
        Naming the offending row or cell: ratings outside [0, 1],
        non-numeric ratings, duplicate (track, rater) pairs.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, pandas as pd
    >>> from sk_reseq.datasets import load_ratings, save_ratings
    >>> wide = pd.DataFrame([[0.25, np.nan]], index=["a"], columns=["s01", "s02"])
    >>> path = os.path.join(tempfile.mkdtemp(), "ratings.csv")
    >>> save_ratings(wide, path)
    >>> print(open(path).read().strip())
    track,rater,rating
    a,s01,0.25
    a,s02,
    >>> load_ratings(path).equals(wide.rename_axis(index="track", columns="rater"))
    True
    """
    rows = _long_rows(ratings)
    path = Path(csv_file)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RATINGS_COLUMNS)
    writer.writerows(rows)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"Folder for the ratings file does not exist: {directory}")
    with atomic_open(path, newline="") as handle:
        handle.write(buffer.getvalue())


def _strip_audio_suffix(name):
    from ..audio import SUPPORTED_FORMATS

    stem, suffix = os.path.splitext(str(name))
    return stem if suffix.lower() in SUPPORTED_FORMATS else str(name)


def align_ratings(ratings, track_names):
    """Reorder a wide ratings table to match a list of tracks.

    Track ids are compared without an audio file extension, so ratings of
    ``"song1"`` match a file named ``"song1.flac"`` and vice versa.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Wide ratings (index = track ids), as from :func:`load_ratings`.
    track_names : sequence of str
        The tracks, e.g. the names from :func:`load_audio_folder`.

    Returns
    -------
    aligned : pandas.DataFrame [shape=(len(track_names), n_raters)]
        Row ``i`` holds the ratings of ``track_names[i]``; the index is
        ``track_names``.

    Raises
    ------
    ValueError
        If ratings name tracks that are not in ``track_names`` (unknown
        tracks), if some tracks have no rating at all (no row, or every
        rater declined), or if ids repeat.

    Examples
    --------
    >>> import pandas as pd
    >>> from sk_reseq.datasets import align_ratings
    >>> ratings = pd.DataFrame({"s01": [0.5, 0.25]}, index=["b", "a"])
    >>> align_ratings(ratings, ["a.wav", "b.wav"])["s01"].tolist()
    [0.25, 0.5]
    """
    if not isinstance(ratings, pd.DataFrame):
        raise TypeError(
            "ratings must be a wide pandas DataFrame (index = track ids, columns = raters), "
            f"as returned by load_ratings; got {type(ratings).__name__}."
        )
    if isinstance(track_names, str):
        raise TypeError("track_names must be a sequence of track names, not one string.")
    names = [str(n) for n in track_names]
    keys = [_strip_audio_suffix(n) for n in names]
    rated = [_strip_audio_suffix(t) for t in ratings.index]
    for label, ids in (("track_names", keys), ("ratings index", rated)):
        dup = pd.Index(ids)[pd.Index(ids).duplicated()].unique().tolist()
        if dup:
            raise ValueError(f"{label} has repeated track ids (extension ignored): {dup[:5]}.")
    unknown = [t for t, k in zip(ratings.index, rated) if k not in set(keys)]
    if unknown:
        raise ValueError(
            f"ratings name {len(unknown)} unknown track(s) not among track_names: "
            f"{unknown[:5]}{' ...' if len(unknown) > 5 else ''}."
        )
    table = pd.DataFrame(ratings.to_numpy(dtype=float), index=rated, columns=ratings.columns)
    aligned = table.reindex(keys)
    unrated = [n for n, row in zip(names, aligned.to_numpy()) if np.isnan(row).all()]
    if unrated:
        raise ValueError(
            f"{len(unrated)} track(s) have no rating (no row, or every rater declined): "
            f"{unrated[:5]}{' ...' if len(unrated) > 5 else ''}."
        )
    aligned.index = pd.Index(names, name="track", dtype=object)
    return aligned
