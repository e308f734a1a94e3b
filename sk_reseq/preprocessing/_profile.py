"""Resonances added to music, told apart from the music's own: :class:`ResonanceProfile`."""

import warnings
from numbers import Integral, Real

import bottleneck as bn
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from .._validation import check_windows
from ..spectral import (
    N_BANDS,
    Framing,
    peaking_power_response,
    random_peaking_filters,
    resonances,
    smooth_bands,
)
from ..utils._sklearn_compat import HasMethods, Interval
from ._spectrum import frame_band_power

__all__ = ["ResonanceProfile"]

#: Columns of :meth:`ResonanceProfile.transform`.
PROFILE_FEATURES = (
    "added_factor",       # the oracle's formula with the estimated added resonances
    "static_factor",      # the same with the long-term spectrum's raw excess
    "resonance_energy",   # log mean squared resonance (dB^2) of the detector's frames
    "added_energy",       # log mean squared estimated added resonance
    "stationarity",       # share of the resonance energy in its mean over frames
)

# Smoothing widths (octaves) of the long-term spectrum's excess given to the band model.
_EXCESS_WIDTHS = (1.0 / 3.0, 2.0)
# Bands on each side whose steadiness (low quantile of the frames' excess) the band model sees.
_STEADY_BANDS = 10


class ResonanceProfile(TransformerMixin, BaseEstimator):
    """Features of a window's resonances that tell added resonances from the music's own.

    A resonance added to a track (a room mode, a ringing filter, a bad
    microphone position: here, as in the simulated listening test, a
    peaking filter) is static and about 1/7 to 1/2 octave wide; music's own
    spectral peaks move with the notes, are narrower (harmonics) or have
    shapes typical of instruments. The equalizer's detector sees both.
    This transformer learns the difference from music itself:

    - ``fit`` takes windows of music and, many times over, adds random
      peaking resonances to their analysis (multiplying each frame's power
      spectrum by the filters' power response, which is what filtering
      does), and trains ``band_model`` to estimate, band by band, how many
      dB were added, from the long-term spectrum's excess over its smoothed
      envelope around the band (a patch of ``2 * patch_bands + 1`` bands,
      at three smoothing widths) and how steadily the band stands out in
      the detector's frames. It needs no ratings; the windows should hold
      no added resonances (e.g. the clean excerpts of a simulated panel).
    - ``transform`` runs the equalizer's analysis on each window (frames of
      ``n_fft`` samples, the causal ``averaging`` over frames, smoothing
      across ``smoothing`` octaves, detector ``threshold``), estimates the
      added resonances ``B`` and returns, among others, ``added_factor``:
      the attenuation factor ``sum_t <B, R_t> / sum_t |R_t|^2`` that takes
      the detector's resonances ``R_t`` closest to removing exactly ``B``,
      which is the simulated listening test's oracle with ``B`` estimated.

    All features are differences of levels in dB, so they do not depend on
    the window's level. Windows longer than the paper's 0.5 s help: the
    longer the window, the more the notes' own peaks average out of the
    long-term spectrum.

    Parameters
    ----------
    sr : float, default=22050
        Sample rate of the windows.
    n_fft : int, default=None
        DFT size; None picks :func:`sk_reseq.spectral.default_n_fft`.
    hop_length : int, default=None
        Frame hop; None means ``n_fft // 2``, the frames the equalizer's
        detector analyses (its hop ``n_fft // 4`` times its default
        ``update_interval`` of 2); the equalizer's average runs over the
        frames between too, which changes little at half the work.
    averaging : float, default=0.5
        Seconds of frames the detector averages (the equalizer's default).
    smoothing : float, default=1.0
        Smoothing width in octaves (the equalizer's default).
    threshold : float, default=1.0
        Detector threshold in dB (the equalizer's default).
    patch_bands : int, default=30
        Bands on each side of a band whose long-term excess the band model
        sees (30 bands is about 0.7 octave at 22.05 kHz); it also sees how
        steadily the bands within 10 of it stand out (every other band).
    band_model : regressor, default=None
        Estimator of the added dB per band; None is a standardized
        multi-layer perceptron (64 and 32 ReLU units, early stopping), seeded
        by ``random_state``: on real music it told added resonances from the
        music's own much better than a ridge regression on the same inputs
        (the oracle's rise from 0 to 4 resonances: 40% of it against 6%).
        Cloned and trained in ``fit`` unless ``prefit``.
    prefit : bool, default=False
        ``band_model`` is already fitted (by a ``ResonanceProfile`` with the
        same settings, e.g. on clean music): ``fit`` then only checks the
        windows, so the transformer can sit in a Pipeline trained on
        resonant windows without learning from them.
    n_augment : int, default=4
        Random resonance sets added to each window in ``fit``.
    bands_per_example : int, default=64
        Bands drawn from each augmented window as training rows.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    band_model_ : regressor
        The fitted band model.
    n_fft_, hop_length_, averaging_frames_ : int
    band_centers_ : np.ndarray [shape=(n_bands,)]
    n_features_out_ : int

    See Also
    --------
    ResonanceDetector : the detector's resonances of one spectrum.
    sk_reseq.datasets.make_listening_test : the oracle this imitates.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.preprocessing import ResonanceProfile
    >>> X = 0.1 * np.random.default_rng(0).standard_normal((4, 2, 22050)).astype(np.float32)
    >>> profile = ResonanceProfile(n_augment=2, random_state=0).fit(X)
    >>> profile.transform(X).shape
    (4, 5)
    >>> profile.get_feature_names_out()[:2].tolist()
    ['added_factor', 'static_factor']
    """

    _parameter_constraints: dict = {
        "sr": [Interval(Real, 4000, None, closed="left")],
        "n_fft": [Interval(Integral, 16, None, closed="left"), None],
        "hop_length": [Interval(Integral, 1, None, closed="left"), None],
        "averaging": [Interval(Real, 0, 10, closed="both")],
        "smoothing": [Interval(Real, 0, 4, closed="right")],
        "threshold": [Interval(Real, 0, None, closed="left")],
        "patch_bands": [Interval(Integral, 0, 100, closed="both")],
        "band_model": [HasMethods(["fit", "predict"]), None],
        "prefit": ["boolean"],
        "n_augment": [Interval(Integral, 1, None, closed="left")],
        "bands_per_example": [Interval(Integral, 1, N_BANDS, closed="both")],
        "random_state": ["random_state"],
    }

    def __init__(self, *, sr=22050, n_fft=None, hop_length=None, averaging=0.5, smoothing=1.0,
                 threshold=1.0, patch_bands=30, band_model=None, prefit=False, n_augment=4,
                 bands_per_example=64, random_state=None):
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.averaging = averaging
        self.smoothing = smoothing
        self.threshold = threshold
        self.patch_bands = patch_bands
        self.band_model = band_model
        self.prefit = prefit
        self.n_augment = n_augment
        self.bands_per_example = bands_per_example
        self.random_state = random_state

    # -- fitting ----------------------------------------------------------

    def fit(self, X, y=None):
        """Learn the band model from windows of music (``y`` is ignored).

        Parameters
        ----------
        X : array-like [shape=(n_windows, channels, samples)]
            Music without added resonances, at ``sr``.
        y : ignored

        Returns
        -------
        self : ResonanceProfile
        """
        self._validate_params()
        X = check_windows(X)
        self._set_framing()
        if self.prefit:
            if self.band_model is None:
                raise ValueError("prefit=True needs a fitted band_model.")
            check_is_fitted(self.band_model)
            self.band_model_ = self.band_model
            return self
        rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31 - 1))
        layout = self._layout()
        rows, targets = [], []
        for power, banded in self._batches(X, layout):
            for p, b in zip(power, banded):
                clean_ltas = b.mean(axis=0)
                for _ in range(self.n_augment):
                    filters = random_peaking_filters(rng, rng.integers(0, 5), self.sr)
                    gain = peaking_power_response(filters, layout.bin_frequencies, self.sr)
                    resonant = layout.band_power(p * gain)
                    bands = rng.choice(len(layout.centers), self.bands_per_example, replace=False)
                    rows.append(self._band_inputs(resonant, layout)[1][bands])
                    added = 10 * np.log10(resonant.mean(axis=0) / np.maximum(clean_ltas, 1e-30))
                    targets.append(added[bands])
        if self.band_model is None:
            model = make_pipeline(StandardScaler(), MLPRegressor(
                hidden_layer_sizes=(64, 32), max_iter=80, early_stopping=True,
                random_state=int(rng.integers(2**31 - 1))))
        else:
            model = clone(self.band_model)
        with warnings.catch_warnings():
            if self.band_model is None:  # its iteration cap is chosen: no news when it is hit
                warnings.simplefilter("ignore", ConvergenceWarning)
            self.band_model_ = model.fit(np.concatenate(rows), np.concatenate(targets))
        return self

    def _set_framing(self):
        framing = Framing.build(self.sr, self.n_fft, self.hop_length, hops_per_frame=2,
                                averaging=self.averaging)
        self.n_fft_, self.hop_length_ = framing.n_fft, framing.hop
        self.averaging_frames_ = framing.averaging_frames
        self.band_centers_ = framing.layout.centers
        self.n_features_out_ = len(PROFILE_FEATURES)

    def _layout(self):
        # The framing of fit, from its sizes (the layout is cached): a saved
        # profile holds plain numbers only.
        return Framing.build(self.sr, self.n_fft_, self.hop_length_, hops_per_frame=2,
                             averaging=self.averaging).layout

    def _batches(self, X, layout, size=16):
        # Windows a few at a time: per-frame spectra of all windows at once would be large.
        for start in range(0, len(X), size):
            yield frame_band_power(X[start : start + size], layout, self.hop_length_)

    # -- the analysis -------------------------------------------------------

    def _detector_frames(self, banded, layout):
        """The detector's levels, resonances and excess over the envelope, per frame.

        Only frames with a full causal average are used (one frame, the
        mean of all, when the window is shorter than the averaging span).
        """
        k = min(self.averaging_frames_, len(banded))
        averaged = bn.move_mean(banded, k, axis=0)[k - 1 :]
        levels = layout.band_power_to_levels(averaged)
        excess = levels - smooth_bands(levels, self.smoothing, layout.bands_per_octave)
        return resonances(excess, 0.0, self.threshold), excess

    def _band_inputs(self, banded, layout):
        """``(R, inputs)``: detector resonances per frame, band-model inputs per band."""
        res, excess = self._detector_frames(banded, layout)
        ltas = layout.band_power_to_levels(banded.mean(axis=0))
        bpo = layout.bands_per_octave
        long_excess = ltas - smooth_bands(ltas, self.smoothing, bpo)
        w = self.patch_bands
        padded = np.pad(long_excess, w, mode="edge")
        patch = np.lib.stride_tricks.sliding_window_view(padded, 2 * w + 1)
        # How steadily each band stands out (one partition for both quantiles).
        low, median = np.quantile(excess, [0.1, 0.5], axis=0)
        columns = [patch, np.log2(layout.centers)[:, None], low[:, None], median[:, None]]
        columns += [(ltas - smooth_bands(ltas, width, bpo))[:, None] for width in _EXCESS_WIDTHS]
        h = _STEADY_BANDS
        steady = np.lib.stride_tricks.sliding_window_view(np.pad(low, h, mode="edge"), 2 * h + 1)
        columns.append(steady[:, ::2])
        return res, np.hstack(columns)

    # -- transforming ------------------------------------------------------

    def transform(self, X):
        """Features of each window: see ``get_feature_names_out``.

        Parameters
        ----------
        X : array-like [shape=(n_windows, channels, samples)]

        Returns
        -------
        features : np.ndarray [shape=(n_windows, 5)]
            ``added_factor``, ``static_factor`` (the same formula with the
            long-term spectrum's raw excess over its envelope as ``B``),
            ``resonance_energy``, ``added_energy`` (logs of mean squares,
            dB^2) and ``stationarity`` (share of the resonance energy in the
            frames' mean resonance curve).
        """
        check_is_fitted(self, "band_model_")
        X = check_windows(X)
        layout = self._layout()
        out = []
        for _, banded in self._batches(X, layout):
            pairs = [self._band_inputs(b, layout) for b in banded]
            # One band-model call per batch of windows, on one BLAS thread: its
            # matrices are small, and per-window calls or threads cost more in
            # overhead than the arithmetic (2.1 s against 0.5 s for 30 s of music).
            with threadpool_limits(limits=1, user_api="blas"):
                added_all = self.band_model_.predict(np.vstack([i for _, i in pairs]))
            for (res, inputs), added in zip(pairs, np.split(added_all, len(pairs))):
                added = np.maximum(added, 0.0)
                static = np.maximum(inputs[:, self.patch_bands], 0.0)  # centre of the patch
                energy = np.sum(res * res)
                scale = 1.0 / max(energy, 1e-9)
                mean_res = res.mean(axis=0)
                out.append([
                    np.sum(res @ added) * scale,
                    np.sum(res @ static) * scale,
                    np.log(energy / res.size + 1e-3),
                    np.log(np.mean(added**2) + 1e-3),
                    len(res) * np.sum(mean_res**2) * scale,
                ])
        return np.asarray(out, dtype=np.float64).reshape(len(X), len(PROFILE_FEATURES))

    def get_feature_names_out(self, input_features=None):
        """The names of ``transform``'s columns.

        Returns
        -------
        names : np.ndarray of str [shape=(5,)]
        """
        check_is_fitted(self, "band_model_")
        return np.asarray(PROFILE_FEATURES, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = False
        return tags
