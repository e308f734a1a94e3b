"""A simulated listening test shaped like the paper's (section 3, Table 1).

The paper's 150 rated tracks are not public. :func:`make_listening_test`
builds a stand-in whose ratings depend on the audio, so that a model has
something real to learn, and whose per-rater statistics look like the
paper's Table 1. See its docstring for the model.
"""

import logging
import os
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.utils import Bunch, check_random_state

from .._optional import import_optional
from ..utils._sklearn_compat import Interval, validate_params
from ._folders import list_audio_files
from ._oracle import FACTOR_STEPS, _oracle_distances
from ._raters import _rater_profiles, _simulate_ratings
from ._resonances import _draw_resonances, _inject_and_align
from ._synthetic import _make_track, _track_seeds

pd = import_optional("pandas", "sk_reseq.datasets")

__all__ = ["make_listening_test"]

logger = logging.getLogger(__name__)

DESCR = """\
Simulated listening test (synthetic)
====================================

**This data set is synthetic.** It imitates the shape and the statistics of
the listening test of Grachten, Deruty and Tanguy (2018), whose 150 rated
tracks are not public; it is not their data and not human judgements.

Each excerpt is clean music (the built-in synthetic music, or excerpts of
the user's own files) into which 0-4 resonances were injected as peaking
filters (centre 80 Hz-8 kHz log-uniform, Q 3-10, gain 6-18 dB). Its
*oracle factor* is the one of the 17 attenuation factors 0, 1/16, ..., 1
whose ResonanceEqualizer output is closest to the clean excerpt in the
ELC-weighted 400-band spectrum (mean squared dB difference over frames and
bands). Simulated raters answer the
oracle factor with a personal bias, scale and noise, clipped to [0, 1] and
snapped to the 17 steps; some are prone to answering 0.0, some decline
(NaN). Their parameters are in ``rater_profiles``.

Fields: audio (list of (2, samples) float32), sr, ratings
(n_tracks, n_raters; NaN = declined), frame (the same as a DataFrame),
oracle, oracle_distances (n_tracks, 17), resonances (one row per injected
resonance), strength (sum of injected gains, dB), track_names,
rater_names, rater_profiles, groups (the music of each row, for grouped
splits), n_resonances, clean (only with return_clean=True).
"""


# -- one excerpt -----------------------------------------------------------------


def _panel_track(x, table, sr, equalizer):
    """Inject, loudness-align and score one excerpt: ``(audio, clean, distances)``."""
    y, x = _inject_and_align(x, table, sr)
    return y, x, _oracle_distances(equalizer, y, x)


def _synthetic_panel_track(seed, n_samples, table, sr, equalizer):
    return _panel_track(_make_track(n_samples, sr, np.random.default_rng(seed)), table, sr,
                        equalizer)


# -- sources ------------------------------------------------------------------------


def _source_excerpts(source, n_tracks, n_samples, sr, rng):
    """Excerpts of the user's files (cycled when there are fewer files than tracks).

    Returns the excerpts, their names and the index of each one's file.
    """
    from ..audio import load_audio

    if isinstance(source, (str, os.PathLike)):
        source = [source]
    files = []
    for item in source:  # the audio files of folders, and files, joined in order
        files += list_audio_files(item) if os.path.isdir(item) else [os.fspath(item)]
    if not files:
        raise ValueError("source is an empty list; give audio files or folders.")
    # One file at a time, so that only the excerpts stay in memory.
    offsets = rng.uniform(size=n_tracks)
    audio, names, file_index = [None] * n_tracks, [None] * n_tracks, [None] * n_tracks
    for k, path in enumerate(files[:n_tracks]):
        x = load_audio(path, sr=sr)[0]
        if x.shape[1] < n_samples:
            raise ValueError(
                f"source file {path} lasts {x.shape[1] / sr:.2f} s, shorter than the "
                f"excerpt duration; use a shorter duration or longer files."
            )
        if x.shape[0] > 2:
            raise ValueError(f"source file {path} has {x.shape[0]} channels; "
                             "mono or stereo needed.")
        stem = os.path.splitext(os.path.basename(path))[0]
        for i in range(k, n_tracks, len(files)):
            start = int(offsets[i] * (x.shape[1] - n_samples + 1))
            excerpt = x[:, start : start + n_samples].copy()  # not a view: frees x
            audio[i] = np.repeat(excerpt, 2, axis=0) if len(excerpt) == 1 else excerpt
            names[i] = f"{i:03d}-{stem}"
            file_index[i] = k
    return audio, names, file_index


# -- the data set --------------------------------------------------------------------


@validate_params(
    {
        "n_tracks": [Interval(Integral, 1, None, closed="left")],
        "n_raters": [Interval(Integral, 1, None, closed="left")],
        "source": [str, os.PathLike, list, tuple, None],
        "variants": [Interval(Integral, 1, None, closed="left")],
        "duration": [Interval(Real, 0, None, closed="neither")],
        "sr": [Interval(Integral, 4000, None, closed="left")],
        "return_clean": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "progress": [callable, None],
    },
    prefer_skip_nested_validation=True,
)
def make_listening_test(
    n_tracks=150,
    n_raters=15,
    *,
    source=None,
    variants=1,
    duration=10.0,
    sr=22050,
    return_clean=False,
    n_jobs=None,
    random_state=None,
    progress=None,
):
    """Simulate a listening test like the paper's (synthetic ratings).

    The model, per excerpt:

    1. Clean stereo music: :func:`make_synthetic_music`, or a random
       excerpt of one of the ``source`` files.
    2. ``n`` resonances, ``n`` uniform in 0-4, injected as peaking filters
       (RBJ cookbook biquads): centre log-uniform in 80 Hz-8 kHz, Q uniform
       in 3-10, gain uniform in 6-18 dB. The result is scaled to -20 dBFS
       RMS (the clean excerpt by the same gain; peaks kept below 0.99), as
       the paper aligned its tracks' loudness.
    3. The oracle factor: the one of the 17 factors 0, 1/16, ..., 1 whose
       :class:`~sk_reseq.equalizer.ResonanceEqualizer` output (default
       parameters) is closest to the clean excerpt in the ELC-weighted
       400-band spectrum. The distance is the mean over STFT frames and
       bands of the squared dB difference.
    4. Raters: rater ``j`` (profile ``j mod 15``, modelled on the paper's
       Table 1) answers ``bias_j + scale_j * oracle + noise_j * N(0, 1)``,
       clipped to [0, 1] and snapped to the 17 steps; with probability
       ``zero_prob_j`` it answers 0.0 whatever the track (s01, s15); it
       declines (NaN) a fixed share of tracks, ``declines_per_150_j / 150``,
       drawn with weights ``0.5 + oracle`` (s13 declines about 21).

    The ranges are calibrated so that the target is learnable from 0.5 s
    windows and spread like the paper's ratings: with the design's first
    ranges (Q 4-20, gain 3-15 dB) the narrow injected peaks hid among the
    music's own harmonics, and neither a gradient-boosting model nor the
    FFN on the 679 features predicted the oracle better than its mean
    (cross-validated R^2 <= 0.05 on 150 tracks); with these ranges and the
    broadband layer of :func:`make_synthetic_music` the FFN's MSBE is
    0.6-0.8x the baseline's (the paper's FFN: 0.67x).

    Parameters
    ----------
    n_tracks : int, default=150
        Number of excerpts (the paper: 150).
    n_raters : int, default=15
        Number of simulated raters (the paper: 15).
    source : str, path-like, list of paths or None, default=None
        None uses the built-in synthetic music; else a folder of audio
        files, or a list of folders and files (joined). Files are resampled to ``sr``, mono is
        duplicated to stereo; each excerpt is a random ``duration``-second
        stretch, and the files are cycled when fewer than ``n_tracks``.
    variants : int, default=1
        Versions of each excerpt, each with its own resonances (some with
        none), as the paper's panel held variants of the same recordings.
        The panel then has ``n_tracks * variants`` rows; ``groups`` tells
        which rows share music, for grouped cross-validation.
    duration : float, default=10.0
        Excerpt length in seconds (the paper's tracks: 46 s on average).
    sr : int, default=22050
        Sample rate in Hz.
    return_clean : bool, default=False
        Also return the clean excerpts (before injection, same scaling).
        They can be recomputed from ``audio`` too: the injected filters are
        exactly invertible (a peaking filter of ``-gain`` dB).
    n_jobs : int or None, default=None
        Excerpts processed in parallel (joblib; -1 = all cores). The
        result does not depend on it.
    random_state : int, RandomState instance or None, default=None
        The same seed gives the same data set.
    progress : callable, optional
        Called with 1 after each excerpt (e.g. ``tqdm.update``).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``audio`` (list of float32 ``(2, samples)``), ``sr``, ``ratings``
        (float ``(n_tracks, n_raters)``, NaN = declined), ``frame`` (the
        ratings as a wide DataFrame, index ``track_names``, columns
        ``rater_names``), ``oracle`` ``(n_tracks,)``, ``oracle_distances``
        ``(n_tracks, 17)``, ``resonances`` (DataFrame: track, center_hz, q,
        gain_db; one row per injected resonance), ``strength``
        ``(n_tracks,)`` (sum of injected gains in dB), ``track_names``,
        ``rater_names``, ``rater_profiles`` (DataFrame), ``groups``
        ``(n_rows,)`` (the source file, or the synthetic excerpt, of each
        row: keep a group on one side of a split), ``n_resonances``
        ``(n_rows,)``, ``clean`` (with ``return_clean``: each row's excerpt
        before injection, at the row's scaling) and ``DESCR``.

    See Also
    --------
    sk_reseq.stats.rater_summary : the paper's Table 1 for these ratings.
    load_ratings : real ratings from a CSV file.

    Examples
    --------
    >>> from sk_reseq.datasets import make_listening_test
    >>> data = make_listening_test(n_tracks=4, n_raters=3, duration=1.0, random_state=0)
    >>> data.ratings.shape, len(data.audio), data.audio[0].shape
    ((4, 3), 4, (2, 22050))
    >>> data.rater_names
    ['s01', 's02', 's03']
    >>> bool(((data.oracle >= 0) & (data.oracle <= 1)).all())
    True
    """
    from ..equalizer import ResonanceEqualizer

    rng = np.random.default_rng(check_random_state(random_state).randint(0, 2**31 - 1))
    music_seed, track_seed, rater_seed = rng.integers(0, 2**31 - 1, size=3)
    n_samples = int(round(duration * sr))
    track_rng = np.random.default_rng(track_seed)
    n_rows = n_tracks * variants
    tables = [_draw_resonances(track_rng, sr) for _ in range(n_rows)]
    excerpt = np.repeat(np.arange(n_tracks), variants)  # the clean excerpt of each row
    equalizer = ResonanceEqualizer(sr=sr).fit()
    if source is None:
        excerpt_names = [f"track{i:03d}" for i in range(n_tracks)]
        groups = excerpt
        seeds = _track_seeds(n_tracks, int(music_seed))
        jobs = (
            delayed(_synthetic_panel_track)(seeds[e], n_samples, table, sr, equalizer)
            for e, table in zip(excerpt, tables)
        )
    else:
        clean, excerpt_names, files = _source_excerpts(
            source, n_tracks, n_samples, sr, np.random.default_rng(music_seed)
        )
        groups = np.asarray(files)[excerpt]
        jobs = (delayed(_panel_track)(clean[e], t, sr, equalizer) for e, t in zip(excerpt, tables))
    variant = np.tile(np.arange(variants), n_tracks)
    names = (excerpt_names if variants == 1
             else [f"{excerpt_names[e]}-v{k}" for e, k in zip(excerpt, variant)])
    audio, clean_out, distances = [], [], np.empty((n_rows, len(FACTOR_STEPS)))
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    for i, (y, x, dist) in enumerate(results):
        audio.append(y)
        if return_clean:
            clean_out.append(x)
        distances[i] = dist
        if progress is not None:
            progress(1)
    for name, table in zip(names, tables):
        table.insert(0, "track", name)
    oracle = FACTOR_STEPS[np.argmin(distances, axis=1)]
    resonances = pd.concat(tables, ignore_index=True)
    strength = np.array([t["gain_db"].sum() for t in tables])
    profiles = _rater_profiles(n_raters, np.random.default_rng(rater_seed))
    ratings = _simulate_ratings(oracle, profiles, np.random.default_rng(rater_seed + 1))
    rater_names = [f"s{j + 1:02d}" for j in range(n_raters)]
    profiles.index = pd.Index(rater_names, name="rater")
    frame = pd.DataFrame(
        ratings,
        index=pd.Index(names, name="track", dtype=object),
        columns=pd.Index(rater_names, name="rater", dtype=object),
    )
    data = Bunch(
        audio=audio,
        sr=sr,
        ratings=ratings,
        frame=frame,
        oracle=oracle,
        oracle_distances=distances,
        resonances=resonances,
        strength=strength,
        track_names=names,
        rater_names=rater_names,
        rater_profiles=profiles,
        groups=groups,
        n_resonances=np.array([len(t) for t in tables]),
        DESCR=DESCR,
    )
    if return_clean:
        data.clean = clean_out
    return data
