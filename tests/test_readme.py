"""The README's code blocks run as written.

The Python blocks run in order in one namespace, as in a session, in a
folder holding a generated ``mix.wav``. The command-line block's commands run
on generated files named as in the README; the ones that take minutes
(``train``, ``experiment``, ``demo``) or serve forever (``listen serve``) are
parsed with the real parser instead, so a renamed option still fails here.
``listen export`` runs on the panel ``listen prepare`` wrote, which nobody
has rated: it must say so. The ``make`` lines are the test run itself.
"""

import contextlib
import io
import os
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sk_reseq.cli import build_parser, main

README = Path(__file__).resolve().parents[1] / "README.md"
# Commands too long for the test suite (minutes) or that never return: parsed only.
PARSED_ONLY = {"train", "experiment", "demo", "serve"}


def blocks(language):
    """The README's fenced code blocks in ``language``, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(), re.M | re.S)


def write_music(path, seconds, sr=22050, seed=0):
    """Noise with a strong resonance at 1 kHz: something for the equalizer to do."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    audio = 0.05 * rng.standard_normal((2, t.size)) + 0.2 * np.sin(2 * np.pi * 1000 * t)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio.T.astype(np.float32), sr)


@pytest.fixture
def in_tmp(tmp_path):
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(cwd)


def test_readme_has_the_blocks_this_test_runs():
    assert len(blocks("python")) >= 4
    assert len(blocks("bash")) >= 2


@pytest.mark.slow
def test_python_blocks_run_as_written(in_tmp):
    pytest.importorskip("essentia")
    write_music(in_tmp / "mix.wav", 4.0)
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        for i, code in enumerate(blocks("python")):
            exec(compile(code, f"README.md python block {i + 1}", "exec"), namespace)
    # What the blocks say they do, checked on what they computed.
    assert (in_tmp / "mix_eq.wav").exists()
    assert namespace["equalized"].shape == namespace["audio"].shape
    offline = namespace["eq"].transform(namespace["audio"])
    np.testing.assert_allclose(namespace["streamed"], offline, atol=1e-5)
    lines = printed.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == ["MeanRatingRegressor", "Pipeline"]
    assert all(0 <= float(line.split()[1]) < 1 for line in lines)
    factors = namespace["auto"].factors_.factors
    assert factors.shape == namespace["auto"].factors_.times.shape
    assert np.all((0 <= factors) & (factors <= 1))


def _commands():
    for code in blocks("bash"):
        for line in code.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("sk-reseq"):
                yield shlex.split(line)[1:]


@pytest.mark.slow
def test_command_line_block_runs_as_written(in_tmp, capsys):
    write_music(in_tmp / "in.wav", 3.0)
    for seed, name in enumerate(["a.wav", "b.wav"]):
        write_music(in_tmp / "my_music" / name, 12.0, seed=seed)
        write_music(in_tmp / "AUDIO" / name, 2.0, seed=seed)
    commands = list(_commands())
    assert {argv[0] for argv in commands} >= {"eq", "auto", "evaluate", "panel", "listen"}
    ran = []
    for argv in commands:
        if argv == ["--help"]:
            with contextlib.redirect_stdout(io.StringIO()), pytest.raises(SystemExit) as exit_:
                main(argv)
            assert exit_.value.code == 0
        elif PARSED_ONLY & set(argv[:2]):
            args = build_parser(commands=[argv[0]]).parse_args(argv)
            assert callable(args.func)
        else:
            if argv[:2] == ["panel", "make"]:  # small: the README's command on a few tracks
                argv = argv + ["--n-tracks", "4", "--duration", "2"]
            if argv[:2] == ["panel", "summary"]:  # the ratings of the panel just made
                (in_tmp / "ratings.csv").write_bytes((in_tmp / "panel/ratings.csv").read_bytes())
            with contextlib.redirect_stdout(io.StringIO()):
                status = main(argv)
            if argv[:2] == ["listen", "export"]:  # nobody rated the panel just prepared
                assert status == 2
                assert "nobody has rated yet" in capsys.readouterr().err
            else:
                assert status == 0, argv
            ran.append(argv[0] if argv[0] not in ("panel", "listen") else " ".join(argv[:2]))
    assert (in_tmp / "out.wav").exists() and (in_tmp / "eq.png").exists()
    assert (in_tmp / "report.png").exists() and (in_tmp / "eval.png").exists()
    assert (in_tmp / "PANEL").is_dir() and (in_tmp / "ratings.csv").exists()
    assert {"eq", "auto", "evaluate", "panel make", "panel summary", "listen prepare",
            "listen export"} <= set(ran)
