"""Tests of sk_reseq.features: the FFN's 679 features (paper sec. 4.1, Table 2)."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

pytest.importorskip("essentia")

from sk_reseq._validation import AudioValueError  # noqa: E402
from sk_reseq.features import (  # noqa: E402
    DESCRIPTOR_NAMES,
    FEATURE_NAMES,
    STATISTICS,
    FeatureSummarizer,
    bark_band_edges,
    harmonics_to_noise_ratio,
    stereo_width,
    summarize,
)
from sk_reseq.features._summarizer import _frames  # noqa: E402

SR = 22050
N = SR // 4  # 0.25 s windows: 9 frames of 1024 at hop 512, enough and fast
T = np.arange(N) / SR

# Table 2 of the paper, in the order FeatureSummarizer documents: (prefix, values).
TABLE_2 = [
    ("mfcc", 13), ("gfcc", 13), ("inharmonicity", 1), ("pitch", 1),
    ("pitch_salience", 1), ("spectral_complexity", 1), ("spectral_crest", 1),
    ("spectral_decrease", 1), ("spectral_energy", 1), ("spectral_flux", 1),
    ("spectral_rms", 1), ("spectral_rolloff", 1), ("spectral_strongpeak", 1),
    ("zerocrossingrate", 1), ("spectral_flatness_db", 1), ("hfc", 1),
    ("barkbands", 30), ("pitch_instantaneous_confidence", 1), ("silence_rate", 3),
    ("odd_to_even_harmonic_energy_ratio", 1), ("spectral_energyband", 4),
    ("tristimulus", 3), ("spectral_contrast", 6), ("spectral_valley", 6),
    ("stereo_width", 2), ("hnr", 1),
]


def _stereo(x):
    return np.stack([x, x]).astype(np.float32)


def _tone(f0, n_harmonics=1, n=N):
    t = np.arange(n) / SR
    x = sum(np.sin(2 * np.pi * f0 * k * t + k) / k for k in range(1, n_harmonics + 1))
    return 0.5 * x / np.abs(x).max()


def _signals():
    rng = np.random.default_rng(0)
    noise = 0.25 * rng.standard_normal((2, N))
    return {
        "silence": np.zeros((2, N), np.float32),
        "white_noise": noise.astype(np.float32),
        "sine": _stereo(_tone(440.0)),
        "clipped": np.clip(8 * noise, -1, 1).astype(np.float32),
        "mono": noise[:1].astype(np.float32),
    }


@pytest.fixture(scope="module")
def features():
    """Features of the test signals, one dict of {name: value} per signal."""
    summarizer = FeatureSummarizer(sr=SR)
    out = {}
    for name, x in _signals().items():
        values = summarizer.transform(x[None])
        out[name] = dict(zip(FEATURE_NAMES, values[0]))
    return out


# --- names -------------------------------------------------------------------


def test_679_unique_feature_names_in_table_2_order():
    names = FeatureSummarizer().get_feature_names_out()
    assert len(names) == 679 == len(set(names))
    assert len(DESCRIPTOR_NAMES) == 97 == sum(n for _, n in TABLE_2)
    assert list(STATISTICS) == ["mean", "median", "std", "skew", "kurtosis", "p10", "p90"]
    # Descriptor-major: 7 statistics of one descriptor, then the next, as in Table 2.
    descriptors = [name.split("__")[0] for name in names[::7]]
    position = 0
    for prefix, count in TABLE_2:
        block = descriptors[position : position + count]
        assert all(d.startswith(prefix) for d in block), (prefix, block)
        position += count
    assert [name.split("__")[1] for name in names[:7]] == list(STATISTICS)
    for example in ("mfcc_03__p90", "barkbands_17__mean", "stereo_width_corr__std", "hnr__skew"):
        assert example in set(names)
    assert list(names) == list(FEATURE_NAMES)


# --- finite values on hard signals ---------------------------------------------


@pytest.mark.parametrize("signal", ["silence", "white_noise", "sine", "clipped", "mono"])
def test_features_are_finite(features, signal):
    values = np.array(list(features[signal].values()))
    assert values.shape == (679,)
    assert np.isfinite(values).all()


@pytest.mark.parametrize("signal", ["mono", "sine"])
def test_identical_channels_have_no_stereo_width(features, signal):
    f = features[signal]
    for stat in ("mean", "median", "p10", "p90"):
        assert f[f"stereo_width_corr__{stat}"] == pytest.approx(1.0, abs=1e-6)
        assert f[f"stereo_width_rms_diff__{stat}"] == pytest.approx(0.0, abs=1e-9)


def test_silence_gets_documented_values(features):
    f = features["silence"]
    assert f["silence_rate_60db__mean"] == 1.0
    assert f["pitch__mean"] == 0.0
    assert f["pitch_instantaneous_confidence__mean"] == 0.0
    assert f["hnr__mean"] == -20.0
    assert f["stereo_width_corr__mean"] == 1.0


# --- descriptors behave sensibly --------------------------------------------------


def test_sine_pitch_and_confidence(features):
    sine, noise = features["sine"], features["white_noise"]
    assert sine["pitch__median"] == pytest.approx(440.0, rel=0.01)
    assert sine["pitch_instantaneous_confidence__median"] > 0.9
    assert noise["pitch_instantaneous_confidence__median"] < 0.5
    # One partial: all the harmonic energy in the fundamental.
    assert sine["tristimulus_00__median"] == pytest.approx(1.0, abs=0.01)


def test_flatness_and_spectral_shape(features):
    sine, noise = features["sine"], features["white_noise"]
    # Essentia's FlatnessDB is -10 log10(geometric / arithmetic mean) / 60,
    # clipped to [0, 1]: 0 for a flat spectrum, towards 1 for a peaky one.
    assert noise["spectral_flatness_db__mean"] < 0.2 < sine["spectral_flatness_db__mean"]
    assert noise["spectral_rolloff__mean"] > 5 * sine["spectral_rolloff__mean"]
    assert noise["zerocrossingrate__mean"] > 5 * sine["zerocrossingrate__mean"]
    assert noise["spectral_flux__mean"] > 10 * sine["spectral_flux__mean"]


def test_hnr_of_harmonic_tone_exceeds_noise(features):
    assert features["sine"]["hnr__median"] > 30
    assert features["white_noise"]["hnr__median"] < 0
    rng = np.random.default_rng(1)
    tone = _tone(220.0, n_harmonics=6)
    noisy_tone = tone + 0.3 * tone.std() * rng.standard_normal(N)
    values = FeatureSummarizer().transform(np.stack([_stereo(tone), _stereo(noisy_tone)]))
    hnr = values[:, FEATURE_NAMES.index("hnr__median")]
    assert hnr[0] > hnr[1] > features["white_noise"]["hnr__median"] + 5


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 20.0])
def test_hnr_recovers_the_signal_to_noise_ratio(snr_db):
    # Boersma's method estimates the ratio of periodic to aperiodic power.
    rng = np.random.default_rng(2)
    n = SR
    tone = _tone(180.0, n_harmonics=5, n=n)
    tone /= tone.std()
    x = tone + 10 ** (-snr_db / 20) * rng.standard_normal(n)
    hnr = harmonics_to_noise_ratio(_frames(x, 1024, 512), SR)
    assert np.median(hnr) == pytest.approx(snr_db, abs=1.5)


def test_bark_bands_locate_a_tone():
    edges = bark_band_edges(SR)
    assert len(edges) == 31 and np.all(np.diff(edges) > SR / 1024)  # >= 1 bin per band
    values = FeatureSummarizer().transform(_stereo(_tone(1000.0))[None])[0]
    bands = [values[FEATURE_NAMES.index(f"barkbands_{i:02d}__mean")] for i in range(30)]
    assert int(np.argmax(bands)) == int(np.searchsorted(edges, 1000.0)) - 1


def test_energy_bands_and_silence_rate():
    low = FeatureSummarizer().transform(_stereo(_tone(80.0))[None])[0]
    high = FeatureSummarizer().transform(_stereo(_tone(6000.0))[None])[0]

    def f(v, name):
        return v[FEATURE_NAMES.index(name)]

    low_band, high_band = "spectral_energyband_low__mean", "spectral_energyband_high__mean"
    assert f(low, low_band) > 100 * f(low, high_band)
    assert f(high, high_band) > 100 * f(high, low_band)
    # A tone at -6 dBFS is above every silence threshold.
    assert f(low, "silence_rate_20db__mean") == 0.0
    assert f(low, "silence_rate_60db__mean") == 0.0


def test_stereo_width_descriptors():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(4096)
    corr, diff = stereo_width(x, -x, 1024, 512)
    assert np.allclose(corr, -1.0) and np.allclose(diff, 0.0)
    corr, diff = stereo_width(x, 0.5 * x, 1024, 1024)
    assert np.allclose(corr, 1.0)
    expected = 0.5 * np.sqrt(np.mean(x.reshape(4, 1024) ** 2, axis=1))
    assert np.allclose(diff, expected)
    corr, _ = stereo_width(x, rng.standard_normal(4096), 1024, 512)
    assert np.all(np.abs(corr) < 0.15)
    corr, diff = stereo_width(x, np.zeros(4096), 1024, 512)  # one silent channel
    assert np.all(corr == 0.0) and np.all(diff > 0.5)


# --- the statistics ---------------------------------------------------------------


@pytest.mark.parametrize("n_frames", [2, 9, 20])
def test_summarize_matches_numpy_and_scipy(n_frames):
    rng = np.random.default_rng(4)
    values = rng.gamma(2.0, size=(3, n_frames, 4))
    out = summarize(values).reshape(3, 4, 7)
    expected = np.stack(
        [
            values.mean(axis=1), np.median(values, axis=1), values.std(axis=1),
            stats.skew(values, axis=1), stats.kurtosis(values, axis=1),
            np.percentile(values, 10, axis=1), np.percentile(values, 90, axis=1),
        ],
        axis=-1,
    )
    assert np.allclose(out, expected, rtol=1e-10, atol=1e-12)


def test_summarize_constant_and_missing_values():
    values = np.ones((2, 6, 2))
    out = summarize(values).reshape(2, 2, 7)
    assert np.all(out[..., [3, 4]] == 0.0) and np.all(out[..., [0, 1, 5, 6]] == 1.0)
    values = np.random.default_rng(5).standard_normal((2, 6, 1))
    with_nan = values.copy()
    with_nan[:, 0] = np.nan
    assert np.allclose(summarize(with_nan), summarize(values[:, 1:]))
    assert np.all(summarize(np.full((1, 3, 1), np.nan)) == 0.0)


def test_flux_ignores_the_first_frame():
    # A steady tone: frame 0's flux (against silence) would dominate the summary.
    values = FeatureSummarizer().transform(_stereo(_tone(300.0))[None])[0]
    energy_rms = values[FEATURE_NAMES.index("spectral_rms__mean")]
    assert values[FEATURE_NAMES.index("spectral_flux__p90")] < 0.1 * energy_rms * np.sqrt(513)


# --- estimator behaviour ------------------------------------------------------------


def test_n_jobs_2_matches_n_jobs_1():
    rng = np.random.default_rng(6)
    X = (0.2 * rng.standard_normal((5, 2, N))).astype(np.float32)
    X[2] = _stereo(_tone(330.0, n_harmonics=4))
    serial = FeatureSummarizer(n_jobs=1).transform(X)
    parallel = FeatureSummarizer(n_jobs=2).transform(X)
    assert np.array_equal(serial, parallel)


def test_stateless_deterministic_and_input_untouched():
    rng = np.random.default_rng(7)
    X = (0.2 * rng.standard_normal((3, 2, N))).astype(np.float32)
    X.setflags(write=False)  # read-only input works and cannot be written
    summarizer = FeatureSummarizer()
    first = summarizer.transform(X)  # no fit needed
    assert summarizer.fit(X) is summarizer and summarizer.n_features_out_ == 679
    assert np.array_equal(summarizer.fit_transform(X), first)
    assert np.array_equal(summarizer.transform(X[::-1]), first[::-1])  # order invariance
    assert np.array_equal(summarizer.transform(X[1:2]), first[1:2])  # subset invariance
    # int16 PCM is read as x / 32768; quantization moves a few values (e.g. the
    # zero-crossing rate of noise samples rounded to 0), not the rest.
    pcm = np.round(X * 32768).astype(np.int16)
    close = np.isclose(summarizer.transform(pcm), first, rtol=1e-2, atol=1e-2)
    assert close.mean() > 0.99


def test_pickle_and_clone_drop_the_essentia_objects():
    X = _stereo(_tone(500.0))[None]
    summarizer = FeatureSummarizer(hop_size=256)
    expected = summarizer.transform(X)
    analyzer = summarizer._analyzer()
    summarizer.transform(X)
    assert summarizer._analyzer() is analyzer  # Essentia algorithms built once
    restored = pickle.loads(pickle.dumps(summarizer))
    assert "_analyzer_cache" not in vars(restored)
    assert np.array_equal(restored.transform(X), expected)
    assert np.array_equal(clone(summarizer).transform(X), expected)
    # A changed parameter rebuilds the cached algorithms.
    summarizer.set_params(frame_size=2048)
    assert not np.array_equal(summarizer.transform(X), expected)


def test_real_music_gives_finite_plausible_features(music_files):
    from sk_reseq.audio import load_audio

    audio, sr = load_audio(music_files[0], sr=SR, offset=10.0, duration=1.5)
    if audio.shape[0] == 1:
        audio = np.repeat(audio, 2, axis=0)
    X = np.stack([audio[:2, i * SR // 2 : (i + 1) * SR // 2] for i in range(3)])
    values = FeatureSummarizer(sr=sr).transform(X)
    assert values.shape == (3, 679) and np.isfinite(values).all()
    corr = values[:, FEATURE_NAMES.index("stereo_width_corr__mean")]
    hnr = values[:, FEATURE_NAMES.index("hnr__mean")]
    assert np.all((corr >= -1) & (corr <= 1)) and np.all((hnr >= -20) & (hnr <= 40))


def test_in_a_pipeline_with_a_regressor():
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(8)
    f0 = rng.uniform(100, 1000, size=6)
    X = np.stack([_stereo(_tone(f, n_harmonics=3)) for f in f0])
    model = make_pipeline(FeatureSummarizer(), StandardScaler(), Ridge(alpha=1.0))
    model.fit(X, f0 / 1000)
    assert model.predict(X).shape == (6,)
    assert list(model[:-1].get_feature_names_out()) == list(FEATURE_NAMES)


def test_set_output_pandas():
    pd = pytest.importorskip("pandas")
    frame = FeatureSummarizer().set_output(transform="pandas").transform(_signals()["sine"][None])
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == list(FEATURE_NAMES)


# --- bad input -------------------------------------------------------------------------


def test_bad_windows_raise_clear_errors():
    summarizer = FeatureSummarizer()
    good = np.zeros((2, 2, N), np.float32)
    bad = good.copy()
    bad[1, 0, 5] = np.nan
    with pytest.raises(AudioValueError, match="NaN"):
        summarizer.transform(bad)
    with pytest.raises(AudioValueError, match="shape \\(n_windows, channels, samples\\)"):
        summarizer.transform(good[0])
    with pytest.raises(AudioValueError, match="at least 1024"):
        summarizer.transform(good[..., :1000])
    with pytest.raises(AudioValueError, match="3 channels"):
        summarizer.fit(np.zeros((2, 3, N)))
    with pytest.raises(TypeError, match="real numbers"):
        summarizer.transform(good.astype(str))
    assert np.isnan(bad[1, 0, 5]) and np.all(good == 0)  # inputs untouched


@pytest.mark.parametrize(
    "params, match",
    [
        ({"frame_size": 1023}, "even"),
        ({"sr": 8000}, "sr"),
        ({"hop_size": 0}, "hop_size"),
        ({"frame_size": 128}, "frame_size"),
    ],
)
def test_bad_parameters_raise(params, match):
    X = np.zeros((1, 2, N), np.float32)
    with pytest.raises(ValueError, match=match):
        FeatureSummarizer(**params).transform(X)
    with pytest.raises(ValueError, match=match):
        FeatureSummarizer(**params).fit(X)


def test_toolkit_imports_without_essentia_and_the_error_names_the_extra():
    code = (
        "import sys; sys.modules['essentia'] = None\n"
        "import sk_reseq, sk_reseq.features\n"
        "from sk_reseq.features import FeatureSummarizer\n"
        "import numpy as np\n"
        "try:\n"
        "    FeatureSummarizer().transform(np.zeros((1, 2, 2048)))\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install sk_reseq[features]" in out.stdout
    assert "AGPL" in out.stdout


# --- scikit-learn common checks ------------------------------------------------------------

_TABULAR = (
    "feeds a 2-D table (n_samples, n_features); FeatureSummarizer takes 3-D audio "
    "windows (n_windows, channels, samples) and rejects 2-D input"
)
_TABULAR_COVERED = _TABULAR + " (the audio counterpart is tested in this file)"


def _expected_failed_checks(estimator):
    return {
        "check_dict_unchanged": _TABULAR,
        "check_dont_overwrite_parameters": _TABULAR,
        "check_dtype_object": _TABULAR + "; object arrays are rejected with a TypeError",
        "check_estimators_dtypes": _TABULAR_COVERED + " (int16 PCM, float32)",
        "check_estimators_empty_data_messages": _TABULAR
        + "; empty windows raise AudioValueError with sk_reseq's own message",
        "check_estimators_fit_returns_self": _TABULAR_COVERED,
        "check_estimators_nan_inf": _TABULAR_COVERED + " (NaN raises AudioValueError)",
        "check_estimators_overwrite_params": _TABULAR,
        "check_estimators_pickle": _TABULAR_COVERED,
        "check_f_contiguous_array_estimator": _TABULAR,
        "check_fit2d_1feature": _TABULAR,
        "check_fit2d_1sample": _TABULAR,
        "check_fit2d_predict1d": _TABULAR,
        "check_fit_check_is_fitted": _TABULAR + " (the transformer is stateless)",
        "check_fit_idempotent": _TABULAR_COVERED,
        "check_fit_score_takes_y": _TABULAR,
        "check_methods_sample_order_invariance": _TABULAR_COVERED,
        "check_methods_subset_invariance": _TABULAR_COVERED,
        "check_n_features_in": _TABULAR + "; audio has no n_features_in_",
        "check_n_features_in_after_fitting": _TABULAR + "; audio has no n_features_in_",
        "check_pipeline_consistency": _TABULAR,
        "check_positive_only_tag_during_fit": _TABULAR,
        "check_readonly_memmap_input": _TABULAR_COVERED + " (read-only windows)",
        "check_transformer_data_not_an_array": _TABULAR,
        "check_transformer_general": _TABULAR,
        "check_transformer_preserve_dtypes": _TABULAR
        + "; the output is always float64",
        "check_transformers_unfitted_stateless": _TABULAR_COVERED,
    }


@parametrize_with_checks([FeatureSummarizer()], expected_failed_checks=_expected_failed_checks)
def test_sklearn_common_checks(estimator, check):
    check(estimator)
