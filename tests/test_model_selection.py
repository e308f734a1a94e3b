"""The paper's protocol: HPO partitions, repeated grouped K-fold, model comparison, Bayesian
search."""

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from skopt.space import Integer, Real

from sk_reseq.metrics import msbe, msbe_scorer
from sk_reseq.model_selection import (
    HPOSplit,
    RepeatedGroupKFold,
    compare_estimators,
    drn_search_space,
    ffn_search_space,
    hpo_partitions,
    make_bayes_search,
)


def _data(n_tracks=30, n_windows=12, n_raters=5, seed=0):
    """Windows whose first column is the track id; ratings depend on feature 1."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n_tracks) * 7 + 3, n_windows)  # non-contiguous ids
    X = np.column_stack([groups, rng.normal(size=(groups.size, 3))])
    centre = np.clip(0.5 + 0.15 * X[:, 1], 0, 1)
    Y = np.clip(centre[:, None] + rng.normal(0, 0.1, (groups.size, n_raters)), 0, 1)
    Y[rng.random(Y.shape) < 0.1] = np.nan
    Y[:, 0] = centre  # no row is all-NaN
    return X, Y, groups


class GroupAware(RegressorMixin, BaseEstimator):
    """Predicts 0 when ``fit`` got the training windows' track ids, else 1."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y, groups=None):
        self.ok_ = groups is not None and np.array_equal(np.asarray(groups), X[:, 0])
        return self

    def predict(self, X):
        return np.full(len(X), 0.0 if self.ok_ else 1.0)


class SeedEcho(RegressorMixin, BaseEstimator):
    """Predicts a constant derived from its random_state."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X, y):
        self.value_ = (self.random_state % 1000) / 1000 if self.random_state is not None else 0.5
        return self

    def predict(self, X):
        return np.full(len(X), self.value_)


# -- HPO partitions ---------------------------------------------------------

def test_hpo_partitions_follow_the_paper_layout():
    groups = np.repeat(np.arange(150), 120)
    parts = hpo_partitions(groups, random_state=0)
    assert len(parts) == 2
    tests = [set(p.test_groups) for p in parts]
    assert not tests[0] & tests[1]  # 20 distinct test tracks in all
    for p in parts:
        assert (len(p.test_groups), len(p.valid_groups), len(p.train_groups)) == (10, 10, 130)
        assert not set(p.valid_groups) & set(p.test_groups)
        assert set(p.train_groups) | set(p.valid_groups) | set(p.test_groups) == set(range(150))
        assert len(p.test) == 10 * 100
        counts = np.unique(groups[p.test], return_counts=True)[1]
        assert np.all(counts == 100)
        assert set(groups[p.train]) == set(p.train_groups)
        assert set(groups[p.valid]) == set(p.valid_groups)
    # one partition's test tracks train the other
    assert tests[1] <= set(parts[0].train_groups) | set(parts[0].valid_groups)


def test_hpo_partitions_deterministic_and_short_tracks_kept_whole():
    groups = np.repeat(np.arange(40), np.r_[np.full(20, 3), np.full(20, 50)])
    a = hpo_partitions(groups, n_test=5, n_valid=5, n_test_windows=10, random_state=3)
    b = hpo_partitions(groups, n_test=5, n_valid=5, n_test_windows=10, random_state=3)
    c = hpo_partitions(groups, n_test=5, n_valid=5, n_test_windows=10, random_state=4)
    for pa, pb in zip(a, b):
        np.testing.assert_array_equal(pa.test, pb.test)
        np.testing.assert_array_equal(pa.valid_groups, pb.valid_groups)
    assert any(not np.array_equal(pa.test, pc.test) for pa, pc in zip(a, c))
    for p in a:
        tracks, counts = np.unique(groups[p.test], return_counts=True)
        assert np.all(counts == np.minimum(10, np.bincount(groups)[tracks]))
    full = hpo_partitions(groups, n_test=5, n_valid=5, n_test_windows=None, random_state=3)
    assert set(full[0].test) == set(np.flatnonzero(np.isin(groups, full[0].test_groups)))


@pytest.mark.parametrize("kwargs, match", [
    ({"n_test": 8, "n_valid": 2}, "distinct test tracks"),
    ({"n_test": 5, "n_valid": 10}, "fewer than the total"),
    ({"n_test": 0}, "n_test must be an integer >= 1"),
    ({"n_test_windows": 0}, "n_test_windows"),
    ({"n_partitions": 1.5}, "n_partitions"),
])
def test_hpo_partitions_bad_parameters(kwargs, match):
    groups = np.repeat(np.arange(15), 4)
    with pytest.raises(ValueError, match=match):
        hpo_partitions(groups, **kwargs)


def test_hpo_split_is_a_grouped_cv_splitter():
    X, Y, groups = _data(n_tracks=30)
    cv = HPOSplit(n_test=4, n_valid=3, n_test_windows=5, random_state=0)
    splits = list(cv.split(X, Y, groups))
    assert len(splits) == cv.get_n_splits() == 2
    for (train, test), part in zip(splits, cv.partitions(groups)):
        assert not set(groups[train]) & set(groups[test])
        np.testing.assert_array_equal(train, np.union1d(part.train, part.valid))
        assert len(test) == 4 * 5
    remaining = cv.remaining_groups(groups)
    assert len(remaining) == 30 - 8
    tested = set(groups[splits[0][1]]) | set(groups[splits[1][1]])
    assert not tested & set(remaining)
    assert "HPOSplit(n_partitions=2, n_test=4" in repr(cv)
    with pytest.raises(ValueError, match="groups"):
        next(cv.split(X, Y))
    with pytest.raises(ValueError, match="entries but X has"):
        next(cv.split(X[:-1], Y[:-1], groups))


# -- Repeated grouped K-fold --------------------------------------------------

def test_repeated_group_kfold_properties():
    X, Y, groups = _data(n_tracks=23)
    cv = RepeatedGroupKFold(n_splits=5, n_repeats=3, random_state=0)
    splits = list(cv.split(X, Y, groups))
    assert len(splits) == cv.get_n_splits() == 15
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
        assert len(train) + len(test) == len(X)
    tested_sets = []
    for r in range(3):
        folds = [frozenset(groups[te]) for _, te in splits[5 * r:5 * r + 5]]
        tested = np.concatenate([np.unique(groups[te]) for _, te in splits[5 * r:5 * r + 5]])
        assert sorted(tested) == sorted(np.unique(groups))  # each track once per repeat
        tested_sets.append(set(folds))
    assert tested_sets[0] != tested_sets[1] and tested_sets[1] != tested_sets[2]
    again = list(RepeatedGroupKFold(n_splits=5, n_repeats=3, random_state=0).split(X, Y, groups))
    for (a, b), (c, d) in zip(splits, again):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    other = list(RepeatedGroupKFold(n_splits=5, n_repeats=3, random_state=1).split(X, Y, groups))
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(splits, other))


def test_repeated_group_kfold_bad_parameters():
    X, Y, groups = _data(n_tracks=6)
    with pytest.raises(ValueError, match="n_splits must be an integer >= 2"):
        list(RepeatedGroupKFold(n_splits=1).split(X, Y, groups))
    with pytest.raises(ValueError, match="n_repeats"):
        RepeatedGroupKFold(n_repeats=0).get_n_splits()
    with pytest.raises(ValueError, match="groups"):
        list(RepeatedGroupKFold(n_splits=2).split(X, Y))


def test_splitters_receive_groups_with_metadata_routing():
    X, Y, groups = _data(n_tracks=12)
    with sklearn.config_context(enable_metadata_routing=True):
        for cv in (RepeatedGroupKFold(3, n_repeats=2, random_state=0),
                   HPOSplit(n_test=3, n_valid=2, random_state=0)):
            res = cross_validate(Ridge(), X, Y[:, 0], cv=cv, scoring=msbe_scorer,
                                 params={"groups": groups})
            assert len(res["test_score"]) == cv.get_n_splits()


# -- compare_estimators -------------------------------------------------------

def test_compare_estimators_matches_a_manual_loop():
    X, Y, groups = _data()
    cv = RepeatedGroupKFold(n_splits=3, n_repeats=2, random_state=0)
    models = {"ridge": Ridge(alpha=1.0), "strong": Ridge(alpha=1e3)}
    scores = compare_estimators(models, X, Y[:, 0], groups, cv)
    assert list(scores.columns) == ["model", "run", "repeat", "fold", "msbe", "fit_time",
                                    "score_time", "n_train", "n_test"]
    assert len(scores) == 2 * 6
    splits = list(cv.split(X, Y, groups))
    for row in scores.itertuples():
        train, test = splits[row.run]
        est = clone(models[row.model]).fit(X[train], Y[train, 0])
        assert row.msbe == pytest.approx(msbe(Y[test, 0], est.predict(X[test])))
        assert (row.repeat, row.fold) == (row.run // 3, row.run % 3)
        assert (row.n_train, row.n_test) == (len(train), len(test))


def test_compare_estimators_2d_ratings_groups_and_pipelines():
    from sk_reseq.models import MeanRatingRegressor

    X, Y, groups = _data()
    cv = RepeatedGroupKFold(n_splits=3, n_repeats=1, random_state=0)
    models = [("bare", GroupAware()), ("pipe", make_pipeline(FunctionTransformer(), GroupAware())),
              ("baseline", MeanRatingRegressor())]
    scores = compare_estimators(models, X, Y * 0, groups, cv)  # all-zero ratings
    by_model = scores.groupby("model", sort=False).msbe.max()
    assert by_model["bare"] == 0.0 and by_model["pipe"] == 0.0  # groups reached fit

    scores = compare_estimators(models[2:], X, Y, groups, cv)
    for row, (train, test) in zip(scores.itertuples(), cv.split(X, Y, groups)):
        pred = MeanRatingRegressor().fit(X[train], Y[train]).predict(X[test])
        assert row.msbe == pytest.approx(msbe(Y[test], pred))


def test_compare_estimators_seeds_per_run_and_parallel_equal_serial():
    X, Y, groups = _data(n_tracks=12)
    cv = RepeatedGroupKFold(n_splits=3, n_repeats=2, random_state=0)
    models = {"a": SeedEcho(), "b": SeedEcho(random_state=7)}
    one = compare_estimators(models, X, Y * 0, groups, cv, random_state=0)
    two = compare_estimators(models, X, Y * 0, groups, cv, random_state=0, n_jobs=2)
    np.testing.assert_array_equal(one.msbe, two.msbe)
    table = one.pivot(index="run", columns="model", values="msbe")
    np.testing.assert_array_equal(table["a"], table["b"])  # same seed for every model in a run
    assert table["a"].nunique() > 1  # seeds differ across runs
    unseeded = compare_estimators(models, X, Y * 0, groups, cv)
    assert unseeded.groupby("model").msbe.nunique().max() == 1
    assert unseeded.loc[unseeded.model == "b", "msbe"].iloc[0] == pytest.approx(0.007**2)


def test_compare_estimators_bad_input_and_inputs_untouched():
    X, Y, groups = _data(n_tracks=9)
    cv = RepeatedGroupKFold(n_splits=3, n_repeats=1, random_state=0)
    with pytest.raises(ValueError, match="empty"):
        compare_estimators({}, X, Y, groups, cv)
    with pytest.raises(ValueError, match="duplicate"):
        compare_estimators([("a", Ridge()), ("a", Ridge())], X, Y[:, 0], groups, cv)
    with pytest.raises(TypeError, match="cv must be a splitter"):
        compare_estimators({"a": Ridge()}, X, Y[:, 0], groups, 5)
    with pytest.raises(ValueError, match="groups is required"):
        compare_estimators({"a": Ridge()}, X, Y[:, 0], None, cv)
    X0, Y0 = X.copy(), Y.copy()
    compare_estimators({"a": Ridge()}, X, Y[:, 0], groups, cv)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)


# -- search spaces and Bayesian search ---------------------------------------

@pytest.mark.parametrize("space_fn", [ffn_search_space, drn_search_space])
def test_search_space_structure(space_fn):
    space = space_fn()
    assert isinstance(space["n_blocks"], Integer)
    for name in ("lr", "early_stopping_threshold", "lr_reduce_threshold"):
        assert isinstance(space[name], Real) and space[name].prior == "log-uniform"
    for tier in ("low", "mid", "high"):
        dim = space[f"block_size_{tier}"]
        assert isinstance(dim, Integer) and dim.prior == "log-uniform" and dim.low >= 1
    prefixed = space_fn("net__")
    assert set(prefixed) == {"net__" + k for k in space}
    with pytest.raises(TypeError, match="prefix"):
        space_fn(3)


def _search(cv, **kwargs):
    return make_bayes_search(Ridge(), {"alpha": Real(1e-3, 1e3, prior="log-uniform")},
                             cv=cv, n_iter=6, random_state=0, **kwargs)


def test_bayes_search_uses_gp_and_lcb_with_groups_and_n_jobs():
    from sklearn.gaussian_process import GaussianProcessRegressor

    X, Y, groups = _data(n_tracks=24)
    cv = HPOSplit(n_test=4, n_valid=2, n_test_windows=6, random_state=0)
    serial = _search(cv).fit(X, Y[:, 0], groups=groups)
    opt = serial.optimizers_[0]
    assert opt.acq_func == "LCB" and opt.acq_func_kwargs == {"kappa": 1.96}
    assert isinstance(opt.base_estimator_, GaussianProcessRegressor)
    assert len(serial.cv_results_["params"]) == 6
    # the search criterion is the mean MSBE over the HPO test sets
    best = serial.best_params_["alpha"]
    manual = np.mean([msbe(Y[te, 0], Ridge(alpha=best).fit(X[tr], Y[tr, 0]).predict(X[te]))
                      for tr, te in cv.split(X, Y, groups)])
    assert -serial.best_score_ == pytest.approx(manual)
    parallel = _search(cv, n_jobs=2, n_points=2).fit(X, Y[:, 0], groups=groups)
    assert len(parallel.cv_results_["params"]) == 6
    assert np.all(np.isfinite(parallel.cv_results_["mean_test_score"]))


def test_bayes_search_routes_groups_to_the_estimator():
    X, Y, groups = _data(n_tracks=20)
    cv = HPOSplit(n_test=3, n_valid=2, random_state=0)
    space = {"alpha": Real(0.1, 10.0)}
    with sklearn.config_context(enable_metadata_routing=True):
        est = GroupAware().set_fit_request(groups=True)
        search = make_bayes_search(est, space, cv=cv, n_iter=3, random_state=0, refit=False)
        search.fit(X, Y * 0, groups=groups)
    assert np.all(search.cv_results_["mean_test_score"] == 0.0)
    # Without routing, a Pipeline step gets them as <step>__groups.
    pipe = make_pipeline(FunctionTransformer(), GroupAware())
    search = make_bayes_search(pipe, {"groupaware__alpha": Real(0.1, 10.0)}, cv=cv, n_iter=3,
                               random_state=0, refit=False)
    search.fit(X, Y * 0, groups=groups, groupaware__groups=groups)
    assert np.all(search.cv_results_["mean_test_score"] == 0.0)


def test_bayes_search_on_a_dask_cluster():
    distributed = pytest.importorskip("distributed")
    import joblib

    X, Y, groups = _data(n_tracks=24)
    cv = HPOSplit(n_test=4, n_valid=2, n_test_windows=6, random_state=0)
    local = _search(cv).fit(X, Y[:, 0], groups=groups)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
            remote = _search(cv, n_jobs=-1).fit(X, Y[:, 0], groups=groups)
    assert len(stream.data) > 0  # the fits ran as dask tasks
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"])
    assert remote.best_params_ == local.best_params_


@pytest.mark.parametrize("space_fn, cls_name", [(ffn_search_space, "FFNRegressor"),
                                                (drn_search_space, "DRNRegressor")])
def test_search_spaces_name_the_nets_parameters(space_fn, cls_name):
    import sk_reseq.models as models

    net = getattr(models, cls_name)()
    assert set(space_fn()) <= set(net.get_params())
    # every point of the space is a valid setting (the nets validate in fit)
    point = {name: dim.rvs(random_state=0)[0] for name, dim in space_fn().items()}
    net.set_params(**point)._validate_params()


def test_bayes_search_of_a_tiny_ffn_pipeline_with_grouped_validation():
    from sk_reseq.models import FFNRegressor

    X, Y, groups = _data(n_tracks=16, n_windows=8)
    pipe = make_pipeline(FunctionTransformer(), FFNRegressor(max_epochs=2, valid_fraction=0.2,
                                                              random_state=0))
    space = ffn_search_space("ffnregressor__")
    space.update({"ffnregressor__n_blocks": Integer(1, 2),
                  "ffnregressor__block_size_low": Integer(2, 8),
                  "ffnregressor__block_size_mid": Integer(2, 8),
                  "ffnregressor__block_size_high": Integer(2, 8)})
    cv = HPOSplit(n_test=3, n_valid=2, n_test_windows=4, random_state=0)
    search = make_bayes_search(pipe, space, cv=cv, n_iter=2, random_state=0)
    search.fit(X, Y, groups=groups, ffnregressor__groups=groups)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    ffn = search.best_estimator_[-1]
    # the refit net held out whole tracks for early stopping
    held_out = set(groups[ffn.valid_mask_])
    assert held_out and not held_out & set(groups[~ffn.valid_mask_])


def test_quiet_worker_restarts_silences_only_loky_restart_warning():
    import warnings

    from sk_reseq.model_selection._compare import quiet_worker_restarts

    loky_text = ("A worker stopped while some jobs were given to the executor. This can be "
                 "caused by a too short worker timeout or by a memory leak.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet_worker_restarts():
            warnings.warn(loky_text, UserWarning)
            warnings.warn("something else", UserWarning)
        warnings.warn(loky_text, UserWarning)  # outside the context: shown again
    assert [str(w.message) for w in caught] == ["something else", loky_text]
