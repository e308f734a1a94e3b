"""Stereo width: inter-channel correlation and RMS difference per frame.

The paper computes stereo width "as the correlation between channels and
absolute difference in RMS between channels" with its own code; Essentia has
no such descriptor. Plain numpy: the per-frame sums come from cumulative sums
of the signals, so the cost does not grow with the frames' overlap.
"""

import numpy as np

__all__ = ["stereo_width"]

# A channel whose frame RMS (after removing the mean) is below this is silent:
# its correlation with anything is undefined.
_SILENT_RMS = 1e-6


def _frame_sums(x, frame_size, hop_size):
    """Sum of ``x (..., samples)`` over each frame, ``(..., n_frames)``."""
    cumulative = np.zeros(x.shape[:-1] + (x.shape[-1] + 1,))
    np.cumsum(x, axis=-1, out=cumulative[..., 1:])
    starts = np.arange(0, x.shape[-1] - frame_size + 1, hop_size)
    return cumulative[..., starts + frame_size] - cumulative[..., starts]


def stereo_width(left, right, frame_size, hop_size):
    """Per-frame Pearson correlation and absolute RMS difference of two channels.

    Frames are rectangular (no window): frame ``k`` covers samples
    ``[k * hop_size, k * hop_size + frame_size)``; samples after the last
    whole frame are not used.

    Parameters
    ----------
    left, right : np.ndarray [shape=(..., samples)]
        The two channels.
    frame_size, hop_size : int
        Frame length and step in samples.

    Returns
    -------
    correlation : np.ndarray [shape=(..., n_frames)]
        Pearson correlation in [-1, 1]. Where a channel is silent in a frame
        (RMS around its mean below 1e-6, i.e. -120 dBFS) the correlation is
        undefined; it is then 1 if both channels are silent (no width) and 0
        if only one is (nothing in common). Mono input, sent as identical
        channels, gives 1.
    rms_difference : np.ndarray [shape=(..., n_frames)]
        ``|rms(left) - rms(right)|`` (RMS including any DC), 0 for mono.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.features import stereo_width
    >>> x = np.random.default_rng(0).standard_normal(2048)
    >>> corr, diff = stereo_width(x, x, frame_size=1024, hop_size=512)
    >>> corr.round(6).tolist(), diff.tolist()
    ([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    >>> corr, diff = stereo_width(x, -0.5 * x, frame_size=1024, hop_size=1024)
    >>> corr.round(6).tolist()
    [-1.0, -1.0]
    """
    left = np.asarray(left, dtype=np.float64)
    right = np.asarray(right, dtype=np.float64)
    n = float(frame_size)
    mean_l = _frame_sums(left, frame_size, hop_size) / n
    mean_r = _frame_sums(right, frame_size, hop_size) / n
    power_l = _frame_sums(left * left, frame_size, hop_size) / n
    power_r = _frame_sums(right * right, frame_size, hop_size) / n
    cross = _frame_sums(left * right, frame_size, hop_size) / n - mean_l * mean_r
    # Centered RMS; the clip absorbs the tiny negative rounding of E[x^2] - E[x]^2.
    sd_l = np.sqrt(np.maximum(power_l - mean_l * mean_l, 0.0))
    sd_r = np.sqrt(np.maximum(power_r - mean_r * mean_r, 0.0))
    silent_l, silent_r = sd_l < _SILENT_RMS, sd_r < _SILENT_RMS
    either = silent_l | silent_r
    correlation = cross / np.where(either, 1.0, sd_l * sd_r)
    correlation = np.where(either, np.where(silent_l & silent_r, 1.0, 0.0), correlation)
    rms_difference = np.abs(np.sqrt(np.maximum(power_l, 0)) - np.sqrt(np.maximum(power_r, 0)))
    return np.clip(correlation, -1.0, 1.0), rms_difference
