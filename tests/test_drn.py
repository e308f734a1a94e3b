import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.utils import estimator_checks

from sk_reseq._validation import AudioValueError
from sk_reseq.metrics import msbe_scorer
from sk_reseq.models import (
    CPU_DRN_PARAMS,
    DRNRegressor,
    FFNRegressor,
    MeanRatingRegressor,
    _inference,
    dilation_schedule,
    gabor_filterbank,
    receptive_field,
)
from sk_reseq.persistence import load_model, save_model


def tiny(**params):
    defaults = dict(n_blocks=3, block_sizes=(8, 8, 8), pool_size=64, final_size=4, n_samples=256,
                    max_epochs=15, batch_size=16, lr=1e-2, random_state=0)
    return DRNRegressor(**{**defaults, **params})


def tiny_filterbank(**params):
    """The CPU configuration, shrunk: 24 bands of 100 Hz-3 kHz at 8 kHz, 1024-sample windows."""
    defaults = dict(CPU_DRN_PARAMS, n_filters=24, filter_length=256, hop_length=64, sr=8000,
                    fmin=100.0, fmax=3000.0, n_blocks=3, block_sizes=(8, 8, 8), pool_size=4,
                    final_size=8, n_samples=1024, max_epochs=20, random_state=0)
    return DRNRegressor(**{**defaults, **params})


def tone_panel(n_tracks=32, windows=2, n_samples=1024, sr=8000, seed=0):
    """Noise of random level plus a tone of random frequency; the rating is the tone's level.

    The window's total level says little (the noise level is random), so the
    model has to find a narrow peak anywhere in the spectrum.
    """
    rng = np.random.default_rng(seed)
    level = rng.uniform(0.0, 1.0, n_tracks)
    groups = np.repeat(np.arange(n_tracks), windows)
    n = groups.size
    t = np.arange(n_samples) / sr
    freq, phase = rng.uniform(200, 2500, (n, 1)), rng.uniform(0, 2 * np.pi, (n, 1))
    tone = 0.2 * level[groups, None] * np.sin(2 * np.pi * freq * t + phase)
    noise = rng.uniform(0.05, 0.3, (n, 1, 1)) * rng.standard_normal((n, 2, n_samples))
    return (tone[:, None, :] + noise).astype(np.float32), level[groups], groups


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


# --- the filterbank DRN (CPU configuration) -------------------------------------

def test_defaults_stay_the_paper_network():
    est = DRNRegressor()
    assert est.frontend == "pcm"
    assert (est.n_blocks, tuple(est.block_sizes), est.pool_size, est.final_size) == (
        10, (100, 100, 300), 300, 10)
    with pytest.raises(TypeError):
        CPU_DRN_PARAMS["n_blocks"] = 3  # read-only: one shared configuration
    DRNRegressor(**CPU_DRN_PARAMS)._validate_params()


def test_gabor_filterbank_bands_pick_their_frequency_and_tile_the_spectrum():
    weights, centres = gabor_filterbank(32, 1024, sr=8000, fmin=100, fmax=3200)
    assert weights.shape == (64, 1024) and weights.dtype == np.float32
    np.testing.assert_allclose(centres[[0, -1]], [100, 3200])
    np.testing.assert_allclose(np.diff(np.log(centres)), np.log(32) / 31)  # log-spaced
    t = np.arange(1024) / 8000

    def band_power(freq, phase=0.3):
        return ((weights @ np.cos(2 * np.pi * freq * t + phase)) ** 2).reshape(32, 2).sum(1)

    for k in (3, 15, 28):
        power = band_power(centres[k])
        assert power.argmax() == k
        assert power[k] == pytest.approx(0.25, rel=0.02)  # unit gain at the centre
    total = [band_power(f).sum() for f in np.geomspace(130, 3000, 50)]
    assert 10 * np.log10(max(total) / min(total)) < 1.0  # no gaps between bands (< 1 dB)


@pytest.mark.parametrize("kwargs, match", [
    (dict(fmax=4000.0), "fmax"), (dict(fmin=3000.0, fmax=1000.0), "fmin"),
    (dict(filter_length=2048), "filter_length"),
])
def test_filterbank_bad_parameters(kwargs, match):
    X, y, _ = tone_panel(n_tracks=4, windows=1)
    with pytest.raises(ValueError, match=match):
        tiny_filterbank(**kwargs).fit(X, y)


def test_filterbank_drn_finds_a_tone_anywhere_in_the_spectrum():
    X, y, groups = tone_panel(n_tracks=64, windows=2)
    cv = GroupKFold(n_splits=3)

    def cv_msbe(est):
        return -cross_validate(est, X, y, groups=groups, cv=cv,
                               scoring=msbe_scorer)["test_score"].mean()

    drn, mean = cv_msbe(tiny_filterbank()), cv_msbe(MeanRatingRegressor())
    assert drn < 0.5 * mean, (drn, mean)


def test_filterbank_architecture_and_folded_inference():
    X, y, _ = tone_panel(n_tracks=6, windows=2)
    est = tiny_filterbank(max_epochs=2, clip=False, mid_side=True).fit(X, y)
    module = est.net_.module_.eval()
    assert est.center_frequencies_.shape == (24,)
    assert est.receptive_field_ == 15  # bands: dilations 1, 2, 4
    with torch.no_grad():
        spectrum = module.frontend(torch.from_numpy(X))
        assert spectrum.shape == (len(X), 2, 24)  # mid and side, one value per band
        assert module.blocks(module.norm(spectrum)).shape == (len(X), 8, 24)
        eager = module(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(est.predict(X), eager, atol=1e-4)
    folded = est._inference_module()[0]
    convs = [m for m in folded.modules() if isinstance(m, torch.nn.Conv1d)]
    assert len(convs) == est.n_blocks  # 1x1 paths folded; the frontend is a functional conv
    # The fixed filterbank is rebuilt from the parameters, not stored.
    assert not any(k.startswith("frontend") for k in module.state_dict())


def test_trainable_frontend_learns_its_kernels():
    X, y, _ = tone_panel(n_tracks=6, windows=2)
    est = tiny_filterbank(max_epochs=2, train_frontend=True, early_stopping_patience=None)
    est.fit(X, y)
    learnt = est.net_.module_.state_dict()["frontend.weight"][:, 0].numpy()
    initial, _ = gabor_filterbank(24, 256, sr=8000, fmin=100, fmax=3000)
    assert learnt.shape == initial.shape and not np.allclose(learnt, initial)


def test_filterbank_drn_saves_and_loads(tmp_path):
    X, y, _ = tone_panel(n_tracks=6, windows=2)
    est = tiny_filterbank(max_epochs=2).fit(X, y)
    loaded = load_model(save_model(est, tmp_path / "fb.skops"))
    np.testing.assert_allclose(loaded.predict(X), est.predict(X), atol=1e-6)
    np.testing.assert_allclose(loaded.center_frequencies_, est.center_frequencies_)


def test_filterbank_sklearn_api_checks():
    for name in API_CHECKS:
        getattr(estimator_checks, name)("DRNRegressor", tiny_filterbank())


def test_make_model_drn_is_the_cpu_network_unless_a_gpu_is_asked_for():
    from sk_reseq.training import make_model

    cpu = make_model("drn")[-1]
    assert {k: cpu.get_params()[k] for k in CPU_DRN_PARAMS} == dict(CPU_DRN_PARAMS)
    gpu = make_model("drn", device="cuda")[-1]  # not fitted: no GPU needed to build it
    assert gpu.frontend == "pcm" and gpu.n_blocks == 10 and gpu.device == "cuda"
    assert make_model("drn", max_epochs=2)[-1].max_epochs == 2  # net_params win
    paper = make_model("drn", architecture="paper")[-1]
    assert paper.frontend == "pcm" and paper.n_blocks == 10 and paper.device == "cpu"
    assert make_model("drn", architecture="cpu", device="cuda")[-1].frontend == "filterbank"
    with pytest.raises(ValueError, match="architecture must be 'cpu' or 'paper', got 'gpu'"):
        make_model("drn", architecture="gpu")


def test_train_model_drn_reads_windows_of_the_requested_length():
    from sk_reseq.training import train_model

    small = dict(n_filters=16, filter_length=512, hop_length=256, n_blocks=2, pool_size=4,
                 max_epochs=1)
    model = train_model(model="drn", n_tracks=4, duration=1.0, n_raters=3, n_windows=2,
                        window=0.75, net_params=small)
    assert model[-1].n_samples == round(0.75 * 22050)
    assert model.predict(np.zeros((1, 2, round(0.75 * 22050)), np.float32)).shape == (1,)
