import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.utils import estimator_checks

from sk_reseq._validation import AudioValueError
from sk_reseq.metrics import msbe_scorer
from sk_reseq.models import (
    DRNRegressor,
    FFNRegressor,
    MeanRatingRegressor,
    _inference,
    dilation_schedule,
    receptive_field,
)


def tiny(**params):
    defaults = dict(n_blocks=3, block_sizes=(8, 8, 8), pool_size=64, final_size=4, n_samples=256,
                    max_epochs=15, batch_size=16, lr=1e-2, random_state=0)
    return DRNRegressor(**{**defaults, **params})


def loud_panel(n_tracks=24, windows=4, n_samples=256, n_raters=5, seed=0):
    """Stereo noise windows whose rated factor is the track's amplitude."""
    rng = np.random.default_rng(seed)
    amp = rng.uniform(0.05, 0.95, n_tracks)
    ratings = np.clip(amp[:, None] + rng.normal(0, 0.03, (n_tracks, n_raters)), 0, 1)
    ratings[rng.uniform(size=ratings.shape) < 0.2] = np.nan
    ratings[:, 0] = amp
    groups = np.repeat(np.arange(n_tracks), windows)
    X = amp[groups, None, None] * rng.standard_normal((groups.size, 2, n_samples))
    return X.astype(np.float32), ratings[groups], groups


# --- scikit-learn API checks ------------------------------------------------
# sklearn's common checks feed 2-D tables; the DRN takes 3-D audio windows, so
# (with its honest input tags) sklearn yields none of the data checks for it.
# The checks that need no data run below; every other check sklearn runs on a
# 2-D regressor (see the FFN) is listed here with the reason it cannot apply.
API_CHECKS = [
    "check_estimator_cloneable", "check_estimator_repr", "check_no_attributes_set_in_init",
    "check_parameters_default_constructible", "check_get_params_invariance", "check_set_params",
    "check_do_not_raise_errors_in_init_or_set_params", "check_estimator_tags_renamed",
    "check_valid_tag_types", "check_mixin_order", "check_estimators_unfitted",
]
_NEEDS_2D = ("feeds a 2-D (n_samples, n_features) table; "
             "DRNRegressor takes (n, 2, n_samples) windows")
NOT_APPLICABLE = {name: _NEEDS_2D for name in [
    "check_complex_data", "check_dict_unchanged", "check_dont_overwrite_parameters",
    "check_dtype_object", "check_estimator_sparse_array", "check_estimator_sparse_matrix",
    "check_estimator_sparse_tag", "check_estimators_dtypes",
    "check_estimators_empty_data_messages", "check_estimators_fit_returns_self",
    "check_estimators_nan_inf", "check_estimators_overwrite_params",
    "check_estimators_partial_fit_n_features", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_fit1d", "check_fit2d_1feature",
    "check_fit2d_1sample", "check_fit2d_predict1d", "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_fit_score_takes_y", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_n_features_in", "check_n_features_in_after_fitting",
    "check_non_transformer_estimators_n_iter", "check_pipeline_consistency",
    "check_positive_only_tag_during_fit", "check_readonly_memmap_input",
    "check_regressor_data_not_an_array", "check_regressors_int",
    "check_regressors_no_decision_function",
    "check_regressors_train", "check_requires_y_none", "check_supervised_y_2d",
    "check_supervised_y_no_nan", "check_array_api_input",
]}


@estimator_checks.parametrize_with_checks(
    [tiny(max_epochs=1)], expected_failed_checks=lambda estimator: NOT_APPLICABLE)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check_name", API_CHECKS)
def test_sklearn_api_checks(check_name):
    # For 3-D input tags parametrize_with_checks yields only the clone check;
    # the other checks that need no 2-D table run here by name.
    getattr(estimator_checks, check_name)("DRNRegressor", tiny())


def test_every_common_check_is_run_or_explained():
    # The checks sklearn runs on a 2-D regressor (the FFN): each is run on the
    # DRN above or explained in NOT_APPLICABLE, so none is skipped silently.
    from sklearn.utils.estimator_checks import _yield_all_checks

    names = {getattr(c, "func", c).__name__ for c in _yield_all_checks(FFNRegressor(), legacy=True)}
    unexplained = names - set(API_CHECKS) - set(NOT_APPLICABLE)
    assert not unexplained, sorted(unexplained)
    assert set(API_CHECKS).isdisjoint(NOT_APPLICABLE)


# --- architecture -------------------------------------------------------------

def test_real_shape_tiny_net_keeps_the_temporal_length():
    X, Y, _ = loud_panel(n_tracks=4, windows=2, n_samples=11025)
    est = tiny(n_blocks=2, block_sizes=(4, 4, 4), pool_size=1000, n_samples=11025, max_epochs=1)
    est.fit(X, Y)
    module = est.net_.module_.eval()
    x = torch.from_numpy(X[:2])
    with torch.no_grad():
        h = module.blocks(x)
        assert h.shape == (2, 4, 11025)  # residual blocks keep the length
        assert module.pool(h).shape == (2, 4, 12)  # ceil(11025 / 1000) frames
    assert est.predict(X).shape == (len(X),)


def test_dilation_schedule_and_receptive_field():
    est = tiny(n_blocks=5, dilation_cycle=3, kernel_size=5, max_epochs=1)
    X, Y, _ = loud_panel(n_tracks=4, windows=2)
    est.fit(X, Y)
    assert est.dilations_ == dilation_schedule(5, cycle=3) == (1, 2, 4, 1, 2)
    assert [b.conv.dilation[0] for b in est.net_.module_.blocks] == [1, 2, 4, 1, 2]
    assert est.receptive_field_ == receptive_field(5, est.dilations_) == 1 + 4 * 10
    assert est.block_sizes_ == (8, 8, 8, 8, 8)
    assert receptive_field(3, dilation_schedule(10)) == 2047  # paper configuration


def test_receptive_field_is_the_input_support_of_one_output_sample():
    torch.manual_seed(0)
    est = tiny(n_blocks=3, kernel_size=3)
    est._resolve_architecture()
    blocks = est._build_module().blocks.eval()
    x = torch.randn(1, 2, 256, requires_grad=True)
    blocks(x)[0, :, 128].sum().backward()
    support = np.flatnonzero(x.grad.abs().sum(dim=1)[0].numpy())
    assert support.max() - support.min() + 1 == est.receptive_field_ == 15
    assert support.min() == 128 - 7  # 'same' padding centres the field


def test_tier_aliases_override_block_sizes():
    est = tiny(n_blocks=4, block_sizes=(8, 8, 8), block_size_high=3, max_epochs=1)
    X, Y, _ = loud_panel(n_tracks=4, windows=2)
    assert est.fit(X, Y).block_sizes_ == (8, 8, 8, 3)


# --- learning -----------------------------------------------------------------

def test_beats_mean_baseline_on_amplitude_target():
    X, Y, groups = loud_panel()
    cv = GroupKFold(n_splits=3)
    drn = -cross_validate(tiny(), X, Y, groups=groups, cv=cv,
                          scoring=msbe_scorer)["test_score"].mean()
    mean = -cross_validate(MeanRatingRegressor(), X, Y, groups=groups, cv=cv,
                           scoring=msbe_scorer)["test_score"].mean()
    assert drn < 0.5 * mean, (drn, mean)


def test_validation_split_keeps_tracks_whole_and_seed_reproduces():
    X, Y, groups = loud_panel(n_tracks=10, windows=3)
    a = tiny(max_epochs=2).fit(X, Y, groups=groups)
    for g in np.unique(groups):
        assert len(set(a.valid_mask_[groups == g])) == 1
    b = clone(a).fit(X, Y, groups=groups)
    np.testing.assert_allclose(a.predict(X), b.predict(X), atol=1e-6)


# --- inference ----------------------------------------------------------------

def test_folded_inference_equals_eager_eval_net():
    X, Y, _ = loud_panel(n_tracks=6, windows=2)
    est = tiny(max_epochs=2, clip=False, kernel_size=5).fit(X, Y)
    with torch.no_grad():
        eager = est.net_.module_.eval()(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(est.predict(X), eager, atol=1e-4)
    folded = est._inference_module()[0]
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in folded.modules())
    n_convs = sum(isinstance(m, torch.nn.Conv1d) for m in folded.modules())
    assert n_convs == est.n_blocks  # the 1x1 paths are folded into the centre taps


def test_batched_prediction_is_invariant():
    X, Y, _ = loud_panel(n_tracks=6, windows=2)
    est = tiny(max_epochs=1, predict_batch_size=5).fit(X, Y)
    # Other batch sizes take other kernels: equal up to float32 rounding.
    np.testing.assert_allclose(est.predict(X), est.set_params(predict_batch_size=1).predict(X),
                               atol=1e-5)


def test_bfloat16_close_to_float32():
    if not _inference._bf16_supported(torch.device("cpu")):
        pytest.skip("this CPU has no native bfloat16 (see the fallback test)")
    X, Y, _ = loud_panel(n_tracks=6, windows=2)
    est = tiny(max_epochs=2, clip=False).fit(X, Y)
    f32 = est.predict(X)
    bf16 = est.set_params(inference_dtype="bfloat16").predict(X)
    assert est._inference_module()[1] == torch.bfloat16
    np.testing.assert_allclose(bf16, f32, atol=0.01)


def test_bfloat16_falls_back_with_a_warning(monkeypatch):
    X, Y, _ = loud_panel(n_tracks=4, windows=2)
    est = tiny(max_epochs=1).fit(X, Y)
    f32 = est.predict(X)
    monkeypatch.setattr(_inference, "_bf16_supported", lambda device: False)
    with pytest.warns(RuntimeWarning, match="bfloat16"):
        np.testing.assert_array_equal(est.set_params(inference_dtype="bfloat16").predict(X), f32)


def test_integer_pcm_is_scaled():
    X, Y, _ = loud_panel(n_tracks=4, windows=2)
    est = tiny(max_epochs=1, clip=False).fit(X, Y)
    pcm = np.round(np.clip(X, -1, 1 - 2**-15) * 32768).astype(np.int16)
    np.testing.assert_allclose(est.predict(pcm), est.predict(pcm / 32768.0), atol=1e-5)


# --- bad input ------------------------------------------------------------------

@pytest.mark.parametrize(
    "shape, match",
    [
        ((4, 1, 256), r"stereo.*np\.repeat"),
        ((4, 3, 256), "stereo"),
        ((4, 2, 200), r"expects \(n_windows, 2, 256\).*WindowSampler"),
        ((4, 512), "dimension"),
    ],
)
def test_bad_window_shape(shape, match):
    with pytest.raises(AudioValueError, match=match):
        tiny().fit(np.zeros(shape, np.float32), np.full(4, 0.5))


def test_default_length_error_names_the_paper_shape():
    with pytest.raises(AudioValueError, match=r"\(n_windows, 2, 11025\).*0\.5 s at sr=22050"):
        DRNRegressor().fit(np.zeros((2, 2, 22050), np.float32), [0.5, 0.5])


def test_nan_and_bad_ratings():
    X, Y, _ = loud_panel(n_tracks=4, windows=2)
    X_nan = X.copy()
    X_nan[0, 0, 0] = np.nan
    with pytest.raises(AudioValueError, match="NaN"):
        tiny().fit(X_nan, Y)
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        tiny().fit(X, Y * 2)
    X_fit = tiny(max_epochs=1).fit(X, Y)
    with pytest.raises(AudioValueError, match="stereo"):
        X_fit.predict(X[:, :1])


def test_odd_kernel_required():
    X, Y, _ = loud_panel(n_tracks=4, windows=2)
    with pytest.raises(ValueError, match="odd"):
        tiny(kernel_size=4).fit(X, Y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda():
    X, Y, _ = loud_panel(n_tracks=4, windows=2)
    est = tiny(max_epochs=1, device="cuda").fit(X, Y)
    assert est.predict(X).shape == (len(X),)
