"""Speed of the simulated listening panel and the window sampler, as ratios.

Prints one JSON line:
- panel_seconds: time to generate a 150-track panel of 30 s excerpts
  (make_listening_test, one process); synth_seconds: time to synthesize
  the same clean music alone (make_synthetic_music, the reference);
  panel_vs_synth = panel_seconds / synth_seconds (the cost of resonance
  injection and the 17-factor oracle on top of making the music).
- sampler_seconds: time for WindowSampler to draw 15 000 windows of 0.5 s
  (100 per track) from that panel; copy_seconds: a numpy copy of the same
  amount of data (the reference); sampler_vs_copy = their ratio.

Usage: python benchmarks/bench_data.py [--n-tracks 150] [--duration 30]
"""

import argparse
import json
import time

import numpy as np

from sk_reseq.datasets import make_listening_test, make_synthetic_music
from sk_reseq.preprocessing import WindowSampler


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-tracks", type=int, default=150)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--n-windows", type=int, default=100)
    args = parser.parse_args(argv)

    synth_s, _ = timed(lambda: make_synthetic_music(args.n_tracks, args.duration, random_state=0))
    panel_s, data = timed(
        lambda: make_listening_test(args.n_tracks, 15, duration=args.duration, random_state=0)
    )
    sampler = WindowSampler(n_windows=args.n_windows, random_state=0)
    sampler_s, (X, _, _) = timed(lambda: sampler.fit_resample(data.audio, data.ratings))
    block = np.empty_like(X)
    source = np.ones_like(X)
    copy_s, _ = timed(lambda: np.copyto(block, source))
    print(
        json.dumps(
            {
                "n_tracks": args.n_tracks,
                "duration_s": args.duration,
                "panel_seconds": round(panel_s, 2),
                "synth_seconds": round(synth_s, 2),
                "panel_vs_synth": round(panel_s / synth_s, 2),
                "n_windows": int(len(X)),
                "window_bytes": int(X.nbytes),
                "sampler_seconds": round(sampler_s, 3),
                "copy_seconds": round(copy_s, 3),
                "sampler_vs_copy": round(sampler_s / copy_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
