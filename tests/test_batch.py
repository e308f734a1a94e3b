"""Equalizing files in blocks and catalogs in parallel: equalize_file, equalize_files, IN... -o."""

import json
import tracemalloc

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sk_reseq.audio import audio_info, load_audio
from sk_reseq.cli import main
from sk_reseq.equalizer import AutoEqualizer, ResonanceEqualizer, equalize_file, equalize_files
from sk_reseq.models import MeanRatingRegressor


@pytest.fixture
def model():
    """A model that predicts a constant factor: fast, and its factors are known."""
    return MeanRatingRegressor().fit(np.zeros((2, 2, 11025), dtype=np.float32), [0.6, 0.6])


@pytest.fixture
def catalog(tmp_path, rng):
    """Nested folders: three good files (rates, channels, formats), a corrupt and an unsupported."""
    root = tmp_path / "catalog"
    (root / "disc1" / "bonus").mkdir(parents=True)
    sf.write(root / "a.wav", 0.1 * rng.standard_normal((22050, 2)), 22050, subtype="PCM_24")
    sf.write(root / "disc1" / "b.flac", 0.1 * rng.standard_normal((24000, 1)), 16000)
    sf.write(root / "disc1" / "bonus" / "c.wav", 0.1 * rng.standard_normal((30000, 2)), 44100,
             subtype="FLOAT")
    (root / "disc1" / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEnot really")
    (root / "disc1" / "notes.txt").write_text("liner notes")
    return root


GOOD = ["a.wav", "disc1/b.flac", "disc1/bonus/c.wav"]


@pytest.mark.parametrize("kind", ["eq", "eq_unlinked_mix", "auto"])
@pytest.mark.parametrize("block_frames", [1000, 65536])
def test_streaming_file_equals_offline(tmp_path, rng, model, kind, block_frames):
    x = (0.1 * rng.standard_normal((2, 30011))).astype(np.float32)  # not a multiple of a block
    sf.write(tmp_path / "in.wav", x.T, 22050, subtype="FLOAT")
    make = {
        "eq": lambda: ResonanceEqualizer(factor=0.7, sr=22050),
        "eq_unlinked_mix": lambda: ResonanceEqualizer(factor=1.0, sr=22050, mix=0.5,
                                                      link_channels=False),
        "auto": lambda: AutoEqualizer(model, sr=22050, hop=0.25),
    }[kind]
    given = make()
    result = equalize_file(tmp_path / "in.wav", tmp_path / "out.wav", given,
                           block_frames=block_frames, analyze_output=True)
    y, sr = load_audio(tmp_path / "out.wav")
    offline = make().fit().transform(x)
    assert sr == 22050 and y.shape == x.shape == offline.shape
    assert np.max(np.abs(y - offline)) <= 1e-5
    assert result.frames == x.shape[1] and result.duration == pytest.approx(x.shape[1] / sr)
    assert result.strongest_gain_db < -0.1
    assert "stream_analysis_" not in vars(given)  # the equalizer given is not used up
    # The analysis of the output is the detector's on what was written.
    fitted = make().fit()
    detector = fitted.equalizer_ if kind == "auto" else fitted
    _, after = detector.equalize(offline, factor=0.0, return_analysis="mean")
    np.testing.assert_allclose(result.output_analysis.mean_levels, after.mean_levels, atol=1e-3)
    if kind == "auto":
        assert result.factor_max == pytest.approx(0.6) and result.factor_min == 0.0
    else:
        assert result.factor_mean == result.factor_min == result.factor_max


def test_streaming_analysis_equals_offline_mean_analysis(rng):
    x = (0.1 * rng.standard_normal((2, 20000))).astype(np.float32)
    eq = ResonanceEqualizer(factor=0.5, sr=22050).fit()
    _, offline = eq.equalize(x, return_analysis="mean")
    for block in np.array_split(x, 5, axis=1):
        eq.process_block(block)
    eq.flush()
    for key in ("mean_levels", "mean_resonances", "mean_gain_db"):
        np.testing.assert_allclose(eq.stream_analysis_[key], offline[key], atol=1e-4)


def test_memory_does_not_grow_with_the_length(tmp_path, rng):
    peaks = []
    eq = ResonanceEqualizer(sr=8000)
    for seconds in (60, 240):
        path = tmp_path / f"{seconds}.wav"
        sf.write(path, 0.1 * rng.standard_normal((seconds * 8000, 1)), 8000, subtype="PCM_16")
        equalize_file(path, tmp_path / "warm.wav", eq, block_frames=4096)  # caches
        tracemalloc.start()
        try:
            equalize_file(path, tmp_path / "out.wav", eq, block_frames=4096)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    # A whole-file path would need 4x the memory for 4x the audio.
    assert peaks[1] < 1.15 * peaks[0], peaks


def test_truncated_file_fails_and_leaves_no_partial_output(tmp_path, rng):
    sf.write(tmp_path / "full.flac", 0.1 * rng.standard_normal((80000, 2)), 16000)
    data = (tmp_path / "full.flac").read_bytes()
    (tmp_path / "cut.flac").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or damaged"):
        equalize_file(tmp_path / "cut.flac", tmp_path / "out.flac", ResonanceEqualizer())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.flac", "full.flac"]


def test_catalog_cli_reports_bad_files_and_resumes(catalog, tmp_path, capsys):
    out, manifest = tmp_path / "out", tmp_path / "manifest.csv"
    args = ["eq", str(catalog), "-o", str(out), "--manifest", str(manifest), "--jobs", "2", "-q"]
    assert main(args) == 1  # some files failed
    err = capsys.readouterr().err
    assert "corrupt.wav" in err and "notes.txt" in err
    for name in GOOD:
        info_in, info_out = audio_info(catalog / name), audio_info(out / name)
        assert (info_out.frames, info_out.samplerate, info_out.channels) == (
            info_in.frames, info_in.samplerate, info_in.channels)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == GOOD
    table = pd.read_csv(manifest)
    rows = {p.split("catalog/")[1]: r for p, r in zip(table.file, table.to_dict("records"))}
    assert list(table.columns) == ["file", "output", "duration", "rate", "channels",
                                   "factor_mean", "factor_min", "factor_max",
                                   "strongest_gain_db", "seconds", "status", "error"]
    assert [rows[n]["status"] for n in GOOD] == ["done"] * 3
    assert rows["disc1/corrupt.wav"]["status"] == "failed"
    assert "Could not read" in rows["disc1/corrupt.wav"]["error"]
    assert "Unsupported audio format '.txt'" in rows["disc1/notes.txt"]["error"]
    assert rows["disc1/b.flac"]["duration"] == pytest.approx(1.5)
    assert rows["a.wav"]["factor_mean"] == 0.5 and rows["a.wav"]["strongest_gain_db"] < 0

    # A rerun skips what is complete (the files are not rewritten) and keeps the figures.
    stamps = {n: (out / n).stat().st_mtime_ns for n in GOOD}
    (out / GOOD[0]).unlink()
    assert main(args) == 1
    again = pd.read_csv(manifest)
    assert again.status.tolist() == ["done", "skipped", "skipped", "failed", "failed"]
    assert again.factor_mean[1] == 0.5  # carried over from the first manifest
    assert {n: (out / n).stat().st_mtime_ns for n in GOOD[1:]} == {
        n: stamps[n] for n in GOOD[1:]}


def test_catalog_json_manifest_format_and_single_files(catalog, tmp_path, model):
    out = tmp_path / "out"
    table = equalize_files([catalog / "a.wav", catalog / "disc1"], out,
                           equalizer=AutoEqualizer(model), format="flac",
                           manifest=tmp_path / "m.json")
    assert table.status.tolist() == ["done", "done", "done", "failed", "failed"]
    assert table.output[0] == str(out / "a.flac")  # a file given alone: at the top
    assert (out / "bonus" / "c.flac").is_file() and (out / "b.flac").is_file()
    assert audio_info(out / "bonus" / "c.flac").subtype == "PCM_24"  # float into FLAC
    rows = json.loads((tmp_path / "m.json").read_text())
    assert [r["status"] for r in rows] == table.status.tolist()
    assert rows[0]["rate"] == 22050 and rows[3]["rate"] is None
    assert rows[0]["factor_max"] == pytest.approx(0.6)


def test_dask_local_cluster_gives_the_local_outputs(catalog, tmp_path, model):
    distributed = pytest.importorskip("distributed")
    local = equalize_files(catalog, tmp_path / "local", equalizer=AutoEqualizer(model))
    # In-process workers (processes=False): the same code path at a fraction of the start-up.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = equalize_files(catalog, tmp_path / "dask", equalizer=AutoEqualizer(model),
                                scheduler=client)
    assert remote.status.tolist() == local.status.tolist()
    np.testing.assert_allclose(remote.factor_mean.astype(float), local.factor_mean.astype(float))
    for name in GOOD:
        a, _ = load_audio(tmp_path / "local" / name)
        b, _ = load_audio(tmp_path / "dask" / name)
        np.testing.assert_allclose(a, b, atol=1e-7)


def test_local_cluster_workers_start_without_dasks_malloc_trim(catalog, tmp_path, model,
                                                                monkeypatch):
    # dask's MALLOC_TRIM_THRESHOLD_=65536 made each file 1.5x slower in its workers.
    distributed = pytest.importorskip("distributed")
    import dask

    key = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
    before = dask.config.get(key, None)
    seen = []

    class Refused(Exception):
        pass

    def fake_cluster(**kwargs):
        seen.append((kwargs["n_workers"], dask.config.get(key)))
        raise Refused

    monkeypatch.setattr(distributed, "LocalCluster", fake_cluster)
    with pytest.raises(Refused):
        equalize_files(catalog, tmp_path / "out", equalizer=AutoEqualizer(model),
                       scheduler="local", n_jobs=2)
    assert seen == [(2, None)]
    assert dask.config.get(key, None) == before  # the user's config is left as it was


@pytest.mark.parametrize(
    "args, message",
    [
        (["-o", "{out}", "--format", "xyz"], "unsupported output format"),
        (["-o", "{out}", "--manifest", "{tmp}/m.txt"], "manifest must be a .csv or .json"),
        (["-o", "{out}", "--jobs", "0"], "n_jobs must be"),
        (["-o", "{out}", "--plot", "{tmp}/p.png"], "--plot draws one file"),
        (["-o", "{out}", "--factor", "2"], "factor"),
        (["{tmp}/o.wav"], "is a folder: equalize folders with IN... -o OUT_DIR"),
        (["{tmp}/o.wav", "{tmp}/p.wav"], "give IN OUT (one file) or IN... -o OUT_DIR"),
        (["{tmp}/o.wav", "--jobs", "2"], "--jobs needs -o OUT_DIR"),
        (["{tmp}/missing", "-o", "{out}"], "input not found"),
        (["-o", "{catalog}"], "is an input folder"),
    ],
)
def test_bad_batch_arguments_fail_before_any_work(catalog, tmp_path, capsys, args, message):
    fill = {"out": tmp_path / "out", "tmp": tmp_path, "catalog": catalog}
    argv = ["eq", str(catalog), *(a.format(**fill) for a in args)]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog"]


def test_two_inputs_onto_one_output_are_refused(catalog, tmp_path):
    sf.write(catalog / "a.flac", np.zeros((100, 1)), 8000)
    with pytest.raises(ValueError, match="would both be written"):
        equalize_files(catalog, tmp_path / "out", equalizer=ResonanceEqualizer(), format="flac")
    with pytest.raises(TypeError, match="ResonanceEqualizer or an AutoEqualizer"):
        equalize_files(catalog, tmp_path / "out", equalizer="eq")
    assert not (tmp_path / "out").exists()


def test_auto_batch_cli(catalog, tmp_path, model):
    from sk_reseq.persistence import save_model

    save_model(model, tmp_path / "model.skops")
    out = tmp_path / "out"
    assert main(["auto", str(catalog / "a.wav"), str(catalog / "disc1" / "b.flac"), "-o",
                 str(out), "--model", str(tmp_path / "model.skops"), "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.wav", "b.flac"]
    assert audio_info(out / "b.flac").frames == 24000


def test_batch_cli_runs_on_the_core_install(catalog, tmp_path):
    from test_lean_install import run_core

    out = tmp_path / "out"
    code = """
        from sk_reseq.cli import main
        code = main(sys.argv[1:])
        print(sorted(m for m in sys.modules if m.partition(".")[0] in ("pandas", "dask")))
        sys.exit(code)
    """
    result = run_core(code, "eq", str(catalog), "-o", str(out), "--manifest",
                      str(tmp_path / "m.csv"), "-q")
    assert result.returncode == 1, result.stderr  # the corrupt and the unsupported file
    assert result.stdout.strip() == "[]"
    assert all((out / name).is_file() for name in GOOD)
    assert (tmp_path / "m.csv").read_text().count(",done,") == 3
