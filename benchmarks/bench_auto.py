"""End-to-end speed of ``sk-reseq auto``, as ratios against the plain equalizer in the same run.

Prints one JSON line:
- rtf_eq: seconds of audio per second of ``sk-reseq eq IN OUT --factor 0.5``
  (decode, equalize, encode) on one minute of 44.1 kHz stereo (real music
  from ../shared/music when present, generated music otherwise);
- rtf_auto_default: the same for ``sk-reseq auto IN OUT`` with the shipped
  default model (the resonance model: 5 s windows, no torch);
- rtf_auto_drn: the same with a DRN of the paper's configuration (10
  blocks, 100/100/300 channels; its weights are from a one-epoch fit on a
  few windows: the speed does not depend on them);
- rtf_auto_cpu_drn: the same with the filterbank DRN (``CPU_DRN_PARAMS``);
- auto_default_vs_eq, auto_drn_vs_eq, auto_cpu_drn_vs_eq: the auto commands' speed as a
  fraction of the equalizer alone (1.0 = the model costs nothing; goal for
  the default model: >= 0.5);
- default_model_load_s: seconds for a fresh interpreter to import
  sk_reseq.persistence and load the default model file, best of
  ``REPEATS`` (goal < 1 s), and default_model_load_vs_trivial: that over
  the same for a one-number baseline model file (the imports' share).

The commands run in-process through ``sk_reseq.cli.main`` (no interpreter
start-up), predicting every 0.5 s, with one torch thread, best of
``REPEATS``. Run: ``python benchmarks/bench_auto.py`` (a few minutes).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _music import stereo_music
from sk_reseq.audio import save_audio
from sk_reseq.cli import main
from sk_reseq.models import CPU_DRN_PARAMS, DRNRegressor, MeanRatingRegressor
from sk_reseq.persistence import default_model_path, save_model

SR = 44100
SECONDS = 60
REPEATS = 2


def fitted_drn(path, **params):
    """A DRN fitted for one epoch on 8 windows (for timing only: the speed does not
    depend on the weights)."""
    rng = np.random.default_rng(0)
    windows = (0.1 * rng.standard_normal((8, 2, 11025))).astype(np.float32)
    drn = DRNRegressor(**{**params, "max_epochs": 1, "batch_size": 8, "random_state": 0,
                          "verbose": 0})
    drn.fit(windows, rng.uniform(0, 1, 8))
    save_model(drn, path)
    return path


def load_seconds(path):
    """Best time of a fresh interpreter to import the loader and load ``path``."""
    code = ("import time; t = time.perf_counter(); from sk_reseq.persistence import load_model; "
            f"load_model({str(path)!r}); print(time.perf_counter() - t)")
    return min(float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                    text=True).stdout) for _ in range(REPEATS))


def rtf(argv):
    best = np.inf
    for _ in range(REPEATS):
        start = time.perf_counter()
        assert main(argv) == 0, argv
        best = min(best, time.perf_counter() - start)
    return SECONDS / best


def run():
    torch.set_num_threads(1)
    audio, source = stereo_music(SECONDS, SR)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src, out = tmp / "in.wav", tmp / "out.wav"
        save_audio(src, audio, SR, subtype="PCM_16")
        drn = fitted_drn(tmp / "drn.skops")
        cpu_drn = fitted_drn(tmp / "cpu_drn.skops", **CPU_DRN_PARAMS)
        trivial = save_model(MeanRatingRegressor().fit(np.zeros((2, 1)), [0.0, 1.0]),
                             tmp / "trivial.skops")
        load_default = load_seconds(default_model_path())
        load_trivial = load_seconds(trivial)
        rtf_eq = rtf(["eq", str(src), str(out), "--factor", "0.5", "-q"])
        rtf_default = rtf(["auto", str(src), str(out), "-q"])
        rtf_drn = rtf(["auto", str(src), str(out), "--model", str(drn), "-q"])
        rtf_cpu_drn = rtf(["auto", str(src), str(out), "--model", str(cpu_drn), "-q"])
    return {
        "benchmark": "auto",
        "audio": source,
        "seconds": SECONDS,
        "rtf_eq": round(rtf_eq, 2),
        "rtf_auto_default": round(rtf_default, 2),
        "rtf_auto_drn": round(rtf_drn, 2),
        "rtf_auto_cpu_drn": round(rtf_cpu_drn, 2),
        "auto_default_vs_eq": round(rtf_default / rtf_eq, 3),
        "auto_drn_vs_eq": round(rtf_drn / rtf_eq, 3),
        "auto_cpu_drn_vs_eq": round(rtf_cpu_drn / rtf_eq, 3),
        "default_model_load_s": round(load_default, 3),
        "default_model_load_vs_trivial": round(load_default / load_trivial, 3),
        "torch_threads": torch.get_num_threads(),
        "loadavg_1min": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    print(json.dumps(run()))
