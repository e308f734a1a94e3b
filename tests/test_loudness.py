"""ISO 226:2003 contours against the standard's own table and equations."""

import numpy as np
import pytest

from sk_reseq.loudness import (
    ISO226_FREQUENCIES,
    elc_weighting,
    equal_loudness_contour,
    loudness_level,
)

# ISO 226:2003 Table 1, transcribed independently of the module (f, alpha_f, L_U, T_f).
TABLE_1 = [
    (20, 0.532, -31.6, 78.5), (25, 0.506, -27.2, 68.7), (31.5, 0.480, -23.0, 59.5),
    (40, 0.455, -19.1, 51.1), (50, 0.432, -15.9, 44.0), (63, 0.409, -13.0, 37.5),
    (80, 0.387, -10.3, 31.5), (100, 0.367, -8.1, 26.5), (125, 0.349, -6.2, 22.1),
    (160, 0.330, -4.5, 17.9), (200, 0.315, -3.1, 14.4), (250, 0.301, -2.0, 11.4),
    (315, 0.288, -1.1, 8.6), (400, 0.276, -0.4, 6.2), (500, 0.267, 0.0, 4.4),
    (630, 0.259, 0.3, 3.0), (800, 0.253, 0.5, 2.2), (1000, 0.250, 0.0, 2.4),
    (1250, 0.246, -2.7, 3.5), (1600, 0.244, -4.1, 1.7), (2000, 0.243, -1.0, -1.3),
    (2500, 0.243, 1.7, -4.2), (3150, 0.243, 2.5, -6.0), (4000, 0.242, 1.2, -5.4),
    (5000, 0.242, -2.1, -1.5), (6300, 0.245, -7.1, 6.0), (8000, 0.254, -11.2, 12.6),
    (10000, 0.271, -10.7, 13.9), (12500, 0.301, -3.1, 12.3),
]


def iso226_eq1(phon, alpha_f, l_u, t_f):
    """ISO 226:2003 Eq. (1), one frequency at a time."""
    b_f = (0.4 * 10 ** ((t_f + l_u) / 10 - 9)) ** alpha_f
    a_f = 4.47e-3 * (10 ** (0.025 * phon) - 1.15) + b_f
    return 10 / alpha_f * np.log10(a_f) - l_u + 94


@pytest.mark.parametrize("phon", [20, 40, 60, 80, 90])
def test_contour_matches_standard_at_its_29_frequencies(phon):
    expected = [iso226_eq1(phon, a, lu, tf) for _, a, lu, tf in TABLE_1]
    got = equal_loudness_contour([row[0] for row in TABLE_1], phon)
    np.testing.assert_allclose(got, expected, atol=0.05)


def test_elc_weighting_at_80_phon():
    freqs = np.array([row[0] for row in TABLE_1])
    expected = 80 - np.array([iso226_eq1(80, a, lu, tf) for _, a, lu, tf in TABLE_1])
    np.testing.assert_allclose(elc_weighting(freqs, 80), expected, atol=0.05)
    # Well-known landmarks of the 80-phon contour: 1 kHz is the reference and the
    # ear is most sensitive around 3-4 kHz and far less so at 20 Hz.
    assert abs(elc_weighting(1000.0)) < 0.05
    assert elc_weighting(20.0) < -35
    assert freqs[np.argmax(elc_weighting(freqs))] in (3150, 4000)


def test_contour_round_trips_through_eq2():
    spl = equal_loudness_contour(ISO226_FREQUENCIES, 60)
    np.testing.assert_allclose(loudness_level(ISO226_FREQUENCIES, spl), 60, atol=0.1)


def test_interpolation_between_and_beyond_the_table():
    between = equal_loudness_contour([1100.0], 80)[0]
    lo, hi = equal_loudness_contour([1000.0, 1250.0], 80)
    assert min(lo, hi) <= between <= max(lo, hi)  # monotone (PCHIP), no overshoot
    np.testing.assert_allclose(equal_loudness_contour([10.0, 18000.0], 80),
                               equal_loudness_contour([20.0, 12500.0], 80))


@pytest.mark.parametrize("phon", [-1, 101, np.nan])
def test_bad_phon(phon):
    with pytest.raises(ValueError, match="phon"):
        equal_loudness_contour([1000.0], phon)


def test_bad_frequencies():
    with pytest.raises(ValueError, match="positive"):
        equal_loudness_contour([0.0, 100.0])
    with pytest.raises(ValueError, match="29 ISO 226"):
        loudness_level([1100.0], [60.0])
