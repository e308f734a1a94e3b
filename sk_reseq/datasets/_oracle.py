"""The oracle factor: the attenuation that brings resonant music closest to its clean self."""

import numpy as np
from scipy.signal import get_window

from ..spectral import power_spectrum

__all__ = ["FACTOR_STEPS"]

#: The 17 attenuation factors a rater could choose from: 0, 1/16, ..., 1.
FACTOR_STEPS = np.arange(17) / 16


def _band_distance(levels, reference):
    """Mean over frames and bands of the squared dB difference.

    ``levels`` may carry leading axes (one per candidate factor); the last
    two are (frames, bands).
    """
    return np.mean((levels - reference) ** 2, axis=(-2, -1))


def _frame_power(equalizer, audio):
    """Per-frame power spectra, summed over channels, in the equalizer's framing.

    The same frames as ``equalizer.analyze(audio).power`` (checked in the
    tests) without running its detector, which the clean excerpt does not need.
    """
    n_fft, hop = equalizer.n_fft_, equalizer.hop_length_
    n_frames = equalizer.n_frames(audio.shape[1])
    # The equalizer's stream starts with n_fft - hop zeros and is padded at the end.
    padded = np.zeros((audio.shape[0], (n_frames - 1) * hop + n_fft))
    padded[:, n_fft - hop : n_fft - hop + audio.shape[1]] = audio
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=-1)[:, ::hop]
    return power_spectrum(frames, get_window("hann", n_fft)).sum(axis=0)


def _oracle_distances(equalizer, audio, clean, factors=FACTOR_STEPS):
    """Distance to ``clean`` of ``audio`` equalized at each of ``factors`` (the 17 steps).

    A factor may also be an array with one value per frame (a factor curve).

    The equalizer is linear in the STFT domain: at factor ``f`` it scales
    frame ``t``'s power spectrum by ``10 ** (-f * R[t] / 10)``, where ``R[t]``
    is the frame's resonance curve interpolated to the DFT bins. The band
    levels of every output therefore follow from one analysis of ``audio``
    (per-frame power and resonances) without resynthesis.
    """
    analysis = equalizer.analyze(audio)
    layout = analysis.layout
    reference = layout.levels(_frame_power(equalizer, clean))
    power = analysis.power
    # Resonances in dB on the DFT bins (the interpolation is linear).
    res_bins = (layout.interp @ analysis.resonances.astype(np.float64).T).T
    log_atten = res_bins * (-np.log(10.0) / 10.0)
    distances = np.empty(len(factors))
    for k, factor in enumerate(factors):
        factor = np.asarray(factor, dtype=np.float64)
        factor = factor[:, None] if factor.ndim else factor  # a curve: one value per frame
        distances[k] = _band_distance(layout.levels(power * np.exp(factor * log_atten)), reference)
    return distances
