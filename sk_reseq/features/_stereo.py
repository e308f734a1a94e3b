"""Stereo width: inter-channel correlation and RMS difference per frame.

The paper computes stereo width "as the correlation between channels and
absolute difference in RMS between channels" with its own code; Essentia has
no such descriptor. Plain numpy: per-frame sums are assembled from block sums,
so the signals are read once whatever the frames' overlap.
"""

import math

import numpy as np

__all__ = ["stereo_width"]

# A channel whose frame RMS (after removing the mean) is below this is silent:
# its correlation with anything is undefined.
_SILENT_RMS = 1e-6


def _frame_moments(left, right, frame_size, hop_size):
    """Per-frame sums of l, r, l*l, r*r and l*r: ``(5, ..., n_frames)`` float64.

    Frames are made of blocks of ``gcd(frame_size, hop_size)`` samples (512
    by default): one pass over the signals gives the block sums (einsum
    accumulates in float64 without temporary arrays), and a cumulative sum
    over the few blocks gives the frame sums.
    """
    block = math.gcd(frame_size, hop_size)
    n_frames = (left.shape[-1] - frame_size) // hop_size + 1
    n_blocks = ((n_frames - 1) * hop_size + frame_size) // block
    shape = left.shape[:-1] + (n_blocks, block)
    lb = left[..., : n_blocks * block].reshape(shape)
    rb = right[..., : n_blocks * block].reshape(shape)
    sums = np.stack(
        [
            np.einsum("...i->...", lb, dtype=np.float64),
            np.einsum("...i->...", rb, dtype=np.float64),
            np.einsum("...i,...i->...", lb, lb, dtype=np.float64),
            np.einsum("...i,...i->...", rb, rb, dtype=np.float64),
            np.einsum("...i,...i->...", lb, rb, dtype=np.float64),
        ]
    )
    cumulative = np.zeros(sums.shape[:-1] + (n_blocks + 1,))
    np.cumsum(sums, axis=-1, out=cumulative[..., 1:])
    first = np.arange(n_frames) * (hop_size // block)
    return cumulative[..., first + frame_size // block] - cumulative[..., first]


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
    left, right = np.asarray(left), np.asarray(right)
    if not left.dtype == right.dtype == np.float32:  # float32 is summed in float64 anyway
        left, right = left.astype(np.float64), right.astype(np.float64)
    sum_l, sum_r, sum_ll, sum_rr, sum_lr = _frame_moments(left, right, frame_size, hop_size)
    n = float(frame_size)
    mean_l, mean_r = sum_l / n, sum_r / n
    power_l, power_r = sum_ll / n, sum_rr / n
    cross = sum_lr / n - mean_l * mean_r
    # Centered RMS; the clip absorbs the tiny negative rounding of E[x^2] - E[x]^2.
    sd_l = np.sqrt(np.maximum(power_l - mean_l * mean_l, 0.0))
    sd_r = np.sqrt(np.maximum(power_r - mean_r * mean_r, 0.0))
    silent_l, silent_r = sd_l < _SILENT_RMS, sd_r < _SILENT_RMS
    either = silent_l | silent_r
    correlation = cross / np.where(either, 1.0, sd_l * sd_r)
    correlation = np.where(either, np.where(silent_l & silent_r, 1.0, 0.0), correlation)
    rms_difference = np.abs(np.sqrt(np.maximum(power_l, 0)) - np.sqrt(np.maximum(power_r, 0)))
    return np.clip(correlation, -1.0, 1.0), rms_difference
