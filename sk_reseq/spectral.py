"""Band layout, ELC-weighted band spectrum, smoothing, resonances and gains.

This module is the one place where the resonance equalizer's math lives
(paper, section 2 and Fig. 1). Every function works on plain arrays; the
transformers in :mod:`sk_reseq.preprocessing` and the equalizer in
:mod:`sk_reseq.equalizer` call them.

The chain, per analysis frame:

1. ``power``: power spectrum of the frame (DFT bins), see :func:`power_spectrum`.
2. ``levels`` (Fig. 1 e): mean power in each of ``n_bands`` log-spaced bands,
   in dB, plus the ISO 226 weighting at 80 phon (:func:`band_levels`).
3. ``smoothed`` (g): ``levels`` smoothed over a sliding window of
   ``smoothing`` octaves, a running median by default (:func:`smooth_bands`).
4. ``resonances`` (h, i): ``max(levels - smoothed - threshold, 0)``
   (:func:`resonances`; the paper's detector has ``threshold=0``).
5. ``gain`` (l, m): ``-factor * resonances`` in dB, interpolated back to the
   DFT bins and turned into linear scale factors in (0, 1]
   (:func:`bin_gains`).

Band edges
----------
``n_bands + 1`` edges spaced geometrically from ``fmin`` (20 Hz) to
``fmax`` (20 kHz, or the Nyquist frequency when that is lower); a band's
centre is the geometric mean of its edges. With the defaults there are
about 40 bands per octave, narrower than the DFT's bin spacing below a few
hundred Hz. A band's power is therefore the mean, over the band, of the
power spectrum linearly interpolated between bins, and a band is never
taken narrower than one bin (centred on the band's centre), which is the
DFT's own resolution; see :func:`band_matrix`.
"""

from dataclasses import dataclass
from functools import lru_cache

import bottleneck as bn
import numpy as np
import scipy.fft
from scipy import signal, sparse
from scipy.ndimage import uniform_filter1d

from .loudness import elc_weighting

__all__ = [
    "N_BANDS",
    "band_edges",
    "band_centers",
    "bands_per_octave",
    "band_matrix",
    "power_spectrum",
    "band_power",
    "band_power_to_levels",
    "band_levels",
    "smooth_bands",
    "resonances",
    "gain_db",
    "interpolation_matrix",
    "bin_gains",
    "BandLayout",
    "cached_layout",
    "Framing",
    "default_n_fft",
    "peaking_sos",
    "peaking_power_response",
    "random_peaking_filters",
]

#: Number of log-spaced bands of the paper's ELC-weighted spectrum.
N_BANDS = 400

# Power below this is treated as silence: -150 dB keeps log10 finite on
# digital silence while lying far below any 24-bit noise floor.
_POWER_FLOOR = 1e-15


def band_edges(n_bands=N_BANDS, fmin=20.0, fmax=20000.0, *, sr=None):
    """Geometrically spaced band edges.

    Parameters
    ----------
    n_bands : int, default=400
        Number of bands.
    fmin, fmax : float
        Lowest and highest edge in Hz.
    sr : float, optional
        Sample rate; when given, ``fmax`` is capped at the Nyquist frequency.

    Returns
    -------
    edges : np.ndarray [shape=(n_bands + 1,)]

    Examples
    --------
    >>> from sk_reseq.spectral import band_edges
    >>> e = band_edges(400)
    >>> e.shape, float(e[0]), float(e[-1])
    ((401,), 20.0, 20000.0)
    """
    if int(n_bands) < 2:
        raise ValueError(f"n_bands must be an integer >= 2, got {n_bands!r}.")
    if sr is not None:
        fmax = min(fmax, sr / 2)
    if not 0 < fmin < fmax:
        raise ValueError(
            f"Band range needs 0 < fmin < fmax (fmax capped at sr / 2), got "
            f"fmin={fmin!r}, fmax={fmax!r}."
        )
    return np.geomspace(fmin, fmax, int(n_bands) + 1)


def band_centers(edges):
    """Geometric centres of the bands between ``edges``.

    Examples
    --------
    >>> from sk_reseq.spectral import band_centers
    >>> band_centers([10.0, 40.0]).tolist()
    [20.0]
    """
    edges = np.asarray(edges, dtype=float)
    return np.sqrt(edges[:-1] * edges[1:])


def bands_per_octave(edges):
    """Number of bands per octave of a geometric layout.

    Examples
    --------
    >>> from sk_reseq.spectral import band_edges, bands_per_octave
    >>> round(float(bands_per_octave(band_edges(400, 20, 20000))), 2)
    40.14
    """
    edges = np.asarray(edges, dtype=float)
    return (len(edges) - 1) / np.log2(edges[-1] / edges[0])


def _hat_cdf(t):
    """Integral of the unit hat function (support [-1, 1]) up to ``t``."""
    t = np.clip(t, -1.0, 1.0)
    return np.where(t <= 0, 0.5 * (t + 1) ** 2, 1 - 0.5 * (1 - t) ** 2)


def band_matrix(edges, sr, n_fft):
    """Sparse operator from DFT-bin power to mean band power.

    Row ``b`` averages the power spectrum, linearly interpolated between
    bins, over band ``b``. Bands narrower than one bin are widened to one
    bin around their centre, so that no band reads a single bin's
    (high-variance) value between two bins.

    Parameters
    ----------
    edges : np.ndarray [shape=(n_bands + 1,)]
        Band edges in Hz, below the Nyquist frequency.
    sr : float
        Sample rate in Hz.
    n_fft : int
        DFT size.

    Returns
    -------
    matrix : scipy.sparse.csr_array [shape=(n_bands, n_fft // 2 + 1)]
        Non-negative; each row sums to 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.spectral import band_edges, band_matrix
    >>> m = band_matrix(band_edges(400, sr=22050), 22050, 2048)
    >>> m.shape, bool(np.allclose(m.sum(axis=1), 1))
    ((400, 1025), True)
    """
    edges = np.asarray(edges, dtype=float)
    bin_width = sr / n_fft
    centres = band_centers(edges)
    half = np.maximum((edges[1:] - edges[:-1]) / 2, bin_width / 2)
    lo = (centres - half)[:, None] / bin_width
    hi = (centres + half)[:, None] / bin_width
    k = np.arange(n_fft // 2 + 1)[None, :]
    weights = (_hat_cdf(hi - k) - _hat_cdf(lo - k)) / (hi - lo)
    weights[weights < 1e-12] = 0.0
    weights /= weights.sum(axis=1, keepdims=True)
    return sparse.csr_array(weights)


def power_spectrum(frames, window):
    """Power spectrum of windowed frames, scaled so a unit sine reads 0.5.

    Parameters
    ----------
    frames : np.ndarray [shape=(..., n_fft)]
        Time-domain frames (not yet windowed).
    window : np.ndarray [shape=(n_fft,)]
        Analysis window.

    Returns
    -------
    power : np.ndarray [shape=(..., n_fft // 2 + 1)]

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.signal import get_window
    >>> from sk_reseq.spectral import power_spectrum
    >>> t = np.arange(1024)
    >>> p = power_spectrum(np.sin(2 * np.pi * 64 * t / 1024), get_window("hann", 1024))
    >>> round(float(p[64]), 3)
    0.5
    """
    spectrum = scipy.fft.rfft(frames * window, axis=-1)
    return _power_from_spectrum(spectrum, window)


def _power_scale(window):
    """Factor on ``|X|^2`` that makes a unit sine read 0.5 through ``window``."""
    return 2.0 / np.sum(window, dtype=np.float64) ** 2


def _power_from_spectrum(spectrum, window):
    power = np.square(spectrum.real)
    power += np.square(spectrum.imag)
    power *= _power_scale(window)
    return power


def band_power(power, matrix):
    """Mean power per band, ``matrix @ power`` over the last axis.

    Parameters
    ----------
    power : np.ndarray [shape=(..., n_bins)]
    matrix : sparse array [shape=(n_bands, n_bins)]
        From :func:`band_matrix`.

    Returns
    -------
    banded : np.ndarray [shape=(..., n_bands)], float64

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.spectral import band_power
    >>> band_power(np.array([[1.0, 3.0]]), np.array([[0.5, 0.5]])).tolist()
    [[2.0]]
    """
    power = np.asarray(power)
    # A contiguous float64 right-hand side spares scipy a strided conversion.
    flat = np.ascontiguousarray(power.reshape(-1, power.shape[-1]).T, dtype=np.float64)
    banded = np.asarray(matrix @ flat, dtype=np.float64).T
    return banded.reshape(power.shape[:-1] + (banded.shape[-1],))


def band_power_to_levels(banded, weights_db):
    """Band power to ELC-weighted levels in dB: ``10 log10(power) + weights``.

    Power below 1e-15 (-150 dB) counts as silence and is floored there.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.spectral import band_power_to_levels
    >>> band_power_to_levels(np.array([1.0, 0.1]), np.array([0.0, 3.0])).tolist()
    [0.0, -7.0]
    """
    return 10.0 * np.log10(np.maximum(banded, _POWER_FLOOR)) + weights_db


def band_levels(power, matrix, weights_db):
    """ELC-weighted band levels in dB (Fig. 1 e).

    Parameters
    ----------
    power : np.ndarray [shape=(..., n_bins)]
        Power spectra.
    matrix : sparse array [shape=(n_bands, n_bins)]
        Band operator from :func:`band_matrix`.
    weights_db : np.ndarray [shape=(n_bands,)]
        ELC weighting per band from :func:`sk_reseq.loudness.elc_weighting`.

    Returns
    -------
    levels : np.ndarray [shape=(..., n_bands)]

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.spectral import band_levels
    >>> band_levels(np.ones((1, 3)), np.eye(3), np.zeros(3)).tolist()
    [[0.0, 0.0, 0.0]]
    """
    return band_power_to_levels(band_power(power, matrix), weights_db)


def smooth_bands(levels, width, bands_per_octave, method="median"):
    """Smooth band levels across ``width`` octaves (Fig. 1 g).

    The window spans the odd number of bands closest to ``width`` octaves
    (at least one); at the ends the edge band is repeated.

    ``method="median"`` (default) is a running median: it follows the
    spectrum's broad shape, including the ELC weighting's own bumps, but
    ignores peaks narrower than half the window, so a resonance does not
    raise the curve it is measured against. ``method="mean"`` is a plain
    moving average, which a strong resonance pulls up around itself (a
    +12 dB, Q 8 peak then reads about 9 dB at one octave instead of 10).

    Parameters
    ----------
    levels : np.ndarray [shape=(..., n_bands)]
    width : float
        Width of the window in octaves (> 0).
    bands_per_octave : float
        Density of the band layout.
    method : {"median", "mean"}, default="median"

    Returns
    -------
    smoothed : np.ndarray [shape=(..., n_bands)]

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.spectral import smooth_bands
    >>> smooth_bands(np.array([0.0, 0, 9, 0, 0]), 3, 1).tolist()
    [0.0, 0.0, 0.0, 0.0, 0.0]
    >>> smooth_bands(np.array([0.0, 0, 9, 0, 0]), 3, 1, method="mean").tolist()
    [0.0, 3.0, 3.0, 3.0, 0.0]
    """
    if not width > 0:
        raise ValueError(f"smoothing width must be > 0 octaves, got {width!r}.")
    size = max(1, int(round(width * bands_per_octave)))
    size += 1 - size % 2
    levels = np.asarray(levels)
    if levels.dtype != np.float32:
        levels = levels.astype(np.float64, copy=False)
    if method == "median":
        # bottleneck's moving median keeps a double heap. It is as fast as
        # scipy.ndimage.median_filter on one row and about ten times faster on
        # a (frames, bands) array; this median is still a sixth of the
        # equalizer's run time. Edge bands repeat.
        # Edge padding by hand: np.pad's generality costs more than the copy.
        half, n = size // 2, levels.shape[-1]
        padded = np.empty(levels.shape[:-1] + (n + 2 * half,), dtype=levels.dtype)
        padded[..., half : half + n] = levels
        padded[..., :half] = levels[..., :1]
        padded[..., half + n :] = levels[..., -1:]
        return bn.move_median(padded, size, axis=-1)[..., size - 1 :]
    if method == "mean":
        return uniform_filter1d(levels, size, axis=-1, mode="nearest")
    raise ValueError(f"smoothing method must be 'median' or 'mean', got {method!r}.")


def resonances(levels, smoothed, threshold=0.0):
    """Resonance magnitudes ``max(levels - smoothed - threshold, 0)`` in dB (Fig. 1 h, i).

    The paper's detector is ``threshold=0``. A small positive threshold
    ignores the excess that estimation noise alone produces (a band level
    read from half a second of audio fluctuates by about 1 dB), which
    would otherwise be "attenuated" at random bins in every frame.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.spectral import resonances
    >>> resonances(np.array([1.0, 5.0]), np.array([2.0, 2.0])).tolist()
    [0.0, 3.0]
    >>> resonances(np.array([1.0, 5.0]), np.array([2.0, 2.0]), threshold=1.0).tolist()
    [0.0, 2.0]
    """
    return np.maximum(np.asarray(levels) - smoothed - threshold, 0.0)


def gain_db(resonance, factor):
    """Gain in dB: ``-factor * resonance`` (Fig. 1 l, m).

    ``factor`` broadcasts against ``resonance`` (one value per frame is a
    column ``factor[:, None]``).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.spectral import gain_db
    >>> gain_db(np.array([0.0, 6.0]), 0.5).tolist()
    [-0.0, -3.0]
    """
    return -np.asarray(factor) * resonance


def _interpolation_pairs(centers, frequencies):
    """Left/right band index and right weight for each frequency (log-linear)."""
    log_c = np.log(np.asarray(centers, dtype=float))
    log_f = np.log(np.maximum(np.asarray(frequencies, dtype=float), 1e-6))
    log_f = np.clip(log_f, log_c[0], log_c[-1])
    right = np.clip(np.searchsorted(log_c, log_f, side="right"), 1, len(log_c) - 1)
    left = right - 1
    frac = (log_f - log_c[left]) / (log_c[right] - log_c[left])
    return left, right, frac


def interpolation_matrix(centers, frequencies):
    """Sparse operator interpolating band values at ``frequencies``.

    Interpolation is linear in log-frequency; frequencies outside the band
    centres take the nearest edge band's value.

    Parameters
    ----------
    centers : np.ndarray [shape=(n_bands,)]
        Increasing band centres in Hz.
    frequencies : np.ndarray [shape=(n_freqs,)]
        Frequencies to interpolate at (0 Hz is allowed).

    Returns
    -------
    matrix : scipy.sparse.csr_array [shape=(n_freqs, n_bands)]

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.spectral import interpolation_matrix
    >>> m = interpolation_matrix(np.array([100.0, 400.0]), np.array([0.0, 200.0, 1e4]))
    >>> (m @ np.array([0.0, 2.0])).round(6).tolist()
    [0.0, 1.0, 2.0]
    """
    left, right, frac = _interpolation_pairs(centers, frequencies)
    rows = np.arange(len(left))
    return sparse.csr_array(
        (np.r_[1 - frac, frac], (np.r_[rows, rows], np.r_[left, right])),
        shape=(len(left), len(centers)),
    )


def bin_gains(gains_db, interp):
    """Linear per-bin scale factors in (0, 1] from band gains in dB (Fig. 1 n, o).

    The band gains are turned into linear factors and interpolated to the
    bins (the bands are 1/40 octave apart, so interpolating the linear or
    the dB values differs by far less than 0.01 dB; the linear form needs
    400 exponentials per frame instead of one per bin).

    Parameters
    ----------
    gains_db : np.ndarray [shape=(..., n_bands)]
        Non-positive gains in dB.
    interp : sparse array [shape=(n_bins, n_bands)]
        From :func:`interpolation_matrix`.

    Returns
    -------
    scale : np.ndarray [shape=(..., n_bins)]

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.spectral import bin_gains
    >>> bin_gains(np.array([[-20.0, 0.0]]), np.eye(2)).round(3).tolist()
    [[0.1, 1.0]]
    """
    gains_db = np.asarray(gains_db)
    flat = np.power(10.0, gains_db.reshape(-1, gains_db.shape[-1]) / 20.0)
    per_bin = np.asarray(interp @ flat.T).T
    return per_bin.reshape(gains_db.shape[:-1] + (per_bin.shape[-1],))


class BandLayout:
    """Precomputed operators for one (sr, n_fft, bands, phon) configuration.

    Bundles the band edges, the ELC weights and the two sparse operators so
    that the equalizer and the transformers build them once.

    Parameters
    ----------
    sr : float
        Sample rate in Hz.
    n_fft : int
        DFT size.
    n_bands : int, default=400
    fmin, fmax : float, default=(20.0, 20000.0)
        Band range; ``fmax`` is capped at ``sr / 2``.
    phon : float, default=80.0
        Monitoring level of the ELC weighting.

    Examples
    --------
    >>> from sk_reseq.spectral import BandLayout
    >>> layout = BandLayout(22050, 2048)
    >>> layout.centers.shape, layout.band_matrix.shape, layout.interp.shape
    ((400,), (400, 1025), (1025, 400))
    """

    def __init__(self, sr, n_fft, n_bands=N_BANDS, fmin=20.0, fmax=20000.0, phon=80.0):
        self.sr = float(sr)
        self.n_fft = int(n_fft)
        self.edges = band_edges(n_bands, fmin, fmax, sr=sr)
        self.centers = band_centers(self.edges)
        self.bands_per_octave = bands_per_octave(self.edges)
        self.weights_db = elc_weighting(self.centers, phon)
        self.band_matrix = band_matrix(self.edges, sr, n_fft)
        self.bin_frequencies = np.arange(n_fft // 2 + 1) * (sr / n_fft)
        self.interp = interpolation_matrix(self.centers, self.bin_frequencies)
        # The same interpolation as index/weight pairs: a gather is several
        # times faster than the sparse product in the equalizer's inner loop.
        left, right, frac = _interpolation_pairs(self.centers, self.bin_frequencies)
        self._interp_pairs = (left, right, frac.astype(np.float32))

    def levels(self, power):
        """ELC-weighted band levels in dB of power spectra ``(..., n_bins)``."""
        return band_levels(power, self.band_matrix, self.weights_db)

    def band_power(self, power):
        """Mean power per band of power spectra ``(..., n_bins)``."""
        return band_power(power, self.band_matrix)

    def band_power_to_levels(self, banded):
        """ELC-weighted levels in dB of band powers ``(..., n_bands)``."""
        return band_power_to_levels(banded, self.weights_db)

    def analyze(self, levels, smoothing, factor, method="median", threshold=0.0):
        """Smoothed curve, resonances and band gains (dB) from ``levels``."""
        smoothed = smooth_bands(levels, smoothing, self.bands_per_octave, method)
        res = resonances(levels, smoothed, threshold)
        return smoothed, res, gain_db(res, factor)

    def scale_factors(self, gains_db):
        """Per-bin linear scale factors from band gains in dB (as :func:`bin_gains`)."""
        left, _, frac = self._interp_pairs  # right is always left + 1
        linear = np.exp(np.asarray(gains_db, dtype=np.float32) * np.float32(np.log(10) / 20))
        scale = linear[..., left]
        step = np.diff(linear, axis=-1)[..., left]
        step *= frac
        scale += step
        return scale


@lru_cache(maxsize=16)
def cached_layout(sr, n_fft, n_bands=N_BANDS, fmin=20.0, fmax=20000.0, phon=80.0):
    """A shared :class:`BandLayout` per configuration (building one costs a few ms).

    Examples
    --------
    >>> from sk_reseq.spectral import cached_layout
    >>> cached_layout(22050.0, 2048) is cached_layout(22050.0, 2048)
    True
    """
    return BandLayout(sr, n_fft, n_bands=n_bands, fmin=fmin, fmax=fmax, phon=phon)


@dataclass(frozen=True)
class Framing:
    """How the equalizer cuts audio into frames, worked out once.

    :class:`~sk_reseq.equalizer.ResonanceEqualizer` builds one in ``fit``
    (``framing_``); its engine, the simulated panel's oracle and the
    evaluation read frames through it, so they all see the same frames.
    The stream convention: ``n_fft - hop`` zeros come before the audio (the
    first frame ends at the first hop) and zeros pad the end to whole hops.

    Parameters
    ----------
    sr : float
        Sample rate.
    n_fft, hop : int
        Frame length and hop in samples (``hop`` divides ``n_fft``).
    averaging_frames : int
        Frames the detector's causal average spans.
    layout : BandLayout
        The bands of the frames' spectra.

    Examples
    --------
    >>> from sk_reseq.equalizer import ResonanceEqualizer
    >>> framing = ResonanceEqualizer(sr=44100).fit().framing_
    >>> framing.n_fft, framing.hop, framing.n_frames(44100)
    (4096, 1024, 47)
    """

    sr: float
    n_fft: int
    hop: int
    averaging_frames: int
    layout: BandLayout

    @classmethod
    def build(cls, sr, n_fft=None, hop=None, *, hops_per_frame=4, averaging=0.5,
              n_bands=N_BANDS, fmin=20.0, fmax=20000.0, phon=80.0):
        """The framing of settings as the estimators take them.

        ``n_fft=None`` is :func:`default_n_fft`, ``hop=None`` is
        ``n_fft // hops_per_frame``; ``averaging`` seconds of frames make
        the detector's average (at least one frame).

        Examples
        --------
        >>> from sk_reseq.spectral import Framing
        >>> f = Framing.build(22050.0, hops_per_frame=2)
        >>> f.n_fft, f.hop, f.averaging_frames, len(f.layout.centers)
        (2048, 1024, 10, 400)
        """
        n_fft = default_n_fft(sr) if n_fft is None else int(n_fft)
        hop = n_fft // hops_per_frame if hop is None else int(hop)
        if not 0 < hop <= n_fft:
            raise ValueError(f"hop_length must be at most n_fft ({n_fft}); got {hop}.")
        averaging_frames = max(1, int(round((averaging * sr - n_fft) / hop)) + 1)
        layout = cached_layout(float(sr), n_fft, int(n_bands), float(fmin), float(fmax),
                               float(phon))
        return cls(float(sr), n_fft, hop, averaging_frames, layout)

    @property
    def latency(self):
        """Samples by which a stream's output lags its input."""
        return self.n_fft - 1

    def n_frames(self, n_samples):
        """Number of frames of a track of ``n_samples`` samples."""
        return -(-(int(n_samples) + self.n_fft - self.hop) // self.hop)

    def frame_centers(self, frame_indices):
        """Centre of each frame, in samples from the start (may be < 0)."""
        return np.asarray(frame_indices) * self.hop + self.n_fft // 2 - (self.n_fft - self.hop)

    def frame_times(self, n_samples):
        """Centre of each frame of a track of ``n_samples`` samples, in seconds."""
        return self.frame_centers(np.arange(self.n_frames(n_samples))) / self.sr

    def frame_power(self, audio):
        """Power spectra of a track's frames, summed over channels.

        The frames the equalizer analyses (periodic Hann window, the
        equalizer's power scale), without running its detector.

        Parameters
        ----------
        audio : np.ndarray [shape=(channels, samples)]

        Returns
        -------
        power : np.ndarray [shape=(n_frames(samples), n_fft // 2 + 1)]
        """
        n_frames = self.n_frames(audio.shape[1])
        padded = np.zeros((audio.shape[0], (n_frames - 1) * self.hop + self.n_fft))
        start = self.n_fft - self.hop
        padded[:, start : start + audio.shape[1]] = audio
        frames = np.lib.stride_tricks.sliding_window_view(padded, self.n_fft, axis=-1)
        window = signal.get_window("hann", self.n_fft)
        return power_spectrum(frames[:, :: self.hop], window).sum(axis=0)


def default_n_fft(sr):
    """DFT size used when ``n_fft=None``: the power of two nearest 93 ms.

    That is 4096 at 44.1 and 48 kHz and 2048 at 22.05 kHz (bins of about
    10.8 Hz), a common trade-off between frequency and time resolution.

    Examples
    --------
    >>> from sk_reseq.spectral import default_n_fft
    >>> default_n_fft(44100), default_n_fft(22050), default_n_fft(48000)
    (4096, 2048, 4096)
    """
    return int(2 ** np.round(np.log2(0.093 * sr)))


def peaking_sos(center, q, gain_db, sr):
    """RBJ audio-EQ-cookbook peaking filter as one second-order section.

    The resonances of the simulated listening test are such filters.
    scipy.signal has no peaking-EQ designer (``iirpeak`` is a resonator with
    unit peak gain and zero gain elsewhere), hence the cookbook formula.

    Parameters
    ----------
    center : float
        Centre frequency in Hz, in (0, sr / 2).
    q : float
        Quality factor (> 0); the bandwidth is about ``center / q``.
    gain_db : float
        Gain at the centre in dB (negative cuts).
    sr : float
        Sample rate in Hz.

    Returns
    -------
    sos : np.ndarray [shape=(6,)]
        ``b0, b1, b2, a0, a1, a2`` with ``a0 = 1`` (one row for
        :func:`scipy.signal.sosfilt`).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import signal
    >>> from sk_reseq.spectral import peaking_sos
    >>> sos = peaking_sos(1000.0, 4.0, 12.0, 44100)
    >>> _, h = signal.sosfreqz(sos[None], worN=[1000.0], fs=44100)
    >>> round(float(20 * np.log10(abs(h[0]))), 6)
    12.0
    """
    a = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * center / sr
    alpha = np.sin(w0) / (2.0 * q)
    cos = np.cos(w0)
    b = np.array([1 + alpha * a, -2 * cos, 1 - alpha * a])
    den = np.array([1 + alpha / a, -2 * cos, 1 - alpha / a])
    return np.r_[b, den] / den[0]


def peaking_power_response(filters, frequencies, sr):
    """Power gain ``|H(f)|^2`` of a chain of peaking filters at ``frequencies``.

    Multiplying a frame's power spectrum by it is what filtering the audio
    does to that frame (up to the filters' short ringing), so resonances can
    be added to an analysis without resynthesis.

    Parameters
    ----------
    filters : array-like [shape=(n_filters, 3)]
        Rows of ``(center_hz, q, gain_db)``; no rows gives ones.
    frequencies : np.ndarray [shape=(n,)]
        Frequencies in Hz (e.g. ``BandLayout.bin_frequencies``).
    sr : float

    Returns
    -------
    gain : np.ndarray [shape=(n,)]

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.spectral import peaking_power_response
    >>> g = peaking_power_response([(1000.0, 4.0, 10.0)], np.array([1000.0, 9000.0]), 44100)
    >>> np.round(10 * np.log10(g), 2).tolist()
    [10.0, 0.01]
    """
    filters = np.asarray(filters, dtype=np.float64).reshape(-1, 3)
    gain = np.ones(len(frequencies))
    if len(filters):
        sos = np.stack([peaking_sos(c, q, g, sr) for c, q, g in filters])
        _, h = signal.sosfreqz(sos, worN=np.asarray(frequencies, dtype=np.float64), fs=sr)
        gain = np.abs(h) ** 2
    return gain


def random_peaking_filters(rng, n, sr, *, center_range=(80.0, 8000.0), q_range=(3.0, 10.0),
                           gain_range=(6.0, 18.0)):
    """``n`` random peaking filters: the resonances of the simulated listening test.

    Centre log-uniform in ``center_range`` (capped at 0.45 ``sr``), Q and
    gain (dB) uniform in their ranges; the defaults are the panel's.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int
        Number of filters.
    sr : float
        Sample rate in Hz.
    center_range, q_range, gain_range : tuple of float

    Returns
    -------
    filters : np.ndarray [shape=(n, 3)]
        Rows of ``(center_hz, q, gain_db)``, as :func:`peaking_power_response` takes.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.spectral import random_peaking_filters
    >>> random_peaking_filters(np.random.default_rng(0), 2, 44100).shape
    (2, 3)
    """
    high = min(center_range[1], 0.45 * sr)
    return np.column_stack([
        np.exp(rng.uniform(np.log(center_range[0]), np.log(high), n)),
        rng.uniform(*q_range, n),
        rng.uniform(*gain_range, n),
    ])
