"""AutoEqualizer: causality, response to resonances, offline == streaming, bad input."""

import numpy as np
import pytest
from scipy.signal import sosfilt
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from conftest import pink_noise
from sk_reseq.equalizer import AutoEqualizer, ResonanceEqualizer
from sk_reseq.preprocessing import ELCSpectrum, ResonanceDetector

SR = 22050


def peaking_sos(center, q, gain_db, sr=SR):
    a = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * center / sr
    alpha = np.sin(w0) / (2 * q)
    b = np.array([1 + alpha * a, -2 * np.cos(w0), 1 - alpha * a])
    den = np.array([1 + alpha / a, -2 * np.cos(w0), 1 - alpha / a])
    return np.r_[b / den[0], den / den[0]][None, :]


def resonant(x, strength):
    """Inject three peaks of ``strength`` dB."""
    for centre in (400.0, 1200.0, 3000.0):
        x = sosfilt(peaking_sos(centre, 10, strength), x, axis=-1)
    return x


@pytest.fixture(scope="module")
def resonance_model():
    """A cheap model trained to map injected resonance strength to a factor."""
    rng = np.random.default_rng(0)
    windows, targets = [], []
    for i in range(40):
        strength = rng.uniform(0, 14)
        clip = 0.1 * pink_noise(11025, 2, seed=100 + i)
        windows.append(resonant(clip, strength))
        targets.append(strength / 14 * 0.8)
    model = make_pipeline(ELCSpectrum(), ResonanceDetector(), Ridge(alpha=1.0))
    return model.fit(np.asarray(windows, dtype=np.float32), targets)


@pytest.fixture(scope="module")
def half_resonant_track():
    clean = 0.1 * pink_noise(SR * 8, 2, seed=7)
    second = resonant(clean[:, SR * 4 :], 14)
    return np.concatenate([clean[:, : SR * 4], second], axis=1).astype(np.float32)


def test_second_half_with_resonances_gets_a_higher_factor(resonance_model, half_resonant_track):
    auto = AutoEqualizer(resonance_model, sr=SR, smoothing=1.0).fit()
    y = auto.transform(half_resonant_track)
    assert y.shape == half_resonant_track.shape
    curve = auto.factors_
    first = curve.factors[(curve.times > 0.5) & (curve.times <= 4)]
    second = curve.factors[curve.times > 5.5]
    assert second.mean() > first.mean() + 0.3


def test_factors_are_causal(resonance_model, half_resonant_track):
    x = half_resonant_track
    t = 3 * SR
    changed = x.copy()
    changed[:, t:] = resonant(np.random.default_rng(1).standard_normal((2, x.shape[1] - t)), 10)
    auto = AutoEqualizer(resonance_model, sr=SR).fit()
    a = auto.predict_factors(x)
    b = auto.predict_factors(changed)
    before = a.times <= t / SR
    np.testing.assert_array_equal(a.factors[before], b.factors[before])
    assert not np.allclose(a.factors[~before], b.factors[~before])
    # and the audio output before t (minus the analysis frame's reach) is unchanged
    ya, yb = auto.transform(x), auto.transform(changed)
    reach = auto.equalizer_.n_fft_
    np.testing.assert_allclose(ya[:, : t - reach], yb[:, : t - reach], atol=1e-6)


@pytest.mark.parametrize("block", [511, 4096, 30000])
def test_streaming_equals_offline(resonance_model, half_resonant_track, block):
    x = half_resonant_track[:, : SR * 5]
    auto = AutoEqualizer(resonance_model, sr=SR, hop=0.25).fit()
    offline = auto.transform(x)
    offline_curve = auto.factors_
    pieces = [auto.process_block(x[:, i : i + block]) for i in range(0, x.shape[1], block)]
    pieces.append(auto.flush())
    streamed = np.concatenate(pieces, axis=1)[:, auto.latency_ : auto.latency_ + x.shape[1]]
    assert np.max(np.abs(streamed - offline)) <= 1e-5
    np.testing.assert_allclose(auto.factors_.factors, offline_curve.factors, atol=1e-6)


def test_constant_model_equals_fixed_factor_equalizer(half_resonant_track):
    class Constant:
        def predict(self, X):
            return np.full(len(X), 0.4)

    x = half_resonant_track[:, : SR * 3]
    auto = AutoEqualizer(Constant(), sr=SR).fit()
    # No prediction before the first full 0.5 s window: factor 0 until then.
    eq = ResonanceEqualizer(sr=SR).fit()
    centres = eq.frame_centers(np.arange(eq.n_frames(x.shape[1])))
    per_frame = np.where(centres >= SR // 2, 0.4, 0.0)
    fixed = eq.set_params(factor=per_frame).fit_transform(x)
    np.testing.assert_allclose(auto.transform(x), fixed, atol=1e-6)
    assert np.isnan(auto.factors_.raw[0]) and auto.factors_.factors[0] == 0.0
    assert np.all(auto.factors_.factors[1:] == 0.4)


def test_smoothing_and_range(resonance_model, half_resonant_track):
    fast = AutoEqualizer(resonance_model, sr=SR, smoothing=0).fit()
    slow = AutoEqualizer(resonance_model, sr=SR, smoothing=5.0).fit()
    raw = fast.predict_factors(half_resonant_track)
    smooth = slow.predict_factors(half_resonant_track)
    assert np.std(np.diff(smooth.factors)) < np.std(np.diff(raw.factors))
    capped = AutoEqualizer(resonance_model, sr=SR, factor_range=(0.1, 0.3)).fit()
    f = capped.predict_factors(half_resonant_track).factors
    assert f.min() >= 0.1 and f.max() <= 0.3


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.full((2, 1000), np.nan, dtype=np.float32), "NaN"),
        (np.zeros((2, 0), dtype=np.float32), "empty"),
        (np.zeros((4, 1000), dtype=np.float32), "channels"),
    ],
)
def test_bad_audio(resonance_model, bad, match):
    with pytest.raises(ValueError, match=match):
        AutoEqualizer(resonance_model, sr=SR).fit().transform(bad)


def test_bad_parameters(resonance_model):
    with pytest.raises(ValueError, match="factor_range"):
        AutoEqualizer(resonance_model, factor_range=(0.5, 0.2)).fit()
    with pytest.raises(ValueError, match="hop"):
        AutoEqualizer(resonance_model, hop=0).fit()
    with pytest.raises((ValueError, TypeError), match="model"):
        AutoEqualizer(model="not a model").fit()
