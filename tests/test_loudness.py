"""ISO 226:2003 contours against the standard's own table and equations; BS.1770 loudness
and true peak against pyloudnorm and known signals; loudness matching in the equalizers."""

from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

from sk_reseq.audio import load_audio
from sk_reseq.equalizer import AutoEqualizer, ResonanceEqualizer
from sk_reseq.loudness import (
    ISO226_FREQUENCIES,
    LoudnessMeter,
    elc_weighting,
    equal_loudness_contour,
    integrated_loudness,
    loudness_gain,
    loudness_level,
    sample_peak,
    true_peak,
)
from sk_reseq.models import MeanRatingRegressor

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"  # real music, if present

# ISO 226:2003 Table 1, transcribed independently of the module (f, alpha_f, L_U, T_f).
TABLE_1 = [
    (20, 0.532, -31.6, 78.5), (25, 0.506, -27.2, 68.7), (31.5, 0.480, -23.0, 59.5),
    (40, 0.455, -19.1, 51.1), (50, 0.432, -15.9, 44.0), (63, 0.409, -13.0, 37.5),
    (80, 0.387, -10.3, 31.5), (100, 0.367, -8.1, 26.5), (125, 0.349, -6.2, 22.1),
    (160, 0.330, -4.5, 17.9), (200, 0.315, -3.1, 14.4), (250, 0.301, -2.0, 11.4),
    (315, 0.288, -1.1, 8.6), (400, 0.276, -0.4, 6.2), (500, 0.267, 0.0, 4.4),
    (630, 0.259, 0.3, 3.0), (800, 0.253, 0.5, 2.2), (1000, 0.250, 0.0, 2.4),
    (1250, 0.246, -2.7, 3.5), (1600, 0.244, -4.1, 1.7), (2000, 0.243, -1.0, -1.3),
    (2500, 0.243, 1.7, -4.2), (3150, 0.243, 2.5, -6.0), (4000, 0.242, 1.2, -5.4),
    (5000, 0.242, -2.1, -1.5), (6300, 0.245, -7.1, 6.0), (8000, 0.254, -11.2, 12.6),
    (10000, 0.271, -10.7, 13.9), (12500, 0.301, -3.1, 12.3),
]


def iso226_eq1(phon, alpha_f, l_u, t_f):
    """ISO 226:2003 Eq. (1), one frequency at a time."""
    b_f = (0.4 * 10 ** ((t_f + l_u) / 10 - 9)) ** alpha_f
    a_f = 4.47e-3 * (10 ** (0.025 * phon) - 1.15) + b_f
    return 10 / alpha_f * np.log10(a_f) - l_u + 94


@pytest.mark.parametrize("phon", [20, 40, 60, 80, 90])
def test_contour_matches_standard_at_its_29_frequencies(phon):
    expected = [iso226_eq1(phon, a, lu, tf) for _, a, lu, tf in TABLE_1]
    got = equal_loudness_contour([row[0] for row in TABLE_1], phon)
    np.testing.assert_allclose(got, expected, atol=0.05)


def test_elc_weighting_at_80_phon():
    freqs = np.array([row[0] for row in TABLE_1])
    expected = 80 - np.array([iso226_eq1(80, a, lu, tf) for _, a, lu, tf in TABLE_1])
    np.testing.assert_allclose(elc_weighting(freqs, 80), expected, atol=0.05)
    # Well-known landmarks of the 80-phon contour: 1 kHz is the reference and the
    # ear is most sensitive around 3-4 kHz and far less so at 20 Hz.
    assert abs(elc_weighting(1000.0)) < 0.05
    assert elc_weighting(20.0) < -35
    assert freqs[np.argmax(elc_weighting(freqs))] in (3150, 4000)


def test_contour_round_trips_through_eq2():
    spl = equal_loudness_contour(ISO226_FREQUENCIES, 60)
    np.testing.assert_allclose(loudness_level(ISO226_FREQUENCIES, spl), 60, atol=0.1)


def test_interpolation_between_and_beyond_the_table():
    between = equal_loudness_contour([1100.0], 80)[0]
    lo, hi = equal_loudness_contour([1000.0, 1250.0], 80)
    assert min(lo, hi) <= between <= max(lo, hi)  # monotone (PCHIP), no overshoot
    np.testing.assert_allclose(equal_loudness_contour([10.0, 18000.0], 80),
                               equal_loudness_contour([20.0, 12500.0], 80))


@pytest.mark.parametrize("phon", [-1, 101, np.nan])
def test_bad_phon(phon):
    with pytest.raises(ValueError, match="phon"):
        equal_loudness_contour([1000.0], phon)


def test_bad_frequencies():
    with pytest.raises(ValueError, match="positive"):
        equal_loudness_contour([0.0, 100.0])
    with pytest.raises(ValueError, match="29 ISO 226"):
        loudness_level([1100.0], [60.0])


# -- ITU-R BS.1770-4 -----------------------------------------------------


def music_like(n_channels, seconds, sr, seed=0):
    """Noise with a level that changes over time (so that the gates matter) and a tone."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    envelope = 10 ** (-20 * (np.sin(2 * np.pi * 0.3 * t) > 0.6) / 20)  # -20 dB passages
    x = 0.1 * rng.standard_normal((n_channels, n)) + 0.2 * np.sin(2 * np.pi * 330 * t)
    return (x * envelope).astype(np.float32)


@pytest.mark.parametrize("n_channels, seconds, sr", [
    (1, 3.0, 48000), (2, 4.37, 44100), (5, 2.5, 22050), (2, 3.3, 11025),
])
def test_integrated_loudness_equals_pyloudnorm(n_channels, seconds, sr):
    x = music_like(n_channels, seconds, sr)
    expected = pyloudnorm.Meter(sr).integrated_loudness(x.T.astype(np.float64))
    assert integrated_loudness(x, sr) == pytest.approx(expected, abs=1e-3)


def test_the_meter_gives_the_same_whatever_the_blocks():
    x = music_like(2, 5.0, 44100, seed=1)
    whole = integrated_loudness(x, 44100)
    meter = LoudnessMeter(44100, 2)
    rng = np.random.default_rng(0)
    cuts = np.sort(rng.integers(0, x.shape[1], 40))
    for block in np.split(x, cuts, axis=1):  # blocks of any size, empty ones included
        meter.update(block)
    assert meter.integrated_loudness() == pytest.approx(whole, abs=1e-6)
    assert meter.true_peak() == pytest.approx(true_peak(x, 44100), abs=0.01)
    assert meter.sample_peak() == pytest.approx(sample_peak(x), abs=1e-9)
    with pytest.raises(RuntimeError, match="new LoudnessMeter"):
        meter.update(x[:, :10])


def test_known_loudness_and_its_scaling():
    sr = 48000
    t = np.arange(2 * sr) / sr
    tone = np.sin(2 * np.pi * 997 * t)
    # BS.1770's calibration: a 0 dBFS 997 Hz sine on L and R reads 0 LUFS (pyloudnorm's
    # K-weighting is 0.04 dB shy of the standard's at 997 Hz); on one channel, -3 LUFS.
    assert integrated_loudness(np.stack([tone, tone]), sr) == pytest.approx(0.0, abs=0.1)
    assert integrated_loudness(tone, sr) == pytest.approx(-3.01, abs=0.1)
    x = music_like(2, 3.0, sr)
    gain = loudness_gain(integrated_loudness(x, sr), -30.0)
    scaled = x * 10 ** (gain / 20)
    assert integrated_loudness(scaled, sr) == pytest.approx(-30.0, abs=1e-3)
    pcm = np.round(np.clip(x, -1, 1) * 32767).astype(np.int16)  # integer PCM is accepted
    assert integrated_loudness(pcm, sr) == pytest.approx(integrated_loudness(x, sr), abs=0.01)


def test_silence_short_clips_and_bad_input():
    sr = 16000
    assert integrated_loudness(np.zeros((2, sr)), sr) == -np.inf
    assert true_peak(np.zeros(sr), sr) == -np.inf
    assert loudness_gain(-np.inf, -23.0) == 0.0 and loudness_gain(-20.0, -np.inf) == 0.0
    # Shorter than a 400 ms block: measured looped, i.e. as its steady self.
    steady = music_like(1, 2.0, sr)[:, : int(0.2 * sr)]
    looped = np.tile(steady, (1, 10))
    assert integrated_loudness(steady, sr) == pytest.approx(integrated_loudness(looped, sr),
                                                            abs=0.3)
    with pytest.raises(ValueError, match="1 to 5 channels"):
        integrated_loudness(np.zeros((6, sr)), sr)
    six = np.tile(0.5 * np.hanning(sr) * np.sin(2 * np.pi * 1000 * np.arange(sr) / sr), (6, 1))
    assert true_peak(six, sr) == pytest.approx(-6.02, abs=0.05)  # peaks: any channel count
    with pytest.raises(ValueError, match="NaN"):
        integrated_loudness(np.full((1, sr), np.nan), sr)
    with pytest.raises(ValueError, match="shape"):
        LoudnessMeter(sr, 2).update(np.zeros((1, 100)))


def test_true_peak_finds_the_peaks_between_samples():
    sr = 44100
    n = np.arange(sr)
    window = np.hanning(sr)
    # Samples halfway between the crests of a sine at sr/4: 3 dB below its peak.
    x = window * np.sin(np.pi * n / 2 + np.pi / 4)
    assert sample_peak(x) == pytest.approx(-3.01, abs=0.01)
    assert true_peak(x, sr) == pytest.approx(0.0, abs=0.05)
    # A 1 kHz sine, well sampled: the true peak is the amplitude, and never below the samples.
    y = 0.5 * window * np.sin(2 * np.pi * 1000 * n / sr)
    assert true_peak(y, sr) == pytest.approx(-6.02, abs=0.05)
    assert true_peak(y, sr) >= sample_peak(y)


# -- loudness matching in the equalizers ------------------------------------


def resonant(sr=22050, seconds=3.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    return (0.05 * rng.standard_normal((2, t.size))
            + 0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def test_match_loudness_brings_the_output_to_the_inputs_loudness():
    sr = 22050
    x = resonant(sr)
    target = integrated_loudness(x, sr)
    plain = ResonanceEqualizer(factor=1.0, sr=sr).fit_transform(x)
    assert integrated_loudness(plain, sr) < target - 3  # what matching undoes
    eq = ResonanceEqualizer(factor=1.0, sr=sr, match_loudness=True)
    y, analysis = eq.equalize(x, return_analysis="mean")
    assert integrated_loudness(y, sr) == pytest.approx(target, abs=0.5)
    assert analysis.loudness_gain_db == pytest.approx(target - integrated_loudness(plain, sr),
                                                      abs=0.01)
    np.testing.assert_allclose(y, plain * 10 ** (analysis.loudness_gain_db / 20), atol=1e-5)
    # In place (out=X): the input's loudness is measured before it is overwritten.
    inplace = x.copy()
    eq.equalize(inplace, out=inplace)
    np.testing.assert_allclose(inplace, y, atol=1e-6)
    # A batch: each clip to its own loudness; integer PCM in, integer PCM out.
    batch = np.stack([x, 0.25 * x])
    out = eq.transform(batch)
    for clip, clip_out in zip(batch, out):
        assert integrated_loudness(clip_out, sr) == pytest.approx(
            integrated_loudness(clip, sr), abs=0.5)
    pcm = np.round(x * 2 ** 15).astype(np.int16)
    out = eq.transform(pcm)
    assert out.dtype == np.int16
    assert integrated_loudness(out, sr) == pytest.approx(integrated_loudness(pcm, sr), abs=0.5)


def test_auto_equalizer_matches_loudness_offline():
    sr = 22050
    x = resonant(sr, seconds=4.0)
    model = MeanRatingRegressor().fit(np.zeros((2, 2, 11025)), [0.9, 0.9])
    plain = AutoEqualizer(model, sr=sr).fit().transform(x)
    auto = AutoEqualizer(model, sr=sr, match_loudness=True).fit()
    y = auto.transform(x)
    assert integrated_loudness(plain, sr) < integrated_loudness(x, sr) - 2
    assert integrated_loudness(y, sr) == pytest.approx(integrated_loudness(x, sr), abs=0.5)
    # The equalizer's own option is replaced: the whole output is matched once, here.
    nested = AutoEqualizer(model, sr=sr, equalizer=ResonanceEqualizer(match_loudness=True))
    assert nested.fit().equalizer_.match_loudness is False
    np.testing.assert_allclose(nested.transform(x), plain, atol=1e-6)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="no real music in /work/shared/corpus")
@pytest.mark.parametrize("factor", [0.5, 1.0])
def test_match_loudness_on_real_music(factor):
    """Must hold: matched output within 0.5 LU of the input on real music."""
    source = sorted(CORPUS.glob("*.ogg"))[0]
    x, sr = load_audio(source, duration=10.0)
    before = integrated_loudness(x, sr)
    y = ResonanceEqualizer(factor=factor, sr=sr, match_loudness=True).fit_transform(x)
    assert integrated_loudness(y, sr) == pytest.approx(before, abs=0.5)


def test_streaming_refuses_match_loudness_and_delta_does_not_take_it():
    x = resonant()
    eq = ResonanceEqualizer(sr=22050, match_loudness=True).fit()
    with pytest.raises(ValueError, match="stream knows only at its end"):
        eq.process_block(x[:, :512])
    model = MeanRatingRegressor().fit(np.zeros((2, 2, 11025)), [0.5, 0.5])
    auto = AutoEqualizer(model, sr=22050, match_loudness=True).fit()
    with pytest.raises(ValueError, match="stream knows only at its end"):
        auto.process_block(x[:, :512])
    with pytest.raises(ValueError, match="delta"):
        ResonanceEqualizer(output="delta", match_loudness=True).fit()
    with pytest.raises(ValueError, match="match_loudness"):
        ResonanceEqualizer(match_loudness="yes").fit()
