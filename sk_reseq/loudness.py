"""ISO 226:2003 normal equal-loudness-level contours.

The standard tabulates three parameters (the exponent ``a_f``, the magnitude
of the linear transfer function ``L_U`` and the hearing threshold ``T_f``) at
29 preferred frequencies from 20 Hz to 12.5 kHz, and defines the contour at a
loudness level ``L_N`` (phon) by its Eq. (1). :func:`equal_loudness_contour`
evaluates that equation at the tabulated frequencies and interpolates the
resulting sound pressure levels in log-frequency with a monotone cubic
(PCHIP) interpolant, so the curve passes exactly through the standard's
values and does not overshoot between them.

Beyond the standard's range the contour is held at its edge value: below
20 Hz it equals the 20 Hz level and above 12.5 kHz the 12.5 kHz level. The
standard gives no data there; holding the edge is the conservative choice
(it neither boosts nor mutes the extreme bands relative to their nearest
measured neighbour) and keeps the weighting bounded.
"""

import numpy as np
from scipy.interpolate import PchipInterpolator

__all__ = [
    "ISO226_FREQUENCIES",
    "equal_loudness_contour",
    "loudness_level",
    "elc_weighting",
]

#: The 29 preferred frequencies of ISO 226:2003, Table 1 (Hz).
ISO226_FREQUENCIES = np.array(
    [20, 25, 31.5, 40, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630,
     800, 1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000, 10000, 12500]
)
_ALPHA_F = np.array(
    [0.532, 0.506, 0.480, 0.455, 0.432, 0.409, 0.387, 0.367, 0.349, 0.330, 0.315,
     0.301, 0.288, 0.276, 0.267, 0.259, 0.253, 0.250, 0.246, 0.244, 0.243, 0.243,
     0.243, 0.242, 0.242, 0.245, 0.254, 0.271, 0.301]
)
_L_U = np.array(
    [-31.6, -27.2, -23.0, -19.1, -15.9, -13.0, -10.3, -8.1, -6.2, -4.5, -3.1,
     -2.0, -1.1, -0.4, 0.0, 0.3, 0.5, 0.0, -2.7, -4.1, -1.0, 1.7, 2.5, 1.2, -2.1,
     -7.1, -11.2, -10.7, -3.1]
)
_T_F = np.array(
    [78.5, 68.7, 59.5, 51.1, 44.0, 37.5, 31.5, 26.5, 22.1, 17.9, 14.4, 11.4, 8.6,
     6.2, 4.4, 3.0, 2.2, 2.4, 3.5, 1.7, -1.3, -4.2, -6.0, -5.4, -1.5, 6.0, 12.6,
     13.9, 12.3]
)


def _check_phon(phon):
    phon = float(phon)
    if not np.isfinite(phon) or not 0.0 <= phon <= 100.0:
        raise ValueError(
            f"phon must be a finite loudness level in [0, 100], got {phon!r}; "
            "ISO 226:2003 is valid from 20 to 90 phon (80 phon above 4 kHz)."
        )
    return phon


def _tabulated_contour(phon):
    """ISO 226:2003 Eq. (1) at the 29 tabulated frequencies (dB SPL)."""
    b_f = (0.4 * 10 ** ((_T_F + _L_U) / 10 - 9)) ** _ALPHA_F
    a_f = 4.47e-3 * (10 ** (0.025 * phon) - 1.15) + b_f
    return 10 / _ALPHA_F * np.log10(a_f) - _L_U + 94


def equal_loudness_contour(frequencies, phon=80.0):
    """Sound pressure level of equal loudness at ``phon``, per frequency.

    Parameters
    ----------
    frequencies : array-like of float [shape=(...)]
        Frequencies in Hz (positive). Values outside 20 Hz - 12.5 kHz get
        the contour's value at the nearest edge (see the module notes).
    phon : float, default=80.0
        Loudness level in phon, in [0, 100].

    Returns
    -------
    spl : np.ndarray [shape=(...)]
        Sound pressure level in dB SPL that sounds as loud as a 1 kHz tone at
        ``phon`` dB SPL.

    Examples
    --------
    >>> from sk_reseq.loudness import equal_loudness_contour
    >>> float(equal_loudness_contour(1000.0, phon=80).round(1))
    80.0
    >>> bool(equal_loudness_contour(50.0) > equal_loudness_contour(1000.0))
    True
    """
    phon = _check_phon(phon)
    freqs = np.asarray(frequencies, dtype=float)
    if not np.all(np.isfinite(freqs)) or np.any(freqs <= 0):
        raise ValueError("frequencies must be finite and positive (Hz).")
    log_f = np.log10(ISO226_FREQUENCIES)
    interp = PchipInterpolator(log_f, _tabulated_contour(phon), extrapolate=False)
    clipped = np.clip(np.log10(freqs), log_f[0], log_f[-1])
    return interp(clipped)


def loudness_level(frequencies, spl):
    """Loudness level in phon of pure tones, ISO 226:2003 Eq. (2).

    The inverse of :func:`equal_loudness_contour` at the tabulated
    frequencies; only those 29 frequencies are accepted.

    Parameters
    ----------
    frequencies : array-like of float [shape=(n,)]
        Frequencies, each one of :data:`ISO226_FREQUENCIES`.
    spl : array-like of float [shape=(n,)]
        Sound pressure levels in dB SPL.

    Returns
    -------
    phon : np.ndarray [shape=(n,)]

    Examples
    --------
    >>> from sk_reseq.loudness import loudness_level
    >>> float(loudness_level([1000.0], [60.0])[0].round(1))
    60.0
    """
    freqs = np.atleast_1d(np.asarray(frequencies, dtype=float))
    spl = np.atleast_1d(np.asarray(spl, dtype=float))
    idx = np.searchsorted(ISO226_FREQUENCIES, freqs)
    idx = np.clip(idx, 0, len(ISO226_FREQUENCIES) - 1)
    if not np.allclose(ISO226_FREQUENCIES[idx], freqs):
        raise ValueError("frequencies must be among the 29 ISO 226 frequencies.")
    a, lu, tf = _ALPHA_F[idx], _L_U[idx], _T_F[idx]
    b_f = (0.4 * 10 ** ((spl + lu) / 10 - 9)) ** a - (0.4 * 10 ** ((tf + lu) / 10 - 9)) ** a
    return 40 * np.log10(b_f + 0.005135) + 94


def elc_weighting(frequencies, phon=80.0):
    """Equal-loudness weighting in dB, 0 dB at 1 kHz.

    The weight is ``phon - equal_loudness_contour(f, phon)``: adding it to a
    level spectrum expresses each band's level relative to how loud it is
    perceived at that monitoring level (the paper uses 80 phon).

    Parameters
    ----------
    frequencies : array-like of float [shape=(...)]
        Frequencies in Hz.
    phon : float, default=80.0
        Monitoring loudness level in phon.

    Returns
    -------
    weights : np.ndarray [shape=(...)]
        Weights in dB (negative where the ear is less sensitive).

    Examples
    --------
    >>> from sk_reseq.loudness import elc_weighting
    >>> w = elc_weighting([50.0, 1000.0, 3150.0])
    >>> bool(w[0] < 0 < w[2])
    True
    """
    return _check_phon(phon) - equal_loudness_contour(frequencies, phon)
