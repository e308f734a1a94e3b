"""ResonanceProfile: the equalizer's analysis, level invariance, learning added resonances."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_reseq.datasets import add_resonances, make_synthetic_music
from sk_reseq.equalizer import ResonanceEqualizer
from sk_reseq.preprocessing import ResonanceProfile, frame_band_power
from sk_reseq.utils.estimator_checks import parametrize_with_audio_checks

SR = 22050


@parametrize_with_checks([ResonanceProfile(n_augment=1, random_state=0)])
def test_sklearn_compatible(estimator, check):
    # 3-D audio input: scikit-learn runs the clone check only; the audio checks cover the rest.
    check(estimator)


@parametrize_with_audio_checks([ResonanceProfile(n_augment=1, random_state=0)])
def test_audio_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def music():
    return make_synthetic_music(12, 3.0, sr=SR, random_state=0)


@pytest.fixture(scope="module")
def fitted(music):
    return ResonanceProfile(n_augment=6, random_state=0).fit(np.stack(music[:8]))


def test_detector_frames_are_the_equalizers(music):
    x = music[0]
    eq = ResonanceEqualizer(sr=SR).fit()
    analysis = eq.analyze(x)
    # At the equalizer's hop the profile's detector frames are the equalizer's
    # (by default it reads every other one, half the work for nearly the same).
    profile = ResonanceProfile(hop_length=eq.hop_length_).fit(x[None, :, : eq.n_fft_])
    n_fft, hop, k = eq.n_fft_, eq.hop_length_, profile.averaging_frames_
    assert k == eq.framing_.averaging_frames
    j0 = 10  # frame j covers samples from j * hop - (n_fft - hop)
    start = j0 * hop - (n_fft - hop)
    window = x[None, :, start : start + SR]
    _, banded = frame_band_power(window, profile._layout(), profile.hop_length_)
    res, _ = profile._detector_frames(banded[0], profile._layout())
    # Our first full average ends at the equalizer's frame j0 + k - 1; the
    # equalizer analyses every update_interval-th frame (the others interpolate).
    frames = np.arange(j0 + k - 1, j0 + k - 1 + len(res))
    analysed = frames % eq.update_interval == 0
    np.testing.assert_allclose(res[analysed], analysis.resonances[frames[analysed]], atol=2e-3)


def test_features_do_not_depend_on_level(fitted, music):
    X = np.stack(music[8:])
    np.testing.assert_allclose(fitted.transform(0.05 * X), fitted.transform(X), atol=1e-4)


def test_added_resonances_raise_the_added_factor(fitted, music):
    # Music the band model never saw, with 0 and with 3 strong resonances.
    clean = np.stack(music[8:])
    filters = [(400.0, 5.0, 12.0), (1500.0, 6.0, 12.0), (4000.0, 4.0, 10.0)]
    resonant = np.stack([add_resonances(x, filters, SR) for x in clean])
    names = list(fitted.get_feature_names_out())
    added = names.index("added_factor")
    before, after = fitted.transform(clean)[:, added], fitted.transform(resonant)[:, added]
    assert np.all(after > before + 0.05), (before, after)


def test_prefit_keeps_the_band_model(fitted, music):
    X = np.stack(music[8:])
    again = ResonanceProfile(band_model=fitted.band_model_, prefit=True).fit(X)
    assert again.band_model_ is fitted.band_model_
    np.testing.assert_array_equal(again.transform(X), fitted.transform(X))
    with pytest.raises(ValueError, match="prefit=True needs a fitted band_model"):
        ResonanceProfile(prefit=True).fit(X)


@pytest.mark.parametrize("params, match", [
    (dict(smoothing=1e9), "smoothing"),
    (dict(averaging=-1), "averaging"),
    (dict(patch_bands=1000), "patch_bands"),
    (dict(hop_length=4096), "hop_length must be at most n_fft"),
])
def test_bad_parameters(params, match, music):
    with pytest.raises(ValueError, match=match):
        ResonanceProfile(**params).fit(np.stack(music[:1]))
