"""The paper's 7 statistics over a window's frames, vectorized over windows."""

import warnings

import numpy as np
from scipy import stats

__all__ = ["STATISTICS", "summarize"]

STATISTICS = ("mean", "median", "std", "skew", "kurtosis", "p10", "p90")


def _statistics(values, nan_aware):
    """Stack the 7 statistics of ``values`` (n, n_frames, d) along a new last axis."""
    if nan_aware:
        mean, median, std = np.nanmean, np.nanmedian, np.nanstd
        percentile, policy = np.nanpercentile, "omit"
    else:
        mean, median, std = np.mean, np.median, np.std
        percentile, policy = np.percentile, "propagate"
    p10, p90 = percentile(values, [10, 90], axis=1)
    return np.stack(
        [
            mean(values, axis=1),
            median(values, axis=1),
            std(values, axis=1),
            np.asarray(stats.skew(values, axis=1, nan_policy=policy)),
            np.asarray(stats.kurtosis(values, axis=1, nan_policy=policy)),
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
    >>> dict(zip(STATISTICS, summarize(values)[0].round(2).tolist()))  # doctest: +NORMALIZE_WHITESPACE
    {'mean': 4.0, 'median': 3.0, 'std': 3.16, 'skew': 1.14, 'kurtosis': -0.21,
     'p10': 1.4, 'p90': 7.6}
    >>> summarize(np.ones((1, 5, 1)))[0].tolist()
    [1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    """
    values = np.asarray(values, dtype=np.float64)
    n_windows, _, n_descriptors = values.shape
    out = np.empty((n_windows, n_descriptors, len(STATISTICS)))
    has_nan = np.isnan(values).any(axis=(0, 1))
    with warnings.catch_warnings():
        # Constant sequences: scipy warns of precision loss and returns NaN
        # (replaced below); all-NaN columns warn in the nan-functions.
        warnings.simplefilter("ignore", RuntimeWarning)
        if not has_nan.all():
            out[:, ~has_nan] = _statistics(values[:, :, ~has_nan], nan_aware=False)
        if has_nan.any():
            out[:, has_nan] = _statistics(values[:, :, has_nan], nan_aware=True)
    np.nan_to_num(out, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    return out.reshape(n_windows, -1)
