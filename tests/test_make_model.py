"""The one model builder, sk_reseq.training.make_model: steps, inputs and bad arguments."""

import numpy as np
import pytest

from sk_reseq.training import make_model


def test_baseline_and_precomputed_ffn_share_the_builders_step_names():
    rng = np.random.default_rng(0)
    F, y = rng.standard_normal((40, 5)), rng.uniform(size=40)
    baseline = make_model("baseline").fit(F, y)
    assert [name for name, _ in baseline.steps] == ["meanratingregressor"]
    np.testing.assert_allclose(baseline.predict(F[:3]), y.mean())
    ffn = make_model("ffn", "precomputed", hidden_sizes=(4,), max_epochs=2, random_state=0)
    assert [name for name, _ in ffn.steps] == ["standardscaler", "ffnregressor"]
    # The precomputed FFN is the essentia FFN without its feature step.
    full = make_model("ffn", "essentia", hidden_sizes=(4,), max_epochs=2, random_state=0)
    assert ffn.get_params()["ffnregressor"].get_params() == full[-1].get_params()
    assert ffn.fit(F, y).predict(F).shape == (40,)


@pytest.mark.parametrize("args, kwargs, match", [
    (("baseline", "essentia"), {}, "features applies to the FFN only"),
    (("baseline",), {"max_epochs": 3}, r"network parameters \['max_epochs'\] apply to"),
    (("ffn",), {"architecture": "cpu"}, "architecture applies to the DRN only"),
    (("ffn", "mfcc"), {}, "features must be 'essentia', 'resonances' or 'precomputed'"),
    (("svm",), {}, "model must be 'ffn', 'drn', 'resonance' or 'baseline', got 'svm'"),
])
def test_bad_arguments_are_named(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_model(*args, **kwargs)


def test_train_model_trains_the_baseline_and_refuses_precomputed_features():
    from sk_reseq.training import train_model

    model = train_model(model="baseline", n_tracks=4, n_raters=3, duration=1.0, n_windows=2)
    assert model.predict(np.zeros((2, 2, 11025), dtype=np.float32)).shape == (2,)
    assert model.training_info_["model"] == "baseline"
    with pytest.raises(ValueError, match="features='precomputed' is for make_model only"):
        train_model(model="ffn", features="precomputed", n_tracks=4, duration=1.0)
