"""``sk-reseq train`` and ``sk-reseq auto``: reproducible models, valid outputs, bad models."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sklearn.base import BaseEstimator, RegressorMixin

from conftest import pink_noise
from sk_reseq.audio import audio_info, load_audio
from sk_reseq.cli import main
from sk_reseq.cli.demo import half_resonant_track
from sk_reseq.persistence import default_model_path, load_default_model, load_model, save_model

TINY = ["--n-tracks", "6", "--duration", "1.5", "--n-windows", "4", "--epochs", "3",
        "--features", "resonances", "-q"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "tiny.skops"
    assert main(["train", "--preset", "small", "--out", str(path), *TINY]) == 0
    return path


@pytest.fixture
def track(tmp_path):
    path = tmp_path / "track.wav"
    sf.write(path, (0.1 * pink_noise(22050 * 3, 2, seed=3)).T, 22050, subtype="PCM_16")
    return path


def test_train_is_reproducible(tiny_model, tmp_path):
    again = tmp_path / "again.skops"
    assert main(["train", "--preset", "small", "--out", str(again), *TINY]) == 0
    windows = np.random.default_rng(0).uniform(-0.3, 0.3, (8, 2, 11025)).astype(np.float32)
    a = load_model(tiny_model).predict(windows)
    b = load_model(again).predict(windows)
    np.testing.assert_allclose(a, b, atol=1e-6)
    # The seed matters: another seed trains another model (so equality above is not vacuous).
    other = tmp_path / "other.skops"
    assert main(["train", "--preset", "small", "--out", str(other), *TINY, "--seed", "1"]) == 0
    assert np.abs(load_model(other).predict(windows) - a).max() > 1e-3


def test_auto_writes_valid_output_of_same_length(tiny_model, track, tmp_path, capsys):
    out, report = tmp_path / "out.flac", tmp_path / "report.png"
    assert main(["auto", str(track), str(out), "--model", str(tiny_model),
                 "--report", str(report)]) == 0
    info_in, info_out = audio_info(track), audio_info(out)
    assert info_out.frames == info_in.frames and info_out.samplerate == info_in.samplerate
    y, _ = load_audio(out)
    assert np.all(np.isfinite(y)) and np.max(np.abs(y)) > 0
    assert report.stat().st_size > 10_000
    assert "factor mean" in capsys.readouterr().out


def test_corrupt_model_file_is_refused(track, tmp_path, capsys):
    bad = tmp_path / "bad.skops"
    bad.write_bytes(b"PK\x03\x04 definitely not a model")
    out = tmp_path / "out.wav"
    assert main(["auto", str(track), str(out), "--model", str(bad)]) == 2
    assert "not a valid sk_reseq model file" in capsys.readouterr().err
    assert not out.exists()


class HalfPredictor(BaseEstimator, RegressorMixin):
    """A model type from outside sk_reseq: untrusted by default."""

    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.full(len(X), 0.5)


def test_untrusted_model_is_refused_unless_trusted(track, tmp_path, capsys):
    path = save_model(HalfPredictor().fit(None, None), tmp_path / "custom.skops")
    out = tmp_path / "out.wav"
    assert main(["auto", str(track), str(out), "--model", str(path)]) == 2
    err = capsys.readouterr().err
    assert "not trusted" in err and "HalfPredictor" in err
    assert not out.exists()
    type_name = f"{HalfPredictor.__module__}.HalfPredictor"
    assert main(["auto", str(track), str(out), "--model", str(path), "--trust", type_name,
                 "-q"]) == 0
    assert out.exists()


def test_bad_training_arguments(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "nowhere"), "--out",
                 str(tmp_path / "m.skops"), "-q"]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "m.skops"), "-q"]) == 2
    assert "No audio files" in capsys.readouterr().err
    sf.write(tmp_path / "a.wav", np.zeros((22050, 2), dtype=np.float32), 22050)
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "m.skops"), "-q"]) == 2
    assert "ratings" in capsys.readouterr().err
    assert not (tmp_path / "m.skops").exists()
    # A rated folder learns ratings: the default preset's oracle target is for simulated panels.
    assert main(["train", "--data", str(tmp_path), "--preset", "default", "--out",
                 str(tmp_path / "m.skops"), "-q"]) == 2
    assert "needs a simulated panel" in capsys.readouterr().err


def test_default_model_ships_small_and_loads():
    path = default_model_path()
    if not path.is_file():
        pytest.skip("default model not built in this checkout")
    assert path.stat().st_size <= 5 * 1024 * 1024
    model = load_default_model()
    assert model.training_info_["model"] == "resonance" and model.window_ == 5.0
    windows = np.zeros((2, 2, int(model.window_ * 22050)), dtype=np.float32)
    assert model.predict(windows).shape == (2,)


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_default_model_raises_the_factor_on_resonances(seed):
    if not default_model_path().is_file():
        pytest.skip("default model not built in this checkout")
    from sk_reseq.equalizer import AutoEqualizer

    track = half_resonant_track(24.0, seed=seed)
    middle = track.shape[1] // 2 / 44100
    auto = AutoEqualizer().fit()
    curve = auto.predict_factors(track)
    # Compare where the model's window lies wholly in each half.
    first = curve.factors[(curve.times >= auto.window_) & (curve.times <= middle)].mean()
    second = curve.factors[curve.times >= middle + auto.window_].mean()
    assert second >= first + 0.2, (first, second)


@pytest.mark.slow
def test_default_model_is_rebuilt_by_sk_reseq_train(tmp_path, monkeypatch):
    """``sk-reseq train --preset default`` gives the shipped model's predictions (1e-4)."""
    if not default_model_path().is_file():
        pytest.skip("default model not built in this checkout")
    from sk_reseq.training import DEFAULT_SOURCE

    root = Path(__file__).resolve().parents[1]
    if not all((root / s).is_dir() for s in DEFAULT_SOURCE):
        pytest.skip(f"the default model's music {DEFAULT_SOURCE} is not beside this checkout")
    monkeypatch.chdir(root)  # the preset names its music relative to the project root
    path = tmp_path / "default.skops"
    assert main(["train", "--preset", "default", "--out", str(path), "-q"]) == 0
    windows = np.stack([half_resonant_track(5.0, sr=22050, seed=s) for s in range(4)])
    # Trained on another CPU, the shipped model differs in the last bits only: 1e-4.
    np.testing.assert_allclose(load_model(path).predict(windows),
                               load_default_model().predict(windows), atol=1e-4)
