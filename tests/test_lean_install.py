"""The core install: the equalizer and ``sk-reseq eq|auto`` without any extra.

Each check runs in a fresh interpreter where the extras' packages cannot be
imported (a meta-path finder refuses them), so nothing installed in the test
environment can make the core path pass by accident.
"""

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sk_reseq._optional import EXTRAS

ROOT = Path(__file__).resolve().parents[1]

# What the extras bring: the core must run with none of it importable.
BLOCKED = sorted(set(EXTRAS) | {"patsy", "sympy", "numba", "librosa"})

_PRELUDE = f"""
import sys

class _Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {BLOCKED!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

sys.meta_path.insert(0, _Refuse())
"""


def run_core(code, *args):
    """Run ``code`` in a fresh interpreter with the extras unimportable."""
    script = _PRELUDE + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)


@pytest.fixture(scope="module")
def noise_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("lean") / "noise.wav"
    rng = np.random.default_rng(0)
    sf.write(path, (0.05 * rng.standard_normal((3 * 22050, 2))).astype(np.float32), 22050)
    return path


def test_equalizer_and_default_model_run_without_extras():
    result = run_core("""
        import numpy as np
        from sk_reseq.equalizer import AutoEqualizer, ResonanceEqualizer
        from sk_reseq.persistence import load_default_model

        x = 0.1 * np.random.default_rng(0).standard_normal((2, 4 * 22050))
        x[:, :] += 0.3 * np.sin(2 * np.pi * 1000 * np.arange(x.shape[1]) / 22050)
        y = ResonanceEqualizer(factor=1.0, sr=22050).fit().equalize(x)
        assert y.shape == x.shape and not np.allclose(y, x)
        model = load_default_model()
        auto = AutoEqualizer(model=model, sr=22050).fit()
        assert auto.equalize(x).shape == x.shape
        print(sorted(m for m in sys.modules if m.partition(".")[0] in {blocked!r}))
    """.replace("{blocked!r}", repr(BLOCKED)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_cli_eq_and_auto_run_without_extras(noise_file, tmp_path):
    code = """
        from sk_reseq.cli import main
        sys.exit(main(sys.argv[1:]))
    """
    for command in ("eq", "auto"):
        out = tmp_path / f"{command}.wav"
        result = run_core(code, command, str(noise_file), str(out), "-q")
        assert result.returncode == 0, result.stderr
        assert sf.info(out).frames == sf.info(noise_file).frames


def test_help_imports_no_command():
    # `sk-reseq --help` lists the commands from a table: no scikit-learn, no numpy.
    result = run_core("""
        import contextlib, io
        from sk_reseq.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as out:
            try:
                main(["--help"])
            except SystemExit:
                pass
        assert "auto" in out.getvalue() and "train" in out.getvalue()
        print(sorted(m for m in ("sklearn", "numpy", "scipy") if m in sys.modules))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(("code", "extra"), [
    ("import sk_reseq.models as m; m.FFNRegressor", "models"),
    ("import sk_reseq.models as m; m.DRNRegressor", "models"),
    ("import sk_reseq.datasets", "models"),
    ("import sk_reseq.evaluation", "models"),
    ("import sk_reseq.model_selection", "models"),
])
def test_library_names_the_missing_extra(code, extra):
    result = run_core(code)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError:") and f"pip install 'sk_reseq[{extra}]'" in last


def test_cli_names_the_missing_extra_before_work(noise_file, tmp_path):
    out, figure = tmp_path / "out.wav", tmp_path / "eq.png"
    result = run_core("""
        from sk_reseq.cli import main
        sys.exit(main(sys.argv[1:]))
    """, "eq", str(noise_file), str(out), "--plot", str(figure), "-q")
    assert result.returncode == 2
    assert "pip install 'sk_reseq[plot]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists() and not figure.exists()


def test_pyproject_extras_bring_what_the_error_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {req.split(">")[0].split("[")[0].lower() for req in project["dependencies"]}
    extras = project["optional-dependencies"]
    for module, (distribution, extra) in EXTRAS.items():
        name = distribution.split(" ")[0].split("[")[0].lower()
        assert name not in core, f"{name} is an extra's, not the core's"
        listed = {req.split(">")[0].split("[")[0].lower() for req in extras[extra]}
        assert name in listed, f"{module}: {name} is not in the {extra!r} extra"
