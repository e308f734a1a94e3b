"""The resonance equalizer of the paper (section 2, Fig. 1) as a transformer."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Bunch

from .._validation import AudioValueError, check_audio, check_factor, float_to_pcm
from ..loudness import integrated_loudness, loudness_gain
from ..spectral import N_BANDS, Framing
from ..utils._sklearn_compat import Interval, Options, StrOptions
from ._engine import BlockStream, STFTEqualizerEngine, _Recorder

__all__ = ["ResonanceEqualizer"]

# process_block refuses match_loudness (both equalizers say so alike).
_STREAM_MATCH_ERROR = (
    "match_loudness=True needs the integrated loudness of the whole track, which a stream "
    "knows only at its end: equalize the whole track with equalize() or transform(), or "
    "stream with match_loudness=False (and a fixed gain).")

# Offline processing pushes this many hops per engine call: large enough to
# amortise Python overhead, small enough to bound the temporary buffers.
_CHUNK_HOPS = 64


class ResonanceEqualizer(TransformerMixin, BaseEstimator):
    """Dynamic equalizer that attenuates spectral resonances by one factor.

    Each STFT frame's ELC-weighted 400-band spectrum (ISO 226, 80 phon) is
    compared with its smoothed version; the excess (the resonances) is
    scaled by ``-factor``, interpolated back to the DFT bins and applied as
    a gain in (0, 1] (Grachten et al., 2018, Fig. 1). At ``factor=0`` the
    output equals the input; the equalizer only ever attenuates.

    Parameters
    ----------
    factor : float in [0, 1] or array-like of float, default=0.5
        Attenuation factor. An array makes it time-varying: one value per
        analysis frame (see :meth:`n_frames`) when ``factor_rate`` is None,
        else values sampled at ``factor_rate`` Hz from time 0 (each frame
        uses the value at its centre time; times past the end hold the
        last value).
    factor_rate : float, default=None
        Rate in Hz of an array ``factor``.
    sr : float, default=44100
        Sample rate of the audio.
    n_fft : int, default=None
        DFT size; None picks :func:`~sk_reseq.spectral.default_n_fft` (4096 at 44.1 kHz).
    hop_length : int, default=None
        Hop between frames; None means ``n_fft // 4`` (where the Hann
        analysis and synthesis windows overlap-add to a constant).
    n_bands : int, default=400
        Number of log-spaced bands of the ELC-weighted spectrum.
    fmin, fmax : float, default=(20.0, 20000.0)
        Band range in Hz (``fmax`` is capped at ``sr / 2``).
    phon : float, default=80.0
        Monitoring level of the equal-loudness weighting.
    smoothing : float, default=1.0
        Width in octaves of the smoothing across bands, at most the span of
        the bands (``log2(fmax / fmin)``, about 10 octaves for 20 Hz-20 kHz).
    smoothing_method : {"median", "mean"}, default="median"
        Running median (robust to the resonances themselves) or mean; see
        :func:`sk_reseq.spectral.smooth_bands`.
    threshold : float, default=1.0
        Excess over the smoothed curve, in dB, that does not count as a
        resonance: ``resonance = max(levels - smoothed - threshold, 0)``.
        The paper's detector is ``threshold=0``; the default of 1 dB keeps
        the equalizer from carving the random +-1 dB fluctuations of a
        half-second spectrum estimate (audible as "musical noise" on
        noise-like material) while a real resonance loses only 1 dB of
        its correction.
    averaging : float, default=0.5
        The detector reads the power spectrum averaged over this many
        seconds of frames up to the current one (causal); 0 uses each frame
        alone. The paper's equalizer works on 0.5 s windows.
    update_interval : int, default=2
        The detector (smoothed curve, resonances) runs on every
        ``update_interval``-th frame, on the causal average of every frame's
        band power; a frame between two analyses takes their resonances
        interpolated linearly in dB, with its own factor, and so waits for
        the second: the latency grows by ``(update_interval - 1) * hop``.
        At 2 the output stays within -34 dB of per-frame analysis (relative
        to what the equalizer removes; 3: -28 dB) for about 0.7 of its cost.
    workers : int, default=1
        Threads of each FFT (``scipy.fft``'s ``workers``; -1: all cores).
        The output does not depend on it. One thread per file is usually
        the better use of cores (``sk-reseq eq -o DIR --jobs N``); more FFT
        threads help a single long file.
    link_channels : bool, default=True
        True: one gain curve from the channels' summed power, applied to all
        channels (keeps the stereo image). False: one curve per channel.
    mix : float in [0, 1], default=1.0
        Dry/wet proportion: ``mix * equalized + (1 - mix) * input``.
    output : {"equalized", "delta"}, default="equalized"
        ``"delta"`` returns what the equalizer removes, ``input - equalized``.
    match_loudness : bool, default=False
        Offline (:meth:`equalize`, :meth:`transform`), scale each output
        track by one gain so that its ITU-R BS.1770 integrated loudness
        equals the input's (:func:`sk_reseq.loudness.integrated_loudness`;
        1 to 5 channels). Attenuating resonances lowers the loudness, and a
        quieter version tends to be judged worse. The gain may lift peaks
        above full scale: integer PCM output is then clipped, float output
        is not (see :func:`sk_reseq.loudness.true_peak`). The streaming
        :meth:`process_block` refuses it with a ValueError: a stream's
        integrated loudness is known only at its end. Not with
        ``output="delta"``.

    Attributes
    ----------
    latency_ : int
        Delay in samples of :meth:`process_block`'s output:
        ``n_fft - 1 + (update_interval - 1) * hop_length`` (5119 at 44.1 kHz
        with the defaults, 116 ms).
    stream_analysis_ : Bunch
        The means over frames of the last stream ended by :meth:`flush`
        (``mean_levels``, ``mean_smoothed``, ``mean_resonances``,
        ``mean_gain_db``, ``band_centers``, ...; see :meth:`equalize` with
        ``return_analysis="mean"``, which gives the same for the same audio).
    n_fft_ : int
    hop_length_ : int
    band_centers_ : np.ndarray [shape=(n_bands,)]

    See Also
    --------
    sk_reseq.preprocessing.ELCSpectrum : the same analysis on audio windows.
    sk_reseq.preprocessing.ResonanceDetector : resonances from band levels.

    Notes
    -----
    Streaming (:meth:`process_block`) and offline (:meth:`transform`)
    processing run the same engine and give the same output: the streamed
    output is the offline output delayed by :attr:`latency_` samples.

    Integer PCM input is converted to float by :func:`sk_reseq._validation.pcm_to_float`
    (``x / 2 ** (bits - 1)``) and converted back, rounded and clipped, so
    the output has the input's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.equalizer import ResonanceEqualizer
    >>> rng = np.random.default_rng(0)
    >>> x = 0.1 * rng.standard_normal((2, 44100)).astype(np.float32)
    >>> y = ResonanceEqualizer(factor=0.5).fit_transform(x)
    >>> y.shape, y.dtype
    ((2, 44100), dtype('float32'))
    >>> bool(np.allclose(ResonanceEqualizer(factor=0.0).fit_transform(x), x, atol=1e-5))
    True
    """

    _parameter_constraints: dict = {
        "factor": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "factor_rate": [Interval(Real, 0, None, closed="neither"), None],
        "sr": [Interval(Real, 0, None, closed="neither")],
        "n_fft": [Interval(Integral, 16, None, closed="left"), None],
        "hop_length": [Interval(Integral, 1, None, closed="left"), None],
        "n_bands": [Interval(Integral, 2, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="neither")],
        "fmax": [Interval(Real, 0, None, closed="neither")],
        "phon": [Interval(Real, 0, 100, closed="both")],
        "smoothing": [Interval(Real, 0, None, closed="neither")],
        "smoothing_method": [StrOptions({"median", "mean"})],
        "threshold": [Interval(Real, 0, None, closed="left")],
        "averaging": [Interval(Real, 0, None, closed="left")],
        "update_interval": [Interval(Integral, 1, None, closed="left")],
        "workers": [Interval(Integral, 1, None, closed="left"), Options(Integral, {-1})],
        "link_channels": ["boolean"],
        "mix": [Interval(Real, 0, 1, closed="both")],
        "output": [StrOptions({"equalized", "delta"})],
        "match_loudness": ["boolean"],
    }

    def __init__(
        self,
        factor=0.5,
        *,
        factor_rate=None,
        sr=44100,
        n_fft=None,
        hop_length=None,
        n_bands=N_BANDS,
        fmin=20.0,
        fmax=20000.0,
        phon=80.0,
        smoothing=1.0,
        smoothing_method="median",
        threshold=1.0,
        averaging=0.5,
        update_interval=2,
        workers=1,
        link_channels=True,
        mix=1.0,
        output="equalized",
        match_loudness=False,
    ):
        self.factor = factor
        self.factor_rate = factor_rate
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_bands = n_bands
        self.fmin = fmin
        self.fmax = fmax
        self.phon = phon
        self.smoothing = smoothing
        self.smoothing_method = smoothing_method
        self.threshold = threshold
        self.averaging = averaging
        self.update_interval = update_interval
        self.workers = workers
        self.link_channels = link_channels
        self.mix = mix
        self.output = output
        self.match_loudness = match_loudness

    # -- configuration -------------------------------------------------

    def _make_framing(self):
        """Validate the parameters and work out the framing (cheap: the layout is cached)."""
        self._validate_params()
        check_factor(self.factor)
        if self.match_loudness and self.output == "delta":
            raise ValueError("match_loudness=True matches the equalized output to the input; "
                             "it does not apply to output='delta' (what is removed).")
        framing = Framing.build(self.sr, self.n_fft, self.hop_length, averaging=self.averaging,
                                n_bands=self.n_bands, fmin=self.fmin, fmax=self.fmax,
                                phon=self.phon)
        if framing.n_fft % framing.hop:  # the overlap-add needs whole hops per frame
            raise ValueError(
                f"hop_length must divide n_fft; got hop_length={framing.hop}, "
                f"n_fft={framing.n_fft}."
            )
        layout = framing.layout
        # A window wider than the bands smooths nothing more (and its size
        # in bands would be allocated): at most the layout's span.
        span = float(np.log2(layout.edges[-1] / layout.edges[0]))
        if self.smoothing > span:
            raise ValueError(
                f"smoothing must lie in (0, {span:.2f}] octaves, the span of the bands "
                f"({layout.edges[0]:g} to {layout.edges[-1]:g} Hz, from fmin, fmax and sr); "
                f"got {self.smoothing!r}."
            )
        return framing

    @property
    def framing_(self):
        """The :class:`~sk_reseq.spectral.Framing` worked out in ``fit``.

        Rebuilt from the fitted sizes on access (the band layout is cached),
        so that a saved equalizer holds plain numbers only.
        """
        if "n_fft_" not in self.__dict__:
            raise AttributeError("framing_ is set by fit().")
        return Framing.build(self.sr, self.n_fft_, self.hop_length_, averaging=self.averaging,
                             n_bands=self.n_bands, fmin=self.fmin, fmax=self.fmax, phon=self.phon)

    def _framing(self):
        """The framing of ``fit`` (fitting first when needed: there is nothing to learn)."""
        if "n_fft_" not in self.__dict__:
            self.fit()
        return self.framing_

    def set_params(self, **params):
        """Set parameters; the framing is worked out again at the next use.

        Returns
        -------
        self : ResonanceEqualizer
        """
        super().set_params(**params)
        for name in ("n_fft_", "hop_length_", "latency_", "band_centers_"):
            self.__dict__.pop(name, None)
        return self

    def fit(self, X=None, y=None):
        """Validate the parameters; the equalizer learns nothing from data.

        Parameters
        ----------
        X : ignored
        y : ignored

        Returns
        -------
        self : ResonanceEqualizer
        """
        framing = self._make_framing()
        self.n_fft_ = framing.n_fft
        self.hop_length_ = framing.hop
        # The frames between two analyses wait for the second one.
        self.latency_ = framing.latency + (self.update_interval - 1) * framing.hop
        self.band_centers_ = framing.layout.centers
        self._stream = None
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # -- framing helpers -----------------------------------------------

    def n_frames(self, n_samples):
        """Number of analysis frames for a track of ``n_samples`` samples.

        This is the length a per-frame ``factor`` array must have.

        Examples
        --------
        >>> from sk_reseq.equalizer import ResonanceEqualizer
        >>> ResonanceEqualizer(sr=44100).n_frames(44100)
        47
        """
        return self._framing().n_frames(n_samples)

    def frame_times(self, n_samples):
        """Centre time in seconds of each analysis frame.

        Examples
        --------
        >>> from sk_reseq.equalizer import ResonanceEqualizer
        >>> ResonanceEqualizer(sr=44100).frame_times(44100)[:2].round(4).tolist()
        [-0.0232, 0.0]
        """
        return self._framing().frame_times(n_samples)

    def _factor_function(self, factor, n_frames=None):
        factor = check_factor(factor)
        if np.ndim(factor) == 0:
            return lambda idx: np.full(len(idx), factor)
        factor = np.asarray(factor, dtype=np.float64)
        if self.factor_rate is None:
            if n_frames is not None and len(factor) != n_frames:
                raise ValueError(
                    f"factor has {len(factor)} values but the audio has {n_frames} analysis "
                    "frames; give one value per frame (see n_frames()) or set factor_rate."
                )
            return lambda idx: factor[np.minimum(idx, len(factor) - 1)]
        rate = float(self.factor_rate)

        def at(idx):
            centre = self.frame_centers(idx) / self.sr
            pos = np.clip(np.floor(centre * rate).astype(np.int64), 0, len(factor) - 1)
            return factor[pos]

        return at

    # -- offline processing --------------------------------------------

    def _engine(self, n_channels, factor_at, recorder, dtype):
        """A streaming engine reading its per-frame factors from ``factor_at``."""
        return STFTEqualizerEngine(
            n_channels,
            framing=self._framing(),
            smoothing=self.smoothing,
            smoothing_method=self.smoothing_method,
            threshold=self.threshold,
            link=self.link_channels,
            factor_at=factor_at,
            mix=self.mix,
            output=self.output,
            recorder=recorder,
            dtype=dtype,
            update_interval=self.update_interval,
            workers=self.workers,
        )

    def frame_centers(self, frame_indices):
        """Centre of each analysis frame, in samples from the start (may be < 0)."""
        return self._framing().frame_centers(frame_indices)

    def _process_track(self, x, factor_at, recorder=None, progress=None, out=None):
        """Equalize one float track (channels, samples); returns same dtype.

        ``out`` may be ``x`` itself: each chunk of ``x`` is copied into the
        engine before any output is written, and the output lags the input
        by ``n_fft - hop`` samples, so no sample is overwritten before it is read.
        """
        framing = self._framing()
        n_fft, hop = framing.n_fft, framing.hop
        dtype = np.float64 if x.dtype == np.float64 else np.float32
        n_channels, n = x.shape
        engine = self._engine(n_channels, factor_at, recorder, dtype)
        if recorder is not None:  # the track's frames, not those of the padding after it
            recorder.max_frames = framing.n_frames(n)
        if out is None:
            out = np.empty((n_channels, n), dtype=dtype)
        skip = n_fft - hop  # leading output that belongs to the implicit zero padding
        # Input incl. trailing zeros: the last frames and the analysis after them.
        total = -(-(n + n_fft - hop) // hop) * hop + engine.lookahead
        written = 0
        chunk = _CHUNK_HOPS * hop
        for start in range(0, total, chunk):
            stop = min(start + chunk, total)
            block = x[:, start:min(stop, n)]
            if stop > n:
                pad = np.zeros((n_channels, stop - max(start, n)), dtype=dtype)
                block = np.concatenate([block, pad], axis=1)
            piece = engine.push(block)
            lo = max(skip - written, 0)
            take = piece[:, lo:]
            pos = written + lo - skip
            m = min(take.shape[1], n - pos)
            if m > 0:
                out[:, pos : pos + m] = take[:, :m]
            written += piece.shape[1]
            if progress is not None:
                progress(stop - start)
        return out

    def equalize(self, X, factor=None, *, return_analysis=False, progress=None, out=None):
        """Equalize one track (or a batch), optionally returning the analysis.

        Parameters
        ----------
        X : np.ndarray [shape=(channels, samples), (samples,) or (n, channels, samples)]
            Float or integer PCM audio at ``sr``.
        factor : float or array-like, optional
            Overrides the ``factor`` parameter for this call.
        return_analysis : bool or "mean", default=False
            Also return a :class:`~sklearn.utils.Bunch` with, per analysis
            frame, ``levels`` (ELC-weighted band levels, dB), ``smoothed``,
            ``resonances`` and ``gain_db`` (float32, shape ``(frames, bands)``
            or ``(frames, channels, bands)`` when channels are not linked),
            ``power`` (the frames' power spectra, summed over linked
            channels), their means over frames (``mean_levels``, ...),
            ``times`` (frame centres, s), ``band_centers``, ``layout`` and
            ``phon``, and ``loudness_gain_db`` (the gain ``match_loudness``
            applied, not in ``gain_db``; 0 without it). Only for a single
            track. ``"mean"`` keeps only the means, in constant memory (for
            long files). Both keep the gain
            over time in bounded memory: ``gain_map_db`` (columns, [channels,]
            bands), runs of consecutive frames averaged in dB into at most
            2048 columns (one frame per column for shorter tracks), and
            ``gain_map_times`` (the columns' mean frame centres, s).
        progress : callable, optional
            Called with the number of input samples processed after each chunk
            (e.g. ``tqdm.update``).
        out : np.ndarray [shape=(channels, samples)], optional
            Array to write the result into, of ``X``'s shape and float dtype
            (a single float track). It may be ``X`` itself, which is then
            overwritten with the result: that saves a copy of a long track.

        Returns
        -------
        y : np.ndarray, same shape and dtype as ``X`` (``out`` if given)
        analysis : Bunch, only if ``return_analysis``

        Examples
        --------
        >>> import numpy as np
        >>> from sk_reseq.equalizer import ResonanceEqualizer
        >>> x = np.random.default_rng(0).standard_normal((1, 22050)).astype(np.float32)
        >>> y, a = ResonanceEqualizer(sr=22050).equalize(x, return_analysis=True)
        >>> a.levels.shape[1], a.levels.shape[0] == len(a.times)
        (400, True)
        """
        original = np.asarray(X) if not isinstance(X, (str, bytes)) else X
        x = check_audio(X, name="X", allow_batch=True)
        factor = self.factor if factor is None else factor
        factor_at = self._factor_function(factor, self.n_frames(x.shape[-1]))
        dtype = original.dtype if np.issubdtype(original.dtype, np.integer) else None
        squeeze = original.ndim == 1
        if out is not None:
            self._check_out(out, original)
        if x.ndim == 3:
            if return_analysis:
                raise ValueError("return_analysis=True needs a single track, not a batch.")
            y = np.stack([self._process_track(clip, factor_at) for clip in x])
            for clip, out_clip in zip(x, y):
                self._match_loudness(out_clip, self._loudness_target(clip))
            return self._restore(y, dtype, squeeze)
        recorder = self._recorder(return_analysis)
        target = self._loudness_target(x)  # before out (which may be X) is written
        y = self._process_track(x, factor_at, recorder, progress, out)
        gain_db = self._match_loudness(y, target)
        y = self._restore(y, dtype, squeeze)
        if not return_analysis:
            return y
        return y, Bunch(**self._analysis_bunch(recorder, x.shape[1]), loudness_gain_db=gain_db)

    def _loudness_target(self, x):
        """The integrated loudness of float track ``x`` if ``match_loudness``, else None."""
        return integrated_loudness(x, self.sr) if self.match_loudness else None

    def _match_loudness(self, y, target):
        """Scale float track ``y`` in place to loudness ``target``; return the gain in dB."""
        if target is None:
            return 0.0
        gain_db = loudness_gain(integrated_loudness(y, self.sr), target)
        if gain_db:
            y *= y.dtype.type(10.0 ** (gain_db / 20.0))
        return gain_db

    @staticmethod
    def _recorder(return_analysis):
        """The recorder for ``return_analysis`` (None for False), after checking it."""
        if return_analysis not in (False, True, "mean"):
            raise ValueError("return_analysis must be True, False or 'mean', "
                             f"got {return_analysis!r}.")
        return _Recorder(keep_frames=return_analysis is True) if return_analysis else None

    @staticmethod
    def _check_out(out, X):
        if not isinstance(out, np.ndarray):
            raise TypeError(f"out must be a numpy array, got {type(out).__name__}.")
        if X.ndim != 2 or X.dtype not in (np.float32, np.float64):
            raise ValueError(
                "out needs X to be a single float32 or float64 track (channels, samples); "
                f"got X of shape {X.shape} and dtype {X.dtype}."
            )
        if out.shape != X.shape or out.dtype != X.dtype:
            raise ValueError(
                f"out must have X's shape {X.shape} and dtype {X.dtype}; got shape {out.shape} "
                f"and dtype {out.dtype}."
            )
        if not out.flags.writeable:
            raise ValueError("out must be writeable.")
        same = (out.__array_interface__["data"][0] == X.__array_interface__["data"][0]
                and out.strides == X.strides)
        if not same and np.may_share_memory(out, X):
            raise ValueError("out must be X itself or an array that shares no memory with X.")

    @staticmethod
    def _restore(y, int_dtype, squeeze):
        if int_dtype is not None:
            y = float_to_pcm(y, int_dtype)
        return y[0] if squeeze else y

    def _analysis_bunch(self, recorder, n_samples):
        layout = self._framing().layout
        frames = {k: np.concatenate(v) for k, v in recorder.frames.items() if v}
        means = {f"mean_{k}": v / max(recorder.count, 1) for k, v in recorder.sums.items()}
        gain_map, mean_frame = recorder.gain_map()
        return Bunch(
            **frames,
            **means,
            times=self.frame_times(n_samples),
            gain_map_db=gain_map,
            gain_map_times=self.frame_centers(mean_frame) / self.sr,
            band_centers=layout.centers,
            layout=layout,
            phon=float(self.phon),
        )

    def analyze(self, X):
        """The detector's per-frame analysis of one track, without equalizing.

        Equivalent to ``equalize(X, factor=0, return_analysis=True)[1]`` with
        resonances computed as usual (the gains then refer to ``factor``).

        Returns
        -------
        analysis : Bunch
            See :meth:`equalize`.

        Examples
        --------
        >>> import numpy as np
        >>> from sk_reseq.equalizer import ResonanceEqualizer
        >>> x = np.random.default_rng(0).standard_normal((2, 22050)).astype(np.float32)
        >>> a = ResonanceEqualizer(sr=22050).analyze(x)
        >>> a.resonances.shape[1], float(a.resonances.min())
        (400, 0.0)
        """
        return self.equalize(X, return_analysis=True)[1]

    def transform(self, X):
        """Equalize audio.

        Parameters
        ----------
        X : np.ndarray [shape=(channels, samples) or (n, channels, samples)]
            One track or a batch of equal-length clips, at ``sr``.

        Returns
        -------
        Xt : np.ndarray, same shape and dtype as ``X``
        """
        return self.equalize(X)

    # -- streaming -----------------------------------------------------

    def process_block(self, block):
        """Equalize the next block of a stream; returns as many samples.

        The output is the offline output delayed by :attr:`latency_`
        samples (``n_fft - 1``), whatever the block sizes, without
        ``match_loudness`` (refused here: see the parameter). A time-varying
        ``factor`` is indexed by the stream's frame count. Call
        :meth:`reset` to start a new stream and :meth:`flush` at its end.

        Parameters
        ----------
        block : np.ndarray [shape=(channels, m)]
            Float audio (``m`` may be 0); the channel count is fixed by the
            first block.

        Returns
        -------
        out : np.ndarray [shape=(channels, m)], float32

        Examples
        --------
        >>> import numpy as np
        >>> from sk_reseq.equalizer import ResonanceEqualizer
        >>> eq = ResonanceEqualizer(factor=0.0, sr=22050).fit()
        >>> x = np.random.default_rng(0).standard_normal((1, 8000)).astype(np.float32)
        >>> out = np.concatenate([eq.process_block(b) for b in np.array_split(x, 7, axis=1)]
        ...                      + [eq.flush()], axis=1)
        >>> bool(np.allclose(out[:, eq.latency_:], x, atol=1e-5))
        True
        """
        if not hasattr(self, "latency_"):
            self.fit()
        if self.match_loudness:
            raise ValueError(_STREAM_MATCH_ERROR)
        block = np.asarray(block)
        if block.ndim == 1:
            block = block[None, :]
        if block.ndim != 2:
            raise AudioValueError(
                f"block must have shape (channels, samples); got {block.ndim} dimensions."
            )
        if block.shape[1] and not np.all(np.isfinite(block)):
            raise AudioValueError("block contains NaN or infinite samples; audio must be finite.")
        if self._stream is None:
            self._stream = self.open_stream(block.shape[0], self._factor_function(self.factor))
        elif block.shape[0] != self._stream.n_channels:
            raise AudioValueError(
                f"block has {block.shape[0]} channels but the stream started with "
                f"{self._stream.n_channels}; call reset() to start a new stream."
            )
        return self._stream.push(block.astype(np.float32, copy=False))

    def open_stream(self, n_channels, factor_at):
        """A :class:`~sk_reseq.equalizer._engine.BlockStream` with per-frame factors.

        For an equalizer that drives this one (:class:`AutoEqualizer`):
        ``factor_at`` maps analysis frame indices to factors, and is called
        only once the frames' audio has arrived. The stream keeps the mean
        analysis only (constant memory).
        """
        recorder = _Recorder(keep_frames=False)
        return BlockStream(self._engine(n_channels, factor_at, recorder, np.float32), recorder)

    def stream_analysis(self, stream, n_samples):
        """The mean analysis of ``stream`` (from :meth:`open_stream`) over ``n_samples``."""
        return self._analysis_bunch(stream.recorder, n_samples)

    def flush(self):
        """End the stream: return the last :attr:`latency_` samples and reset.

        Also sets :attr:`stream_analysis_`, the stream's mean analysis.
        """
        if getattr(self, "_stream", None) is None:
            return np.zeros((0, 0), dtype=np.float32)
        stream = self._stream
        n_samples = stream.n_samples
        stream.recorder.max_frames = self.n_frames(n_samples)  # not the padding's frames
        tail = self.process_block(np.zeros((stream.n_channels, self.latency_), dtype=np.float32))
        self.stream_analysis_ = self.stream_analysis(stream, n_samples)
        self.reset()
        return tail

    def reset(self):
        """Forget the stream state; the next block starts a new stream."""
        self._stream = None
        return self
