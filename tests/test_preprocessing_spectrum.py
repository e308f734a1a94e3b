"""ELCSpectrum and ResonanceDetector: sklearn conformance and agreement with the equalizer."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_reseq.equalizer import ResonanceEqualizer
from sk_reseq.preprocessing import ELCSpectrum, ResonanceDetector
from sk_reseq.utils.estimator_checks import parametrize_with_audio_checks


@parametrize_with_checks([ELCSpectrum(), ResonanceDetector()])
def test_sklearn_compatible(estimator, check):
    # For ELCSpectrum (3-D audio input) scikit-learn runs only the clone check
    # and warns that it cannot feed 3-D data; the audio checks below cover it.
    check(estimator)


@parametrize_with_audio_checks([ELCSpectrum(), ResonanceEqualizer(sr=22050)])
def test_audio_estimator_checks(estimator, check):
    check(estimator)


def test_elc_spectrum_equals_equalizer_analysis(rng):
    sr = 22050
    x = (0.1 * rng.standard_normal((2, sr * 2))).astype(np.float32)
    eq = ResonanceEqualizer(sr=sr, averaging=0.5).fit()
    _, analysis = eq.equalize(x, return_analysis=True)
    n_fft, hop = eq.n_fft_, eq.hop_length_
    k = eq.framing_.averaging_frames  # the frames the detector averages, every one
    j = 60  # an analysis frame late enough that its averaging span lies inside the track
    assert j % eq.update_interval == 0
    start = (j - (k - 1)) * hop - (n_fft - hop)
    stop = j * hop - (n_fft - hop) + n_fft
    window = x[None, :, start:stop]
    spec = ELCSpectrum(sr=sr, n_fft=n_fft, hop_length=hop).fit(window)
    np.testing.assert_allclose(spec.transform(window)[0], analysis.levels[j], atol=1e-3)
    det = ResonanceDetector(band_range=(20.0, sr / 2)).fit(spec.transform(window))
    np.testing.assert_allclose(det.transform(spec.transform(window))[0],
                               analysis.resonances[j], atol=2e-3)


def test_pipeline_predicts_resonance_strength(rng):
    # Cheap model on windows: target = strength of an injected tone's peak.
    sr, n = 22050, 4096
    t = np.arange(n) / sr
    strengths = rng.uniform(0, 1, 60)
    X = 0.05 * rng.standard_normal((60, 2, n))
    X += (strengths * 0.2)[:, None, None] * np.sin(2 * np.pi * 1500 * t)
    groups = np.arange(60) // 3
    model = make_pipeline(ELCSpectrum(), ResonanceDetector(), Ridge(alpha=10.0))
    scores = cross_val_score(model, X.astype(np.float32), strengths, groups=groups,
                             cv=GroupKFold(5), scoring="r2")
    assert scores.mean() > 0.5


def test_feature_names():
    X = np.zeros((1, 1, 2048), dtype=np.float32)
    names = ELCSpectrum().fit(X).get_feature_names_out()
    assert len(set(names)) == 400 and names[0].startswith("elc_")
    det = ResonanceDetector().fit(np.zeros((2, 400)))
    assert det.get_feature_names_out(names)[0] == names[0].replace("elc_", "resonance_")


def test_bad_windows():
    with pytest.raises(ValueError, match="n_windows, channels, samples"):
        ELCSpectrum().fit(np.zeros((2, 100)))
    with pytest.raises(ValueError, match="NaN"):
        ELCSpectrum().fit(np.full((1, 2, 100), np.nan))
    with pytest.raises(ValueError, match="band_range"):
        ResonanceDetector(band_range=(100.0, 10.0)).fit(np.zeros((2, 400)))
