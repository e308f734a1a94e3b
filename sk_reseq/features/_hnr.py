"""Harmonics-to-noise ratio by Boersma's (1993) autocorrelation method.

Essentia has no HNR, and the method is a few array operations, so it is
written here, vectorized over all frames at once.
"""

import numpy as np
from scipy import fft

__all__ = ["HNR_RANGE_DB", "HNR_PITCH_RANGE", "harmonics_to_noise_ratio"]

HNR_RANGE_DB = (-20.0, 40.0)
HNR_PITCH_RANGE = (75.0, 1000.0)
# Frames whose windowed energy is below this (per sample, full scale 1) count as silent.
_SILENCE_POWER = 1e-12


def _autocorrelation(x, n_fft, n_lags):
    spectrum = fft.rfft(x, n=n_fft, axis=-1)
    power = spectrum.real**2 + spectrum.imag**2
    return fft.irfft(power, n=n_fft, axis=-1)[..., :n_lags]


def harmonics_to_noise_ratio(frames, sr, *, pitch_range=HNR_PITCH_RANGE):
    """Harmonics-to-noise ratio (dB) of each frame, after Boersma (1993).

    For each frame ``x`` of length ``N``: remove its mean, multiply by a Hann
    window ``w``, take the autocorrelation ``r_a`` (FFT, zero-padded so it is
    not circular) normalized by its lag-0 value, and divide it by the window's
    normalized autocorrelation ``r_w``: ``r_x(tau) = r_a(tau) / r_w(tau)``
    (Boersma's eq. 9, which undoes the window's taper). The strongest *local
    maximum* of ``r_x`` over the lags of ``pitch_range``, its height refined by
    parabolic interpolation (Boersma uses sinc interpolation), is the harmonic fraction
    ``r``, and ``HNR = 10 log10(r / (1 - r))``.

    Lags are limited to ``N / 3`` (at least three periods in the frame, where
    the window correction is reliable), so with 1024-sample frames at 22050 Hz
    the lowest pitch considered is 75 Hz, at 44100 Hz about 129 Hz.
    ``r`` is clipped so that the HNR lies in ``HNR_RANGE_DB`` = [-20, 40] dB:
    frames without a local maximum in the lag range, and silent frames (mean
    windowed power below 1e-12), get the floor, -20 dB.

    Parameters
    ----------
    frames : np.ndarray [shape=(..., N)]
        Frames of a mono signal.
    sr : float
        Sample rate in Hz.
    pitch_range : (float, float), default=(75.0, 1000.0)
        Lowest and highest fundamental frequency (Hz) searched.

    Returns
    -------
    hnr : np.ndarray [shape=(...)], float64
        HNR in dB, within ``HNR_RANGE_DB``.

    References
    ----------
    P. Boersma, "Accurate short-term analysis of the fundamental frequency and
    the harmonics-to-noise ratio of a sampled sound," Proceedings of the
    Institute of Phonetic Sciences 17, 97-110, 1993.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.features._hnr import harmonics_to_noise_ratio
    >>> t = np.arange(1024) / 22050
    >>> tone = np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 440 * t)
    >>> noise = np.random.default_rng(0).standard_normal(1024)
    >>> hnr = harmonics_to_noise_ratio(np.stack([tone, noise]), sr=22050)
    >>> bool(hnr[0] > 20 > hnr[1])
    True
    """
    frames = np.asarray(frames)
    n = frames.shape[-1]
    low, high = HNR_RANGE_DB
    # Lag range; one extra lag each side so that every candidate has two neighbours.
    lag_min = max(int(np.floor(sr / pitch_range[1])), 2)
    lag_max = min(int(np.ceil(sr / pitch_range[0])), n // 3)
    if lag_max - lag_min < 2:
        return np.full(frames.shape[:-1], low)

    # float32 is plenty for r in [0.0099, 0.9999] (the clipped range) and
    # is faster in scipy.fft; the zero padding only needs to cover the lags used.
    window = np.hanning(n).astype(np.float32)
    x = np.asarray(frames, dtype=np.float32)
    x = x - x.mean(axis=-1, keepdims=True)
    x *= window
    n_fft = fft.next_fast_len(n + lag_max + 2, real=True)
    r_a = _autocorrelation(x, n_fft, lag_max + 2).astype(np.float64)
    r_w = _autocorrelation(window, n_fft, lag_max + 2).astype(np.float64)
    power = r_a[..., 0]
    silent = power <= _SILENCE_POWER * n
    r = r_a / np.where(silent, 1.0, power)[..., None] / (r_w / r_w[0])

    # Local maxima among the candidate lags (slices: views, no copies).
    left = r[..., lag_min - 1 : lag_max]
    mid = r[..., lag_min : lag_max + 1]
    right = r[..., lag_min + 1 : lag_max + 2]
    candidates = np.where((mid >= left) & (mid > right), mid, -np.inf)
    best = candidates.argmax(axis=-1)[..., None]
    found = np.isfinite(np.take_along_axis(candidates, best, axis=-1)[..., 0])
    # Parabolic interpolation of the highest peak's height.
    y0, y1, y2 = (np.take_along_axis(side, best, axis=-1)[..., 0] for side in (left, mid, right))
    curvature = y0 - 2.0 * y1 + y2
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curvature < 0, 0.5 * (y0 - y2) / curvature, 0.0)
    height = np.where(found, y1 - 0.25 * (y0 - y2) * shift, np.nan)

    r_low = 1.0 / (1.0 + 10.0 ** (-low / 10.0))
    r_high = 1.0 / (1.0 + 10.0 ** (-high / 10.0))
    r_max = np.clip(np.where(silent | ~np.isfinite(height), r_low, height), r_low, r_high)
    return np.clip(10.0 * np.log10(r_max / (1.0 - r_max)), low, high)
