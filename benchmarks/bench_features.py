"""Benchmark FeatureSummarizer against a bare Essentia loop, and the FFN's fit time.

Prints ONE JSON line:

- ``windows_per_s``, ``x_realtime``: FeatureSummarizer (n_jobs=1) on
  ``--n-windows`` stereo windows of 0.5 s at 22050 Hz (real music from
  ../shared/music when present, resampled by sk_reseq.audio; generated
  otherwise).
- ``bare_essentia_windows_per_s`` and ``ratio_vs_bare_essentia`` (goal >= 0.8):
  the same Essentia algorithms, same configuration, called the documented way
  (``algo(x)``) in a plain loop over the same mono frames, outputs discarded:
  Essentia's 94 descriptors without framing, HNR, stereo width or statistics.
- ``bare_essentia_direct_windows_per_s`` and ``ratio_vs_bare_essentia_direct``:
  the same loop calling the algorithms' C++ ``__compute__`` as FeatureSummarizer
  does (no per-call argument conversion in Python): the floor, so this ratio
  is the share of time FeatureSummarizer spends in Essentia itself.
  All three are timed in CPU seconds of this process (``time.process_time``),
  interleaved, best of ``--repeats``: robust to other load on a shared machine.
- ``n_jobs2_windows_per_s``: the same with n_jobs=2 in wall-clock time, workers
  already started (``n_jobs2_cold_windows_per_s``: first call, with start-up).
- ``ffn_fit_s``, ``ffn_epoch_s``: FFNRegressor (default architecture, bounded
  ``max_epochs``) fitted on 15 000 x 679 features, 150 tracks of 100 windows.

Run: ``.venv/bin/python benchmarks/bench_features.py``
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from sk_reseq.features import FeatureSummarizer
from sk_reseq.features._descriptors import EssentiaFrameAnalyzer
from sk_reseq.features._essentia import quiet_essentia
from sk_reseq.features._summarizer import _frames

SR = 22050
WINDOW = SR // 2
MUSIC_DIR = Path(__file__).resolve().parents[2] / "shared" / "music"


def music_windows(n_windows, rng):
    """Random 0.5 s stereo windows of the real music, or None without it."""
    files = sorted(MUSIC_DIR.glob("*.ogg")) if MUSIC_DIR.is_dir() else []
    if not files:
        return None
    from sk_reseq.audio import load_audio

    files = files[:4]
    per_file = -(-n_windows // len(files))
    windows = []
    for path in files:
        audio, _ = load_audio(path, sr=SR, duration=60.0)
        if audio.shape[0] == 1:
            audio = np.repeat(audio, 2, axis=0)
        starts = rng.integers(0, audio.shape[1] - WINDOW, size=per_file)
        windows += [audio[:2, s : s + WINDOW] for s in starts]
    return np.stack(windows[:n_windows]).astype(np.float32)


def generated_windows(n_windows, rng):
    """Harmonic tones in pink-ish noise, slightly different per channel."""
    t = np.arange(WINDOW) / SR
    out = np.empty((n_windows, 2, WINDOW), np.float32)
    for i in range(n_windows):
        f0 = rng.uniform(80, 800)
        tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8) if f0 * k < SR / 2)
        noise = np.cumsum(rng.standard_normal((2, WINDOW)), axis=1) * 0.01
        noise -= noise.mean(axis=1, keepdims=True)
        out[i] = 0.2 * tone + noise + 0.02 * rng.standard_normal((2, WINDOW))
    return out


def bare_essentia_loop(frames_per_window, algorithms, direct=False):
    """Every Essentia call of FeatureSummarizer, outputs discarded.

    ``direct=False`` calls the algorithms the documented way, ``algo(x)``;
    ``direct=True`` calls their C++ ``__compute__`` as FeatureSummarizer does,
    which skips essentia.standard's per-call argument conversion.
    """
    a = {role: (alg.__compute__ if direct else alg) for role, alg in algorithms.items()}
    bands_of = [a[role] for role in a if role.startswith("energy_band_")]
    for frames in frames_per_window:
        algorithms["flux"].reset()
        for frame in frames:
            spectrum = a["spectrum"](a["window"](frame))
            bands = a["bark"](spectrum)
            a["mfcc"](spectrum)
            a["gfcc"](spectrum)
            pitch, confidence = a["pitch"](spectrum)
            freqs, mags = a["harmonic_peaks"](
                *a["peaks"](spectrum), float(pitch) if confidence > 0 else 0.0
            )
            if len(freqs):
                a["inharmonicity"](freqs, mags)
            a["salience"](spectrum)
            a["complexity"](spectrum)
            a["crest"](bands)
            a["decrease"](spectrum * spectrum)
            a["energy"](spectrum)
            a["flux"](spectrum)
            a["rms"](spectrum)
            a["rolloff"](spectrum)
            a["strong_peak"](spectrum)
            a["zcr"](frame)
            a["flatness"](bands)
            a["hfc"](spectrum)
            a["silence"](frame)
            a["odd_to_even"](freqs, mags)
            for band in bands_of:
                band(spectrum)
            a["tristimulus"](freqs, mags)
            a["contrast"](spectrum)


def time_features(X, repeats):
    summarizer = FeatureSummarizer(sr=SR, n_jobs=1)
    summarizer.transform(X[:2])  # build the Essentia algorithms once
    analyzer = EssentiaFrameAnalyzer(SR, 1024)
    mono = np.ascontiguousarray(_frames(X.mean(axis=1), 1024, 512), dtype=np.float32)
    # CPU time of this process (all single-threaded here): other processes on a
    # shared machine inflate wall-clock times far more, and unevenly.
    clock = time.process_time
    ours, bare, floor = [], [], []
    for _ in range(repeats):  # interleaved: all three see the same machine state
        start = clock()
        summarizer.transform(X)
        ours.append(clock() - start)
        with quiet_essentia():
            start = clock()
            bare_essentia_loop(mono, analyzer.algorithms)
            bare.append(clock() - start)
            start = clock()
            bare_essentia_loop(mono, analyzer.algorithms, direct=True)
            floor.append(clock() - start)
    parallel = FeatureSummarizer(sr=SR, n_jobs=2)
    start = time.perf_counter()
    parallel.transform(X)
    cold = time.perf_counter() - start
    start = time.perf_counter()  # loky keeps its workers: no start-up this time
    parallel.transform(X)
    warm = time.perf_counter() - start
    return min(ours), min(bare), min(floor), cold, warm


def time_ffn(n_samples, n_features, max_epochs, seed):
    try:
        from sk_reseq.models import FFNRegressor
    except ImportError as exc:
        return {"ffn_fit_s": None, "ffn_epoch_s": None, "ffn_note": f"FFNRegressor missing: {exc}"}
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)).astype(np.float32)
    y = 1.0 / (1.0 + np.exp(-X[:, :5].sum(axis=1) / 3))
    groups = np.repeat(np.arange(n_samples // 100 + 1), 100)[:n_samples]
    ffn = FFNRegressor(max_epochs=max_epochs, random_state=seed)
    start = time.perf_counter()
    ffn.fit(X, y, groups=groups)
    fit_s = time.perf_counter() - start
    epochs = [row["dur"] for row in ffn.net_.history]
    return {
        "ffn_fit_s": round(fit_s, 2),
        "ffn_epochs": len(epochs),
        "ffn_epoch_s": round(float(np.median(epochs)), 3),
        "ffn_shape": [n_samples, n_features],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-windows", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ffn-samples", type=int, default=15000)
    parser.add_argument("--ffn-max-epochs", type=int, default=10)
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch threads for the FFN fit (2 threads on a busy 2-core "
                        "machine were ~15x slower per epoch than 1 in a trial)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    X = music_windows(args.n_windows, rng)
    source = "music" if X is not None else "generated"
    if X is None:
        X = generated_windows(args.n_windows, rng)
    ours, bare, floor, cold, warm = time_features(X, args.repeats)
    n = len(X)
    result = {
        "benchmark": "features",
        "audio": source,
        "n_windows": n,
        "window_s": WINDOW / SR,
        "windows_per_s": round(n / ours, 1),
        "x_realtime": round(n * WINDOW / SR / ours, 1),
        "bare_essentia_windows_per_s": round(n / bare, 1),
        "ratio_vs_bare_essentia": round(bare / ours, 3),
        "bare_essentia_direct_windows_per_s": round(n / floor, 1),
        "ratio_vs_bare_essentia_direct": round(floor / ours, 3),
        "n_jobs2_windows_per_s": round(n / warm, 1),
        "n_jobs2_cold_windows_per_s": round(n / cold, 1),
        "cpu_count": os.cpu_count(),
    }
    import torch

    torch.set_num_threads(args.torch_threads)
    result["torch_threads"] = args.torch_threads
    result.update(time_ffn(args.ffn_samples, 679, args.ffn_max_epochs, args.seed))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
