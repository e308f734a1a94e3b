"""Judge an auto-adaptive model on music: does it restore added resonances, and leave clean music?

:func:`evaluate_auto_equalizer` is what ``sk-reseq evaluate`` runs. It takes
clean music (the user's catalog, or tracks a model never saw), injects
peaking resonances with a seed (0, 1, 2 and 4 per track by default), works
out each variant's oracle factor (the one of the 17 steps that brings the
equalized variant closest to the clean music, as in the simulated listening
test), runs the :class:`~sk_reseq.equalizer.AutoEqualizer` on every variant
and reports how well the factors it chose follow the oracle, within tracks
and across them, and how much of the added resonances it removed.
"""

import logging
import os
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from scipy import stats
from sklearn.base import clone
from sklearn.utils import Bunch, check_random_state

from ._optional import import_optional
from .audio import load_audio
from .datasets._folders import list_audio_files
from .datasets._oracle import FACTOR_STEPS, _band_distance, _oracle_distances
from .datasets._resonances import _inject_and_align
from .equalizer import AutoEqualizer
from .spectral import random_peaking_filters
from .utils._sklearn_compat import HasMethods, Interval, validate_params

pd = import_optional("pandas", "sk_reseq.evaluation")

__all__ = ["evaluate_auto_equalizer", "EVALUATION_SUMMARY"]

logger = logging.getLogger(__name__)

#: Keys of ``evaluate_auto_equalizer(...).summary``, with what each measures.
EVALUATION_SUMMARY = {
    "n_tracks": "tracks evaluated",
    "n_variants": "variants (tracks x resonance counts)",
    "within_track_spearman": "mean over tracks of Spearman(predicted factor, number of resonances)",
    "rise": "mean predicted factor at the most resonances minus at none",
    "oracle_rise": "the same for the oracle factor",
    "clean_factor": "mean predicted factor on clean variants (no resonance added)",
    "spearman": "Spearman(predicted, oracle) over all variants",
    "mae": "mean absolute error of the predicted factor against the oracle",
    "mae_best_constant": "the same for the best constant guess (the oracle's median)",
    "share_closer": "share of resonant variants that the auto output brings closer to clean",
    "removed_auto": "mean share of the distance to clean removed by the auto equalizer "
                    "(resonant variants)",
    "removed_auto_resynthesized": "the same measured on the equalizer's real output",
    "removed_oracle": "the same at each variant's oracle factor",
    "removed_best_fixed": "the same at the one fixed factor that removes the most on average",
    "best_fixed_factor": "that fixed factor",
}


def _evaluate_file(path, seed, auto, n_resonances, duration, min_duration, ranges):
    """The variants of one file: a list of row dicts."""
    x, sr = load_audio(path)
    if x.shape[1] < min_duration * sr:
        raise ValueError(f"{path} lasts {x.shape[1] / sr:.2f} s, shorter than min_duration="
                         f"{min_duration:g} s; use longer files or a shorter min_duration.")
    n = min(int(round(duration * sr)), x.shape[1])
    if x.shape[0] > 2:
        raise ValueError(f"{path} has {x.shape[0]} channels; mono or stereo is needed.")
    rng = np.random.default_rng(seed)
    start = int(rng.integers(0, x.shape[1] - n + 1))
    clean = x[:, start : start + n]
    # A new equalizer at the file's rate with the same (fitted, not cloned) model.
    auto = AutoEqualizer(**{**auto.get_params(deep=False), "sr": sr}).fit()
    # The oracle's equalizer: the auto equalizer's own settings at a fixed factor.
    equalizer = clone(auto.equalizer_).set_params(factor=0.0).fit()
    framing = equalizer.framing_
    layout = framing.layout
    rows = []
    for count in n_resonances:
        center_range, q_range, gain_range = ranges
        table = pd.DataFrame(
            random_peaking_filters(rng, count, sr, center_range=center_range, q_range=q_range,
                                   gain_range=gain_range), columns=["center_hz", "q", "gain_db"])
        y, reference = _inject_and_align(clean, table, sr)
        curve = auto.predict_factors(y)
        # The auto equalizer's factor at each frame, scored like the 17 fixed factors.
        frame_factors = auto.frame_factors(curve, y.shape[1])
        *distances, d_auto = _oracle_distances(equalizer, y, reference,
                                               [*FACTOR_STEPS, frame_factors])
        distances = np.array(distances)
        out = auto.equalizer_.equalize(y, factor=frame_factors)  # = auto.transform(y)
        d_real = _band_distance(layout.levels(framing.frame_power(out)),
                                layout.levels(framing.frame_power(reference)))
        applied = curve.factors[curve.times >= auto.window_]  # from the first full window on
        rows.append({
            "track": os.path.basename(os.fspath(path)), "n_resonances": count,
            "strength_db": float(table["gain_db"].sum()),
            "oracle": float(FACTOR_STEPS[np.argmin(distances)]),
            "predicted": float(applied.mean()) if len(applied) else float(curve.factors.mean()),
            "distance_input": float(distances[0]), "distance_auto": float(d_auto),
            "distance_auto_resynthesized": float(d_real),
            **{f"distance_at_{k}": float(d) for k, d in enumerate(distances)},
        })
    return rows


def _summary(frame):
    resonant = frame[frame.n_resonances > 0]
    within = []
    for _, g in frame.groupby("track"):
        if g.predicted.nunique() > 1 and g.n_resonances.nunique() > 1:
            within.append(stats.spearmanr(g.predicted, g.n_resonances).statistic)
    most, least = frame.n_resonances.max(), frame.n_resonances.min()
    steps = np.array([frame[f"distance_at_{k}"] for k in range(len(FACTOR_STEPS))]).T
    removed = 1.0 - steps[frame.n_resonances > 0] / resonant.distance_input.to_numpy()[:, None]
    best = int(np.argmax(removed.mean(axis=0))) if len(resonant) else 0
    oracle_idx = np.rint(resonant.oracle.to_numpy() * 16).astype(int)

    def corr(a, b):
        return float(stats.spearmanr(a, b).statistic) if np.ptp(a) > 0 and np.ptp(b) > 0 else np.nan

    return {
        "n_tracks": int(frame.track.nunique()),
        "n_variants": int(len(frame)),
        "within_track_spearman": float(np.mean(within)) if within else np.nan,
        "rise": float(frame.predicted[frame.n_resonances == most].mean()
                      - frame.predicted[frame.n_resonances == least].mean()),
        "oracle_rise": float(frame.oracle[frame.n_resonances == most].mean()
                             - frame.oracle[frame.n_resonances == least].mean()),
        "clean_factor": float(frame.predicted[frame.n_resonances == 0].mean()),
        "spearman": corr(frame.predicted, frame.oracle),
        "mae": float(np.abs(frame.predicted - frame.oracle).mean()),
        "mae_best_constant": float(np.abs(frame.oracle - frame.oracle.median()).mean()),
        "share_closer": float((resonant.distance_auto < resonant.distance_input).mean()),
        "removed_auto": float((1 - resonant.distance_auto / resonant.distance_input).mean()),
        "removed_auto_resynthesized": float(
            (1 - resonant.distance_auto_resynthesized / resonant.distance_input).mean()),
        "removed_oracle": float(removed[np.arange(len(resonant)), oracle_idx].mean()),
        "removed_best_fixed": float(removed[:, best].mean()) if len(resonant) else np.nan,
        "best_fixed_factor": float(FACTOR_STEPS[best]),
    }


@validate_params(
    {
        "music": [str, os.PathLike, list, tuple],
        "model": [HasMethods(["predict"]), None],
        "n_resonances": [list, tuple],
        "duration": [Interval(Real, 0, None, closed="neither")],
        "min_duration": [Interval(Real, 0, None, closed="neither")],
        "center_range": [tuple, list],
        "q_range": [tuple, list],
        "gain_range": [tuple, list],
        "auto": [AutoEqualizer, None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "progress": [callable, None],
    },
    prefer_skip_nested_validation=True,
)
def evaluate_auto_equalizer(music, model=None, *, n_resonances=(0, 1, 2, 4), duration=20.0,
                            min_duration=10.0, center_range=(150.0, 6000.0), q_range=(3.0, 10.0),
                            gain_range=(6.0, 15.0), auto=None, n_jobs=None, random_state=0,
                            progress=None):
    """Inject resonances into clean music and judge the auto equalizer's factors.

    For each file, one excerpt of ``duration`` seconds (at a seeded random
    offset) gets, for each count in ``n_resonances``, that many peaking
    resonances (centre log-uniform in ``center_range``, Q uniform in
    ``q_range``, gain uniform in ``gain_range`` dB), and is scaled to
    -20 dBFS RMS with its clean excerpt, as in the simulated listening
    test. Its *oracle* factor is the one of the 17 steps whose equalized
    output is closest to the clean excerpt (mean squared dB difference of
    the ELC-weighted band levels over the equalizer's frames). Then the
    auto equalizer runs on the variant; its *predicted* factor is the mean
    of the factors it applied from its first full window on, and its
    distances to the clean excerpt, its own and those at the oracle and
    at each fixed factor, come from one formula: the equalizer's STFT-domain
    effect on the band levels, as for the panel's oracle (the real output's
    distance, a little larger for every factor, is reported beside it).

    Parameters
    ----------
    music : str, path-like or sequence of paths
        A folder of audio files (not recursive) or a list of files: clean
        music, never seen by the model if it is to be judged fairly.
    model : regressor, default=None
        A factor model for :class:`~sk_reseq.equalizer.AutoEqualizer`; None
        is the default model shipped with sk_reseq.
    n_resonances : sequence of int, default=(0, 1, 2, 4)
        Resonances injected per variant; include 0 to see clean music.
    duration : float, default=20.0
        Seconds of each file used (shorter files are used whole).
    min_duration : float, default=10.0
        Files shorter than this are an error: the auto equalizer needs a few
        windows of prediction after its first full window.
    center_range, q_range, gain_range : tuple of float
        Ranges of the injected resonances (Hz, Q, dB).
    auto : AutoEqualizer, default=None
        Settings of the auto equalizer (its ``model`` and ``sr`` are
        replaced); None means ``AutoEqualizer()``.
    n_jobs : int, default=None
        Files evaluated in parallel (joblib).
    random_state : int, RandomState instance or None, default=0
        Seeds the excerpts and the resonances.
    progress : callable, optional
        Called with 1 after each file.

    Returns
    -------
    result : Bunch
        ``summary`` (dict, see :data:`EVALUATION_SUMMARY`) and ``variants``
        (DataFrame, one row per variant: track, n_resonances, strength_db,
        oracle, predicted, distance_input, distance_auto,
        distance_auto_resynthesized and ``distance_at_k``, the distance at
        factor ``k / 16``).

    Raises
    ------
    ValueError
        No audio files, a file shorter than ``min_duration`` or with more than
        two channels, bad ranges, or a model that does not predict one
        factor per window.

    See Also
    --------
    sk_reseq.datasets.make_listening_test : the same injection and oracle.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> from sk_reseq.audio import save_audio
    >>> from sk_reseq.datasets import make_synthetic_music
    >>> from sk_reseq.evaluation import evaluate_auto_equalizer
    >>> from sk_reseq.models import MeanRatingRegressor
    >>> folder = tempfile.mkdtemp()
    >>> for i, track in enumerate(make_synthetic_music(2, 4.0, sr=22050, random_state=0)):
    ...     _ = save_audio(os.path.join(folder, f"t{i}.wav"), track, 22050)
    >>> constant = MeanRatingRegressor().fit(np.zeros((2, 2, 11025)), [0.25, 0.25])
    >>> result = evaluate_auto_equalizer(folder, constant, duration=3.0, min_duration=3.0)
    >>> result.summary["clean_factor"], len(result.variants)
    (0.25, 8)
    """
    files = list_audio_files(music) if isinstance(music, (str, os.PathLike)) else [
        os.fspath(f) for f in music]
    if not files:
        raise ValueError(f"No audio files in {music!r}; give a folder of music or a list of files.")
    counts = [int(c) for c in n_resonances]
    if not counts or min(counts) < 0:
        raise ValueError(f"n_resonances must be non-negative counts, got {n_resonances!r}.")
    ranges = []
    for name, (low, high), floor in (("center_range", center_range, 0.0), ("q_range", q_range, 0.0),
                                     ("gain_range", gain_range, -np.inf)):
        if not floor < float(low) <= float(high):
            raise ValueError(f"{name} must be (low, high) with {floor:g} < low <= high; got "
                             f"{(low, high)!r}.")
        ranges.append((float(low), float(high)))
    base = clone(AutoEqualizer() if auto is None else auto)
    base.set_params(model=model)  # after clone: the model stays fitted
    # Load the model once, and check it is a factor model, before the long work.
    checked = AutoEqualizer(**base.get_params(deep=False)).fit()
    probe = np.zeros((2, 2, int(round(checked.window_ * checked.model_sr))), dtype=np.float32)
    try:
        pred = np.asarray(checked.model_.predict(probe), dtype=np.float64)
    except Exception as exc:
        raise ValueError(f"model cannot predict factors from audio windows {probe.shape}: "
                         f"{type(exc).__name__}: {exc}") from exc
    if pred.shape != (2,):
        raise ValueError(f"model must predict one factor per window; it returned shape "
                         f"{pred.shape} for {len(probe)} windows.")
    base.set_params(model=checked.model_, window=checked.window_)
    seeds = check_random_state(random_state).randint(0, 2**31 - 1, size=len(files))
    if min_duration > duration:
        raise ValueError(f"min_duration ({min_duration:g} s) must be at most duration "
                         f"({duration:g} s).")
    jobs = (delayed(_evaluate_file)(f, int(s), base, counts, duration, min_duration, ranges)
            for f, s in zip(files, seeds))
    rows = []
    for file_rows in Parallel(n_jobs=n_jobs, return_as="generator")(jobs):
        rows += file_rows
        if progress is not None:
            progress(1)
    frame = pd.DataFrame(rows)
    return Bunch(summary=_summary(frame), variants=frame)
