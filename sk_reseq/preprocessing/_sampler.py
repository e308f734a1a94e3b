"""Cut tracks into fixed-length audio windows: the paper's learning samples.

A listening test rates whole tracks, but the models learn from 0.5 s
windows (section 4). :class:`WindowSampler` turns ``(tracks, Y)`` into
``(X, Y, groups)`` the way an imbalanced-learn sampler turns ``(X, y)`` into
a resampled ``(X, y)``: the public :meth:`~WindowSampler.fit_resample`
validates, the private ``_fit_resample`` does the work. ``groups`` lets
``GroupKFold`` keep all windows of a track in one fold.
"""

import logging
import os
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.utils import check_array, check_random_state

from .._validation import AudioValueError, check_audio
from ..utils._sklearn_compat import Interval, fit_context

__all__ = ["WindowSampler"]

logger = logging.getLogger(__name__)


def _load_track(path, sr):
    """Read an audio file as float32 ``(channels, samples)`` at ``sr``."""
    from ..audio import load_audio

    audio, _ = load_audio(path, sr=sr)
    return audio


class WindowSampler(BaseEstimator):
    """Sample fixed-length windows from whole tracks.

    Each track yields ``n_windows`` windows of ``duration`` seconds at
    random positions. A window is placed by its *reference time* ``t``
    (seconds from the start of its track), drawn uniformly among the
    positions where the whole window fits inside the track:

    - ``causal=True``: the window is ``[t - duration, t]``, the audio the
      auto-equalizer has heard when it applies a factor at ``t`` (paper,
      section 4). Every window ends at or before its reference time.
    - ``causal=False``: the window is centred, ``[t - duration / 2,
      t + duration / 2]``.

    Tracks shorter than one window are refused (a ``ValueError`` naming the
    track): zero padding would teach the models that silence is music.

    Parameters
    ----------
    duration : float, default=0.5
        Window length in seconds; a window has ``round(duration * sr)``
        samples.
    sr : int, default=22050
        Sample rate in Hz. Arrays passed as tracks must already be at this
        rate; file paths are loaded and resampled to it.
    n_windows : int, default=100
        Windows drawn per track by :meth:`fit_resample`.
    causal : bool, default=True
        Whether a window ends at its reference time (True) or is centred
        on it (False).
    n_channels : int or None, default=None
        Channels of the output windows. ``None`` uses the largest channel
        count among the tracks. Mono tracks are duplicated to
        ``n_channels``; with ``n_channels=1`` multichannel tracks are
        averaged to mono; any other mismatch raises a ``ValueError``.
    random_state : int, RandomState instance or None, default=None
        Seeds the window positions; the same seed gives the same windows.

    Attributes
    ----------
    n_channels_ : int
        Channels of the windows produced.
    n_samples_ : int
        Samples per window.
    reference_times_ : np.ndarray [shape=(n_tracks * n_windows,)]
        Reference time in seconds of each window of the last
        :meth:`fit_resample`, within its track.
    starts_ : np.ndarray [shape=(n_tracks * n_windows,)]
        First sample of each window within its track.

    See Also
    --------
    sklearn.model_selection.GroupKFold : splits that keep a track's windows together.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.preprocessing import WindowSampler
    >>> tracks = [np.zeros((2, 22050), dtype=np.float32), np.zeros((1, 44100))]
    >>> Y = np.array([[0.25, np.nan], [0.5, 0.75]])
    >>> sampler = WindowSampler(n_windows=3, random_state=0)
    >>> X, Y_rep, groups = sampler.fit_resample(tracks, Y)
    >>> X.shape, Y_rep.shape, groups.tolist()
    ((6, 2, 11025), (6, 2), [0, 0, 0, 1, 1, 1])
    >>> bool(np.all(sampler.reference_times_ >= 0.5))
    True
    """

    _parameter_constraints: dict = {
        "duration": [Interval(Real, 0, None, closed="neither")],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "n_windows": [Interval(Integral, 1, None, closed="left")],
        "causal": ["boolean"],
        "n_channels": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        duration=0.5,
        sr=22050,
        n_windows=100,
        causal=True,
        n_channels=None,
        random_state=None,
    ):
        self.duration = duration
        self.sr = sr
        self.n_windows = n_windows
        self.causal = causal
        self.n_channels = n_channels
        self.random_state = random_state

    # -- validation -----------------------------------------------------------

    def _window_length(self):
        n = int(round(self.duration * self.sr))
        if n < 1:
            raise ValueError(
                f"duration={self.duration!r} s at sr={self.sr} gives windows of "
                "0 samples; use a longer duration."
            )
        return n

    def _check_tracks(self, tracks):
        """List of float arrays ``(channels, samples)``; paths are loaded."""
        if isinstance(tracks, (str, bytes, os.PathLike)):
            raise TypeError(
                "tracks must be a sequence of tracks (arrays (channels, samples) or "
                f"file paths), got a single {type(tracks).__name__}; wrap it in a list."
            )
        if sparse.issparse(tracks):
            raise TypeError(
                "tracks must be dense audio arrays; sparse input is not supported."
            )
        if isinstance(tracks, np.ndarray):
            if tracks.ndim < 2:
                raise ValueError(
                    f"tracks must be a sequence of tracks; got a {tracks.ndim}-D array. "
                    "Wrap a single track in a list: [track]."
                )
            # 3-D: (n_tracks, channels, samples); 2-D: one mono track per row.
            tracks = list(tracks)
        try:
            tracks = list(tracks)
        except TypeError as exc:
            raise TypeError(
                "tracks must be a sequence of arrays (channels, samples) or file paths, "
                f"got {type(tracks).__name__}."
            ) from exc
        if not tracks:
            raise ValueError("tracks is empty; at least one track is needed.")
        checked = []
        for i, track in enumerate(tracks):
            if isinstance(track, (str, os.PathLike)):
                track = _load_track(track, self.sr)
            if sparse.issparse(track):
                raise TypeError(f"tracks[{i}] is sparse; sparse input is not supported.")
            if not isinstance(track, (bytes, bytearray)) and np.ndim(track) == 0:
                raise ValueError(
                    f"tracks[{i}] is a scalar; each track must be an array "
                    "(channels, samples) or (samples,), or a file path."
                )
            checked.append(check_audio(track, name=f"tracks[{i}]"))
        return checked

    def _resolve_channels(self, tracks):
        if self.n_channels is not None:
            return int(self.n_channels)
        if hasattr(self, "n_channels_"):
            return self.n_channels_
        return max(track.shape[0] for track in tracks)

    def _conform(self, track, n_channels, name):
        """Bring ``track`` to ``n_channels`` channels (see ``n_channels``)."""
        have = track.shape[0]
        if have == n_channels:
            return track
        if have == 1:
            return np.broadcast_to(track, (n_channels, track.shape[1]))
        if n_channels == 1:
            return track.mean(axis=0, keepdims=True)
        raise ValueError(
            f"{name} has {have} channels but windows need {n_channels}; "
            "mono tracks are duplicated and n_channels=1 downmixes, other "
            "mismatches are not converted. Set n_channels or convert the track."
        )

    def _check_length(self, track, n_samples, name):
        if track.shape[1] < n_samples:
            raise AudioValueError(
                f"{name} has {track.shape[1]} samples "
                f"({track.shape[1] / self.sr:.3f} s at sr={self.sr}), shorter than one "
                f"window of {n_samples} samples ({self.duration} s); tracks shorter "
                "than a window are refused, not padded."
            )

    # -- public API -------------------------------------------------------------

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, tracks, Y=None):
        """Check the tracks and set ``n_channels_`` and ``n_samples_``.

        Parameters
        ----------
        tracks : sequence of array-like or path
            Tracks ``(channels, samples)`` at ``sr`` or audio file paths.
        Y : ignored

        Returns
        -------
        self : WindowSampler
        """
        self._fit(self._check_tracks(tracks))
        return self

    def _fit(self, tracks):
        self.n_samples_ = self._window_length()
        self.n_channels_ = (
            int(self.n_channels)
            if self.n_channels is not None
            else max(track.shape[0] for track in tracks)
        )
        for i, track in enumerate(tracks):
            self._check_length(track, self.n_samples_, f"tracks[{i}]")
            self._conform(track[:, :1], self.n_channels_, f"tracks[{i}]")

    @fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, tracks, Y):
        """Draw ``n_windows`` windows per track and repeat ``Y`` per window.

        Parameters
        ----------
        tracks : sequence of array-like or path, length n_tracks
            Tracks ``(channels, samples)`` (or ``(samples,)`` mono) at
            ``sr``, a 3-D array ``(n_tracks, channels, samples)``, a 2-D
            array of mono tracks ``(n_tracks, samples)``, or paths of audio
            files (loaded and resampled to ``sr``).
        Y : array-like [shape=(n_tracks,) or (n_tracks, n_outputs)]
            Targets per track, e.g. the rating matrix with NaN for
            declined ratings (a DataFrame is accepted).

        Returns
        -------
        X : np.ndarray of float32 [shape=(n_tracks * n_windows, channels, samples)]
            Windows, track by track; ``channels`` is ``n_channels_`` and
            ``samples`` is ``n_samples_``.
        Y_rep : np.ndarray [shape=(n_tracks * n_windows,) + Y.shape[1:]]
            Row ``i`` of ``Y`` repeated for each window of track ``i``.
        groups : np.ndarray of int [shape=(n_tracks * n_windows,)]
            Track index of each window.
        """
        tracks = self._check_tracks(tracks)
        try:
            Y = check_array(
                Y, ensure_all_finite="allow-nan", ensure_2d=False, dtype="numeric", input_name="Y"
            )
        except (TypeError, ValueError) as exc:
            raise type(exc)(
                "Y must be a numeric array (n_tracks,) or (n_tracks, n_outputs), "
                f"NaN allowed: {exc}"
            ) from exc
        if Y.shape[0] != len(tracks):
            raise ValueError(
                f"tracks and Y have different lengths: {len(tracks)} tracks but "
                f"{Y.shape[0]} rows of Y; Y needs one row per track."
            )
        self._fit(tracks)
        return self._fit_resample(tracks, Y)

    def _fit_resample(self, tracks, Y):
        rng = check_random_state(self.random_state)
        n, n_win = self.n_samples_, int(self.n_windows)
        X = np.empty((len(tracks) * n_win, self.n_channels_, n), dtype=np.float32)
        starts = np.empty(len(tracks) * n_win, dtype=np.int64)
        for i, track in enumerate(tracks):
            track = self._conform(track, self.n_channels_, f"tracks[{i}]")
            start = rng.randint(0, track.shape[1] - n + 1, size=n_win)
            # A strided view avoids an (n_windows, n) index array per track.
            view = np.lib.stride_tricks.sliding_window_view(track, n, axis=-1)
            X[i * n_win : (i + 1) * n_win] = view[:, start].transpose(1, 0, 2)
            starts[i * n_win : (i + 1) * n_win] = start
        self.starts_ = starts
        self.reference_times_ = self._reference_times(starts, n)
        groups = np.repeat(np.arange(len(tracks)), n_win)
        logger.debug("sampled %d windows from %d tracks", len(X), len(tracks))
        return X, np.repeat(Y, n_win, axis=0), groups

    def _reference_times(self, starts, n):
        offset = n if self.causal else n / 2
        return (starts + offset) / self.sr

    def windows(self, track, hop=None):
        """Consecutive windows of one track, for prediction.

        Parameters
        ----------
        track : array-like or path
            One track ``(channels, samples)`` at ``sr``, or an audio file.
        hop : float or None, default=None
            Seconds between the starts of consecutive windows; ``None``
            means ``duration`` (windows that touch without overlap).

        Returns
        -------
        X : np.ndarray of float32 [shape=(n, channels, n_samples)]
            Windows from the start of the track; the last one ends at or
            before the track's end. Channels follow ``n_channels``, else
            the fitted ``n_channels_``, else the track's own.
        end_times : np.ndarray [shape=(n,)]
            Time in seconds at which each window ends (for ``causal=True``
            the time from which its prediction applies).

        Examples
        --------
        >>> import numpy as np
        >>> from sk_reseq.preprocessing import WindowSampler
        >>> X, ends = WindowSampler(duration=0.5, sr=8).windows(np.ones(16), hop=0.25)
        >>> X.shape, ends.tolist()
        ((7, 1, 4), [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0])
        """
        self._validate_params()
        n = self._window_length()
        if hop is None:
            hop = self.duration
        if isinstance(hop, bool) or not isinstance(hop, Real) or not hop > 0:
            raise ValueError(f"hop must be a positive number of seconds, got {hop!r}.")
        step = max(1, int(round(hop * self.sr)))
        if isinstance(track, (str, os.PathLike)):
            track = _load_track(track, self.sr)
        track = check_audio(track, name="track")
        track = self._conform(track, self._resolve_channels([track]), "track")
        self._check_length(track, n, "track")
        view = np.lib.stride_tricks.sliding_window_view(track, n, axis=-1)[:, ::step]
        X = np.ascontiguousarray(view.transpose(1, 0, 2), dtype=np.float32)
        end_times = (np.arange(X.shape[0]) * step + n) / self.sr
        return X, end_times

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True  # 2-D X is read as one mono track per row
        tags.target_tags.required = True
        return tags

