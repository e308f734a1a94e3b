"""The auto-adaptive equalizer: factors predicted causally from the audio."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils import Bunch

from .._constants import WINDOW_SECONDS
from .._validation import AudioValueError, check_audio, float_to_pcm
from ..audio import resample
from ..utils._sklearn_compat import HasMethods, Interval
from ._resonance import _STREAM_MATCH_ERROR, ResonanceEqualizer

__all__ = ["AutoEqualizer"]

# Seconds: predictions further apart than this cannot follow the music.
_MAX_HOP = 60.0


class AutoEqualizer(TransformerMixin, BaseEstimator):
    """Resonance equalizer whose factor a model predicts from the audio.

    Every ``hop`` seconds, at time ``t``, the model predicts the attenuation
    factor from the ``window`` seconds of audio before ``t`` only (resampled
    to ``model_sr``). The predictions are smoothed by a causal exponential
    moving average with time constant ``smoothing`` (the paper targets
    changes on a ~3 s time scale), clipped to ``factor_range`` and drive a
    :class:`ResonanceEqualizer`. Until the first full window has been heard
    (the first ``window`` seconds) the factor stays at the low end of
    ``factor_range``: a zero-padded window is unlike anything a model was
    trained on, and its prediction would linger in the average. An analysis
    frame centred at ``c`` uses the last factor predicted at or before
    ``c``. So the factor applied at any time depends on no later audio.

    Parameters
    ----------
    model : estimator, default=None
        A fitted regressor (or Pipeline) whose ``predict`` takes windows
        ``(n, 2, round(window * model_sr))``, e.g. a DRN or FFN pipeline from
        :mod:`sk_reseq.models`. None loads the default model shipped with
        the package (:func:`sk_reseq.persistence.load_default_model`).
    hop : float, default=None
        Seconds between predictions: at least the equalizer's frame hop
        (``hop_length / sr``, 23 ms at 44.1 kHz; the equalizer cannot apply
        factors more often) and at most 60. None predicts every fifth of
        the model's window and at least every 0.5 s: every 0.5 s for the
        paper's 0.5 s windows, every 1 s for the default model's 5 s
        windows, whose consecutive windows then share 80% of their audio
        (every 0.5 s they would share 90%, for twice the work).
    smoothing : float, default=3.0
        Time constant in seconds of the moving average over predictions;
        0 disables it.
    factor_range : tuple of float, default=(0, 1)
        Predictions are clipped to this interval within [0, 1].
    window : float, default=None
        Seconds of audio the model sees; None takes the model's own
        ``window_`` (set by :func:`sk_reseq.training.train_model`; the
        default model reads 5 s), else 0.5 (the paper).
    model_sr : float, default=22050
        Sample rate the model expects.
    sr : float, default=44100
        Sample rate of the audio to equalize.
    equalizer : ResonanceEqualizer, default=None
        Equalizer settings to use (its ``factor``, ``sr`` and
        ``match_loudness`` are replaced); None means ``ResonanceEqualizer()``.
    batch_size : int, default=64
        Windows per ``model.predict`` call offline.
    match_loudness : bool, default=False
        Offline, bring each output track's ITU-R BS.1770 integrated loudness
        to the input's with one gain, as
        :class:`ResonanceEqualizer`'s ``match_loudness`` does (peaks may then
        exceed full scale). The factors are predicted from the input, so the
        gain does not change them. :meth:`process_block` refuses it (a
        ValueError): a stream's integrated loudness is known only at its end.

    Attributes
    ----------
    model_ : estimator
        The model used.
    window_ : float
        Seconds of audio per prediction.
    hop_ : float
        Seconds between predictions.
    equalizer_ : ResonanceEqualizer
    latency_ : int
        Delay in samples of :meth:`process_block`'s output.
    factors_ : Bunch
        The factor curve of the last track processed: ``times`` (s, end of
        each window), ``raw`` (model output; NaN before the first full
        window) and ``factors`` (smoothed and clipped, as applied).
    stream_analysis_ : Bunch
        The equalizer's mean analysis of the last stream ended by
        :meth:`flush` (see :attr:`ResonanceEqualizer.stream_analysis_`).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.equalizer import AutoEqualizer
    >>> from sk_reseq.models import MeanRatingRegressor
    >>> windows = np.zeros((4, 2, 11025), dtype=np.float32)
    >>> model = MeanRatingRegressor().fit(windows, [0.2, 0.3, 0.4, 0.3])
    >>> auto = AutoEqualizer(model).fit()
    >>> x = np.random.default_rng(0).standard_normal((2, 44100)).astype(np.float32)
    >>> auto.transform(x).shape
    (2, 44100)
    >>> auto.factors_.factors.round(2).tolist()  # no full window yet at t = 0
    [0.0, 0.3, 0.3]
    """

    _parameter_constraints: dict = {
        "model": [HasMethods(["predict"]), None],
        "hop": [Interval(Real, 0, _MAX_HOP, closed="right"), None],
        "smoothing": [Interval(Real, 0, None, closed="left")],
        "factor_range": [tuple, list],
        "window": [Interval(Real, 0, 600, closed="neither"), None],
        "model_sr": [Interval(Real, 0, None, closed="neither")],
        "sr": [Interval(Real, 0, None, closed="neither")],
        "equalizer": [HasMethods(["process_block"]), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "match_loudness": ["boolean"],
    }

    def __init__(self, model=None, *, hop=None, smoothing=3.0, factor_range=(0.0, 1.0),
                 window=None, model_sr=22050, sr=44100, equalizer=None, batch_size=64,
                 match_loudness=False):
        self.model = model
        self.hop = hop
        self.smoothing = smoothing
        self.factor_range = factor_range
        self.window = window
        self.model_sr = model_sr
        self.sr = sr
        self.equalizer = equalizer
        self.batch_size = batch_size
        self.match_loudness = match_loudness

    def fit(self, X=None, y=None):
        """Check the settings and load the model (the model is not trained here).

        Parameters
        ----------
        X, y : ignored

        Returns
        -------
        self : AutoEqualizer
        """
        self._validate_params()
        low, high = (float(v) for v in self.factor_range)
        if not 0 <= low <= high <= 1:
            raise ValueError(
                f"factor_range must be (low, high) with 0 <= low <= high <= 1, got "
                f"{self.factor_range!r}."
            )
        base = ResonanceEqualizer() if self.equalizer is None else clone(self.equalizer)
        if "match_loudness" in base.get_params():  # the equalizer matches the whole output
            base.set_params(match_loudness=self.match_loudness)
        self.equalizer_ = base.set_params(factor=0.0, sr=self.sr).fit()
        self.latency_ = self.equalizer_.latency_
        if self.hop is not None:
            self._check_hop(self.hop)
        if self.model is None:  # last: the settings are checked before the model loads
            from ..persistence import load_default_model

            self.model_ = load_default_model()
        else:
            self.model_ = self.model
        window = self.window
        if window is None:
            window = getattr(self.model_, "window_", WINDOW_SECONDS)
        self.window_ = float(window)
        self._window_samples = max(1, int(round(self.window_ * self.sr)))
        self.hop_ = float(self.hop if self.hop is not None else max(0.5, self.window_ / 5))
        self._hop_samples = self._check_hop(self.hop_)
        self._stream = None
        return self

    def _check_hop(self, hop):
        """``hop`` in samples, or a ValueError if the equalizer cannot follow it."""
        samples = max(1, int(round(hop * self.sr)))
        frame_hop = self.equalizer_.hop_length_
        if samples < frame_hop:
            raise ValueError(
                f"hop must lie in [{frame_hop / self.sr:.4g}, {_MAX_HOP:g}] seconds: at least the "
                f"equalizer's frame hop ({frame_hop} samples at sr={self.sr:g}), which is as often "
                f"as a factor can change; got {hop!r}."
            )
        return samples

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _ensure_fitted(self):
        if not hasattr(self, "equalizer_"):
            self.fit()

    # -- factor prediction ---------------------------------------------

    def _window_at(self, x, end):
        """The ``window`` seconds of ``x`` ending at sample ``end`` (``end >= window``)."""
        seg = x[:, end - self._window_samples : end]
        if seg.shape[0] == 1:
            seg = np.repeat(seg, 2, axis=0)
        if self.model_sr != self.sr:
            seg = resample(seg, self.sr, self.model_sr)
        return seg.astype(np.float32, copy=False)

    def _predict_windows(self, windows):
        raw = np.asarray(self.model_.predict(np.stack(windows)), dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(raw)):
            raise ValueError("the model predicted NaN or infinite factors.")
        return raw

    def _smooth(self, raw, state=None):
        """Causal exponential moving average; returns smoothed values and the last state.

        NaN entries (no full window yet) come before any prediction: they
        give the low end of ``factor_range``.
        """
        low, high = (float(v) for v in self.factor_range)
        alpha = 1.0 if self.smoothing == 0 else 1.0 - np.exp(-self.hop_ / self.smoothing)
        out = np.full(len(raw), low)
        for i, value in enumerate(raw):
            if np.isnan(value):
                continue
            state = value if state is None else state + alpha * (value - state)
            out[i] = state
        return np.clip(out, low, high), state

    def predict_factors(self, X, progress=None):
        """The factor curve for one track, without equalizing.

        Parameters
        ----------
        X : np.ndarray [shape=(channels, samples)], one or two channels at ``sr``
        progress : callable, optional
            Called with the number of samples covered after each batch of windows.

        Returns
        -------
        curve : Bunch
            ``times`` (s; each factor is predicted from the audio before it),
            ``raw`` predictions and ``factors`` (smoothed, clipped).
        """
        self._ensure_fitted()
        x = self._check_track(X)
        ends = np.arange(0, x.shape[1] + 1, self._hop_samples)
        raw = np.full(len(ends), np.nan)
        full = np.flatnonzero(ends >= self._window_samples)
        if progress is not None and len(full) < len(ends):
            progress((len(ends) - len(full)) * self._hop_samples)
        for i in range(0, len(full), self.batch_size):
            batch = full[i : i + self.batch_size]
            raw[batch] = self._predict_windows([self._window_at(x, e) for e in ends[batch]])
            if progress is not None:
                progress(len(batch) * self._hop_samples)
        factors, _ = self._smooth(raw)
        return Bunch(times=ends / self.sr, raw=raw, factors=factors)

    def _check_track(self, X):
        x = check_audio(X, name="X")
        if x.shape[0] > 2:
            raise AudioValueError(
                f"X has {x.shape[0]} channels; the models take mono or stereo audio. "
                "Mix it down to 1 or 2 channels first."
            )
        return x.astype(np.float32, copy=False)

    def _factor_at(self, factors):
        """Frame index -> factor of the last prediction at or before the frame's centre."""
        hop = self._hop_samples

        def at(idx):
            centre = self.equalizer_.frame_centers(idx)
            pos = np.clip(np.floor_divide(centre, hop), 0, len(factors) - 1)
            return np.asarray(factors)[pos]

        return at

    def frame_factors(self, curve, n_samples):
        """The factor of each analysis frame of a track, from its factor curve.

        Each frame takes the last prediction at or before its centre, as
        :meth:`equalize` applies them; the result is what
        ``equalizer_.equalize(x, factor=...)`` takes to equalize ``x`` (of
        ``n_samples`` samples) with those factors.

        Parameters
        ----------
        curve : Bunch
            A factor curve from :meth:`predict_factors` (or ``factors_``).
        n_samples : int
            Length of the track.

        Returns
        -------
        factors : np.ndarray [shape=(n_frames,)]
            One factor per analysis frame (``equalizer_.n_frames(n_samples)`` of them).

        Examples
        --------
        >>> import numpy as np
        >>> from sk_reseq.equalizer import AutoEqualizer
        >>> from sk_reseq.models import MeanRatingRegressor
        >>> model = MeanRatingRegressor().fit(np.zeros((2, 2, 11025)), [0.5, 0.5])
        >>> auto = AutoEqualizer(model).fit()
        >>> x = np.zeros((2, 3 * 44100), dtype=np.float32)
        >>> factors = auto.frame_factors(auto.predict_factors(x), x.shape[1])
        >>> len(factors) == auto.equalizer_.n_frames(x.shape[1]), factors.max()
        (True, np.float64(0.5))
        """
        self._ensure_fitted()
        n_frames = self.equalizer_.n_frames(n_samples)
        return self._factor_at(np.asarray(curve.factors, dtype=np.float64))(np.arange(n_frames))

    # -- offline -------------------------------------------------------

    def transform(self, X):
        """Equalize one track ``(channels, samples)`` or a batch ``(n, channels, samples)``.

        Returns
        -------
        Xt : np.ndarray, same shape and dtype as ``X``
        """
        return self.equalize(X)

    def equalize(self, X, *, progress=None, return_analysis=False):
        """Like :meth:`transform`, reporting progress and optionally the analysis.

        Parameters
        ----------
        X : np.ndarray [shape=(channels, samples) or (n, channels, samples)]
        progress : callable, optional
            Called with a number of samples after each step: the prediction
            pass and the equalizer pass each cover the track once.
        return_analysis : bool or "mean", default=False
            Also return the equalizer's analysis of the run, as
            :meth:`ResonanceEqualizer.equalize` does (a single track only):
            the input's band levels and the gains applied with the predicted
            factors, e.g. ``gain_map_db``, the gain over time.

        Returns
        -------
        Xt : np.ndarray, same shape and dtype as ``X``
        analysis : Bunch, only if ``return_analysis``

        Examples
        --------
        >>> import numpy as np
        >>> from sk_reseq.equalizer import AutoEqualizer
        >>> from sk_reseq.models import MeanRatingRegressor
        >>> model = MeanRatingRegressor().fit(np.zeros((2, 2, 11025)), [0.5, 0.5])
        >>> x = np.random.default_rng(0).standard_normal((2, 44100)).astype(np.float32)
        >>> y, a = AutoEqualizer(model).fit().equalize(x, return_analysis="mean")
        >>> a.gain_map_db.shape == (len(a.gain_map_times), 400)
        True
        """
        self._ensure_fitted()
        original = np.asarray(X)
        if return_analysis not in (False, True, "mean"):
            raise ValueError("return_analysis must be True, False or 'mean', "
                             f"got {return_analysis!r}.")
        if original.ndim == 3:
            if return_analysis:
                raise ValueError("return_analysis needs a single track, not a batch.")
            return np.stack([self.equalize(clip, progress=progress) for clip in original])
        x = self._check_track(X)
        curve = self.predict_factors(x, progress=progress)
        self.factors_ = curve
        result = self.equalizer_.equalize(x, factor=self.frame_factors(curve, x.shape[1]),
                                          return_analysis=return_analysis, progress=progress)
        y, analysis = result if return_analysis else (result, None)
        if np.issubdtype(original.dtype, np.integer):
            y = float_to_pcm(y, original.dtype)
        elif original.dtype == np.float64:
            y = y.astype(np.float64)
        y = y[0] if original.ndim == 1 else y
        return (y, analysis) if return_analysis else y

    # -- streaming -----------------------------------------------------

    def process_block(self, block):
        """Equalize the next block of a stream; returns as many samples.

        The output equals :meth:`transform`'s delayed by :attr:`latency_`
        samples; the factors are predicted as the audio arrives.
        ``match_loudness`` is refused here (see the parameter).
        """
        self._ensure_fitted()
        if self.match_loudness:
            raise ValueError(_STREAM_MATCH_ERROR)
        block = np.asarray(block, dtype=np.float32)
        if block.ndim == 1:
            block = block[None, :]
        if self._stream is None:
            x0 = self._check_track(block) if block.shape[1] else block
            n_channels = x0.shape[0]
            factors = []  # the stream's factors so far, read by the equalizer as frames arrive
            self._stream = Bunch(history=np.zeros((n_channels, 0), np.float32), offset=0,
                                 total=0, raw=[], factors=factors, state=None, ended=False,
                                 equalizer=self.equalizer_.open_stream(
                                     n_channels, self._factor_at(factors)))
        s = self._stream
        if block.shape[0] != s.equalizer.n_channels:
            raise AudioValueError(
                f"block has {block.shape[0]} channels but the stream started with "
                f"{s.equalizer.n_channels}; call reset() to start a new stream."
            )
        if block.shape[1] and not np.all(np.isfinite(block)):
            raise AudioValueError("block contains NaN or infinite samples; audio must be finite.")
        if not s.ended:
            self._stream_predict(block)
        return s.equalizer.push(block)

    def _stream_predict(self, block):
        """Predict every factor whose window ends within the audio received so far."""
        s = self._stream
        s.history = np.concatenate([s.history, block], axis=1)
        s.total += block.shape[1]
        next_end = len(s.raw) * self._hop_samples
        ends = []
        while next_end <= s.total:
            ends.append(next_end)
            next_end += self._hop_samples
        raw = np.full(len(ends), np.nan)
        full = [i for i, end in enumerate(ends) if end >= self._window_samples]
        # The block's windows in batches, as offline: one call per window costs
        # more in overhead than the model's arithmetic.
        for i in range(0, len(full), self.batch_size):
            batch = full[i : i + self.batch_size]
            raw[batch] = self._predict_windows(
                [self._window_at(s.history, ends[k] - s.offset) for k in batch])
        smoothed, s.state = self._smooth(raw, s.state)
        s.raw.extend(raw.tolist())
        s.factors.extend(smoothed.tolist())
        keep = self._window_samples
        if s.history.shape[1] > keep:
            drop = s.history.shape[1] - keep
            s.history = s.history[:, drop:]
            s.offset += drop

    def flush(self):
        """End the stream: return the last :attr:`latency_` samples and reset."""
        if self._stream is None:
            return np.zeros((0, 0), dtype=np.float32)
        self._stream.ended = True  # the padding is not audio: predict nothing from it
        n_channels = self._stream.equalizer.n_channels
        # The analysis covers the track's frames, not those of the padding.
        self._stream.equalizer.recorder.max_frames = self.equalizer_.n_frames(self._stream.total)
        tail = self.process_block(np.zeros((n_channels, self.latency_), dtype=np.float32))
        self.factors_ = Bunch(times=np.arange(len(self._stream.raw)) * self._hop_samples / self.sr,
                              raw=np.asarray(self._stream.raw),
                              factors=np.asarray(self._stream.factors))
        self.stream_analysis_ = self.equalizer_.stream_analysis(self._stream.equalizer,
                                                                self._stream.total)
        self.reset()
        return tail

    def reset(self):
        """Forget the stream state."""
        self._stream = None
        return self
