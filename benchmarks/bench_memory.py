"""Peak memory of ``sk-reseq eq`` on a long file, as a ratio against the audio's own size.

Prints one JSON line:
- audio_mb: the reference, the size of the decoded audio as float32
  (channels x samples x 4 bytes) of a 60-minute stereo 44.1 kHz file;
- load_ratio: peak extra memory of ``sk_reseq.audio.load_audio`` on that
  file / audio_mb (the audio itself counts: ideal 1.0);
- eq_ratio: the same for the whole ``sk-reseq eq IN OUT`` command (load,
  equalize, write the 16-bit WAV) (goal <= 1.5; it was 3.2 when the audio
  was loaded through a transposed copy and equalized into a second array);
- eq_rss_ratio: the process's peak resident memory during that command
  minus its resident memory before it, / audio_mb: a cross-check that also
  sees memory that tracemalloc does not (libsndfile, FFT plans, the
  interpreter).

The file (real music from ../shared/music when present, looped; generated
music otherwise) is written block by block into a temporary folder, so
making it takes no 60-minute array. Peaks come from tracemalloc, after a
warm-up run on a short file (imports, caches). Run:
``python benchmarks/bench_memory.py`` (about a minute; 2 GB of memory and
640 MB of disk).
"""

import json
import resource
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import soundfile as sf

from _music import stereo_music
from sk_reseq.audio import load_audio
from sk_reseq.cli import main as sk_reseq

SR = 44100
MINUTES = 60


def write_long_file(path, minutes):
    """``minutes`` of stereo music at SR as 16-bit WAV, written one minute at a time."""
    minute, source = stereo_music(60, SR)
    with sf.SoundFile(path, "w", SR, 2, "PCM_16") as f:
        for _ in range(minutes):
            f.write(minute.T)
    return source


def traced_peak(fn):
    """Peak bytes allocated (tracemalloc) while ``fn()`` runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def current_rss():
    """Resident memory of this process now, in bytes (Linux)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = write_long_file(tmp / "long.wav", MINUTES)
        write_long_file(tmp / "short.wav", 1)
        assert sk_reseq(["eq", str(tmp / "short.wav"), str(tmp / "warm.wav"), "-q"]) == 0
        info = sf.info(str(tmp / "long.wav"))
        audio_bytes = info.channels * info.frames * np.dtype(np.float32).itemsize

        load_peak = traced_peak(lambda: load_audio(tmp / "long.wav"))
        before = current_rss()
        args = ["eq", str(tmp / "long.wav"), str(tmp / "out.wav"), "-q"]
        eq_peak = traced_peak(lambda: sk_reseq(args))
        rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        assert sf.info(str(tmp / "out.wav")).frames == info.frames
    result = {
        "benchmark": "bench_memory",
        "audio": f"{MINUTES} min stereo 44.1 kHz 16-bit WAV ({source})",
        "audio_mb": round(audio_bytes / 2**20, 1),
        "load_ratio": round(load_peak / audio_bytes, 3),
        "eq_ratio": round(eq_peak / audio_bytes, 3),
        "eq_rss_ratio": round((rss_peak - before) / audio_bytes, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
