"""Audio I/O and the ``sk-reseq eq`` command: formats, atomic writes, bad input."""

import os
import stat
import tempfile

import numpy as np
import pytest
import soundfile as sf

from sk_reseq.audio import audio_info, load_audio, resample, save_audio
from sk_reseq.cli import main


@pytest.fixture
def stereo_wav(tmp_path, rng):
    path = tmp_path / "in.wav"
    sf.write(path, 0.1 * rng.standard_normal((22050, 2)), 22050, subtype="PCM_24")
    return path


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg"])
def test_round_trip_formats(tmp_path, rng, ext):
    x = (0.2 * rng.standard_normal((2, 8000))).astype(np.float32)
    path = tmp_path / f"a{ext}"
    save_audio(path, x, 16000)
    y, sr = load_audio(path)
    assert sr == 16000 and y.shape == x.shape and y.dtype == np.float32
    if ext != ".ogg":  # lossless formats
        assert np.max(np.abs(y - x)) < 1e-3


def test_load_resamples_and_mixes_to_mono(stereo_wav):
    y, sr = load_audio(stereo_wav, sr=44100, mono=True)
    assert sr == 44100 and y.shape == (1, 44100)


def test_resample_keeps_a_tone():
    t = np.arange(44100) / 44100
    x = np.sin(2 * np.pi * 1000 * t)[None].astype(np.float32)
    y = resample(x, 44100, 22050)
    spectrum = np.abs(np.fft.rfft(y[0]))
    assert abs(np.argmax(spectrum) * 22050 / y.shape[1] - 1000) < 2


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_audio(tmp_path / "missing.wav")
    bogus = tmp_path / "bogus.wav"
    bogus.write_bytes(b"not audio at all")
    with pytest.raises(ValueError, match="Could not read"):
        load_audio(bogus)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="Unsupported audio format"):
        load_audio(text)
    with pytest.raises(IsADirectoryError):
        load_audio(tmp_path)


def test_save_is_atomic_and_checks_the_folder(tmp_path):
    x = np.zeros((1, 100), dtype=np.float32)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_audio(tmp_path / "nope" / "a.wav", x, 8000)
    with pytest.raises(ValueError, match="NaN"):
        save_audio(tmp_path / "a.wav", np.full((1, 10), np.nan), 8000)
    assert os.listdir(tmp_path) == []  # nothing half-written


def test_cli_eq_keeps_rate_subtype_and_length(stereo_wav, tmp_path, capsys):
    out, plot = tmp_path / "out.wav", tmp_path / "eq.png"
    assert main(["eq", str(stereo_wav), str(out), "--factor", "0.6", "--plot", str(plot)]) == 0
    info_in, info_out = audio_info(stereo_wav), audio_info(out)
    assert (info_out.samplerate, info_out.subtype, info_out.frames, info_out.channels) == (
        info_in.samplerate, info_in.subtype, info_in.frames, info_in.channels)
    assert plot.stat().st_size > 10_000
    assert "factor 0.6" in capsys.readouterr().out


def test_cli_eq_factor_zero_is_transparent(stereo_wav, tmp_path):
    out = tmp_path / "out.flac"
    main(["eq", str(stereo_wav), str(out), "--factor", "0", "-q"])
    x, _ = load_audio(stereo_wav)
    y, _ = load_audio(out)
    assert np.max(np.abs(x - y)) < 1e-5


@pytest.mark.parametrize(
    "args, message",
    [
        (["--factor", "1.5"], "factor"),
        (["--factor", "-0.1"], "factor"),
    ],
)
def test_cli_eq_bad_factor(stereo_wav, tmp_path, capsys, args, message):
    out = tmp_path / "out.wav"
    assert main(["eq", str(stereo_wav), str(out), *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_cli_eq_bad_paths(stereo_wav, tmp_path, capsys):
    assert main(["eq", str(tmp_path / "missing.wav"), str(tmp_path / "o.wav")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["eq", str(stereo_wav), str(tmp_path / "no" / "o.wav")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["eq", str(stereo_wav), str(tmp_path / "o.xyz")]) == 2
    assert "Unsupported output format" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_cli_eq_unwritable_folder(stereo_wav, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert main(["eq", str(stereo_wav), str(locked / "o.wav")]) == 2
        assert "not writable" in capsys.readouterr().err
    finally:
        locked.chmod(stat.S_IRWXU)


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    real_write = sf.SoundFile.write

    def broken_write(self, data):
        real_write(self, data[:5])
        raise RuntimeError("disk full")

    monkeypatch.setattr(sf.SoundFile, "write", broken_write)
    with pytest.raises(RuntimeError, match="disk full"):
        save_audio(tmp_path / "a.wav", np.zeros((1, 10), dtype=np.float32), 8000)
    assert list(tmp_path.iterdir()) == []


def test_cli_eq_output_inside_a_file_or_denied(stereo_wav, tmp_path, capsys, monkeypatch):
    assert main(["eq", str(stereo_wav), str(stereo_wav / "o.wav")]) == 2
    assert "does not exist" in capsys.readouterr().err
    # root ignores permissions (and os.access says yes to it even on a read-only
    # mount), so fail the temporary file the way a read-only folder would
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    assert main(["eq", str(stereo_wav), str(tmp_path / "o.wav")]) == 2
    assert "not writable" in capsys.readouterr().err
    assert not (tmp_path / "o.wav").exists()
