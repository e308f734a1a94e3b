"""Audio I/O robustness (issue 15): output formats, checks before the work, truncated
files, memory on long files, parameter ranges."""

import os
import tempfile
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

import sk_reseq.audio
from sk_reseq.audio import check_audio_output, load_audio, output_subtype, save_audio
from sk_reseq.cli import main
from sk_reseq.equalizer import AutoEqualizer, ResonanceEqualizer
from sk_reseq.models import MeanRatingRegressor
from sk_reseq.persistence import save_model

SR = 22050


def noise_file(path, seconds=1.0, sr=SR, channels=2, subtype=None, seed=0):
    x = 0.1 * np.random.default_rng(seed).standard_normal((int(seconds * sr), channels))
    sf.write(path, x.astype(np.float32), sr, subtype=subtype)
    return path


@pytest.fixture(scope="module")
def mean_model(tmp_path_factory):
    """A trusted model that predicts fast: `auto` runs in a fraction of a second."""
    windows = np.zeros((2, 2, 11025), dtype=np.float32)
    path = tmp_path_factory.mktemp("model") / "mean.skops"
    return save_model(MeanRatingRegressor().fit(windows, [0.4, 0.6]), path)


@pytest.fixture
def no_work(monkeypatch):
    """Make loading the input fail the test: the checks must come before it."""
    def started(*args, **kwargs):
        raise AssertionError("the work started before every check was done")

    # eq and auto read their input in blocks (equalize_file), imported on use.
    monkeypatch.setattr(sk_reseq.audio, "read_blocks", started)
    monkeypatch.setattr(sk_reseq.audio, "load_audio", started)


def run(command, src, out, *extra, model=None):
    args = [command, str(src), str(out), "-q", *extra]
    if command == "auto":
        args += ["--model", str(model)]
    return main(args)


# -- 3. output subtype and what the output format holds ----------------------


@pytest.mark.parametrize(
    "fmt, source, expected",
    [
        ("WAV", "MPEG_LAYER_III", "PCM_16"),  # check_format says yes, writing fails
        ("FLAC", "MPEG_LAYER_III", "PCM_16"),
        ("WAV", "VORBIS", "PCM_16"),
        ("WAV", "ULAW", "PCM_16"),
        ("WAV", "PCM_24", "PCM_24"),
        ("WAV", "FLOAT", "FLOAT"),
        ("FLAC", "PCM_24", "PCM_24"),
        ("FLAC", "FLOAT", "PCM_24"),
        ("FLAC", "PCM_32", "PCM_24"),
        ("FLAC", "PCM_U8", "PCM_S8"),
        ("MP3", "PCM_24", "MPEG_LAYER_III"),
        ("OGG", "PCM_16", "VORBIS"),
        ("OGG", "OPUS", "OPUS"),
        ("OGG", "MPEG_LAYER_III", "VORBIS"),
        ("WAV", None, "PCM_16"),
    ],
)
def test_output_subtype(fmt, source, expected):
    assert output_subtype(fmt, source) == expected


def test_output_subtype_rejects_unknown_names():
    with pytest.raises(ValueError, match="Unknown audio subtype 'PCM_17'"):
        output_subtype("WAV", "PCM_17")
    with pytest.raises(ValueError, match="Unknown audio format 'XYZ'"):
        output_subtype("XYZ", "PCM_16")


@pytest.mark.parametrize("command", ["eq", "auto"])
@pytest.mark.parametrize("src_ext", [".mp3", ".ogg"])
@pytest.mark.parametrize("out_ext", [".wav", ".flac"])
def test_lossy_input_to_pcm_output(tmp_path, mean_model, command, src_ext, out_ext):
    src = noise_file(tmp_path / f"in{src_ext}")
    out = tmp_path / f"out{out_ext}"
    assert run(command, src, out, model=mean_model) == 0
    info_in, info_out = sf.info(str(src)), sf.info(str(out))
    assert info_out.subtype == "PCM_16"
    assert (info_out.frames, info_out.samplerate, info_out.channels) == (
        info_in.frames, info_in.samplerate, info_in.channels)


@pytest.mark.parametrize(
    "source, out_ext, expected",
    [("FLOAT", ".flac", "PCM_24"), ("PCM_24", ".flac", "PCM_24"), ("PCM_32", ".flac", "PCM_24"),
     ("FLOAT", ".wav", "FLOAT"), ("PCM_24", ".mp3", "MPEG_LAYER_III")],
)
def test_output_keeps_the_depth_the_format_holds(tmp_path, source, out_ext, expected):
    src = noise_file(tmp_path / "in.wav", subtype=source)
    out = tmp_path / f"out{out_ext}"
    assert run("eq", src, out) == 0
    assert sf.info(str(out)).subtype == expected


@pytest.mark.parametrize("command", ["eq", "auto"])
@pytest.mark.parametrize(
    "sr, channels, message",
    [(44100, 6, "1 to 2 channels"), (96000, 2, "44100, 48000 Hz"),
     (96000, 6, "6 channel(s) at 96000 Hz")],
)
def test_what_mp3_cannot_hold_is_refused_at_once(tmp_path, capsys, no_work, mean_model,
                                                 command, sr, channels, message):
    src = noise_file(tmp_path / "in.wav", seconds=0.1, sr=sr, channels=channels)
    assert run(command, src, tmp_path / "out.mp3", model=mean_model) == 2
    err = capsys.readouterr().err
    assert message in err and "MP3" in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]


def test_check_audio_output_leaves_nothing_behind(tmp_path):
    assert check_audio_output(tmp_path / "a.flac", 48000, 2, "FLOAT") == ("FLAC", "PCM_24")
    with pytest.raises(ValueError, match="1 to 8 channels"):
        check_audio_output(tmp_path / "a.flac", 48000, 9)
    with pytest.raises(ValueError, match="up to 200000 Hz"):  # libvorbis would crash
        check_audio_output(tmp_path / "a.ogg", 384000, 2)
    assert list(tmp_path.iterdir()) == []


# -- 4. the output is never the input ------------------------------------------


@pytest.mark.parametrize("command", ["eq", "auto"])
@pytest.mark.parametrize("alias", ["same", "dotted", "symlink", "hardlink"])
def test_output_that_is_the_input_is_refused(tmp_path, capsys, no_work, mean_model,
                                             command, alias):
    src = noise_file(tmp_path / "in.wav")
    original = src.read_bytes()
    (tmp_path / "sub").mkdir()
    out = {"same": src, "dotted": tmp_path / "sub" / ".." / "in.wav",
           "symlink": tmp_path / "link.wav", "hardlink": tmp_path / "hard.wav"}[alias]
    if alias == "symlink":
        out.symlink_to(src)
    elif alias == "hardlink":
        os.link(src, out)
    assert run(command, src, out, model=mean_model) == 2
    assert "is the same file as IN" in capsys.readouterr().err
    assert src.read_bytes() == original


def test_figure_that_is_the_output_is_refused(tmp_path, capsys, no_work):
    # .raw is both an audio and a figure format
    src = noise_file(tmp_path / "in.wav")
    assert run("eq", src, tmp_path / "out.raw", "--plot", str(tmp_path / "out.raw")) == 2
    assert "is the same file as OUT" in capsys.readouterr().err


# -- 5. every output check before the work -------------------------------------


@pytest.mark.parametrize(
    "command, out, extra, message",
    [
        ("eq", "out.xyz", [], "Unsupported output format '.xyz'"),
        ("eq", "out", [], "Unsupported output format '(no extension)'"),
        ("eq", "out.wav", ["--plot", "curves.txt"], "unsupported figure format '.txt'"),
        ("eq", "out.wav", ["--plot", "curves"], "unsupported figure format '(no extension)'"),
        ("eq", "out.wav", ["--plot", "missing/curves.png"], "output folder does not exist"),
        ("auto", "out.xyz", [], "Unsupported output format '.xyz'"),
        ("auto", "out.wav", ["--report", "report.txt"], "unsupported figure format '.txt'"),
        ("auto", "out.wav", ["--report", "missing/r.png"], "output folder does not exist"),
    ],
)
def test_output_checks_come_before_the_work(tmp_path, capsys, no_work, mean_model, monkeypatch,
                                            command, out, extra, message):
    src = noise_file(tmp_path / "in.wav")
    monkeypatch.chdir(tmp_path)
    assert run(command, src, out, *extra, model=mean_model) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]


@pytest.mark.parametrize("command, extra", [("eq", []), ("eq", ["--plot", "c.png"]),
                                            ("auto", []), ("auto", ["--report", "r.png"])])
def test_unwritable_folder_is_found_by_a_real_write(tmp_path, capsys, no_work, mean_model,
                                                    monkeypatch, command, extra):
    """os.access says yes to root even on a read-only mount: a temporary file is tried."""
    src = noise_file(tmp_path / "in.wav")
    locked = tmp_path / "locked"
    locked.mkdir()
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and os.path.samefile(dir, locked):
            raise OSError(30, "Read-only file system")
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: True)
    out = locked / "out.wav" if not extra else tmp_path / "out.wav"
    extra = [extra[0], str(locked / extra[1])] if extra else []
    assert run(command, src, out, *extra, model=mean_model) == 2
    err = capsys.readouterr().err
    assert f"output folder is not writable: {locked} (Read-only file system)" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav", "locked"]
    assert list(locked.iterdir()) == []


# -- 6. truncated files ----------------------------------------------------------


def truncated(tmp_path, ext, subtype=None, seconds=4.0, keep=1.3):
    """A ``seconds`` long file cut to the first ``keep / seconds`` of its bytes."""
    full = noise_file(tmp_path / f"full{ext}", seconds=seconds, subtype=subtype)
    data = full.read_bytes()
    cut = tmp_path / f"cut{ext}"
    cut.write_bytes(data[: int(len(data) * keep / seconds)])
    return full, cut


@pytest.mark.parametrize(
    "ext, subtype, message",
    [(".wav", "PCM_16", "its header declares 88200 frames (4.00 s) but the file holds only "),
     (".wav", "FLOAT", "its header declares 88200 frames (4.00 s) but the file holds only "),
     (".mp3", None, "its header declares 88200 frames (4.00 s) but the file holds only "),
     (".ogg", None, "it ends without the Ogg end-of-stream mark, after ")],
)
def test_truncated_file_loads_with_a_warning(tmp_path, caplog, ext, subtype, message):
    full, cut = truncated(tmp_path, ext, subtype)
    audio, sr = load_audio(cut)
    n = audio.shape[1]
    assert 0.2 * 88200 < n < 0.5 * 88200
    [record] = [r for r in caplog.records if r.levelname == "WARNING"]
    assert f"{cut} is truncated: {message}" in record.getMessage()
    assert f"{n} (" in record.getMessage() or f"after {n} frames" in record.getMessage()
    if ext == ".wav":  # what is there is read exactly
        np.testing.assert_array_equal(audio, load_audio(full)[0][:, :n])
    caplog.clear()
    load_audio(full)
    load_audio(cut, duration=0.5)  # a range the file holds: nothing missing
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_cli_eq_warns_on_a_truncated_input(tmp_path, caplog):
    _, cut = truncated(tmp_path, ".wav", "PCM_16")
    assert run("eq", cut, tmp_path / "out.wav") == 0
    assert any("is truncated" in r.getMessage() for r in caplog.records)


def test_truncated_flac_is_refused(tmp_path):
    _, cut = truncated(tmp_path, ".flac")
    with pytest.raises(ValueError,
                       match=r"of the 4\.00 s its header declares .* truncated or damaged"):
        load_audio(cut)


# -- 8. memory: one copy of a long file --------------------------------------------


def traced_peak(fn):
    tracemalloc.start()
    try:
        result = fn()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


@pytest.fixture
def long_wav(tmp_path):
    return noise_file(tmp_path / "long.wav", seconds=60.0, subtype="PCM_16")


def test_load_audio_reads_straight_into_the_result(long_wav):
    peak, (audio, _) = traced_peak(lambda: load_audio(long_wav))
    assert audio.shape == (2, 60 * SR) and audio.flags.c_contiguous
    assert peak < 1.15 * audio.nbytes  # the audio and a block, no transposed copy
    np.testing.assert_array_equal(audio, sf.read(str(long_wav), dtype="float32")[0].T)


def test_save_audio_writes_in_blocks(long_wav, tmp_path):
    audio, _ = load_audio(long_wav)
    peak, _ = traced_peak(lambda: save_audio(tmp_path / "copy.wav", audio, SR, "PCM_16"))
    assert peak < 0.4 * audio.nbytes  # no contiguous (samples, channels) copy
    np.testing.assert_array_equal(load_audio(tmp_path / "copy.wav")[0], audio)


def test_equalize_in_place(long_wav):
    audio, _ = load_audio(long_wav)
    eq = ResonanceEqualizer(factor=0.8, sr=SR).fit()
    kept = audio.copy()
    expected = eq.equalize(audio)
    np.testing.assert_array_equal(audio, kept)  # without out=, the input is left alone
    peak, result = traced_peak(lambda: eq.equalize(audio, out=audio))
    assert result is audio
    np.testing.assert_array_equal(result, expected)
    assert peak < 0.5 * audio.nbytes
    other = np.empty_like(kept)
    assert eq.equalize(kept, out=other) is other
    np.testing.assert_array_equal(other, expected)


@pytest.mark.parametrize(
    "X, out, message",
    [(np.zeros((2, 100), np.float32), np.zeros((2, 99), np.float32), "X's shape"),
     (np.zeros((2, 100), np.float32), np.zeros((2, 100), np.float64), "dtype float32"),
     (np.zeros((2, 100), np.int16), np.zeros((2, 100), np.float32), "single float32"),
     (np.zeros((3, 2, 100), np.float32), np.zeros((3, 2, 100), np.float32), "single float32")],
)
def test_equalize_out_is_checked(X, out, message):
    with pytest.raises(ValueError, match=message):
        ResonanceEqualizer(sr=SR).equalize(X, out=out)
    x = np.zeros((2, 100), np.float32)
    with pytest.raises(ValueError, match="shares no memory"):
        ResonanceEqualizer(sr=SR).equalize(x, out=x[::-1])


def test_cli_eq_memory_does_not_grow_with_the_file(long_wav, tmp_path):
    # eq streams the file in blocks: 60 s take no more memory than 15 s (it was
    # 3.2 copies of the audio, then 1.25 once it equalized in place).
    short = noise_file(tmp_path / "short.wav", seconds=15.0, subtype="PCM_16")
    assert run("eq", short, tmp_path / "warm.wav") == 0  # imports and caches first
    peaks = []
    for source in (short, long_wav):
        peak, status = traced_peak(lambda: run("eq", source, tmp_path / "out.wav"))
        assert status == 0
        peaks.append(peak)
    assert peaks[1] < 1.2 * peaks[0]  # the blocks' buffers, whatever the length


# -- 9. parameters within meaningful ranges ------------------------------------------


def test_smoothing_is_at_most_the_span_of_the_bands():
    with pytest.raises(ValueError, match=r"smoothing must lie in \(0, 9\.11\] octaves"):
        ResonanceEqualizer(sr=SR, smoothing=1e9).fit()
    span = np.log2(11025 / 20)
    ResonanceEqualizer(sr=SR, smoothing=span).fit()  # the whole span is accepted
    with pytest.raises(ValueError, match=r"\(0, 6\.64\] octaves"):
        ResonanceEqualizer(sr=SR, fmin=100, fmax=10000, smoothing=7).fit()


def test_cli_eq_smoothing_out_of_range_is_one_line(tmp_path, capsys, no_work):
    src = noise_file(tmp_path / "in.wav")
    assert run("eq", src, tmp_path / "out.wav", "--smoothing", "1e9") == 2
    err = capsys.readouterr().err
    assert err.startswith("sk-reseq eq: error: smoothing must lie in (0, 9.11] octaves")
    assert err.count("\n") == 1 and not (tmp_path / "out.wav").exists()


def test_auto_hop_within_range(tmp_path, capsys, no_work, mean_model):
    model = MeanRatingRegressor().fit(np.zeros((2, 2, 11025), np.float32), [0.4, 0.6])
    with pytest.raises(ValueError, match=r"hop must lie in \[0\.02322, 60\] seconds"):
        AutoEqualizer(model, sr=SR, hop=1e-4).fit()
    with pytest.raises(ValueError, match=r"'hop' parameter .* range \(0\.0, 60\.0\]"):
        AutoEqualizer(model, sr=SR, hop=1e300).fit()
    AutoEqualizer(model, sr=SR, hop=512 / SR).fit()  # one equalizer frame is accepted
    src = noise_file(tmp_path / "in.wav")
    for hop in ["1e-4", "1e300"]:
        assert run("auto", src, tmp_path / "out.wav", "--hop", hop, model=mean_model) == 2
        err = capsys.readouterr().err
        assert "hop" in err and err.count("\n") == 1
    assert not (tmp_path / "out.wav").exists()


def test_intact_vorbis_files_are_not_called_truncated(music_files, caplog):
    # Vorbis streams decode up to a block short of their declared count: no warning.
    import logging

    from sk_reseq.audio import load_audio

    with caplog.at_level(logging.WARNING, logger="sk_reseq"):
        for path in music_files[:6]:
            load_audio(path)
    assert not [r for r in caplog.records if "truncated" in r.getMessage()]
