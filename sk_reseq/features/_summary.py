"""The paper's 7 statistics over a window's frames, vectorized over windows."""

import warnings

import numpy as np
from scipy import stats

__all__ = ["STATISTICS", "summarize"]

STATISTICS = ("mean", "median", "std", "skew", "kurtosis", "p10", "p90")


def _percentile_sorted(ordered, q):
    """``np.percentile(..., q, method="linear")`` along the last axis of sorted data."""
    position = (ordered.shape[-1] - 1) * q / 100.0
    below = int(np.floor(position))
    above = min(below + 1, ordered.shape[-1] - 1)
    fraction = position - below
    return ordered[..., below] + fraction * (ordered[..., above] - ordered[..., below])


def _statistics(values):
    """The 7 statistics along the last axis of NaN-free ``values`` (..., n_frames).

    Skewness and kurtosis use the definitions of ``scipy.stats.skew`` and
    ``scipy.stats.kurtosis`` (defaults: biased, Fisher), computed from the
    central moments directly: one sort and a few passes for all statistics
    instead of scipy's per-call validation (tests compare with scipy).
    """
    ordered = np.sort(values, axis=-1)
    mean = values.mean(axis=-1)
    deviation = values - mean[..., None]
    squared = deviation * deviation
    m2 = squared.mean(axis=-1)
    m3 = (squared * deviation).mean(axis=-1)
    m4 = (squared * squared).mean(axis=-1)
    # scipy's test for a constant sequence (moments lost to rounding): undefined.
    constant = m2 <= (np.finfo(np.float64).eps * mean) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = np.where(constant, np.nan, m3 / m2**1.5)
        kurtosis = np.where(constant, np.nan, m4 / m2**2 - 3.0)
    return np.stack(
        [
            mean,
            _percentile_sorted(ordered, 50),
            np.sqrt(m2),
            skew,
            kurtosis,
            _percentile_sorted(ordered, 10),
            _percentile_sorted(ordered, 90),
        ],
        axis=-1,
    )


def _statistics_nan(values):
    """Like :func:`_statistics`, leaving NaN out (slower; rare)."""
    p10, median, p90 = np.nanpercentile(values, [10, 50, 90], axis=-1)
    return np.stack(
        [
            np.nanmean(values, axis=-1),
            median,
            np.nanstd(values, axis=-1),
            np.asarray(stats.skew(values, axis=-1, nan_policy="omit")),
            np.asarray(stats.kurtosis(values, axis=-1, nan_policy="omit")),
            p10,
            p90,
        ],
        axis=-1,
    )


def summarize(values):
    """Summarize frame-wise descriptors by the paper's 7 statistics.

    The statistics are, per descriptor over the frames of one window: mean,
    median, standard deviation (population, ``ddof=0``), skewness and excess
    kurtosis (``scipy.stats.skew`` / ``scipy.stats.kurtosis`` defaults: biased
    estimators, Fisher's definition, so a normal sample has kurtosis near 0),
    and the 10th and 90th percentiles (linear interpolation).

    NaN marks a frame with no value (the first frame's spectral flux) and is
    left out of that descriptor's statistics. Skewness and kurtosis of a
    constant sequence are undefined; they are set to 0, as is any statistic
    that would otherwise be NaN or infinite (e.g. of a descriptor with no value
    at all), so the result is always finite.

    Parameters
    ----------
    values : np.ndarray [shape=(n_windows, n_frames, n_descriptors)]
        Descriptor values per frame.

    Returns
    -------
    features : np.ndarray [shape=(n_windows, n_descriptors * 7)], float64
        Descriptor-major: the 7 statistics of descriptor 0 (in the order of
        ``STATISTICS``), then those of descriptor 1, and so on.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.features import summarize, STATISTICS
    >>> values = np.array([1.0, 2.0, 3.0, 4.0, 10.0]).reshape(1, 5, 1)
    >>> summary = dict(zip(STATISTICS, summarize(values)[0].round(2).tolist()))
    >>> summary  # doctest: +NORMALIZE_WHITESPACE
    {'mean': 4.0, 'median': 3.0, 'std': 3.16, 'skew': 1.14, 'kurtosis': -0.21,
     'p10': 1.4, 'p90': 7.6}
    >>> summarize(np.ones((1, 5, 1)))[0].tolist()
    [1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    """
    values = np.asarray(values, dtype=np.float64)
    n_windows, _, n_descriptors = values.shape
    # (n_windows, n_descriptors, n_frames): reductions along contiguous memory.
    values = np.ascontiguousarray(values.transpose(0, 2, 1))
    out = np.empty((n_windows, n_descriptors, len(STATISTICS)))
    has_nan = np.isnan(values).any(axis=(0, 2))
    with warnings.catch_warnings():
        # scipy and the nan-functions warn on constant or all-NaN sequences;
        # their NaN results are replaced below.
        warnings.simplefilter("ignore", RuntimeWarning)
        if not has_nan.all():
            out[:, ~has_nan] = _statistics(values[:, ~has_nan])
        if has_nan.any():
            out[:, has_nan] = _statistics_nan(values[:, has_nan])
    np.nan_to_num(out, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    return out.reshape(n_windows, -1)
