"""Panel preparation: loudness alignment and matching, the 17 variants, resumability, bad input."""

import json
from pathlib import Path

import numpy as np
import pyloudnorm  # a core dependency: an independent meter to check the panel with
import pytest

from sk_reseq.audio import load_audio, save_audio
from sk_reseq.cli import main
from sk_reseq.listen import panel_factors, pink_noise_reference, prepare_panel
from sk_reseq.loudness import integrated_loudness

SR = 22050
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"  # real music, if present


def make_tracks(folder, n_tracks=3, seconds=2.0, sr=SR, seed=0):
    """Short stereo test tracks: noise plus a strong partial (a resonance), varied levels."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    for i in range(n_tracks):
        tone = np.sin(2 * np.pi * (220 + 170 * i) * t)
        x = 0.05 * rng.standard_normal((2, t.size)) + 0.3 * tone
        save_audio(folder / f"track{i}.wav", (x * 10 ** (-i / 4)).astype(np.float32), sr)
    return folder


def make_panel(tmp_path, n_tracks=3, seconds=2.0, **params):
    """A prepared panel of ``n_tracks`` short tracks (short noise reference)."""
    params = {"noise_seconds": 0.3, "silence_seconds": 0.1, **params}
    src = make_tracks(tmp_path / "src", n_tracks, seconds)
    panel = tmp_path / "panel"
    prepare_panel(src, panel, **params)
    return panel


def lufs(path):
    audio, sr = load_audio(path)
    return pyloudnorm.Meter(sr).integrated_loudness(audio.T.astype(np.float64))


def file_states(panel):
    return {p.relative_to(panel).as_posix(): p.stat().st_mtime_ns
            for p in panel.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def panel17(tmp_path_factory):
    return make_panel(tmp_path_factory.mktemp("p17"))


def test_manifest_lists_17_decodable_variants_per_track(panel17):
    manifest = json.loads((panel17 / "manifest.json").read_text())
    assert manifest["factors"] == [k / 16 for k in range(17)]
    assert [t["id"] for t in manifest["tracks"]] == ["track0", "track1", "track2"]
    for track in manifest["tracks"]:
        assert [v["factor"] for v in track["variants"]] == manifest["factors"]
        for variant in track["variants"][::8]:
            audio, sr = load_audio(panel17 / variant["file"])
            assert sr == SR and audio.shape == (2, track["frames"])
            assert track["duration"] == pytest.approx(track["frames"] / sr)
        # Matched: the more attenuation, the more gain brings the variant back.
        gains = [v["match_gain_db"] for v in track["variants"]]
        assert gains[0] == pytest.approx(0.0, abs=0.1) and gains[-1] > 0.5
        assert min(np.diff(gains)) > -0.05
    assert not [p for p in panel17.rglob("*") if p.name.startswith(".")], \
        "temporary files left behind"


def decoded_loudness(panel, track):
    """Integrated loudness of each of a track's variant files, decoded (LUFS)."""
    return [integrated_loudness(*load_audio(panel / v["file"])) for v in track["variants"]]


def test_variants_of_a_track_are_loudness_matched(panel17):
    """Must hold: the 17 variants of a track lie within 0.5 LU of each other (decoded files)."""
    manifest = json.loads((panel17 / "manifest.json").read_text())
    assert manifest["match_loudness"] is True
    for track in manifest["tracks"]:
        levels = decoded_loudness(panel17, track)
        assert max(levels) - min(levels) < 0.5, levels
        assert np.mean(levels) == pytest.approx(-23.0, abs=0.5)
        assert lufs(panel17 / track["variants"][-1]["file"]) == pytest.approx(levels[-1], abs=0.01)


def test_without_matching_the_variants_keep_the_equalizers_loudness_drop(tmp_path):
    panel = make_panel(tmp_path, n_tracks=1, n_steps=3, match_loudness=False)
    track = json.loads((panel / "manifest.json").read_text())["tracks"][0]
    levels = decoded_loudness(panel, track)
    assert levels[-1] < levels[0] - 0.5  # the equalizer only attenuates
    assert [v["match_gain_db"] for v in track["variants"]] == [0.0, 0.0, 0.0]
    # A changed setting renders again (here: matching on).
    again = prepare_panel(tmp_path / "src", panel, n_steps=3, noise_seconds=0.3,
                          silence_seconds=0.1)
    assert again["rendered"] == ["track0"]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="no real music in /work/shared/corpus")
def test_variants_of_real_music_are_loudness_matched(tmp_path):
    """Must hold on real music: 17 variants of a corpus excerpt within 0.5 LU of each other."""
    source = sorted(CORPUS.glob("*.ogg"))[0]
    src = tmp_path / "src"
    src.mkdir()
    (src / source.name).symlink_to(source)
    manifest = prepare_panel(src, tmp_path / "panel", max_seconds=6.0, noise_seconds=0.3)
    track = manifest["tracks"][0]
    levels = decoded_loudness(tmp_path / "panel", track)
    assert len(levels) == 17 and max(levels) - min(levels) < 0.5, levels
    # What matching undoes: full attenuation makes real music audibly quieter.
    assert track["variants"][-1]["match_gain_db"] > 1.0


@pytest.mark.parametrize("target", [-23.0, -30.0])
def test_loudness_alignment_hits_the_target(tmp_path, target):
    panel = make_panel(tmp_path, n_tracks=2, n_steps=2, target_lufs=target)
    manifest = json.loads((panel / "manifest.json").read_text())
    for track in manifest["tracks"]:
        assert abs(track["source_loudness_lufs"] - target) > 2  # the sources really were off target
        assert lufs(panel / track["variants"][0]["file"]) == pytest.approx(target, abs=0.5)
        assert not track["peak_limited"]
    assert lufs(panel / manifest["noise"]["file"]) == pytest.approx(target, abs=0.5)


def test_peak_guard_lowers_all_variants_together(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    clicks = np.zeros((1, 2 * SR), dtype=np.float32)
    clicks[0, ::2205] = 0.5  # very high crest factor: -5 LUFS would need peaks far above 0 dBFS
    save_audio(src / "clicks.wav", clicks, SR)
    manifest = prepare_panel(src, tmp_path / "panel", target_lufs=-5.0, n_steps=3,
                             noise_seconds=0.3)
    track = manifest["tracks"][0]
    assert track["peak_limited"]
    assert max(v["peak_dbfs"] for v in track["variants"]) == pytest.approx(-1.0, abs=0.01)
    assert track["gain_db"] < -5.0 - track["source_loudness_lufs"]
    decoded = load_audio(tmp_path / "panel" / track["variants"][0]["file"])[0]
    assert 20 * np.log10(np.abs(decoded).max()) <= -1.0 + 0.01


def test_rerun_skips_finished_tracks_and_redoes_a_damaged_one(tmp_path):
    panel = make_panel(tmp_path, n_steps=3)
    before = file_states(panel)
    (panel / "audio" / "track1" / "v02.flac").unlink()
    with open(panel / "audio" / "track2" / "v00.flac", "r+b") as fh:  # same size, other bytes
        fh.seek(200)
        fh.write(b"\0" * 64)

    manifest = prepare_panel(tmp_path / "src", panel, n_steps=3, noise_seconds=0.3,
                             silence_seconds=0.1)

    assert manifest["rendered"] == ["track1", "track2"]
    assert manifest["skipped"] == ["track0"]
    after = file_states(panel)
    assert set(after) == set(before)
    untouched = [f for f in before if f.startswith("audio/track0/") or f == "audio/_noise.flac"]
    assert untouched and all(after[f] == before[f] for f in untouched)
    assert load_audio(panel / "audio" / "track1" / "v02.flac")[0].shape == (2, 2 * SR)


def test_changed_settings_render_everything_again(tmp_path):
    panel = make_panel(tmp_path, n_tracks=2, n_steps=3)
    full = (panel / "audio" / "track0" / "v02.flac").read_bytes()
    manifest = prepare_panel(tmp_path / "src", panel, n_steps=3, target_lufs=-20.0,
                             noise_seconds=0.3)
    assert manifest["rendered"] == ["track0", "track1"] and manifest["skipped"] == []
    assert json.loads((panel / "manifest.json").read_text())["target_lufs"] == -20.0
    manifest = prepare_panel(tmp_path / "src", panel, n_steps=3, noise_seconds=0.3,
                             equalizer_params={"mix": 0.5})
    assert manifest["rendered"] == ["track0", "track1"]
    assert json.loads((panel / "manifest.json").read_text())["equalizer"] == {"mix": 0.5}
    assert (panel / "audio" / "track0" / "v02.flac").read_bytes() != full


def test_interrupted_run_leaves_no_partial_track(tmp_path, monkeypatch):
    src = make_tracks(tmp_path / "src", n_tracks=3)
    panel = tmp_path / "panel"
    import sk_reseq.listen._prepare as prep

    real_save = prep._save_variant
    calls = []

    def failing_save(path, *args):
        calls.append(path)
        if len(calls) == 5:  # in the middle of the second track
            raise KeyboardInterrupt
        return real_save(path, *args)

    monkeypatch.setattr(prep, "_save_variant", failing_save)
    with pytest.raises(KeyboardInterrupt):
        prepare_panel(src, panel, n_steps=3, noise_seconds=0.3)
    assert (panel / "audio" / "track0" / "track.json").is_file()
    assert not (panel / "audio" / "track1" / "track.json").exists()
    assert not (panel / "manifest.json").exists()
    assert not [p for p in panel.rglob("*") if p.name.startswith(".")]

    monkeypatch.setattr(prep, "_save_variant", real_save)
    manifest = prepare_panel(src, panel, n_steps=3, noise_seconds=0.3)
    assert manifest["skipped"] == ["track0"] and manifest["rendered"] == ["track1", "track2"]


def test_max_seconds_cuts_excerpts_with_fades(tmp_path):
    panel = make_panel(tmp_path, n_tracks=1, n_steps=2, max_seconds=1.5)
    track = json.loads((panel / "manifest.json").read_text())["tracks"][0]
    assert track["frames"] == int(1.5 * SR) and track["duration"] == 1.5
    audio, _ = load_audio(panel / track["variants"][1]["file"])
    assert audio.shape == (2, int(1.5 * SR))
    edge = int(0.01 * SR)
    # The looped track neither starts nor ends with a jump; the middle is untouched by fades.
    assert np.abs(audio[:, :3]).max() < 1e-3 and np.abs(audio[:, -3:]).max() < 1e-3
    assert np.abs(audio[:, edge:2 * edge]).max() > 0.01


def test_vorbis_variants_decode_near_the_target(tmp_path):
    panel = make_panel(tmp_path, n_tracks=1, n_steps=2, codec="vorbis", quality=0.8)
    manifest = json.loads((panel / "manifest.json").read_text())
    variant = manifest["tracks"][0]["variants"][0]
    assert variant["file"].endswith(".ogg")
    assert lufs(panel / variant["file"]) == pytest.approx(-23.0, abs=0.5)


def test_pink_noise_reference_is_pink_and_framed_by_silence():
    x = pink_noise_reference(sr=16000, noise_seconds=4.0, silence_seconds=0.25, random_state=3)
    assert x.shape == (2, 16000 * 9 // 2) and x.dtype == np.float32
    assert np.array_equal(x[0], x[1])
    assert not x[:, :4000].any() and not x[:, -4000:].any()
    noise = x[0, 4000 + 800:-4000 - 800].astype(np.float64)
    power = np.abs(np.fft.rfft(noise)) ** 2
    freqs = np.fft.rfftfreq(noise.size, 1 / 16000)
    edges = np.geomspace(50, 6400, 8)
    band_power = [power[(freqs >= lo) & (freqs < hi)].sum()
                  for lo, hi in zip(edges[:-1], edges[1:])]
    slope = np.polyfit(np.log2(edges[:-1]), 10 * np.log10(band_power), 1)[0]
    # Equal power per octave: pink, not white (+3 dB/oct).
    assert slope == pytest.approx(0.0, abs=0.6)
    assert not np.array_equal(x, pink_noise_reference(sr=16000, noise_seconds=4.0,
                                                      silence_seconds=0.25, random_state=4))


@pytest.mark.parametrize("kwargs, message", [
    ({"codec": "mp3"}, "codec"),
    ({"target_lufs": 3.0}, "target_lufs"),
    ({"peak_ceiling_dbfs": 1.0}, "peak_ceiling_dbfs"),
    ({"quality": 1.5}, "quality"),
    ({"max_seconds": 0}, "max_seconds"),
    ({"n_jobs": 0}, "n_jobs"),
    ({"n_steps": 1}, "n_steps"),
    ({"noise_seconds": 0}, "noise_seconds"),
    ({"silence_seconds": -1}, "silence_seconds"),
    ({"equalizer_params": {"sr": 8000}}, "sr"),
    ({"equalizer_params": {"match_loudness": False}}, "match_loudness"),
    ({"match_loudness": "no"}, "match_loudness"),
])
def test_bad_parameters_are_rejected_before_any_work(tmp_path, kwargs, message):
    src = make_tracks(tmp_path / "src", n_tracks=1, seconds=0.5)
    with pytest.raises(ValueError, match=message):
        prepare_panel(src, tmp_path / "panel", **kwargs)
    assert not (tmp_path / "panel").exists()


@pytest.mark.parametrize("params", [{"no_such_option": 1}, {"smoothing": np.float32},
                                    [("smoothing", 1.0)]])
def test_bad_equalizer_params(tmp_path, params):
    src = make_tracks(tmp_path / "src", n_tracks=1, seconds=0.5)
    with pytest.raises(TypeError, match="equalizer_params"):
        prepare_panel(src, tmp_path / "panel", equalizer_params=params)
    assert not (tmp_path / "panel").exists()


def test_bad_folders_and_tracks(tmp_path):
    with pytest.raises(ValueError, match="not a folder"):
        prepare_panel(tmp_path / "missing", tmp_path / "panel")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no audio")
    with pytest.raises(ValueError, match="no audio files"):
        prepare_panel(tmp_path / "empty", tmp_path / "panel")
    clash = make_tracks(tmp_path / "clash", n_tracks=1, seconds=0.5)
    save_audio(clash / "track0.flac", np.zeros((1, 100), dtype=np.float32), SR)
    with pytest.raises(ValueError, match="both map to track id 'track0'"):
        prepare_panel(clash, tmp_path / "panel")
    silent = tmp_path / "silent"
    silent.mkdir()
    save_audio(silent / "quiet.wav", np.zeros((1, SR), dtype=np.float32), SR)
    with pytest.raises(ValueError, match="silent"):
        prepare_panel(silent, tmp_path / "panel", n_steps=2)


def test_cli_prepare(tmp_path, capsys):
    src = make_tracks(tmp_path / "src", n_tracks=2, seconds=1.0)
    argv = ["listen", "prepare", str(src), str(tmp_path / "panel"), "--noise-seconds", "0.3", "-q"]
    assert main(argv) == 0
    assert "2 tracks" in capsys.readouterr().out
    assert len(list((tmp_path / "panel" / "audio" / "track1").glob("v*.flac"))) == 17
    assert main(argv) == 0
    assert "0 rendered, 2 already done" in capsys.readouterr().out
    assert main(argv + ["--no-match-loudness"]) == 0  # another setting: rendered again
    assert "2 rendered" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "panel" / "manifest.json").read_text())
    assert manifest["match_loudness"] is False
    assert main(["listen", "prepare", str(tmp_path / "nowhere"), str(tmp_path / "p2")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_panel_factors():
    assert panel_factors() == [k / 16 for k in range(17)]
    assert panel_factors(3) == [0.0, 0.5, 1.0]
    for bad in [1, 2.5, True, "17"]:
        with pytest.raises(ValueError, match="n_steps"):
            panel_factors(bad)


@pytest.mark.slow
def test_parallel_rendering_writes_the_same_files(tmp_path):
    src = make_tracks(tmp_path / "src", n_tracks=2, seconds=1.0)
    one = prepare_panel(src, tmp_path / "one", n_steps=3, noise_seconds=0.3)
    two = prepare_panel(src, tmp_path / "two", n_steps=3, noise_seconds=0.3, n_jobs=2)
    assert two["rendered"] == ["track0", "track1"]
    assert [[v["sha256"] for v in t["variants"]] for t in two["tracks"]] == \
        [[v["sha256"] for v in t["variants"]] for t in one["tracks"]]
