"""Start-up and short-file speed of the ``sk-reseq`` command, in fresh interpreters.

Prints one JSON line:
- python_s: a bare ``python -c pass`` (the reference of this run);
- help_s, help_vs_python: ``sk-reseq --help`` (goal < 0.5 s);
- eq_20s_s, eq_20s_vs_python: ``sk-reseq eq IN OUT -q`` on 20 s of 44.1 kHz
  stereo (goal < 2 s on an idle machine);
- auto_20s_s: ``sk-reseq auto IN OUT -q`` with the default model;
- core_eq_20s_s, core_auto_20s_s: the same with the extras' packages made
  unimportable (what a core install, ``pip install .``, runs: without pandas
  installed scikit-learn imports faster);
- eq_inprocess_s and eq_startup_share: the equalizing alone (in this
  process, after the imports) and the share of ``eq_20s_s`` that is start-up.

Each figure is the best of ``REPEATS`` runs. Run: ``python benchmarks/bench_cli.py``.
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _music import stereo_music
from sk_reseq._optional import EXTRAS
from sk_reseq.audio import save_audio
from sk_reseq.cli import main

SR = 44100
SECONDS = 20
REPEATS = 3

# A meta-path finder that refuses the extras, as in tests/test_lean_install.py.
_CORE_ONLY = f"""
import sys
class _Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {sorted(EXTRAS)!r}:
            raise ModuleNotFoundError(name, name=name)
sys.meta_path.insert(0, _Refuse())
"""
_RUN_CLI = "import sys; from sk_reseq.cli import main; sys.exit(main(sys.argv[1:]))"


def best_seconds(argv):
    """Best wall time of ``argv`` (a fresh process) over ``REPEATS`` runs."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def cli(*args, core_only=False):
    code = (_CORE_ONLY if core_only else "") + _RUN_CLI
    return best_seconds([sys.executable, "-c", code, *args])


def main_():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = tmp / "in.wav"
        music, origin = stereo_music(SECONDS, SR)
        save_audio(source, music, SR)
        eq_args = ("eq", str(source), str(tmp / "eq.wav"), "-q")
        auto_args = ("auto", str(source), str(tmp / "auto.wav"), "-q")
        python_s = best_seconds([sys.executable, "-c", "pass"])
        help_s = cli("--help")
        eq_s = cli(*eq_args)
        auto_s = cli(*auto_args)
        core_eq_s = cli(*eq_args, core_only=True)
        core_auto_s = cli(*auto_args, core_only=True)
        assert main(list(eq_args)) == 0  # warm the imports, then time the work alone
        inprocess = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            assert main(list(eq_args)) == 0
            inprocess.append(time.perf_counter() - start)
    eq_inprocess_s = min(inprocess)
    print(json.dumps({
        "audio": origin,
        "python_s": round(python_s, 3),
        "help_s": round(help_s, 3),
        "help_vs_python": round(help_s / python_s, 2),
        "eq_20s_s": round(eq_s, 2),
        "eq_20s_vs_python": round(eq_s / python_s, 1),
        "auto_20s_s": round(auto_s, 2),
        "core_eq_20s_s": round(core_eq_s, 2),
        "core_auto_20s_s": round(core_auto_s, 2),
        "eq_inprocess_s": round(eq_inprocess_s, 2),
        "eq_startup_share": round(1 - eq_inprocess_s / eq_s, 2),
    }))


if __name__ == "__main__":
    main_()
