"""The spectral building blocks on plain arrays."""

import numpy as np
import pytest
from scipy.signal import get_window

from sk_reseq.spectral import (
    BandLayout,
    band_edges,
    band_matrix,
    bin_gains,
    gain_db,
    interpolation_matrix,
    power_spectrum,
    resonances,
    smooth_bands,
)


def test_band_edges_are_log_spaced_and_capped_at_nyquist():
    edges = band_edges(400, 20, 20000, sr=22050)
    assert len(edges) == 401 and edges[0] == 20 and np.isclose(edges[-1], 11025)
    ratios = edges[1:] / edges[:-1]
    np.testing.assert_allclose(ratios, ratios[0])


def test_band_matrix_reads_a_sine_in_its_band():
    sr, n_fft = 22050, 2048
    edges = band_edges(400, sr=sr)
    m = band_matrix(edges, sr, n_fft)
    np.testing.assert_allclose(m.sum(axis=1), 1)
    t = np.arange(n_fft) / sr
    freq = 100 * sr / n_fft  # on a bin
    p = power_spectrum(np.sin(2 * np.pi * freq * t), get_window("hann", n_fft))
    levels = m @ p
    centres = np.sqrt(edges[:-1] * edges[1:])
    assert abs(centres[np.argmax(levels)] - freq) / freq < 0.02


def test_smoothing_median_ignores_a_narrow_peak_mean_does_not():
    flat = np.zeros(200)
    flat[100] = 12
    med = smooth_bands(flat, 1.0, 40)
    mean = smooth_bands(flat, 1.0, 40, method="mean")
    assert med[100] == 0 and mean[100] > 0
    with pytest.raises(ValueError, match="median"):
        smooth_bands(flat, 1.0, 40, method="gauss")
    with pytest.raises(ValueError, match="> 0"):
        smooth_bands(flat, 0.0, 40)


def test_resonances_gains_and_scale_factors():
    levels = np.array([0.0, 6.0, 0.0])
    res = resonances(levels, np.zeros(3))
    np.testing.assert_array_equal(res, [0, 6, 0])
    gains = gain_db(res, 1.0)
    scale = bin_gains(gains[None], interpolation_matrix(np.array([100.0, 200, 400]),
                                                        np.array([100.0, 200, 400])))
    np.testing.assert_allclose(scale[0], [1, 10 ** (-6 / 20), 1])
    assert np.all((scale > 0) & (scale <= 1))


def test_interpolation_is_linear_in_log_frequency():
    m = interpolation_matrix(np.array([100.0, 400.0]), np.array([200.0]))
    np.testing.assert_allclose(m @ np.array([0.0, 1.0]), [0.5])


def test_layout_bundles_consistent_operators():
    layout = BandLayout(44100, 4096)
    assert layout.band_matrix.shape == (400, 2049)
    assert layout.interp.shape == (2049, 400)
    assert abs(layout.bands_per_octave - 400 / np.log2(1000)) < 1e-9
