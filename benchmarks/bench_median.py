"""The equalizer's running median across bands: bottleneck against an exact numba tracker.

The running median over one octave of the 400-band spectrum is the largest
single cost of the equalizer's analysis (about a sixth of its run time, see
``bench_eq.py``). This script times it on the equalizer's own inputs, the
ELC-weighted band levels of 2 minutes of 44.1 kHz stereo (real music from
../shared/music when present, generated music otherwise), padded as
:func:`sk_reseq.spectral.smooth_bands` pads them, in chunks of 32 frames as the
engine calls it.

Prints one JSON line:
- ms_bottleneck: ``bottleneck.move_median`` (what sk_reseq uses);
- ms_numba_tracking: a numba kernel that tracks the median instead of keeping
  heaps: when a value enters and one leaves the window, the counts of values
  below and at the median change by at most one, so the median either stays
  or moves to its nearest neighbour above or below, found by one vectorized
  scan of the 41 values (this prototype is not used by sk_reseq: it would make
  numba a core dependency);
- numba_vs_bottleneck: the speed ratio; exact: whether both give identical
  values on every chunk.

Needs numba (installed with the ``dev`` extra through librosa); without it,
only ms_bottleneck is reported.
Run: ``.venv/bin/python benchmarks/bench_median.py``
"""

import json
import time

import bottleneck as bn
import numpy as np

from _music import stereo_music
from sk_reseq.equalizer import ResonanceEqualizer
from sk_reseq.spectral import smooth_bands

CHUNK_FRAMES = 32
REPEATS = 3


def make_tracker():
    """The numba running-median kernel, or None without numba."""
    try:
        import numba
    except ImportError:
        return None
    fast = {"nnan", "ninf", "nsz", "reassoc"}  # lets LLVM vectorize the min/max scans

    @numba.njit(nogil=True, fastmath=fast)
    def nearest_above(seg, med, big):
        best = big
        for j in range(seg.shape[0]):
            x = seg[j]
            best = min(best, x if x > med else big)
        return best

    @numba.njit(nogil=True, fastmath=fast)
    def nearest_below(seg, med, big):
        best = -big
        for j in range(seg.shape[0]):
            x = seg[j]
            best = max(best, x if x < med else -big)
        return best

    @numba.njit(nogil=True)
    def count(seg, value):
        n = 0
        for j in range(seg.shape[0]):
            n += seg[j] == value
        return n

    @numba.njit(nogil=True)
    def running_median(a, w):
        """Median of every length-``w`` window (``w`` odd) along the rows of ``a``."""
        n_rows, n = a.shape
        out = np.empty((n_rows, n - w + 1), dtype=a.dtype)
        k = w // 2  # 0-based rank of the median
        big = np.finfo(a.dtype).max
        for r in range(n_rows):
            row = a[r]
            med = np.sort(row[:w])[k]
            below = 0  # values < med in the window
            upto = 0  # values <= med
            for j in range(w):
                below += row[j] < med
                upto += row[j] <= med
            out[r, 0] = med
            for i in range(w, n):
                old, new = row[i - w], row[i]
                below += (new < med) - (old < med)
                upto += (new <= med) - (old <= med)
                if upto <= k:  # rank k is now above med
                    seg = row[i - w + 1 : i + 1]
                    med = nearest_above(seg, med, big)
                    below = upto
                    upto = below + count(seg, med)
                elif below > k:  # rank k is now below med
                    seg = row[i - w + 1 : i + 1]
                    med = nearest_below(seg, med, big)
                    upto = below
                    below = upto - count(seg, med)
                out[r, i - w + 1] = med
        return out

    return running_median


def median_inputs():
    """The padded band levels the equalizer's median sees, in engine-sized chunks."""
    x, source = stereo_music(120)
    eq = ResonanceEqualizer(factor=0.5, sr=44100, n_fft=4096, hop_length=1024).fit()
    analysis = eq.analyze(x)
    levels = analysis.levels[:: eq.update_interval]  # the analysis frames
    size = int(round(eq.smoothing * analysis.layout.bands_per_octave)) | 1
    half = size // 2
    padded = np.concatenate([np.repeat(levels[:, :1], half, axis=1), levels,
                             np.repeat(levels[:, -1:], half, axis=1)], axis=1)
    assert np.allclose(bn.move_median(padded, size, axis=-1)[:, size - 1:],
                       smooth_bands(levels, eq.smoothing, analysis.layout.bands_per_octave))
    chunks = [np.ascontiguousarray(padded[i : i + CHUNK_FRAMES])
              for i in range(0, len(padded), CHUNK_FRAMES)]
    return chunks, size, source


def best_ms(fn, chunks, size):
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for chunk in chunks:
            fn(chunk, size)
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def main():
    chunks, size, source = median_inputs()
    result = {"benchmark": "bench_median", "audio": f"120 s stereo 44.1 kHz ({source})",
              "rows": int(sum(len(c) for c in chunks)), "window": size}
    result["ms_bottleneck"] = round(
        best_ms(lambda a, w: bn.move_median(a, w, axis=-1), chunks, size), 1)
    tracker = make_tracker()
    if tracker is not None:
        tracker(chunks[0], size)  # compile outside the timing
        result["ms_numba_tracking"] = round(best_ms(tracker, chunks, size), 1)
        result["numba_vs_bottleneck"] = round(result["ms_bottleneck"]
                                              / result["ms_numba_tracking"], 2)
        result["exact"] = all(
            np.array_equal(tracker(c, size), bn.move_median(c, size, axis=-1)[:, size - 1:])
            for c in chunks)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
