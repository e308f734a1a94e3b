"""The equalizer's two analysis stages as scikit-learn transformers."""

from numbers import Integral, Real

import numpy as np
from scipy.signal import get_window
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import check_windows
from ..spectral import (
    N_BANDS,
    Framing,
    power_spectrum,
    resonances,
    smooth_bands,
)
from ..utils._sklearn_compat import Interval, StrOptions, check_feature_names_in

__all__ = ["ELCSpectrum", "ResonanceDetector", "frame_band_power"]


def frame_band_power(X, layout, hop_length):
    """Per-frame band power of audio windows, channels summed, in the equalizer's framing.

    Frames of ``layout.n_fft`` samples, ``hop_length`` apart, all inside the
    window (a window shorter than one frame is zero-padded to one), with
    the periodic Hann window and power scale of
    :class:`~sk_reseq.equalizer.ResonanceEqualizer`.

    Parameters
    ----------
    X : np.ndarray [shape=(n_windows, channels, samples)]
    layout : sk_reseq.spectral.BandLayout
    hop_length : int

    Returns
    -------
    power : np.ndarray [shape=(n_windows, n_frames, n_bins)]
        Power spectra of the frames (summed over channels).
    banded : np.ndarray [shape=(n_windows, n_frames, n_bands)]
        Their mean power per band.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.preprocessing import frame_band_power
    >>> from sk_reseq.spectral import cached_layout
    >>> X = np.zeros((3, 2, 4096), dtype=np.float32)
    >>> power, banded = frame_band_power(X, cached_layout(22050.0, 2048), 512)
    >>> power.shape, banded.shape
    ((3, 5, 1025), (3, 5, 400))
    """
    n_fft = layout.n_fft
    if X.shape[-1] < n_fft:
        X = np.pad(X, [(0, 0), (0, 0), (0, n_fft - X.shape[-1])])
    frames = np.lib.stride_tricks.sliding_window_view(X, n_fft, axis=-1)[..., ::hop_length, :]
    window = get_window("hann", n_fft).astype(X.dtype)  # periodic Hann, as the equalizer
    power = power_spectrum(frames, window).sum(axis=1)
    return power, layout.band_power(power)


class ELCSpectrum(TransformerMixin, BaseEstimator):
    """ELC-weighted band levels of audio windows (paper, Fig. 1 e).

    Each window is cut into frames (Hann window, ``hop_length`` apart,
    all inside the window; a window shorter than one frame is zero-padded
    to one frame), the channels' power spectra are summed and averaged over
    the frames, and the mean power in each of ``n_bands`` log-spaced bands
    is expressed in dB plus the ISO 226 weighting at ``phon``. These are the
    numbers the :class:`~sk_reseq.equalizer.ResonanceEqualizer` computes for
    a frame whose averaging span covers the same samples.

    Parameters
    ----------
    sr : float, default=22050
        Sample rate of the windows.
    n_fft : int, default=None
        DFT size; None picks :func:`sk_reseq.spectral.default_n_fft`
        (2048 at 22.05 kHz).
    hop_length : int, default=None
        Frame hop; None means ``n_fft // 4``.
    n_bands : int, default=400
    fmin, fmax : float, default=(20.0, 20000.0)
        Band range (``fmax`` is capped at ``sr / 2``).
    phon : float, default=80.0

    Attributes
    ----------
    band_centers_ : np.ndarray [shape=(n_bands,)]
        Centre frequency of each output column, in Hz.
    n_fft_ : int
    hop_length_ : int

    See Also
    --------
    ResonanceDetector : resonances from these levels.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.preprocessing import ELCSpectrum
    >>> X = np.random.default_rng(0).standard_normal((3, 2, 11025)).astype(np.float32)
    >>> spec = ELCSpectrum().fit(X)
    >>> spec.transform(X).shape
    (3, 400)
    >>> spec.get_feature_names_out()[:2].tolist()
    ['elc_20.2Hz', 'elc_20.5Hz']
    """

    _parameter_constraints: dict = {
        "sr": [Interval(Real, 0, None, closed="neither")],
        "n_fft": [Interval(Integral, 16, None, closed="left"), None],
        "hop_length": [Interval(Integral, 1, None, closed="left"), None],
        "n_bands": [Interval(Integral, 2, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="neither")],
        "fmax": [Interval(Real, 0, None, closed="neither")],
        "phon": [Interval(Real, 0, 100, closed="both")],
    }

    def __init__(self, *, sr=22050, n_fft=None, hop_length=None, n_bands=N_BANDS, fmin=20.0,
                 fmax=20000.0, phon=80.0):
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_bands = n_bands
        self.fmin = fmin
        self.fmax = fmax
        self.phon = phon

    def fit(self, X, y=None):
        """Check the windows and set up the band layout.

        Parameters
        ----------
        X : array-like [shape=(n_windows, channels, samples)]
        y : ignored

        Returns
        -------
        self : ELCSpectrum
        """
        self._validate_params()
        check_windows(X)
        framing = Framing.build(self.sr, self.n_fft, self.hop_length, n_bands=self.n_bands,
                                fmin=self.fmin, fmax=self.fmax, phon=self.phon)
        self.n_fft_, self.hop_length_ = framing.n_fft, framing.hop
        self.band_centers_ = framing.layout.centers
        self.n_features_out_ = len(self.band_centers_)
        return self

    def transform(self, X):
        """ELC-weighted band levels in dB.

        Parameters
        ----------
        X : array-like [shape=(n_windows, channels, samples)]

        Returns
        -------
        levels : np.ndarray [shape=(n_windows, n_bands)], float64
        """
        check_is_fitted(self)
        X = check_windows(X)
        # The framing of fit, from its sizes (the layout is cached).
        layout = Framing.build(self.sr, self.n_fft_, self.hop_length_, n_bands=self.n_bands,
                               fmin=self.fmin, fmax=self.fmax, phon=self.phon).layout
        # Power summed over channels, then averaged over frames (Welch); band
        # power is linear in the power spectrum, so the mean can come after it.
        _, banded = frame_band_power(X, layout, self.hop_length_)
        return layout.band_power_to_levels(banded.mean(axis=1))

    def get_feature_names_out(self, input_features=None):
        """Band names ``elc_<centre in Hz>Hz``.

        Returns
        -------
        names : np.ndarray of str [shape=(n_bands,)]
        """
        check_is_fitted(self)
        return np.asarray([f"elc_{c:.1f}Hz" for c in self.band_centers_], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = False
        return tags


class ResonanceDetector(TransformerMixin, BaseEstimator):
    """Resonance magnitudes from ELC-weighted band levels (paper, Fig. 1 g-i).

    ``resonances = max(levels - smooth(levels) - threshold, 0)``, with the
    smoothing across ``smoothing`` octaves (:func:`sk_reseq.spectral.smooth_bands`).

    Parameters
    ----------
    smoothing : float, default=1.0
        Width of the smoothing in octaves.
    smoothing_method : {"median", "mean"}, default="median"
    threshold : float, default=1.0
        Excess in dB that does not count (the paper's detector: 0); see
        :class:`~sk_reseq.equalizer.ResonanceEqualizer`.
    band_range : tuple of float, default=(20.0, 11025.0)
        Lowest and highest band edge (Hz) of the input's log-spaced bands,
        to convert octaves into bands. The default is
        :class:`ELCSpectrum`'s layout at 22.05 kHz; use ``(20.0, 20000.0)``
        for audio at 44.1 kHz and above.

    Attributes
    ----------
    n_features_in_ : int
    bands_per_octave_ : float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.pipeline import make_pipeline
    >>> from sk_reseq.preprocessing import ELCSpectrum, ResonanceDetector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((20, 2, 4096)).astype(np.float32)
    >>> y = rng.uniform(size=20)
    >>> model = make_pipeline(ELCSpectrum(), ResonanceDetector(), Ridge()).fit(X, y)
    >>> model.predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints: dict = {
        "smoothing": [Interval(Real, 0, None, closed="neither")],
        "smoothing_method": [StrOptions({"median", "mean"})],
        "threshold": [Interval(Real, 0, None, closed="left")],
        "band_range": [tuple, list],
    }

    def __init__(self, *, smoothing=1.0, smoothing_method="median", threshold=1.0,
                 band_range=(20.0, 11025.0)):
        self.smoothing = smoothing
        self.smoothing_method = smoothing_method
        self.threshold = threshold
        self.band_range = band_range

    def fit(self, X, y=None):
        """Check the band levels and derive the band density.

        Parameters
        ----------
        X : array-like [shape=(n_windows, n_bands)]
        y : ignored

        Returns
        -------
        self : ResonanceDetector
        """
        self._validate_params()
        low, high = (float(v) for v in self.band_range)
        if not 0 < low < high:
            raise ValueError(
                f"band_range must be (low, high) with 0 < low < high, got {self.band_range!r}."
            )
        X = validate_data(self, X, dtype=np.float64)
        self.bands_per_octave_ = self.n_features_in_ / np.log2(high / low)
        return self

    def transform(self, X):
        """Resonance magnitudes in dB, same shape as ``X``.

        Parameters
        ----------
        X : array-like [shape=(n_windows, n_bands)]

        Returns
        -------
        resonances : np.ndarray [shape=(n_windows, n_bands)]
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        smoothed = smooth_bands(X, self.smoothing, self.bands_per_octave_, self.smoothing_method)
        return resonances(X, smoothed, self.threshold)

    def get_feature_names_out(self, input_features=None):
        """``resonance_<band>`` for each input band name."""
        check_is_fitted(self)
        names = check_feature_names_in(self, input_features)
        return np.asarray([f"resonance_{n.removeprefix('elc_')}" for n in names], dtype=object)
