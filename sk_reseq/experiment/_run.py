"""The experiment's steps: data, models, the searches, the cross-validation."""

import json
import logging
import shutil
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from joblib import effective_n_jobs
from sklearn.metrics import check_scoring

from .._atomic import atomic_open
from .._constants import MODEL_SR as SR
from .._constants import WINDOW_SECONDS
from .._optional import import_optional
from ..datasets import load_panel
from ..metrics import msbe_scorer
from ..model_selection import (
    HPOSplit,
    RepeatedGroupKFold,
    drn_search_space,
    ffn_search_space,
    make_bayes_search,
)
from ..model_selection._compare import _evaluate, _run_seeds, quiet_worker_restarts
from ._config import MODEL_LABELS, get_config
from ._report import _write_outputs
from ._state import _fingerprint, _plain, _read_json, _write_json

pd = import_optional("pandas", "sk_reseq.experiment")

__all__ = ["run_experiment"]

logger = logging.getLogger(__name__)


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
    """name -> (estimator, search space or None, input key 'features' | 'pcm').

    The models come from :func:`sk_reseq.training.make_model` (the one
    builder, so tuned parameters carry over to ``sk-reseq train``); the FFN
    reads features computed once, so its pipeline starts at the scaler.
    """
    from ..training import make_model

    unknown = set(config.models) - set(MODEL_LABELS)
    if unknown:
        raise ValueError(f"Unknown model(s) {sorted(unknown)}; choose among {list(MODEL_LABELS)}.")
    # Seeded nets make the search reproducible; each CV run reseeds them.
    net_defaults = {"valid_fraction": valid_fraction}
    seed = config.random_state
    out = {}
    if "baseline" in config.models:
        out["baseline"] = (make_model("baseline"), None, "features")
    if "ffn" in config.models:
        est = make_model("ffn", "precomputed", random_state=seed,
                         **{**net_defaults, **config.ffn_params})
        out["ffn"] = (est, _space(ffn_search_space("ffnregressor__"),
                                  {"ffnregressor__" + k: v for k, v in config.ffn_space.items()}),
                      "features")
    if "drn" in config.models:
        est = make_model("drn", architecture=config.drn_architecture, random_state=seed,
                         **{**net_defaults, **config.drn_params})
        out["drn"] = (est, _space(drn_search_space("drnregressor__"),
                                  {"drnregressor__" + k: v for k, v in config.drn_space.items()}),
                      "pcm")
    return out


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
    from ..features import FeatureSummarizer
    from ..preprocessing import WindowSampler

    config = get_config(config)
    _models(config, 0.0)  # unknown models or DRN architecture: refused before any work
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
    sampler = WindowSampler(duration=WINDOW_SECONDS, sr=SR, n_windows=config.n_windows,
                            n_channels=2, random_state=config.random_state)
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
