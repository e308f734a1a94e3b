"""The oracle factor: the attenuation that brings resonant music closest to its clean self."""

import numpy as np

__all__ = ["FACTOR_STEPS"]

#: The 17 attenuation factors a rater could choose from: 0, 1/16, ..., 1.
FACTOR_STEPS = np.arange(17) / 16


def _band_distance(levels, reference):
    """Mean over frames and bands of the squared dB difference.

    ``levels`` may carry leading axes (one per candidate factor); the last
    two are (frames, bands).
    """
    return np.mean((levels - reference) ** 2, axis=(-2, -1))


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
    reference = layout.levels(equalizer.framing_.frame_power(clean))
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
