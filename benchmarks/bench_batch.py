"""Batch equalization of a catalog: parallel speed-ups and memory, as ratios from one run.

Prints one JSON line:
- jobs2_vs_jobs1: throughput (seconds of audio per second) of ``sk-reseq auto
  DIR -o OUT --jobs 2`` over ``--jobs 1`` on ``N_FILES`` files of ``SECONDS``
  s (goal >= 1.8; 1 + the share of the second core the machine gave us);
- cluster_vs_jobs2: the same job with ``--scheduler local --jobs 2`` (a
  dask LocalCluster of 2 single-threaded worker processes, started by the
  command) over ``--jobs 2`` (goal >= 0.9);
- batch_vs_per_file: ``--jobs 1`` over one ``sk-reseq auto IN OUT`` call per
  file, each paying the interpreter, the imports and the model load
  (measured on the first ``N_SINGLE`` files; goal >= 3). The one-file form
  also measures loudness and true peak of IN and OUT, which the batch form
  does not;
- jobs2_vs_jobs1_past_start_up, cluster_vs_jobs2_past_start_up: the same
  ratios for the work past the start-up (each command's time on the 40 files
  less its time on 2 of them: the interpreter, imports, model and worker or
  cluster start-up, a few seconds that a 20-minute catalog does not amortise);
  ``start_up_s_2_files`` gives those times;
- eq_jobs2_vs_jobs1: jobs2_vs_jobs1 for ``sk-reseq eq`` (the equalizer
  alone: a few seconds of work, where the workers' start-up weighs more);
- memory_60_vs_2_min_rss, memory_60_vs_2_min_traced: peak resident memory of
  ``sk-reseq eq FILE -o OUT`` on a 60-minute file over a 2-minute one (each in
  a fresh interpreter, after a warm-up run; goal <= 1.2), and the same for the
  peak of Python's allocations (tracemalloc), which leaves out the
  interpreter and libraries, so it shows any growth with length more plainly;
  with the absolute figures (``*_mb``);
- the throughputs themselves, the files, the load average before and after.

Every command runs in a fresh interpreter (``python -m sk_reseq``), as a
user would run it, with the default model, one BLAS/OpenMP thread per
process and 16-bit stereo 44.1 kHz WAV files cut from ../shared/music (or
generated music). On a shared machine the parallel ratios say what the
machine gave at the time: the load average is reported. Run:
``python benchmarks/bench_batch.py`` (about ten minutes on a loaded 2-core
machine; 2.5 GB of disk).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

from _music import stereo_music

SR = 44100
N_FILES = 40
SECONDS = 30
N_SINGLE = 10
LONG_MINUTES, SHORT_MINUTES = 60, 2
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
       "MKL_NUM_THREADS": "1"}

_MEMORY = """
import json, resource, sys, tracemalloc
from sk_reseq.cli import main
warm, args = sys.argv[1], sys.argv[2:]
assert main(["eq", warm, "-o", warm + ".out", "-q", "--overwrite"]) == 0  # imports, caches
tracemalloc.start()
assert main(args) == 0
traced = tracemalloc.get_traced_memory()[1]
print(json.dumps({"rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "traced": traced}))
"""


def sk_reseq(*args):
    """Wall seconds of ``python -m sk_reseq ARGS`` (which must succeed)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sk_reseq", *map(str, args)], check=True, env=ENV,
                   capture_output=True)
    return time.perf_counter() - start


def write_catalog(folder):
    """N_FILES distinct SECONDS-second files, cut at different places from the music."""
    music, source = stereo_music(4 * SECONDS, SR)
    n, step = SECONDS * SR, music.shape[1] // N_FILES
    folder.mkdir()
    for i in range(N_FILES):
        start = i * step
        piece = music[:, start : start + n]
        if piece.shape[1] < n:  # wrap around the end
            piece = music[:, list(range(start, music.shape[1])) + list(range(n - piece.shape[1]))]
        sf.write(folder / f"track{i:02d}.wav", piece.T, SR, subtype="PCM_16")
    return source


def write_long(path, minutes):
    minute, _ = stereo_music(60, SR)
    with sf.SoundFile(path, "w", SR, 2, "PCM_16") as f:
        for _ in range(minutes):
            f.write(minute.T)


def peak_memory(tmp, minutes):
    src = tmp / f"{minutes}min.wav"
    write_long(src, minutes)
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY, str(tmp / "warm.wav"), "eq", str(src), "-o",
         str(tmp / f"out{minutes}"), "-q", "--overwrite"],
        check=True, env=ENV, capture_output=True, text=True, cwd=Path(__file__).parent)
    src.unlink()
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        catalog = tmp / "catalog"
        source = write_catalog(catalog)
        audio_seconds = N_FILES * SECONDS

        def batch(command, name, *options):
            return audio_seconds / sk_reseq(command, catalog, "-o", tmp / name, "-q", *options)

        auto1 = batch("auto", "auto1", "--jobs", "1")
        auto2 = batch("auto", "auto2", "--jobs", "2")
        cluster = batch("auto", "cluster", "--scheduler", "local", "--jobs", "2")
        # The same commands on two files: their start-up (interpreter, imports,
        # model, workers or cluster), to tell it from the per-file work.
        pair = tmp / "pair"
        pair.mkdir()
        for f in sorted(catalog.iterdir())[:2]:
            os.link(f, pair / f.name)
        start_up = {name: sk_reseq("auto", pair, "-o", tmp / f"{name}_pair", "-q", *options)
                    for name, options in (("jobs1", ("--jobs", "1")), ("jobs2", ("--jobs", "2")),
                                          ("cluster2", ("--scheduler", "local", "--jobs", "2")))}
        work = {name: audio_seconds / rate - start_up[name]
                for name, rate in (("jobs1", auto1), ("jobs2", auto2), ("cluster2", cluster))}
        singles = sorted(catalog.iterdir())[:N_SINGLE]
        (tmp / "single").mkdir()
        per_file = N_SINGLE * SECONDS / sum(sk_reseq("auto", f, tmp / "single" / f.name, "-q")
                                            for f in singles)
        eq1 = batch("eq", "eq1", "--jobs", "1")
        eq2 = batch("eq", "eq2", "--jobs", "2")

        sf.write(tmp / "warm.wav", stereo_music(5, SR)[0].T, SR, subtype="PCM_16")
        short = peak_memory(tmp, SHORT_MINUTES)
        long = peak_memory(tmp, LONG_MINUTES)
    result = {
        "benchmark": "bench_batch",
        "audio": f"{N_FILES} x {SECONDS} s stereo 44.1 kHz 16-bit WAV ({source})",
        "jobs2_vs_jobs1": round(auto2 / auto1, 3),
        "cluster_vs_jobs2": round(cluster / auto2, 3),
        "batch_vs_per_file": round(auto1 / per_file, 3),
        "eq_jobs2_vs_jobs1": round(eq2 / eq1, 3),
        # Past the start-up: 38 more files' time, 40 files' run less the 2 files' run.
        "jobs2_vs_jobs1_past_start_up": round(work["jobs1"] / work["jobs2"], 3),
        "cluster_vs_jobs2_past_start_up": round(work["jobs2"] / work["cluster2"], 3),
        "start_up_s_2_files": {k: round(v, 2) for k, v in start_up.items()},
        "memory_60_vs_2_min_rss": round(long["rss"] / short["rss"], 3),
        "memory_60_vs_2_min_traced": round(long["traced"] / short["traced"], 3),
        "rss_mb": {"2_min": round(short["rss"] / 2**20, 1),
                   "60_min": round(long["rss"] / 2**20, 1)},
        "traced_mb": {"2_min": round(short["traced"] / 2**20, 1),
                      "60_min": round(long["traced"] / 2**20, 1)},
        "throughput_audio_s_per_s": {
            "auto_jobs1": round(auto1, 1), "auto_jobs2": round(auto2, 1),
            "auto_cluster2": round(cluster, 1), "auto_per_file_calls": round(per_file, 1),
            "eq_jobs1": round(eq1, 1), "eq_jobs2": round(eq2, 1)},
        "loadavg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
