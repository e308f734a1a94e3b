"""The resonance model family: panels with variants, training, persistence, the auto equalizer."""

import numpy as np
import pytest

from sk_reseq.datasets import make_listening_test
from sk_reseq.equalizer import AutoEqualizer
from sk_reseq.persistence import load_model, save_model
from sk_reseq.training import train_model

SR = 22050


def test_panel_variants_share_music_and_groups():
    panel = make_listening_test(n_tracks=3, n_raters=4, variants=3, duration=1.0,
                                return_clean=True, random_state=0)
    assert len(panel.audio) == 9 and panel.ratings.shape == (9, 4)
    np.testing.assert_array_equal(panel.groups, np.repeat([0, 1, 2], 3))
    assert panel.track_names[:2] == ["track000-v0", "track000-v1"]
    assert set(panel.resonances.track) <= set(panel.track_names)
    # Variants of one excerpt: the same clean music up to each variant's scaling.
    a, b = panel.clean[0], panel.clean[1]
    scale = np.dot(a.ravel(), b.ravel()) / np.dot(b.ravel(), b.ravel())
    np.testing.assert_allclose(a, scale * b, atol=1e-5)
    assert not np.allclose(panel.clean[0], panel.clean[3] * 1.0, atol=1e-3)
    np.testing.assert_array_equal(panel.n_resonances,
                                  panel.resonances.groupby("track").size()
                                  .reindex(panel.track_names, fill_value=0).to_numpy())


@pytest.fixture(scope="module")
def tiny_resonance_model():
    return train_model("simulated", model="resonance", n_tracks=6, variants=2, duration=2.0,
                       n_windows=2, window=1.0, target="oracle", random_state=0)


def test_train_resonance_model(tiny_resonance_model, tmp_path):
    model = tiny_resonance_model
    assert model.window_ == 1.0 and model.training_info_["target"] == "oracle"
    assert model[0].prefit  # the band model learnt the clean excerpts only
    windows = np.random.default_rng(0).uniform(-0.1, 0.1, (4, 2, SR)).astype(np.float32)
    pred = model.predict(windows)
    assert pred.shape == (4,) and np.all((pred >= 0) & (pred <= 1))
    # It saves and loads as trusted types only (no torch, no Essentia).
    loaded = load_model(save_model(model, tmp_path / "m.skops"))
    np.testing.assert_allclose(loaded.predict(windows), pred, atol=1e-9)
    assert loaded.window_ == 1.0


def test_auto_equalizer_reads_the_models_window(tiny_resonance_model):
    auto = AutoEqualizer(tiny_resonance_model, sr=SR).fit()
    assert auto.window_ == 1.0
    assert AutoEqualizer(tiny_resonance_model, sr=SR, window=2.0).fit().window_ == 2.0
    x = np.random.default_rng(1).uniform(-0.1, 0.1, (2, 3 * SR)).astype(np.float32)
    curve = auto.predict_factors(x)
    assert np.all(np.isnan(curve.raw[curve.times < 1.0]))  # no full window yet
    assert np.all(np.isfinite(curve.raw[curve.times >= 1.0]))


def test_oracle_target_and_resonance_model_need_a_simulated_panel(tmp_path):
    with pytest.raises(ValueError, match="target must be"):
        train_model("simulated", target="median")
    with pytest.raises(ValueError, match="needs a simulated panel"):
        train_model(str(tmp_path), target="oracle")
    with pytest.raises(ValueError, match="model='resonance'"):
        train_model(str(tmp_path), model="resonance")
