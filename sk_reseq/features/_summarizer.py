"""FeatureSummarizer: audio windows -> the FFN's 679 features."""

import logging
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import gen_even_slices

from .._validation import AudioValueError, check_windows
from ..utils._sklearn_compat import Interval, fit_context
from ._descriptors import (
    DESCRIPTOR_NAMES,
    FLUX_INDEX,
    N_ESSENTIA_DESCRIPTORS,
    EssentiaFrameAnalyzer,
)
from ._essentia import quiet_essentia
from ._hnr import harmonics_to_noise_ratio
from ._stereo import stereo_width
from ._summary import STATISTICS, summarize

__all__ = ["FeatureSummarizer", "FEATURE_NAMES"]

logger = logging.getLogger(__name__)

# Windows per chunk: about a second of work, a few MB of intermediates.
_CHUNK_WINDOWS = 128

FEATURE_NAMES = tuple(f"{d}__{s}" for d in DESCRIPTOR_NAMES for s in STATISTICS)


def _frames(signal, frame_size, hop_size):
    """Frames ``(..., n_frames, frame_size)`` of ``signal (..., samples)``, a view."""
    view = np.lib.stride_tricks.sliding_window_view(signal, frame_size, axis=-1)
    return view[..., ::hop_size, :]


def _frame_descriptors(X, analyzer, hop_size):
    """The 97 descriptors per frame: ``(n_windows, n_frames, 97)``, all finite."""
    frame_size = analyzer.frame_size
    mono = _frames(X.mean(axis=1), frame_size, hop_size)
    n_windows, n_frames = mono.shape[:2]
    values = np.empty((n_windows, n_frames, len(DESCRIPTOR_NAMES)))
    # Essentia wants contiguous float32 frames: one conversion for the chunk.
    mono32 = np.ascontiguousarray(mono, dtype=np.float32)
    with quiet_essentia():
        for i in range(n_windows):
            values[i, :, :N_ESSENTIA_DESCRIPTORS] = analyzer(mono32[i])
    right = X[:, 1] if X.shape[1] == 2 else X[:, 0]  # mono: identical channels
    values[..., -3], values[..., -2] = stereo_width(X[:, 0], right, frame_size, hop_size)
    values[..., -1] = harmonics_to_noise_ratio(mono, analyzer.sr)
    # A safeguard: none is expected, but an Essentia corner case must not
    # make the output non-finite.
    bad = ~np.isfinite(values)
    if bad.any():
        logger.debug("replacing %d non-finite descriptor values by 0", int(bad.sum()))
        values[bad] = 0.0
    return values


def _features_of_chunk(X, sr, frame_size, hop_size, analyzer=None):
    """679 features of a chunk of windows; builds the Essentia algorithms if not given."""
    if analyzer is None:
        analyzer = EssentiaFrameAnalyzer(sr, frame_size)
    values = _frame_descriptors(X, analyzer, hop_size)
    features = summarize(values)
    # Flux of frame 0 is relative to silence, not to a previous frame: leave
    # it out (a single-frame window has no flux: 0).
    n_stats = len(STATISTICS)
    flux = slice(FLUX_INDEX * n_stats, (FLUX_INDEX + 1) * n_stats)
    if values.shape[1] > 1:
        features[:, flux] = summarize(values[:, 1:, FLUX_INDEX : FLUX_INDEX + 1])
    else:
        features[:, flux] = 0.0
    return features


class FeatureSummarizer(TransformerMixin, BaseEstimator):
    """Audio windows to the 679 summarized descriptors of the paper's FFN.

    Each window is cut into frames; per frame, the 97 descriptors of Table 2
    of Grachten et al. (2018) are computed (94 with Essentia on the mono mix,
    the stereo width pair from the two channels, and the harmonics-to-noise
    ratio); each descriptor is then summarized over the window's frames by
    7 statistics: mean, median, std, skew, kurtosis, 10th and 90th percentile.
    97 x 7 = 679 features, named ``<descriptor>__<statistic>`` (see
    :meth:`get_feature_names_out`), descriptor-major in Table 2's order.

    The transformer is stateless: :meth:`fit` only validates; :meth:`transform`
    may be called without it.

    Parameters
    ----------
    sr : int, default=22050
        Sample rate of the windows in Hz (at least 16000).
    frame_size : int, default=1024
        Frame length in samples (even, at least 256). The paper's "typically
        1024 samples".
    hop_size : int or None, default=None
        Frame step in samples; None means ``frame_size // 2`` (50 % overlap,
        the usual choice for tapered windows; the paper does not state it).
        With the defaults a 0.5 s window at 22050 Hz gives 20 frames. Samples
        after the last whole frame are not used.
    n_jobs : int or None, default=None
        Windows are split into chunks processed in parallel by joblib; None
        means 1 unless in a ``joblib.parallel_backend`` context, -1 means all
        processors. Each chunk (at most 128 windows) in a worker builds the
        Essentia algorithms once; with ``n_jobs=1`` they are built once per
        transformer and cached (not pickled, not cloned).
    verbose : int, default=0
        Progress: joblib's messages when ``n_jobs`` is not 1, otherwise one
        INFO log line per chunk (logger ``sk_reseq.features._summarizer``).

    Attributes
    ----------
    n_features_out_ : int
        679, the number of features.

    See Also
    --------
    sk_reseq.features.summarize : The 7 statistics on their own.

    Notes
    -----
    Input: windows ``(n_windows, channels, samples)`` with 1 (mono) or 2
    channels, finite values, at least ``frame_size`` samples. Integer PCM is
    converted to float. The descriptors, their parameters and the values used
    where a descriptor is undefined (no pitch, silence, mono input) are listed
    in :mod:`sk_reseq.features._descriptors`, :func:`harmonics_to_noise_ratio`
    (Boersma 1993, in [-20, 40] dB, silence -20 dB) and :func:`stereo_width`
    (mono: correlation 1, RMS difference 0). Spectral flux is summarized over
    frames 1..n (frame 0 has no predecessor). Every output value is finite.

    Essentia is AGPL-3.0 and optional: install ``sk_reseq[features]``.

    References
    ----------
    M. Grachten, E. Deruty, A. Tanguy, "Auto-adaptive resonance equalization
    using dilated residual networks", 2018, section 4.1 and Table 2.

    D. Bogdanov et al., "Essentia: an audio analysis library for music
    information retrieval", ISMIR 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.features import FeatureSummarizer
    >>> rng = np.random.default_rng(0)
    >>> windows = 0.1 * rng.standard_normal((2, 2, 11025)).astype(np.float32)
    >>> summarizer = FeatureSummarizer(sr=22050)
    >>> features = summarizer.fit_transform(windows)
    >>> features.shape
    (2, 679)
    >>> summarizer.get_feature_names_out()[[0, 6, 678]].tolist()
    ['mfcc_00__mean', 'mfcc_00__p90', 'hnr__p90']
    """

    _parameter_constraints: dict = {
        "sr": [Interval(Integral, 16000, None, closed="left")],
        "frame_size": [Interval(Integral, 256, None, closed="left")],
        "hop_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, *, sr=22050, frame_size=1024, hop_size=None, n_jobs=None, verbose=0):
        self.sr = sr
        self.frame_size = frame_size
        self.hop_size = hop_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self):
        self._validate_params()
        if self.frame_size % 2:
            raise ValueError(f"frame_size must be even (Essentia's FFT), got {self.frame_size}.")

    def _check_windows(self, X):
        if sp.issparse(X):
            raise TypeError(
                "X is a sparse matrix; sparse input is not supported: FeatureSummarizer "
                "takes dense audio windows of shape (n_windows, channels, samples)."
            )
        if np.iscomplexobj(X):
            raise ValueError("Complex data not supported: X must hold real audio samples.")
        X = check_windows(X, name="X", min_samples=self.frame_size)
        if X.shape[1] not in (1, 2):
            raise AudioValueError(
                f"X windows have {X.shape[1]} channels; FeatureSummarizer accepts "
                "mono (1) or stereo (2) windows of shape (n_windows, channels, samples)."
            )
        return X

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and the windows; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_windows, channels, samples)
            Audio windows (1 or 2 channels) at ``sr`` Hz.
        y : None
            Ignored.

        Returns
        -------
        self : FeatureSummarizer
        """
        self._check_params()
        self._check_windows(X)
        self.n_features_out_ = len(FEATURE_NAMES)
        return self

    def transform(self, X):
        """Compute the 679 features of each window.

        Parameters
        ----------
        X : array-like of shape (n_windows, channels, samples)
            Audio windows (1 or 2 channels, finite) at ``sr`` Hz, at least
            ``frame_size`` samples long. Not modified.

        Returns
        -------
        features : np.ndarray of shape (n_windows, 679), float64
            Finite values, columns named by :meth:`get_feature_names_out`.
        """
        self._check_params()
        X = self._check_windows(X)
        hop = self.hop_size or self.frame_size // 2
        n_jobs = effective_n_jobs(self.n_jobs)
        # Bounded chunks bound the memory of the frame-wise intermediates.
        n_chunks = max(min(len(X), n_jobs), -(-len(X) // _CHUNK_WINDOWS))
        chunks = list(gen_even_slices(len(X), n_chunks))
        if n_jobs == 1:
            analyzer = self._analyzer()
            parts = []
            for chunk in chunks:
                parts.append(_features_of_chunk(X[chunk], self.sr, self.frame_size, hop, analyzer))
                if self.verbose:
                    logger.info("features: %d/%d windows", chunk.stop, len(X))
        else:
            parts = Parallel(n_jobs=n_jobs, verbose=self.verbose)(
                delayed(_features_of_chunk)(X[chunk], self.sr, self.frame_size, hop)
                for chunk in chunks
            )
        return np.concatenate(parts)

    def _analyzer(self):
        """The Essentia algorithms, built once per (sr, frame_size) and cached."""
        key = (self.sr, self.frame_size)
        cached = getattr(self, "_analyzer_cache", None)
        if cached is None or cached[0] != key:
            cached = self._analyzer_cache = (key, EssentiaFrameAnalyzer(*key))
        return cached[1]

    def get_feature_names_out(self, input_features=None):
        """Names of the 679 features, ``<descriptor>__<statistic>``.

        Parameters
        ----------
        input_features : None
            Ignored (the input is audio, not named features).

        Returns
        -------
        feature_names_out : np.ndarray of str objects, shape (679,)
        """
        return np.asarray(FEATURE_NAMES, dtype=object)

    def __getstate__(self):
        # Essentia algorithms are C++ objects: rebuilt on demand after unpickling.
        state = super().__getstate__()
        state.pop("_analyzer_cache", None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.three_d_array = True
        # two_d_array stays True only so that parametrize_with_checks runs the
        # common checks at all (it yields none otherwise); those that feed 2-D
        # tables are listed as expected failures in the tests, with reasons.
        return tags
