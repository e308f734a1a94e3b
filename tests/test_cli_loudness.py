"""``sk-reseq eq`` and ``auto``: loudness and true peak reported, --match-loudness, --gain and
the clipping policy (--on-clip), an MP3 decoded beyond full scale included."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sk_reseq.audio import load_audio
from sk_reseq.cli import main
from sk_reseq.loudness import integrated_loudness, sample_peak, true_peak

SR = 22050
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"  # real music, if present


def resonant(seconds=3.0, amplitude=0.3, seed=0):
    """Stereo noise and a strong partial (a resonance the equalizer removes), (samples, 2)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    x = 0.05 * rng.standard_normal((t.size, 2)) + amplitude * np.sin(2 * np.pi * 440 * t)[:, None]
    return x.astype(np.float32)


@pytest.fixture
def track(tmp_path):
    path = tmp_path / "in.wav"
    sf.write(path, resonant(), SR, subtype="PCM_24")
    return path


@pytest.fixture
def hot_mp3(tmp_path):
    """An MP3 that decodes beyond full scale (as mastered MP3s often do)."""
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile cannot write MP3")
    path = tmp_path / "hot.mp3"
    sf.write(path, resonant(amplitude=1.1), SR, format="MP3")
    assert np.abs(load_audio(path)[0]).max() > 1.0
    return path


def levels(path):
    x, sr = load_audio(path)
    return integrated_loudness(x, sr), true_peak(x, sr), sample_peak(x)


def test_eq_reports_loudness_and_true_peak_before_and_after(track, tmp_path, capsys):
    out = tmp_path / "out.flac"
    assert main(["eq", str(track), str(out), "--factor", "1"]) == 0
    line = capsys.readouterr().out
    lufs_in, peak_in, _ = levels(track)
    lufs_out, peak_out, _ = levels(out)
    assert lufs_out < lufs_in - 3  # the equalizer made it quieter: the report says by how much
    assert (f"loudness {lufs_in:+.1f} -> {lufs_out:+.1f} LUFS ({lufs_out - lufs_in:+.1f} LU)"
            in line), line
    assert f"true peak {peak_in:+.1f} -> {peak_out:+.1f} dBTP" in line, line
    assert "mean gain" not in line


def test_match_loudness_brings_the_file_to_the_inputs_loudness(track, tmp_path, capsys):
    out = tmp_path / "out.wav"
    assert main(["eq", str(track), str(out), "--factor", "1", "--match-loudness"]) == 0
    line = capsys.readouterr().out
    assert levels(out)[0] == pytest.approx(levels(track)[0], abs=0.5)
    assert "(+0.0 LU)" in line and "loudness match +" in line


@pytest.mark.skipif(not CORPUS.is_dir(), reason="no real music in /work/shared/corpus")
def test_match_loudness_on_real_music(tmp_path, capsys):
    """Must hold: within 0.5 LU of the input on real music (a corpus excerpt, via the CLI)."""
    x, sr = load_audio(sorted(CORPUS.glob("*.ogg"))[0], duration=8.0)
    source = tmp_path / "music.wav"
    sf.write(source, x.T, sr, subtype="FLOAT")
    out = tmp_path / "out.wav"
    assert main(["eq", str(source), str(out), "--factor", "1", "--match-loudness",
                 "--on-clip", "warn", "-q"]) == 0
    assert levels(out)[0] == pytest.approx(levels(source)[0], abs=0.5)


def test_gain_is_applied_after_matching(track, tmp_path, capsys):
    out = tmp_path / "out.wav"
    assert main(["eq", str(track), str(out), "--match-loudness", "--gain", "-6"]) == 0
    assert levels(out)[0] == pytest.approx(levels(track)[0] - 6, abs=0.5)
    assert "--gain -6.0" in capsys.readouterr().out


def test_an_mp3_beyond_full_scale_is_not_clipped_silently(hot_mp3, tmp_path, capsys):
    out = tmp_path / "out.wav"  # 16-bit PCM: what is beyond full scale is clipped
    assert main(["eq", str(hot_mp3), str(out), "--factor", "0"]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "clipped in the PCM_16 file" in err and "--gain -" in err
    assert "IN already peaks at +" in err
    # The way out the warning gives works: that gain brings the true peak to -1 dBTP.
    gain = err.split("--gain ")[1].split()[0]
    fixed = tmp_path / "fixed.wav"
    assert main(["eq", str(hot_mp3), str(fixed), "--factor", "0", "--gain", gain]) == 0
    assert "warning" not in capsys.readouterr().err
    assert -1.3 < levels(fixed)[1] <= -0.9


def test_on_clip_error_writes_nothing(hot_mp3, tmp_path, capsys):
    out = tmp_path / "out.flac"
    assert main(["eq", str(hot_mp3), str(out), "--factor", "0", "--on-clip", "error"]) == 2
    err = capsys.readouterr().err
    assert "would clip" in err and "nothing was written" in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["hot.mp3"]


def test_on_clip_normalize_lowers_the_output_to_minus_1_dbtp(hot_mp3, tmp_path, capsys):
    out = tmp_path / "out.wav"
    assert main(["eq", str(hot_mp3), str(out), "--factor", "0.5", "--match-loudness",
                 "--on-clip", "normalize"]) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err and "normalize -" in captured.out
    _, peak, sample = levels(out)
    assert peak == pytest.approx(-1.0, abs=0.2) and sample < 0.0


def test_float_output_keeps_the_overs_and_says_so(tmp_path, capsys):
    source = tmp_path / "in.wav"
    sf.write(source, resonant(amplitude=1.2), SR, subtype="FLOAT")
    out = tmp_path / "out.wav"
    assert main(["eq", str(source), str(out), "--factor", "0", "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""  # -q: no summary, but the warning
    assert "keeps its" in captured.err and "FLOAT file" in captured.err
    assert np.abs(load_audio(out)[0]).max() > 1.0


@pytest.mark.parametrize("argv, message", [
    (["--match-loudness", "--delta"], "does not apply to --delta"),
    (["--gain", "nan"], "--gain must be a finite"),
    (["--on-clip", "maybe"], None),
])
def test_bad_loudness_options(track, tmp_path, capsys, argv, message):
    out = tmp_path / "out.wav"
    if message is None:  # argparse refuses the choice
        with pytest.raises(SystemExit):
            main(["eq", str(track), str(out), *argv])
        assert "invalid choice" in capsys.readouterr().err
    else:
        assert main(["eq", str(track), str(out), *argv]) == 2
        assert message in capsys.readouterr().err
    assert not out.exists()


def test_the_batch_form_refuses_the_one_file_loudness_options(track, tmp_path, capsys):
    assert main(["eq", str(track), "-o", str(tmp_path / "out"), "--match-loudness"]) == 2
    assert "--match-loudness take the form IN OUT" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_auto_reports_loudness_and_matches_it(track, tmp_path, capsys):
    out = tmp_path / "out.wav"
    assert main(["auto", str(track), str(out), "--match-loudness"]) == 0
    line = capsys.readouterr().out
    assert "factor mean" in line and "LUFS (+0.0 LU)" in line and "dBTP" in line
    assert levels(out)[0] == pytest.approx(levels(track)[0], abs=0.5)


def test_more_than_five_channels_report_peaks_but_no_loudness(tmp_path, capsys):
    source = tmp_path / "in.wav"
    sf.write(source, np.tile(resonant(seconds=1.0)[:, :1], (1, 6)), SR, subtype="PCM_16")
    out = tmp_path / "out.wav"
    assert main(["eq", str(source), str(out)]) == 0
    line = capsys.readouterr().out
    assert "loudness n/a (BS.1770: 1 to 5 channels)" in line and "dBTP" in line
    assert main(["eq", str(source), str(tmp_path / "matched.wav"), "--match-loudness"]) == 2
    assert "1 to 5 channels" in capsys.readouterr().err
    assert not (tmp_path / "matched.wav").exists()
