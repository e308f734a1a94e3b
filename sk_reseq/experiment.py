"""The paper's experiment (section 4.3) from data to tables and figure.

:func:`run_experiment` does, in order:

1. windows of 0.5 s at 22 050 Hz from every track (:class:`WindowSampler`),
   the FFN's 679 features of each window (:class:`FeatureSummarizer`);
2. Bayesian hyper-parameter search of each network on the HPO partitions
   (:class:`HPOSplit`, :func:`make_bayes_search`);
3. the baseline and the tuned networks on a repeated grouped K-fold of the
   tracks the search did not test (:class:`RepeatedGroupKFold`);
4. the statistics and outputs: ``table3.md`` / ``hyperparameters.json``
   (chosen hyper-parameters), ``table4.md`` / ``table4.csv`` (MSBE per
   model), ``fig6.png`` (boxplots), ``scores.json`` (every score, the
   ANOVA, Tukey HSD and Cohen's d).

Every finished step is kept in ``out_dir/state`` (the features, each
model's search, each run of the cross-validation), so an interrupted
experiment resumes where it stopped and ends with the same results as an
uninterrupted one: every step is seeded from the config's
``random_state``. All files are written atomically.
"""

import dataclasses
import hashlib
import json
import logging
import shutil
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from joblib import effective_n_jobs
from sklearn.metrics import check_scoring
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch

from ._atomic import atomic_open, atomic_write_json
from ._constants import MODEL_SR as SR
from ._constants import REAL_MUSIC
from ._optional import import_optional
from .datasets import load_panel
from .metrics import msbe_scorer
from .model_selection import (
    HPOSplit,
    RepeatedGroupKFold,
    drn_search_space,
    ffn_search_space,
    make_bayes_search,
)
from .model_selection._compare import _evaluate, _run_seeds, quiet_worker_restarts
from .models import CPU_DRN_PARAMS

pd = import_optional("pandas", "sk_reseq.experiment")

__all__ = ["CONFIGS", "ExperimentConfig", "get_config", "run_experiment"]

logger = logging.getLogger(__name__)

NETS = ("ffn", "drn")
MODEL_LABELS = {"baseline": "Baseline", "ffn": "FFN", "drn": "DRN"}


@dataclass(frozen=True)
class ExperimentConfig:
    """Sizes and settings of one experiment.

    Parameters
    ----------
    name : str
        Label written into the outputs.
    n_tracks, n_raters, duration : int, int, float
        Size of the simulated listening test (``data="simulated"`` only).
    source : tuple of str or None
        Music of the simulated listening test: folders or files (paths
        relative to the current folder), None for the built-in synthetic
        music.
    variants : int
        Resonance variants of each excerpt of the simulated test (rows of
        one music file stay in one group, so on one side of every split).
    n_windows : int
        Windows drawn per track.
    models : tuple of str
        Among ``"baseline"``, ``"ffn"``, ``"drn"``.
    hpo_n_partitions, hpo_n_test, hpo_n_valid, hpo_n_test_windows : int
        The HPO partitions (:class:`HPOSplit`).
    hpo_n_iter, hpo_n_points : int
        Settings tried per network and proposed per iteration.
    cv_n_splits, cv_n_repeats : int
        The repeated grouped K-fold.
    ffn_params, drn_params : dict
        Fixed parameters of the networks (e.g. ``max_epochs``).
    ffn_space, drn_space : dict
        Changes to :func:`ffn_search_space` / :func:`drn_search_space`:
        ``name: [low, high]`` new bounds (same prior), ``name: None`` leaves
        the parameter out of the search.
    random_state : int
        Seeds every step.

    Examples
    --------
    >>> from sk_reseq.experiment import get_config
    >>> get_config("paper").cv_n_repeats
    5
    """

    name: str
    n_tracks: int = 150
    n_raters: int = 15
    duration: float = 10.0
    source: tuple = None
    variants: int = 1
    n_windows: int = 100
    models: tuple = ("baseline", "ffn", "drn")
    hpo_n_partitions: int = 2
    hpo_n_test: int = 10
    hpo_n_valid: int = 10
    hpo_n_test_windows: int = 100
    hpo_n_iter: int = 50
    hpo_n_points: int = 1
    cv_n_splits: int = 5
    cv_n_repeats: int = 5
    ffn_params: dict = field(default_factory=dict)
    drn_params: dict = field(default_factory=dict)
    ffn_space: dict = field(default_factory=dict)
    drn_space: dict = field(default_factory=dict)
    random_state: int = 0

    def to_dict(self):
        """The config as JSON-compatible data."""
        out = dataclasses.asdict(self)
        out["models"] = list(self.models)
        return out


_SMALL_DRN = {"n_blocks": [2, 4], "block_size_low": [4, 16], "block_size_mid": [4, 16],
              "block_size_high": [4, 16], "pool_size": [100, 1000], "final_size": [4, 16]}

# The filterbank DRN keeps the architecture of CPU_DRN_PARAMS; only its learning rate is searched.
_CPU_DRN_SPACE = {"n_blocks": None, "block_size_low": None, "block_size_mid": None,
                  "block_size_high": None, "pool_size": None, "final_size": None,
                  "lr": [1e-3, 5e-3]}

#: Named experiment sizes (:class:`ExperimentConfig`) for :func:`run_experiment`
#: and ``sk-reseq experiment --config``: ``"paper"`` (the paper's protocol: 150
#: tracks, two search partitions of 10/10/130 tracks, 5 x 5-fold CV), ``"quick"``
#: (about 8 minutes on 2 CPU cores) and ``"tiny"`` (the test suite's toy sizes).
CONFIGS = {
    # the paper: 150 tracks, 2 HPO partitions of 10/10/130, 5 x 5-fold CV
    "paper": ExperimentConfig(name="paper", ffn_params={"max_epochs": 100},
                              drn_params={"max_epochs": 50}),
    # minutes on 2 CPU cores: small panel, short training. Many tracks, few
    # windows each: the target is per track, so tracks teach more than
    # windows. Its DRN is the filterbank one of CPU_DRN_PARAMS: DRNs on the
    # samples that fit here (3-9 blocks of 8-16 channels, receptive fields of
    # 15-1023 samples) stayed at the baseline.
    "quick": ExperimentConfig(
        name="quick", n_tracks=300, duration=3.0, n_windows=2, hpo_n_partitions=1, hpo_n_test=10,
        hpo_n_valid=10, hpo_n_test_windows=2, hpo_n_iter=4, hpo_n_points=2, cv_n_splits=5,
        cv_n_repeats=2,
        ffn_params={"max_epochs": 40, "early_stopping_patience": 8, "lr_reduce_patience": 4},
        drn_params=dict(CPU_DRN_PARAMS),
        ffn_space={"n_blocks": [1, 2], "block_size_low": [32, 128], "block_size_mid": [32, 128],
                   "block_size_high": [32, 128], "lr": [1e-3, 3e-3]},
        drn_space=dict(_CPU_DRN_SPACE),
    ),
    # the protocol on real music, within 30 minutes on 2 CPU cores: a panel of
    # 4 s excerpts of the 108 recordings of ../shared (two excerpts each, four
    # resonance variants of each excerpt), as `sk-reseq panel make --source
    # ../shared/corpus ../shared/music --n-tracks 216 --variants 4 --duration 4`
    # writes it. The real music's target is subtler than the synthetic one, so
    # more windows per track, a wider FFN search and 5 x 5-fold CV (25 runs).
    "real": ExperimentConfig(
        name="real", n_tracks=216, duration=4.0, source=REAL_MUSIC, variants=4, n_windows=6,
        hpo_n_partitions=1, hpo_n_test=10, hpo_n_valid=10, hpo_n_test_windows=6, hpo_n_iter=6,
        hpo_n_points=2, cv_n_splits=5, cv_n_repeats=5,
        ffn_params={"max_epochs": 60, "early_stopping_patience": 8, "lr_reduce_patience": 4},
        drn_params=dict(CPU_DRN_PARAMS),
        ffn_space={"n_blocks": [1, 3], "block_size_low": [32, 256], "block_size_mid": [32, 256],
                   "block_size_high": [32, 256], "lr": [3e-4, 3e-3]},
        drn_space=dict(_CPU_DRN_SPACE),
    ),
    # the test suite's end-to-end run: same code path, toy sizes
    "tiny": ExperimentConfig(
        name="tiny", n_tracks=12, n_raters=5, duration=1.0, n_windows=4, hpo_n_test=2,
        hpo_n_valid=2, hpo_n_test_windows=4, hpo_n_iter=2, cv_n_splits=2, cv_n_repeats=2,
        ffn_params={"max_epochs": 3, "batch_size": 16},
        drn_params={"max_epochs": 1, "batch_size": 8, "predict_batch_size": 64},
        ffn_space={"n_blocks": [1, 2], "block_size_low": [4, 16], "block_size_mid": [4, 16],
                   "block_size_high": [4, 16]},
        drn_space={**_SMALL_DRN, "n_blocks": [1, 2], "block_size_low": [2, 4],
                   "block_size_mid": [2, 4], "block_size_high": [2, 4]},
    ),
}


def get_config(config):
    """An :class:`ExperimentConfig` from a name of :data:`CONFIGS` or a config.

    Examples
    --------
    >>> from sk_reseq.experiment import get_config
    >>> get_config("quick").name
    'quick'
    """
    if isinstance(config, ExperimentConfig):
        return config
    if isinstance(config, str) and config in CONFIGS:
        return CONFIGS[config]
    raise ValueError(f"Unknown config {config!r}; choose one of {sorted(CONFIGS)} "
                     "or pass an ExperimentConfig.")


# -- files ---------------------------------------------------------------------


def _write_json(path, obj):
    atomic_write_json(path, obj, default=_json_default)


def _json_default(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def _read_json(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


# -- data ----------------------------------------------------------------------

def _load_data(data, config, progress):
    """The panel (:func:`sk_reseq.datasets.load_panel`, the one loader) at 22 050 Hz."""
    simulated = isinstance(data, str) and data == "simulated"
    bar = _bar(progress and simulated, config.n_tracks * config.variants, "simulating tracks")
    with bar if bar is not None else nullcontext():
        return load_panel(data, sr=SR, n_tracks=config.n_tracks, n_raters=config.n_raters,
                          duration=config.duration, source=config.source,
                          variants=config.variants, random_state=config.random_state,
                          progress=bar.update if bar is not None else None)


def _fingerprint(audio, ratings):
    digest = hashlib.sha256()
    for track in audio:
        digest.update(np.ascontiguousarray(track, dtype=np.float32).tobytes())
    digest.update(np.ascontiguousarray(ratings, dtype=np.float64).tobytes())
    return digest.hexdigest()


def _bar(progress, total, desc):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)


# -- models --------------------------------------------------------------------

def _space(base, changes):
    space = dict(base)
    for name, bounds in changes.items():
        if name not in space:
            raise ValueError(f"Search space has no parameter {name!r}; it has {sorted(space)}.")
        if bounds is None:
            del space[name]
        else:
            dim = space[name]
            space[name] = type(dim)(bounds[0], bounds[1], prior=dim.prior)
    return space


def _models(config, valid_fraction):
    """name -> (estimator, search space or None, input key 'features' | 'pcm')."""
    from .models import DRNRegressor, FFNRegressor, MeanRatingRegressor

    unknown = set(config.models) - set(MODEL_LABELS)
    if unknown:
        raise ValueError(f"Unknown model(s) {sorted(unknown)}; choose among {list(MODEL_LABELS)}.")
    # Seeded nets make the search reproducible; each CV run reseeds them.
    net_defaults = {"valid_fraction": valid_fraction, "random_state": config.random_state}
    out = {}
    if "baseline" in config.models:
        out["baseline"] = (MeanRatingRegressor(), None, "features")
    if "ffn" in config.models:
        ffn = FFNRegressor(**{**net_defaults, **config.ffn_params})
        est = Pipeline([("scale", StandardScaler()), ("ffn", ffn)])
        out["ffn"] = (est,
                      _space(ffn_search_space("ffn__"),
                             {"ffn__" + k: v for k, v in config.ffn_space.items()}),
                      "features")
    if "drn" in config.models:
        drn = DRNRegressor(**{**net_defaults, **config.drn_params})
        space = drn_search_space("drn__")
        out["drn"] = (Pipeline([("drn", drn)]),
                      _space(space, {"drn__" + k: v for k, v in config.drn_space.items()}), "pcm")
    return out


def _plain(params):
    return {k: json.loads(json.dumps(v, default=_json_default)) for k, v in params.items()}


# -- the experiment ------------------------------------------------------------

def _search(name, est, space, X, Y, groups, config, state, n_jobs, progress):
    """Best parameters of one network (cached in state/hpo_<name>.json)."""
    path = state / f"hpo_{name}.json"
    if path.exists():
        logger.info("HPO of %s: reusing %s", name, path)
        return _read_json(path)
    cv = HPOSplit(config.hpo_n_partitions, n_test=config.hpo_n_test, n_valid=config.hpo_n_valid,
                  n_test_windows=config.hpo_n_test_windows, random_state=config.random_state)
    search = make_bayes_search(est, space, cv=cv, n_iter=config.hpo_n_iter,
                               n_points=config.hpo_n_points, n_jobs=n_jobs, refit=False,
                               random_state=config.random_state)
    step = est.steps[-1][0]
    bar = _bar(progress, config.hpo_n_iter, f"HPO {MODEL_LABELS[name]}")

    def callback(result):  # skopt stops when a callback returns True
        if bar is not None:
            bar.update(len(result.x_iters) - bar.n)
        return False

    try:
        with quiet_worker_restarts():
            search.fit(X, Y, groups=groups, callback=callback, **{f"{step}__groups": groups})
    finally:
        if bar is not None:
            bar.close()
    res = search.cv_results_
    result = {
        "best_params": _plain(search.best_params_),
        "best_msbe": -float(search.best_score_),
        "trials": [{"params": _plain(p), "msbe": -float(s)}
                   for p, s in zip(res["params"], res["mean_test_score"])],
    }
    _write_json(path, result)
    return result


def run_experiment(config, data, out_dir, *, resume=True, n_jobs=None, progress=False):
    """Run the paper's protocol and write its tables, figure and scores.

    Parameters
    ----------
    config : str or ExperimentConfig
        ``"quick"``, ``"paper"``, ``"tiny"`` (see :data:`CONFIGS`) or a config.
    data : "simulated", path or dict
        ``"simulated"`` (:func:`sk_reseq.datasets.make_listening_test` of the
        config's size), a folder of audio files with a ``ratings.csv`` (long
        format: track, rater, rating), or a dict/Bunch with ``audio`` (list
        of ``(channels, samples)``), ``sr`` and ``ratings``
        ``(n_tracks, n_raters)``.
    out_dir : str or path-like
        Output folder (created). Its ``state`` subfolder keeps finished steps.
    resume : bool, default=True
        Continue from the steps in ``out_dir/state``; False starts afresh
        (the state is removed). Resuming with another config or other
        data is refused.
    n_jobs : int, default=None
        Parallel fits (joblib) in the search and the cross-validation.
    progress : bool, default=False
        Show tqdm progress bars.

    Returns
    -------
    result : Bunch
        ``scores`` (tidy DataFrame), ``table`` (Table 4), ``anova``,
        ``tukey``, ``effect_sizes``, ``hyperparameters`` and ``files``.

    Examples
    --------
    >>> from sk_reseq.experiment import run_experiment
    >>> res = run_experiment("tiny", "simulated", "out")  # doctest: +SKIP
    >>> print(res.files["table4_md"].read_text())  # doctest: +SKIP
    """
    from .features import FeatureSummarizer
    from .preprocessing import WindowSampler

    config = get_config(config)
    # Check the data before anything is written to out_dir.
    data = _load_data(data, config, progress)
    min_tracks = config.hpo_n_partitions * config.hpo_n_test + config.cv_n_splits
    n_groups = len(np.unique(data.groups))  # variants of one recording count once
    if n_groups < min_tracks:
        raise ValueError(f"data has {n_groups} tracks; config {config.name!r} needs at "
                         f"least {min_tracks} (HPO test tracks plus one per CV fold).")
    meta = json.loads(json.dumps({"config": config.to_dict(), "data": data.source,
                                  "fingerprint": _fingerprint(data.audio, data.ratings)}))
    out = Path(out_dir)
    state = out / "state"
    meta_path = state / "experiment.json"
    same = ("config", "fingerprint")  # the data's path may change, its content may not
    if resume and meta_path.exists() and any(_read_json(meta_path).get(k) != meta[k] for k in same):
        raise ValueError(f"{out} holds a different experiment (other config or data); use another "
                         "out_dir, or resume=False (--restart) to discard it.")
    if not resume and state.exists():
        shutil.rmtree(state)
    (state / "runs").mkdir(parents=True, exist_ok=True)
    _write_json(meta_path, meta)

    # 1. windows and features
    sampler = WindowSampler(duration=0.5, sr=SR, n_windows=config.n_windows, n_channels=2,
                            random_state=config.random_state)
    pcm, Y, rows = sampler.fit_resample(data.audio, data.ratings)
    groups = np.asarray(data.groups)[rows]  # variants of one recording stay together
    features_path = state / "features.npy"
    if features_path.exists():
        features = np.load(features_path)
    else:
        logger.info("Computing features of %d windows", len(pcm))
        features = FeatureSummarizer(sr=SR, n_jobs=n_jobs).fit_transform(pcm)
        with atomic_open(features_path, "wb") as fh:
            np.save(fh, features)
    inputs = {"features": features, "pcm": pcm}

    # The nets hold out hpo_n_valid of the groups (recordings) they train on.
    valid_fraction = config.hpo_n_valid / max(n_groups - config.hpo_n_test, 1)
    models = _models(config, valid_fraction)

    # 2. hyper-parameter search of the networks
    hyper = {}
    for name, (est, space, key) in models.items():
        if space is None:
            continue
        hyper[name] = _search(name, est, space, inputs[key], Y, groups, config, state, n_jobs,
                              progress)
        est.set_params(**hyper[name]["best_params"])

    # 3. repeated grouped K-fold on the tracks the search did not test
    hpo = HPOSplit(config.hpo_n_partitions, n_test=config.hpo_n_test, n_valid=config.hpo_n_valid,
                   n_test_windows=config.hpo_n_test_windows, random_state=config.random_state)
    keep = np.flatnonzero(np.isin(groups, hpo.remaining_groups(groups)))
    cv = RepeatedGroupKFold(config.cv_n_splits, n_repeats=config.cv_n_repeats,
                            random_state=config.random_state)
    splits = [(keep[tr], keep[te]) for tr, te in cv.split(keep, groups=groups[keep])]
    seeds = _run_seeds(config.random_state, len(splits))
    scorer = check_scoring(None, scoring=msbe_scorer)
    X_by_model = {name: inputs[key] for name, (_, _, key) in models.items()}
    run_path = [state / "runs" / f"run{run:03d}.json" for run in range(len(splits))]
    pending = [run for run in range(len(splits)) if not run_path[run].exists()]
    # Runs go in batches as wide as the workers, so that the slow networks of
    # different runs train in parallel; each run is saved as soon as its batch
    # ends (an interruption loses at most one batch).
    batch_size = max(1, effective_n_jobs(n_jobs))
    bar = _bar(progress, len(splits), "cross-validation runs")
    if bar is not None:
        bar.update(len(splits) - len(pending))
    for start in range(0, len(pending), batch_size):
        batch = pending[start:start + batch_size]
        jobs = [(name, est, run) for run in batch for name, (est, _, _) in models.items()]
        batch_rows = _evaluate(jobs, X_by_model, Y, groups, splits, scorer, seeds, n_jobs=n_jobs)
        for run in batch:
            run_rows = [row for row in batch_rows if row["run"] == run]
            for row in run_rows:
                row["repeat"], row["fold"] = divmod(run, config.cv_n_splits)
            _write_json(run_path[run], run_rows)
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    rows = [row for path in run_path for row in _read_json(path)]
    scores = pd.DataFrame(rows)
    scores["model"] = scores["model"].map(MODEL_LABELS)
    return _write_outputs(out, config, scores, hyper)


def _write_outputs(out, config, scores, hyper):
    """Statistics, Tables 3 and 4, Fig. 6 and the JSON of scores."""
    from .stats import effect_sizes, msbe_table, repeated_measures_anova, to_markdown, tukey_hsd

    table = msbe_table(scores)
    labels = list(table.index)
    anova = repeated_measures_anova(scores) if len(labels) > 1 else None
    tukey = tukey_hsd(scores) if len(labels) > 1 else None
    d = (effect_sizes(scores, "Baseline") if "Baseline" in labels and len(labels) > 1
         else pd.Series(dtype=float))
    files = {name: out / fname for name, fname in [
        ("table3_md", "table3.md"), ("hyperparameters", "hyperparameters.json"),
        ("table4_md", "table4.md"), ("table4_csv", "table4.csv"), ("fig6", "fig6.png"),
        ("scores", "scores.json")]}

    _write_json(files["hyperparameters"], hyper)
    with atomic_open(files["table3_md"]) as fh:
        fh.write(_table3(hyper, to_markdown) + "\n")
    with atomic_open(files["table4_csv"]) as fh:
        table.to_csv(fh)
    pretty = table.rename(columns={"mean": "Mean", "std": "Std. dev.", "ci_low": "95% CI low",
                                   "ci_high": "95% CI high", "n_runs": "Runs"})
    pretty.index.name = "Model"
    text = [f"MSBE^(35,65) per model, config {config.name!r}.", "", to_markdown(pretty)]
    if anova is not None:
        text += ["", f"Repeated-measures ANOVA: {anova}.", "", "Tukey HSD:", "",
                 to_markdown(tukey, index=False)]
    if len(d):
        text += ["", "Cohen's d over the baseline: "
                 + ", ".join(f"{m} {v:.2f}" for m, v in d.items()) + "."]
    with atomic_open(files["table4_md"]) as fh:
        fh.write("\n".join(text) + "\n")
    _save_figure(scores, files["fig6"])
    _write_json(files["scores"], {
        "config": config.to_dict(),
        "scores": scores.to_dict(orient="records"),
        "anova": None if anova is None else {"F": anova.F, "df_num": anova.df_num,
                                             "df_den": anova.df_den, "p": anova.p},
        "tukey": None if tukey is None else tukey.to_dict(orient="records"),
        "cohens_d_over_baseline": d.to_dict(),
    })
    return Bunch(scores=scores, table=table, anova=anova, tukey=tukey, effect_sizes=d,
                 hyperparameters=hyper, files=files)


def _table3(hyper, to_markdown):
    """The chosen hyper-parameters, one column per network (the paper's Table 3)."""
    if not hyper:
        return "No network was tuned."
    order = ["n_blocks", "block_size_low", "block_size_mid", "block_size_high", "pool_size",
             "final_size", "lr", "early_stopping_threshold", "lr_reduce_threshold"]
    columns = {}
    for name, res in hyper.items():
        params = {k.split("__", 1)[-1]: v for k, v in res["best_params"].items()}
        params["HPO MSBE"] = res["best_msbe"]
        columns[MODEL_LABELS[name]] = {k: v if isinstance(v, (int, str)) else f"{v:.3g}"
                                       for k, v in params.items()}
    names = list(dict.fromkeys(n for col in columns.values() for n in col))
    names.sort(key=lambda n: order.index(n) if n in order else len(order))
    table = pd.DataFrame(columns, index=names).fillna("-")
    table.index.name = "Hyper-parameter"
    return to_markdown(table)


def _save_figure(scores, path):
    # A bare Figure (no pyplot): no global backend change, nothing left open.
    from matplotlib.figure import Figure

    from .plotting import plot_msbe_boxplot

    n_models = scores["model"].nunique()
    fig = Figure(figsize=(1.6 + 1.4 * n_models, 4.0))
    plot_msbe_boxplot(scores, ax=fig.add_subplot())
    fig.tight_layout()
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=120)
