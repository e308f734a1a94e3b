"""One place that validates audio, ratings and factors.

Every public entry point of the toolkit calls these helpers, so bad input
gets the same clear message wherever it enters (compare librosa's
``util.valid_audio``). They never modify their input.
"""

import numbers

import numpy as np

__all__ = [
    "AudioValueError",
    "pcm_to_float",
    "float_to_pcm",
    "check_audio",
    "check_windows",
    "check_ratings",
    "check_factor",
]


class AudioValueError(ValueError):
    """Raised for audio that cannot be processed (shape, values, dtype)."""


def pcm_to_float(x):
    """Convert integer PCM to float32 in [-1, 1).

    The conversion rule: signed integers of ``b`` bits are divided by
    ``2 ** (b - 1)`` (so int16 ``-32768`` maps to ``-1.0``); unsigned 8-bit
    PCM (WAV's convention) is centred first, ``(x - 128) / 128``. Float
    input is returned unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq._validation import pcm_to_float
    >>> pcm_to_float(np.array([-32768, 0, 16384], dtype=np.int16)).tolist()
    [-1.0, 0.0, 0.5]
    """
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return (x.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(x.dtype, np.signedinteger):
        return (x / float(2 ** (8 * x.dtype.itemsize - 1))).astype(np.float32)
    return x


def float_to_pcm(y, dtype):
    """Inverse of :func:`pcm_to_float`: round, clip and cast to ``dtype``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq._validation import float_to_pcm
    >>> float_to_pcm(np.array([-1.0, 0.5, 2.0]), np.int16).tolist()
    [-32768, 16384, 32767]
    """
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return np.clip(np.round(y * 128.0 + 128.0), 0, 255).astype(dtype)
    if np.issubdtype(dtype, np.signedinteger):
        info = np.iinfo(dtype)
        scaled = np.round(np.asarray(y, dtype=np.float64) * 2.0 ** (8 * dtype.itemsize - 1))
        return np.clip(scaled, info.min, info.max).astype(dtype)
    return np.asarray(y, dtype=dtype)


def _as_float_array(x, name):
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of audio samples, got {type(x).__name__}.")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise AudioValueError(f"{name} could not be read as an array: {exc}") from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise TypeError(
            f"{name} must hold real numbers (float or integer PCM), got dtype {arr.dtype}."
        )
    if arr.size == 0:
        raise AudioValueError(f"{name} is empty (shape {arr.shape}); "
                              "at least one sample is needed.")
    arr = pcm_to_float(arr)
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise AudioValueError(f"{name} contains {bad} NaN or infinite sample(s); "
                              "audio must be finite.")
    return arr


def check_audio(x, *, name="audio", allow_batch=False):
    """Validate one track ``(channels, samples)`` (or ``(samples,)`` mono).

    Parameters
    ----------
    x : array-like
        Audio; float or integer PCM (see :func:`pcm_to_float`).
    name : str
        Name used in error messages.
    allow_batch : bool
        Also accept a batch of equal-length clips ``(n, channels, samples)``.

    Returns
    -------
    audio : np.ndarray
        Float array of the same shape, 1-D input promoted to ``(1, samples)``.
        Never a view that shares memory with a modified buffer: callers
        must not write into it.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq._validation import check_audio
    >>> check_audio(np.zeros(4, dtype=np.float32)).shape
    (1, 4)
    """
    arr = _as_float_array(x, name)
    if arr.ndim == 1:
        arr = arr[None, :]
    accepted = "(channels, samples) or (samples,)"
    if allow_batch:
        accepted += " or a batch (n, channels, samples)"
    if arr.ndim > (3 if allow_batch else 2):
        raise AudioValueError(f"{name} must have shape {accepted}; "
                              f"got {arr.ndim} dimensions {arr.shape}.")
    if arr.shape[-2] > 64 and arr.shape[-1] <= 64:
        raise AudioValueError(
            f"{name} has shape {arr.shape}: it looks like (samples, channels); "
            "sk_reseq expects channels first, (channels, samples). Transpose it (x.T)."
        )
    return arr


def check_windows(X, *, name="X", min_samples=1):
    """Validate a batch of audio windows ``(n, channels, samples)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq._validation import check_windows
    >>> check_windows(np.zeros((2, 2, 8))).shape
    (2, 2, 8)
    """
    arr = _as_float_array(X, name)
    if arr.ndim != 3:
        raise AudioValueError(
            f"{name} must be audio windows of shape (n_windows, channels, samples); "
            f"got {arr.ndim} dimension(s) {arr.shape}."
        )
    if arr.shape[-1] < min_samples:
        raise AudioValueError(
            f"{name} windows have {arr.shape[-1]} samples; at least {min_samples} are needed."
        )
    return arr


def check_ratings(y, *, name="y", n_samples=None):
    """Validate ratings: 1-D, or 2-D ``(n, n_raters)`` with NaN = declined.

    Values must lie in [0, 1]. Rows of a 2-D ``y`` in which every rater
    declined are rejected: the MSBE bounds are undefined for them.

    Returns
    -------
    y : np.ndarray of float64, 1-D or 2-D.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq._validation import check_ratings
    >>> check_ratings([[0.1, np.nan], [0.5, 0.25]]).shape
    (2, 2)
    """
    if isinstance(y, (str, bytes)) or y is None:
        raise TypeError(f"{name} must be an array of ratings in [0, 1], got {type(y).__name__}.")
    try:
        arr = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must hold numeric ratings in [0, 1] (NaN for declined): {exc}"
        ) from exc
    if arr.ndim not in (1, 2) or arr.size == 0:
        raise ValueError(
            f"{name} must be 1-D (n,) or 2-D (n, n_raters) and non-empty; got shape {arr.shape}."
        )
    if n_samples is not None and arr.shape[0] != n_samples:
        raise ValueError(f"{name} has {arr.shape[0]} rows but X has {n_samples} samples.")
    if np.any(np.isinf(arr)):
        raise ValueError(f"{name} contains infinite values; ratings lie in [0, 1], NaN = declined.")
    finite = arr[~np.isnan(arr)]
    if finite.size and (finite.min() < 0 or finite.max() > 1):
        raise ValueError(
            f"{name} has ratings outside [0, 1] (min {finite.min():g}, max {finite.max():g})."
        )
    if arr.ndim == 1 and np.isnan(arr).any():
        raise ValueError(f"1-D {name} must not contain NaN; use a 2-D rating matrix for declines.")
    if arr.ndim == 2:
        empty = np.flatnonzero(np.isnan(arr).all(axis=1))
        if empty.size:
            raise ValueError(
                f"{name} rows {empty[:5].tolist()} have no rating at all (every rater "
                "declined); drop them, the loss is undefined there."
            )
    return arr


def check_factor(factor, *, name="factor"):
    """Validate an attenuation factor: a scalar or 1-D array in [0, 1].

    Examples
    --------
    >>> from sk_reseq._validation import check_factor
    >>> check_factor(0.5)
    0.5
    """
    if isinstance(factor, numbers.Real) and not isinstance(factor, bool):
        value = float(factor)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1], got {value!r}.")
        return value
    try:
        arr = np.asarray(factor, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a number or an array of numbers in [0, 1].") from exc
    if arr.ndim == 0:
        return check_factor(float(arr), name=name)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a scalar or a non-empty 1-D array, "
                         f"got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1:
        raise ValueError(f"{name} values must be finite and lie in [0, 1].")
    return arr
