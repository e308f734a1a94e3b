"""Run several estimators on the same grouped splits: one score per run."""

import inspect
import logging
import time
import warnings
from contextlib import contextmanager

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state, indexable

from .._optional import import_optional
from ..metrics import msbe_scorer
from ..utils._sklearn_compat import safe_indexing

pd = import_optional("pandas", "sk_reseq.model_selection")

__all__ = ["compare_estimators"]

logger = logging.getLogger(__name__)


def _fit_accepts_groups(estimator):
    """Name under which ``fit`` takes ``groups``, or None.

    The nets use ``groups`` for their track-wise validation split. In a
    Pipeline the final step receives it as ``<step>__groups``.
    """
    if isinstance(estimator, Pipeline):
        name, last = estimator.steps[-1]
        inner = _fit_accepts_groups(last) if last not in (None, "passthrough") else None
        return f"{name}__{inner}" if inner else None
    try:
        params = inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without signature
        return None
    return "groups" if "groups" in params else None


def _seed_params(estimator, seed):
    """``random_state`` parameters of ``estimator`` (nested too) set to ``seed``."""
    return {key: seed for key in estimator.get_params(deep=True)
            if key == "random_state" or key.endswith("__random_state")}


def _loss_name(scorer):
    # sklearn's scorers keep the metric and its sign; a loss scorer such as
    # msbe_scorer (greater_is_better=False) reports -msbe, we store +msbe.
    func = getattr(scorer, "_score_func", None)
    sign = getattr(scorer, "_sign", 1)
    if func is None or not hasattr(func, "__name__") or func.__name__ == "<lambda>":
        return "score", 1
    return func.__name__, sign


def _fit_and_score(estimator, X, Y, groups, train, test, scorer, groups_key, seed):
    est = clone(estimator)
    if seed is not None:
        est.set_params(**_seed_params(est, seed))
    fit_params = {groups_key: groups[train]} if groups_key else {}
    X_train, Y_train = safe_indexing(X, train), safe_indexing(Y, train)
    start = time.perf_counter()
    est.fit(X_train, Y_train, **fit_params)
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    score = scorer(est, safe_indexing(X, test), safe_indexing(Y, test))
    score_time = time.perf_counter() - start
    return float(score), fit_time, score_time


def compare_estimators(estimators, X, Y, groups, cv, *, scoring=msbe_scorer, random_state=None,
                       n_jobs=None, verbose=0, progress=None):
    """Score several estimators on the same grouped cross-validation splits.

    Every estimator is cloned and fitted on each split of ``cv`` (the splits
    are drawn once, so all models see the same ones) and scored on the
    split's test windows. A *run* is one split; with a repeated splitter
    such as :class:`RepeatedGroupKFold` run ``r`` is fold ``r % n_splits``
    of repeat ``r // n_splits``. Runs are the subjects of the repeated
    measures statistics in :mod:`sk_reseq.stats`.

    Parameters
    ----------
    estimators : dict or list of (str, estimator)
        The models to compare, by name.
    X : array-like [shape=(n_samples, ...)]
        Windows: features (2-D) or raw audio (3-D).
    Y : array-like [shape=(n_samples,) or (n_samples, n_raters)]
        Ratings, NaN where a rater declined.
    groups : array-like [shape=(n_samples,)]
        Track id of each window; passed to ``cv.split`` and, for the
        training windows, to each estimator's ``fit`` when it takes a
        ``groups`` argument (the final step of a Pipeline too).
    cv : cross-validation splitter or iterable of (train, test)
        For example ``RepeatedGroupKFold(5, n_repeats=5)``.
    scoring : str or callable, default=msbe_scorer
        A scikit-learn scorer (greater is better).
    random_state : int, RandomState instance or None, default=None
        When not None, every ``random_state`` parameter of the estimators
        (nested ones too) is set per run to a seed drawn from it, the same
        for every model in a run: the paper's repeats vary the
        initialisation with the partition. None keeps the estimators'
        own ``random_state``.
    n_jobs : int, default=None
        Parallel jobs over (model, run) pairs (joblib; works with the dask
        backend too).
    verbose : int, default=0
        joblib verbosity.
    progress : callable, default=None
        Called with 1 after each (model, run) is fitted and scored, e.g. a
        tqdm bar's ``update`` (there are ``n_models * n_splits`` of them).

    Returns
    -------
    scores : pandas.DataFrame
        One row per (model, run) with columns ``model``, ``run``,
        ``repeat``, ``fold``, the loss (``msbe`` for the default scoring:
        the metric's name, made positive when the scorer negates a loss;
        ``score`` for scorers of unknown metric), ``fit_time``,
        ``score_time``, ``n_train``, ``n_test``.

    See Also
    --------
    sk_reseq.stats.msbe_table : Table 4 from these scores.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyRegressor
    >>> from sklearn.linear_model import Ridge
    >>> from sk_reseq.model_selection import RepeatedGroupKFold, compare_estimators
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3))
    >>> y = np.clip(0.5 + 0.1 * X[:, 0], 0, 1)
    >>> groups = np.repeat(np.arange(12), 5)
    >>> cv = RepeatedGroupKFold(3, n_repeats=2, random_state=0)
    >>> scores = compare_estimators({"mean": DummyRegressor(), "ridge": Ridge()}, X, y, groups, cv)
    >>> scores.shape[0], list(scores.columns[:5])
    (12, ['model', 'run', 'repeat', 'fold', 'msbe'])
    >>> mean_msbe = scores.groupby("model").msbe.mean()
    >>> bool(mean_msbe["ridge"] < mean_msbe["mean"])
    True
    """
    items = list(estimators.items()) if isinstance(estimators, dict) else list(estimators)
    if not items:
        raise ValueError("estimators is empty: pass a dict or a list of (name, estimator).")
    names = [name for name, _ in items]
    if len(set(names)) != len(names):
        raise ValueError(f"estimators has duplicate names: {names}.")
    if groups is None:
        raise ValueError("groups is required: one track id per window, so no track is split.")
    X, Y, groups = indexable(X, Y, groups)
    groups = np.asarray(groups)
    if hasattr(cv, "split"):
        splits = list(cv.split(X, Y, groups))
    elif hasattr(cv, "__iter__"):
        splits = list(cv)
    else:
        raise TypeError("cv must be a splitter such as RepeatedGroupKFold(5, n_repeats=5) or an "
                        f"iterable of (train, test) indices, got {cv!r}.")
    if not splits:
        raise ValueError("cv produced no splits.")
    n_repeats = getattr(cv, "n_repeats", 1)
    per_repeat = len(splits) // n_repeats if len(splits) % n_repeats == 0 else len(splits)
    seeds = _run_seeds(random_state, len(splits))
    scorer = check_scoring(items[0][1], scoring=scoring)
    logger.info("Comparing %d models on %d splits.", len(items), len(splits))
    jobs = [(name, est, run) for name, est in items for run in range(len(splits))]
    rows = _evaluate(jobs, X, Y, groups, splits, scorer, seeds, n_jobs=n_jobs, verbose=verbose,
                     progress=progress)
    for row in rows:
        row["repeat"], row["fold"] = divmod(row["run"], per_repeat)
    columns = ["model", "run", "repeat", "fold"]
    return pd.DataFrame(rows)[columns + [c for c in rows[0] if c not in columns]]


def _run_seeds(random_state, n_runs):
    """One integer seed per run drawn from ``random_state``; Nones when it is None."""
    if random_state is None:
        return [None] * n_runs
    rng = check_random_state(random_state)
    return [int(s) for s in rng.randint(np.iinfo(np.int32).max, size=n_runs)]


@contextmanager
def quiet_worker_restarts():
    """Silence loky's warning when it replaces a worker that grew by 300 MB.

    Training a torch net grows a worker that much; loky then starts a fresh
    worker and warns of a possible memory leak, although every job still
    runs. The warning would only alarm users of the parallel folds.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="A worker stopped while some jobs",
                                category=UserWarning)
        yield


def _evaluate(jobs, X, Y, groups, splits, scorer, seeds, *, n_jobs=None, verbose=0,
              progress=None):
    """Fit and score ``jobs``, a list of (name, estimator, run); one row dict per job.

    ``X`` is an array or a dict of arrays by model name (models that need
    different inputs, e.g. features and raw audio, for the same windows).
    """
    loss_name, sign = _loss_name(scorer)

    def x_of(name):
        return X[name] if isinstance(X, dict) else X

    with quiet_worker_restarts():
        # A generator in job order: results arrive as fits finish, for ``progress``.
        results = []
        for result in Parallel(n_jobs=n_jobs, verbose=verbose, return_as="generator")(
            delayed(_fit_and_score)(est, x_of(name), Y, groups, *splits[run], scorer,
                                    _fit_accepts_groups(est), seeds[run])
            for name, est, run in jobs
        ):
            results.append(result)
            if progress is not None:
                progress(1)
    rows = []
    for (name, _, run), (score, fit_time, score_time) in zip(jobs, results):
        train, test = splits[run]
        rows.append({
            "model": name, "run": run, loss_name: sign * score, "fit_time": fit_time,
            "score_time": score_time, "n_train": len(train), "n_test": len(test),
        })
    return rows
