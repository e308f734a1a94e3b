"""evaluate_auto_equalizer and ``sk-reseq evaluate`` on generated music."""

import json

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

from sk_reseq.audio import save_audio
from sk_reseq.cli import main
from sk_reseq.datasets import make_synthetic_music
from sk_reseq.evaluation import EVALUATION_SUMMARY, evaluate_auto_equalizer
from sk_reseq.models import MeanRatingRegressor
from sk_reseq.persistence import save_model
from sk_reseq.preprocessing import ELCSpectrum, ResonanceDetector

SR = 22050


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("music")
    for i, track in enumerate(make_synthetic_music(3, 4.0, sr=SR, random_state=1)):
        save_audio(path / f"track{i}.wav", track, SR)
    return path


def constant(value=0.25):
    return MeanRatingRegressor().fit(np.zeros((2, 2, 11025)), [value, value])


class ResonanceEnergy(RegressorMixin, BaseEstimator):
    """A crude factor model: more detected resonance, higher factor."""

    def fit(self, X=None, y=None):
        self.spectrum_ = ELCSpectrum(sr=SR).fit(np.zeros((1, 2, 2048)))
        self.detector_ = ResonanceDetector().fit(np.zeros((1, 400)))
        return self

    def predict(self, X):
        res = self.detector_.transform(self.spectrum_.transform(X))
        return np.clip(np.mean(res**2, axis=1) / 20.0, 0, 1)


def test_constant_model(folder):
    result = evaluate_auto_equalizer(folder, constant(0.25), duration=3.0, min_duration=3.0)
    summary, variants = result.summary, result.variants
    assert set(summary) == set(EVALUATION_SUMMARY)
    assert len(variants) == 3 * 4 and summary["n_tracks"] == 3
    assert summary["clean_factor"] == pytest.approx(0.25) and summary["rise"] == 0
    # Clean variants' oracle is 0: factor 0 gives the clean music back.
    assert np.all(variants.oracle[variants.n_resonances == 0] == 0)
    assert summary["oracle_rise"] > 0.1
    # The same seed gives the same variants.
    again = evaluate_auto_equalizer(folder, constant(0.25), duration=3.0, min_duration=3.0).variants
    np.testing.assert_allclose(again.distance_input, variants.distance_input)


def test_a_model_that_follows_resonances_rises(folder):
    result = evaluate_auto_equalizer(folder, ResonanceEnergy().fit(), duration=3.0,
                                     min_duration=3.0)
    summary = result.summary
    assert summary["rise"] > 0.05 and summary["within_track_spearman"] > 0.5
    # Its auto output comes closer to clean than the input on most resonant variants.
    assert summary["share_closer"] >= 0.5
    assert summary["removed_oracle"] >= summary["removed_best_fixed"] - 1e-12


def test_bad_inputs(folder, tmp_path):
    with pytest.raises(ValueError, match="No audio files"):
        evaluate_auto_equalizer(tmp_path, constant())
    with pytest.raises(ValueError, match="shorter than min_duration"):
        evaluate_auto_equalizer(folder, constant(), duration=30.0, min_duration=5.0)
    with pytest.raises(ValueError, match="must be at most duration"):
        evaluate_auto_equalizer(folder, constant(), duration=3.0)
    on_features = MeanRatingRegressor().fit(np.zeros((2, 5)), [0.1, 0.2])
    with pytest.raises(ValueError, match="cannot predict factors"):
        evaluate_auto_equalizer(folder, on_features, duration=3.0, min_duration=3.0)

    class TwoOutputs(ResonanceEnergy):
        def predict(self, X):
            return np.zeros((len(X), 2))

    with pytest.raises(ValueError, match="one factor per window"):
        evaluate_auto_equalizer(folder, TwoOutputs().fit(), duration=3.0, min_duration=3.0)
    with pytest.raises(ValueError, match="n_resonances"):
        evaluate_auto_equalizer(folder, constant(), n_resonances=[-1])


def test_cli(folder, tmp_path, capsys):
    model = save_model(constant(0.5), tmp_path / "m.skops")
    out, fig = tmp_path / "e.json", tmp_path / "e.png"
    assert main(["evaluate", str(folder), "--model", str(model), "--duration", "3",
                 "--min-duration", "3",
                 "--resonances", "0", "2", "--json", str(out), "--plot", str(fig), "-q"]) == 0
    report = json.loads(out.read_text())
    assert report["summary"]["clean_factor"] == pytest.approx(0.5)
    assert len(report["variants"]) == 6 and fig.stat().st_size > 10_000
    assert "clean_factor" in capsys.readouterr().out
    assert main(["evaluate", str(tmp_path / "none"), "--model", str(model)]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["evaluate", str(folder), "--model", str(model), "-q"]) == 2
    assert "shorter than min_duration" in capsys.readouterr().err
