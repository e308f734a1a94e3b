"""Synthetic music and the simulated listening panel."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sk_reseq.datasets import (
    FACTOR_STEPS,
    add_resonances,
    make_listening_test,
    make_synthetic_music,
)
from sk_reseq.datasets._oracle import _band_distance
from sk_reseq.datasets._resonances import _inject
from sk_reseq.equalizer import ResonanceEqualizer
from sk_reseq.spectral import peaking_sos
from sk_reseq.stats import rater_correlations, rater_summary

SR = 22050


# -- synthetic music -------------------------------------------------------------


def _centroid(x, sr=SR):
    power = np.abs(np.fft.rfft(x.mean(axis=0))) ** 2
    freqs = np.fft.rfftfreq(x.shape[1], 1 / sr)
    return float((freqs * power).sum() / power.sum())


def test_synthetic_music_shape_level_and_stereo():
    tracks = make_synthetic_music(n_tracks=6, duration=2.0, random_state=0)
    assert len(tracks) == 6
    for x in tracks:
        assert x.shape == (2, 2 * SR) and x.dtype == np.float32
        assert np.all(np.isfinite(x)) and np.abs(x).max() < 1.0
        rms_db = 20 * np.log10(np.sqrt(np.mean(x.astype(float) ** 2)))
        assert rms_db == pytest.approx(-20, abs=1.0) or np.abs(x).max() == pytest.approx(0.98)
        # A stereo image, not two copies of one channel.
        assert not np.allclose(x[0], x[1])
        assert np.corrcoef(x[0], x[1])[0, 1] > 0.3


def test_synthetic_music_is_varied():
    tracks = make_synthetic_music(n_tracks=12, duration=2.0, random_state=1)
    centroids = np.array([_centroid(x) for x in tracks])
    assert centroids.max() / centroids.min() > 1.5
    # Music, not noise: the spectrum has strong peaks (harmonics) above its median.
    power = np.abs(np.fft.rfft(tracks[0][0])) ** 2
    assert np.percentile(power, 99.9) > 1000 * np.median(power)


def test_synthetic_music_is_deterministic_per_excerpt():
    a = make_synthetic_music(n_tracks=3, duration=1.0, random_state=5)
    b = make_synthetic_music(n_tracks=5, duration=1.0, random_state=5)
    c = make_synthetic_music(n_tracks=3, duration=1.0, random_state=6)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.allclose(a[0], c[0])


@pytest.mark.parametrize("params", [{"n_tracks": 0}, {"duration": -1.0}, {"sr": 100}])
def test_synthetic_music_bad_parameters(params):
    with pytest.raises(ValueError, match=next(iter(params))):
        make_synthetic_music(**params)


# -- resonance injection -----------------------------------------------------------


def test_peaking_filter_gain_at_centre_and_inverse():
    sos = peaking_sos(1000.0, 8.0, 12.0, SR)[None]
    from scipy.signal import sosfreqz

    w, h = sosfreqz(sos, worN=[50.0, 1000.0, 8000.0], fs=SR)
    gains = 20 * np.log10(np.abs(h))
    assert gains[1] == pytest.approx(12.0, abs=1e-6)
    assert abs(gains[0]) < 0.1 and abs(gains[2]) < 0.1
    import pandas as pd

    table = pd.DataFrame({"center_hz": [300.0, 2500.0], "q": [5.0, 15.0], "gain_db": [9.0, 4.0]})
    x = np.random.default_rng(0).standard_normal((2, 4000))
    back = _inject(_inject(x, table, SR), table, SR, inverse=True)
    np.testing.assert_allclose(back, x, atol=1e-9)


# -- the simulated panel -------------------------------------------------------------


@pytest.fixture(scope="module")
def panel():
    return make_listening_test(
        n_tracks=150, n_raters=15, duration=2.0, return_clean=True, random_state=0
    )


def test_panel_fields(panel):
    assert len(panel.audio) == len(panel.clean) == 150
    assert all(a.shape == (2, 2 * SR) and a.dtype == np.float32 for a in panel.audio)
    assert panel.ratings.shape == (150, 15) and panel.sr == SR
    assert panel.frame.index.tolist() == panel.track_names
    assert panel.frame.columns.tolist() == panel.rater_names == [f"s{j:02d}" for j in range(1, 16)]
    np.testing.assert_array_equal(panel.frame.to_numpy(), panel.ratings)
    assert "synthetic" in panel.DESCR.lower()
    finite = panel.ratings[~np.isnan(panel.ratings)]
    assert np.all(np.isin(finite, FACTOR_STEPS))
    assert np.all(np.isin(panel.oracle, FACTOR_STEPS))
    assert not np.isnan(panel.ratings).all(axis=1).any()
    assert all(np.abs(a).max() < 1.0 for a in panel.audio)


def test_injected_resonances_follow_the_design(panel):
    res = panel.resonances
    counts = res.groupby("track").size().reindex(panel.track_names, fill_value=0)
    assert counts.between(0, 4).all() and set(counts) == {0, 1, 2, 3, 4}
    assert res["center_hz"].between(80, 8000).all()
    assert res["q"].between(3, 10).all() and res["gain_db"].between(6, 18).all()
    np.testing.assert_allclose(
        panel.strength,
        res.groupby("track")["gain_db"].sum().reindex(panel.track_names, fill_value=0),
    )


def test_clean_excerpt_is_recovered_by_undoing_the_filters(panel):
    for i in (0, 1, 2):
        table = panel.resonances[panel.resonances["track"] == panel.track_names[i]]
        undone = _inject(panel.audio[i], table, SR, inverse=True)
        np.testing.assert_allclose(undone, panel.clean[i], atol=2e-6)


def test_panel_statistics_look_like_the_papers_table_1(panel):
    summary = rater_summary(panel.frame)
    medians = summary["Median"]
    assert ((medians >= 0.1) & (medians <= 0.35)).sum() >= 10
    assert (medians >= 0.4).sum() >= 1  # like s07
    zeros = summary["# 0.0"]
    assert (zeros >= 2.5 * zeros.median()).sum() >= 2  # like s01 and s15
    declines = summary["# No rating"]
    assert ((declines >= 12) & (declines <= 30)).sum() == 1  # like s13 (21)
    assert (declines <= 10).sum() == 14
    assert (summary["Max"] >= 0.6).sum() >= 12
    corr = rater_correlations(panel.frame).to_numpy()
    pairs = corr[np.triu_indices(15, 1)]
    assert pairs.mean() > 0.2


def test_oracle_rises_with_injected_strength(panel):
    rho = stats.spearmanr(panel.oracle, panel.strength).statistic
    assert rho >= 0.5
    none = panel.strength == 0
    assert panel.oracle[none].mean() < panel.oracle[~none].mean()
    # Ratings follow the oracle too: the mean rating per track correlates with it.
    assert stats.spearmanr(panel.oracle, np.nanmean(panel.ratings, axis=1)).statistic > 0.5


def test_equalizing_at_the_oracle_brings_the_track_closer_to_clean(panel):
    eq = ResonanceEqualizer(sr=SR).fit()
    layout = eq.analyze(panel.audio[0]).layout
    strongest = np.argsort(-panel.oracle, kind="stable")[:4]
    assert panel.oracle[strongest].min() > 0
    for i in strongest:
        reference = layout.levels(eq.framing_.frame_power(panel.clean[i]))

        def real_distance(factor):
            y = eq.equalize(panel.audio[i], factor=factor)
            return _band_distance(layout.levels(eq.framing_.frame_power(y)), reference)

        real = np.array([real_distance(f) for f in FACTOR_STEPS])
        assert real[np.flatnonzero(FACTOR_STEPS == panel.oracle[i])[0]] < real[0]
        # The cheap STFT-domain oracle agrees with resynthesis within two steps.
        assert abs(FACTOR_STEPS[np.argmin(real)] - panel.oracle[i]) <= 2 / 16 + 1e-12
        # Factor 0 is the untouched track: the cheap distance is exact there.
        assert panel.oracle_distances[i, 0] == pytest.approx(real[0], rel=1e-4)


def test_frame_power_matches_the_equalizers_analysis():
    x = make_synthetic_music(1, 1.3, random_state=2)[0]
    eq = ResonanceEqualizer(sr=SR).fit()
    np.testing.assert_allclose(eq.framing_.frame_power(x), eq.analyze(x).power,
                               rtol=1e-4, atol=1e-12)


def test_panel_is_deterministic_and_n_jobs_does_not_matter():
    a = make_listening_test(n_tracks=5, n_raters=4, duration=1.0, random_state=3)
    b = make_listening_test(n_tracks=5, n_raters=4, duration=1.0, random_state=3, n_jobs=2)
    c = make_listening_test(n_tracks=5, n_raters=4, duration=1.0, random_state=4)
    np.testing.assert_array_equal(a.ratings, b.ratings)
    np.testing.assert_array_equal(a.audio[2], b.audio[2])
    assert a.resonances.equals(b.resonances)
    assert not np.array_equal(a.audio[0], c.audio[0])


def test_panel_from_a_source_folder(tmp_path):
    from sk_reseq.audio import save_audio

    music = make_synthetic_music(2, 3.0, random_state=0)
    save_audio(tmp_path / "alpha.wav", music[0], SR)
    save_audio(tmp_path / "beta.flac", music[1][:1], SR)  # mono
    calls = []
    data = make_listening_test(
        n_tracks=3, n_raters=2, source=tmp_path, duration=1.0, random_state=0, progress=calls.append
    )
    assert data.track_names == ["000-alpha", "001-beta", "002-alpha"]
    assert all(a.shape == (2, SR) for a in data.audio)
    assert calls == [1, 1, 1]
    # A list of files works too.
    files = [tmp_path / "alpha.wav"]
    assert make_listening_test(1, 1, source=files, duration=1.0, random_state=0).track_names == [
        "000-alpha"
    ]


def test_panel_source_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        make_listening_test(2, 2, source=tmp_path / "missing", duration=1.0)
    from sk_reseq.audio import save_audio

    save_audio(tmp_path / "short.wav", np.zeros((2, SR // 2), dtype=np.float32), SR)
    with pytest.raises(ValueError, match=r"short.wav lasts 0.50 s, shorter than the excerpt"):
        make_listening_test(2, 2, source=tmp_path, duration=1.0)
    with pytest.raises(ValueError, match="empty list"):
        make_listening_test(2, 2, source=[], duration=1.0)


@pytest.mark.parametrize("params", [{"n_tracks": 0}, {"n_raters": 0}, {"duration": 0}])
def test_panel_bad_parameters(params):
    with pytest.raises(ValueError, match=next(iter(params))):
        make_listening_test(**params)


# -- the command line ------------------------------------------------------------------


def test_cli_panel_make_writes_a_complete_panel(tmp_path, capsys):
    from sk_reseq.audio import load_audio
    from sk_reseq.cli import main
    from sk_reseq.datasets import load_ratings

    out = tmp_path / "panel"
    argv = ["panel", "make", str(out), "--n-tracks", "3", "--n-raters", "4", "--duration", "1",
            "--seed", "2", "--format", "wav", "-q"]
    assert main(argv) == 0
    assert sorted(p.name for p in (out / "audio").iterdir()) == [
        "track000.wav", "track001.wav", "track002.wav"
    ]
    ratings = load_ratings(out / "ratings.csv")
    data = make_listening_test(3, 4, duration=1.0, random_state=2)
    np.testing.assert_array_equal(ratings.to_numpy(), data.ratings)
    audio, sr = load_audio(out / "audio" / "track001.wav")
    assert sr == SR and audio.shape == (2, SR)
    np.testing.assert_allclose(audio, data.audio[1], atol=1e-6)  # 24-bit PCM
    readme = (out / "README.md").read_text()
    assert "synthetic" in readme and "oracle" in readme and "track002.wav" in readme
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left
    # An existing, non-empty OUTDIR is refused.
    assert main(argv) == 2
    assert "not an empty folder" in capsys.readouterr().err


def test_cli_panel_make_from_folders_with_variants_keeps_recordings_grouped(tmp_path):
    from sk_reseq.audio import save_audio
    from sk_reseq.cli import main
    from sk_reseq.datasets import load_panel

    music = make_synthetic_music(3, 2.0, random_state=0)
    for clip, (folder, name) in zip(music, (("a", "x"), ("a", "y"), ("b", "z"))):
        (tmp_path / folder).mkdir(exist_ok=True)
        save_audio(tmp_path / folder / f"{name}.wav", clip, SR)
    out = tmp_path / "panel"
    assert main(["panel", "make", str(out), "--source", str(tmp_path / "a"), str(tmp_path / "b"),
                 "--variants", "2", "--n-tracks", "3", "--n-raters", "2", "--duration", "1",
                 "-q"]) == 0
    panel = load_panel(out)
    assert sorted(panel.track_names) == ["000-x-v0", "000-x-v1", "001-y-v0", "001-y-v1",
                                         "002-z-v0", "002-z-v1"]
    stems = [n.split("-")[1] for n in panel.track_names]
    # Rows share a group exactly when they share the recording.
    same_group = panel.groups[:, None] == panel.groups[None, :]
    same_stem = np.array(stems)[:, None] == np.array(stems)[None, :]
    np.testing.assert_array_equal(same_group, same_stem)
    assert "`" + str(tmp_path / "b") + "`" in (out / "README.md").read_text()


def test_load_panel_folder_groups_errors(tmp_path):
    from sk_reseq.cli import main
    from sk_reseq.datasets import load_panel

    out = tmp_path / "panel"
    assert main(["panel", "make", str(out), "--n-tracks", "2", "--n-raters", "2", "--duration",
                 "1", "-q"]) == 0
    tracks = pd.read_csv(out / "tracks.csv")
    np.testing.assert_array_equal(load_panel(out).groups, tracks["group"])
    tracks.iloc[:1].to_csv(out / "tracks.csv", index=False)
    with pytest.raises(ValueError, match=r"no group for 1 of the audio files \(e.g. 'track001'"):
        load_panel(out)
    tracks.drop(columns="group").to_csv(out / "tracks.csv", index=False)
    np.testing.assert_array_equal(load_panel(out).groups, [0, 1])  # one group per track
    (out / "tracks.csv").write_bytes(b'"unclosed\n')
    with pytest.raises(ValueError, match="not a readable CSV"):
        load_panel(out)


def test_panel_from_real_music(music_files):
    data = make_listening_test(
        n_tracks=4, n_raters=3, source=music_files[:2], duration=2.0, random_state=0
    )
    assert [n.split("-", 1)[1] for n in data.track_names] == [
        music_files[0].stem, music_files[1].stem, music_files[0].stem, music_files[1].stem
    ]
    assert all(a.shape == (2, 2 * SR) for a in data.audio)
    # The excerpts of one file cycled twice come from different places.
    assert not np.allclose(data.audio[0][:, :1000], data.audio[2][:, :1000])
    assert np.all(np.isin(data.oracle, FACTOR_STEPS))


def test_add_resonances_matches_the_panel_and_round_trips(panel):
    i = int(np.argmax(panel.strength))
    table = panel.resonances[panel.resonances["track"] == panel.track_names[i]]
    as_rows = list(table[["center_hz", "q", "gain_db"]].itertuples(index=False, name=None))
    injected = add_resonances(panel.clean[i], as_rows, SR)
    assert injected.dtype == np.float32 and injected.shape == panel.clean[i].shape
    np.testing.assert_allclose(injected, panel.audio[i], atol=2e-6)
    np.testing.assert_allclose(add_resonances(panel.audio[i], table, SR, inverse=True),
                               panel.clean[i], atol=2e-6)
    np.testing.assert_array_equal(add_resonances(panel.clean[i], [], SR), panel.clean[i])


@pytest.mark.parametrize("resonances, match", [
    ([(1000.0, 8.0)], "rows of"),
    ([(20000.0, 8.0, 6.0)], "sr/2"),
    ([(1000.0, 0.0, 6.0)], "q"),
    ([(np.nan, 8.0, 6.0)], "finite"),
    (pd.DataFrame({"center_hz": [1000.0], "q": [8.0]}), "gain_db"),
])
def test_add_resonances_bad_input(resonances, match):
    x = np.zeros((2, 100), dtype=np.float32)
    with pytest.raises(ValueError, match=match):
        add_resonances(x, resonances, SR)
