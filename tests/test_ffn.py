import logging

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_reseq.metrics import msbe, msbe_scorer
from sk_reseq.models import FFNRegressor, MeanRatingRegressor, tiered_sizes


def tiny(**params):
    defaults = dict(hidden_sizes=(16,), max_epochs=20, batch_size=32, lr=1e-2, random_state=0)
    return FFNRegressor(**{**defaults, **params})


def panel(n_tracks=30, windows=6, n_features=8, n_raters=9, seed=0):
    """Synthetic rated windows: each track's true factor depends on its features.

    Windows of a track share the track's rating row (as WindowSampler repeats
    it) and differ by feature noise; raters add bias and noise, some decline.
    """
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n_tracks, n_features))
    w = rng.normal(size=n_features)
    factor = 1 / (1 + np.exp(-(z @ w) / np.sqrt(n_features) * 2))
    ratings = (factor[:, None] + rng.normal(0, 0.05, (n_tracks, n_raters))
               + rng.normal(0, 0.05, n_raters))
    ratings = np.clip(ratings, 0, 1)
    declined = rng.uniform(size=ratings.shape) < 0.2
    declined[:, 0] = False
    ratings[declined] = np.nan
    groups = np.repeat(np.arange(n_tracks), windows)
    X = z[groups] + rng.normal(0, 0.2, (groups.size, n_features))
    return X.astype(np.float32), ratings[groups], groups


def respects_groups(mask, groups):
    return all(len(set(mask[groups == g])) == 1 for g in np.unique(groups))


# predict_batch_size=1: each sample then takes the same kernels whatever the
# batch, so the checks' invariance comparisons at rtol 1e-7 hold on any CPU.
@parametrize_with_checks([tiny(hidden_sizes=(8,), max_epochs=3, batch_size=16, clip=False,
                               predict_batch_size=1)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_tiered_sizes_split_rule():
    assert tiered_sizes(3, 1, 2, 3) == (1, 2, 3)
    assert tiered_sizes(10, 1, 2, 3) == (1,) * 4 + (2,) * 3 + (3,) * 3
    assert tiered_sizes(5, 1, 2, 3) == (1, 1, 2, 2, 3)
    assert tiered_sizes(1, 1, 2, 3) == (1,)
    with pytest.raises(ValueError, match="n_blocks"):
        tiered_sizes(0, 1, 2, 3)


def test_scalar_architecture_parameters():
    X, Y, _ = panel(n_tracks=6, windows=4)
    est = tiny(n_blocks=5, block_size_low=12, block_size_high=4, max_epochs=1).fit(X, Y)
    assert est.hidden_sizes_ == (12, 12, 250, 250, 4)
    linear_sizes = [m.out_features for m in est.net_.module_.modules()
                    if isinstance(m, __import__("torch").nn.Linear)]
    assert linear_sizes == [12, 12, 250, 250, 4, 1]
    with pytest.raises(ValueError, match="n_blocks"):
        tiny(block_size_low=8).fit(X, Y)


def test_trains_on_msbe_and_reports_it():
    X, Y, groups = panel()
    est = tiny(clip=False, max_epochs=30, early_stopping_patience=None).fit(X, Y, groups=groups)
    losses = est.net_.history[:, "train_loss"]
    assert losses[-1] < 0.5 * losses[0]
    # The last epoch's validation loss is the MSBE of the predictions.
    valid = est.valid_mask_
    last = est.net_.history[-1, "valid_loss"]
    assert msbe(Y[valid], est.predict(X[valid])) == pytest.approx(last, rel=1e-4)


def test_early_stopping_restores_the_best_epoch():
    X, Y, groups = panel()
    est = tiny(clip=False, max_epochs=30, early_stopping_patience=3).fit(X, Y, groups=groups)
    valid = est.valid_mask_
    best = min(est.net_.history[:, "valid_loss"])
    assert msbe(Y[valid], est.predict(X[valid])) == pytest.approx(best, rel=1e-4)


def test_beats_mean_baseline_under_group_kfold():
    X, Y, groups = panel(n_tracks=40, seed=1)
    cv = GroupKFold(n_splits=5)
    scores = {}
    for name, est in [("mean", MeanRatingRegressor()),
                      ("ffn", make_pipeline(StandardScaler(), tiny(max_epochs=40)))]:
        res = cross_validate(est, X, Y, groups=groups, cv=cv, scoring=msbe_scorer)
        scores[name] = -res["test_score"].mean()
    assert scores["ffn"] < 0.6 * scores["mean"], scores


def test_validation_split_keeps_groups_whole():
    X, Y, groups = panel(n_tracks=20, windows=5)
    # Given groups: distinct ratings inside a group so that only `groups` can explain it.
    rng = np.random.default_rng(3)
    y = rng.uniform(size=len(X))
    est = tiny(max_epochs=2, valid_fraction=0.3).fit(X, y, groups=groups)
    assert est.valid_mask_.any() and not est.valid_mask_.all()
    assert respects_groups(est.valid_mask_, groups)
    assert np.unique(groups[est.valid_mask_]).size == 6  # 30 % of 20 tracks
    # Inferred groups: identical rating rows stay together.
    est = tiny(max_epochs=2, valid_fraction=0.3).fit(X, Y)
    assert respects_groups(est.valid_mask_, groups)


def test_groups_reach_the_split_through_a_pipeline():
    X, _, groups = panel(n_tracks=12, windows=5)
    y = np.random.default_rng(4).uniform(size=len(X))
    pipe = make_pipeline(StandardScaler(), tiny(max_epochs=2))
    pipe.fit(X, y, ffnregressor__groups=groups)
    assert respects_groups(pipe[-1].valid_mask_, groups)


def test_groups_are_routed_with_metadata_routing():
    X, _, groups = panel(n_tracks=12, windows=5)
    y = np.random.default_rng(5).uniform(size=len(X))
    with sklearn.config_context(enable_metadata_routing=True):
        ffn = tiny(max_epochs=2).set_fit_request(groups=True)
        pipe = make_pipeline(StandardScaler(), ffn)
        pipe.fit(X, y, groups=groups)
        assert respects_groups(pipe[-1].valid_mask_, groups)
        res = cross_validate(pipe, X, y, params={"groups": groups}, cv=GroupKFold(n_splits=3),
                             scoring=msbe_scorer, return_estimator=True, return_indices=True)
    for est, train in zip(res["estimator"], res["indices"]["train"]):
        assert respects_groups(est[-1].valid_mask_, groups[train])


def test_groups_are_routed_in_bayes_search():
    skopt = pytest.importorskip("skopt")
    from skopt.space import Real

    X, _, groups = panel(n_tracks=10, windows=4)
    y = np.random.default_rng(6).uniform(size=len(X))
    with sklearn.config_context(enable_metadata_routing=True):
        search = skopt.BayesSearchCV(
            tiny(max_epochs=2).set_fit_request(groups=True),
            {"lr": Real(1e-3, 1e-1, prior="log-uniform")},
            n_iter=2, cv=GroupKFold(n_splits=2), scoring=msbe_scorer, random_state=0,
        )
        search.fit(X, y, groups=groups)
    assert respects_groups(search.best_estimator_.valid_mask_, groups)


def test_same_seed_same_predictions_and_clone():
    X, Y, groups = panel(n_tracks=10, windows=4)
    a = tiny(max_epochs=5).fit(X, Y, groups=groups)
    b = clone(a).fit(X, Y, groups=groups)
    c = clone(a).set_params(random_state=1).fit(X, Y, groups=groups)
    np.testing.assert_allclose(a.predict(X), b.predict(X), atol=1e-6)
    assert np.abs(a.predict(X) - c.predict(X)).max() > 1e-3
    assert "net_" not in clone(a).__dict__ and clone(a).get_params() == a.get_params()


def test_predictions_clipped_and_batching_invariant():
    X, Y, _ = panel(n_tracks=10, windows=4)
    est = tiny(max_epochs=3).fit(X, Y)
    pred = est.predict(X)
    assert pred.shape == (len(X),) and pred.dtype == np.float64
    assert pred.min() >= 0 and pred.max() <= 1
    # Other batch sizes take other BLAS kernels: equal up to float32 rounding.
    np.testing.assert_allclose(est.set_params(predict_batch_size=3).predict(X), pred, atol=1e-5)


def test_folded_inference_matches_eager_eval_net():
    import torch

    X, Y, _ = panel(n_tracks=10, windows=4)
    est = tiny(hidden_sizes=(16, 8), max_epochs=3, clip=False).fit(X, Y)
    with torch.no_grad():
        eager = est.net_.module_.eval()(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(est.predict(X), eager, atol=1e-4)


def test_input_is_not_mutated_and_logs_instead_of_printing(capsys, caplog):
    X, Y, groups = panel(n_tracks=6, windows=4)
    X0, Y0 = X.copy(), Y.copy()
    with caplog.at_level(logging.INFO, logger="sk_reseq"):
        tiny(max_epochs=2, verbose=1).fit(X, Y, groups=groups)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)
    assert capsys.readouterr().out == ""
    assert any("train_loss" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "X, y, error, match",
    [
        (np.full((4, 3), np.nan), np.full(4, 0.5), ValueError, "NaN"),
        (np.zeros((4, 3, 2)), np.full(4, 0.5), ValueError, "dim"),
        (np.zeros((4, 3)), np.array([0.1, 0.2, 0.3, 1.5]), ValueError, r"outside \[0, 1\]"),
        (np.zeros((4, 3)), np.array(["a", "b", "c", "d"]), TypeError, "numeric"),
        (np.zeros((4, 3)), np.full(3, 0.5), ValueError, "rows but X has 4"),
        (np.zeros((1, 3)), np.full(1, 0.5), ValueError, "1 sample"),
    ],
)
def test_bad_input(X, y, error, match):
    with pytest.raises(error, match=match):
        tiny(max_epochs=1).fit(X, y)


def test_bad_groups_and_device():
    X, Y, _ = panel(n_tracks=4, windows=2)
    with pytest.raises(ValueError, match="groups must be 1-D"):
        tiny().fit(X, Y, groups=[0, 1])
    with pytest.raises(ValueError, match="device"):
        tiny(device="nonsense").fit(X, Y)


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda():
    X, Y, _ = panel(n_tracks=6, windows=4)
    est = tiny(max_epochs=2, device="cuda").fit(X, Y)
    assert est.predict(X).shape == (len(X),)


def test_cuda_unavailable_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present; the error path needs a machine without one")
    X, Y, _ = panel(n_tracks=4, windows=2)
    with pytest.raises(ValueError, match="no CUDA GPU"):
        tiny(device="cuda").fit(X, Y)


def test_feature_pipeline_beats_baseline_on_a_simulated_panel():
    """The paper's first model on the simulated listening test: FFN < baseline MSBE."""
    pytest.importorskip("essentia")
    from sk_reseq.datasets import make_listening_test
    from sk_reseq.features import FeatureSummarizer
    from sk_reseq.preprocessing import WindowSampler

    data = make_listening_test(60, 9, duration=3.0, random_state=0)
    X, Y, groups = WindowSampler(n_windows=6, random_state=0).fit_resample(data.audio, data.ratings)
    features = FeatureSummarizer().fit_transform(X)  # once: it has no fitted state
    scores = {}
    for name, est in [("mean", MeanRatingRegressor()),
                      ("ffn", make_pipeline(StandardScaler(), FFNRegressor(
                          hidden_sizes=(64, 32), max_epochs=40, random_state=0)))]:
        res = cross_validate(est, features, Y, groups=groups, cv=GroupKFold(5), scoring=msbe_scorer)
        scores[name] = -res["test_score"].mean()
    assert scores["ffn"] < 0.9 * scores["mean"], scores
