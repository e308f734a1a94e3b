"""Benchmark of DRNRegressor: the paper's network against the CPU configuration.

Prints ONE JSON line. All figures come from one run, so the ratios compare
like with like even on a busy machine:

- ``matmul_gflops``: float32 2048x2048 torch matmul throughput (the peak
  reference);
- ``paper``: the paper's Table 3 network (``DRNRegressor()``) and ``cpu``:
  the filterbank DRN (``DRNRegressor(**CPU_DRN_PARAMS)``), each with
  - ``gflop_per_window``: FLOPs of one 0.5 s window (2 x 11 025 samples at
    22 050 Hz) counted by ``torch.utils.flop_counter`` (2 per multiply-add of
    every convolution and linear layer), ``eager`` for the trained network
    in eval mode and ``ours`` for the folded inference copy;
  - ``receptive_field`` of the residual stack (samples for the paper's
    network, bands for the filterbank one, whose bands each see the window);
  - ``inference``, per window, at batch 1 and 32: ``eager`` (plain float32
    PyTorch, eval mode, ``no_grad``, BatchNorm and 1x1 paths unfolded) and
    ``ours`` (``DRNRegressor.predict`` on 1 or 32 windows with its default
    micro-batching), and ``ours_bf16`` only where the CPU has native
    bfloat16 (elsewhere bf16 is emulated and slower than float32);
  - ``training``: forward + backward + Adam step on mini-batches of 16
    windows (``windows_per_s``, best of a few steps);
- ``cpu.fit_windows_per_s``: the CPU DRN's whole ``fit`` (skorch loop,
  validation, callbacks) on 512 windows for 2 epochs, in windows/s;
- ``training_speedup``: the CPU DRN's training windows/s over the paper's.

Run: ``python benchmarks/bench_drn.py`` (about 3 minutes on 2 idle cores,
longer on a busy machine; ``loadavg_1min`` is reported). ``--threads N``
sets torch's threads (default 2).
"""

import argparse
import json
import os
import time
import warnings

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from sk_reseq.models import CPU_DRN_PARAMS, DRNRegressor
from sk_reseq.models._inference import _bf16_supported

TRAIN_BATCH = 16


def best_time(fn, repeats, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def timed(fn, X, warm):
    """Seconds per window of ``fn(X)``, after one warm-up call on ``warm``."""
    fn(warm)
    t = time.perf_counter()
    fn(X)
    return (time.perf_counter() - t) / len(X)


def matmul_gflops(n=2048):
    a, b = torch.randn(n, n), torch.randn(n, n)
    t = best_time(lambda: a @ b, repeats=5)
    return 2 * n**3 / t / 1e9


def count_flops(module, x):
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops()


def fitted(params, rng):
    """A DRN trained for one tiny epoch, so that every fitted attribute exists."""
    X = (0.1 * rng.standard_normal((4, 2, 11025))).astype(np.float32)
    est = DRNRegressor(**{**params, "max_epochs": 1, "batch_size": 4, "valid_fraction": 0.0,
                          "random_state": 0})
    est.fit(X, rng.uniform(size=4))
    # Random output weights, so the eager / folded comparison is not trivially
    # equal (one tiny epoch leaves the output layer near zero).
    with torch.no_grad():
        est.net_.module_.output.weight.normal_()
    est._inference_cache = None
    return est


def inference(est, X32, peak, flops):
    module = est.net_.module_.eval()

    def eager(X):
        with torch.no_grad():
            return module(torch.from_numpy(X)).numpy()

    timings = {}
    for batch, X in ((1, X32[:4]), (32, X32)):
        warm = X[:2]  # one small batch warms the allocator and oneDNN primitives

        def eager_run(X, batch=batch):
            for i in range(0, len(X), batch):
                eager(X[i:i + batch])

        timings[("eager", batch)] = timed(eager_run, X, warm)
        # Ours as a user calls it: predict() on 1 or 32 windows, default micro-batching.
        est.set_params(inference_dtype="float32")
        timings[("ours", batch)] = timed(est.predict, X, warm)
        if _bf16_supported(torch.device("cpu")):
            est.set_params(inference_dtype="bfloat16")
            timings[("ours_bf16", batch)] = timed(est.predict, X, warm)
            est.set_params(inference_dtype="float32")
    out = {}
    for (path, batch), seconds in timings.items():
        executed = flops["eager" if path == "eager" else "ours"]
        out[f"{path}_batch{batch}"] = {
            "ms_per_window": round(seconds * 1e3, 3),
            "windows_per_s": round(1 / seconds, 1),
            "fraction_of_matmul_peak": round(executed / seconds / 1e9 / peak, 3),
            "realtime_factor": round(0.5 / seconds, 1),
        }
    out["ours_over_eager_batch1"] = round(timings[("ours", 1)] / timings[("eager", 1)], 3)
    # Check the paths agree on these windows (not a timing: a sanity figure).
    est.set_params(clip=False)
    out["max_abs_diff_ours_vs_eager"] = float(np.abs(est.predict(X32[:4]) - eager(X32[:4])).max())
    est.set_params(clip=True)
    return out


def training(est, X, rng, n_steps):
    """Windows/s of forward + backward + Adam step on batches of TRAIN_BATCH."""
    net = est.net_
    net.module_.train()
    Xb = torch.from_numpy(X[:TRAIN_BATCH])
    yb = torch.from_numpy(rng.uniform(size=TRAIN_BATCH).astype(np.float32))

    def step():
        net.optimizer_.zero_grad()
        loss = net.criterion_(net.module_(Xb), yb)
        loss.backward()
        net.optimizer_.step()

    t = best_time(step, repeats=n_steps)
    return {"batch_size": TRAIN_BATCH, "timed_steps": n_steps, "s_per_batch": round(t, 4),
            "windows_per_s": round(TRAIN_BATCH / t, 2),
            "s_per_epoch_1000": round(t * 1000 / TRAIN_BATCH, 1)}


def describe(est):
    return {"frontend": est.frontend, "n_blocks": est.n_blocks,
            "block_sizes": list(est.block_sizes_), "kernel_size": est.kernel_size,
            "dilations": list(est.dilations_), "pool_size": est.pool_size,
            "final_size": est.final_size, "window": [2, est.n_samples], "sr": est.sr,
            **({"n_filters": est.n_filters, "filter_length": est.filter_length,
                "hop_length": est.hop_length, "fmin": est.fmin, "fmax": est.fmax}
               if est.frontend == "filterbank" else {})}


def network(params, rng, X32, peak, n_steps):
    est = fitted(params, rng)
    x = torch.from_numpy(X32[:1])
    flops = {"eager": count_flops(est.net_.module_.eval(), x),
             "ours": count_flops(est._inference_module()[0], x)}
    return {"config": describe(est),
            "gflop_per_window": {k: round(v / 1e9, 4) for k, v in flops.items()},
            "receptive_field": est.receptive_field_,
            "inference": inference(est, X32, peak, flops),
            "training": training(est, X32, rng, n_steps)}


def fit_speed(rng, n_windows=512, epochs=2):
    X = (0.1 * rng.standard_normal((n_windows, 2, 11025))).astype(np.float32)
    y = rng.uniform(size=n_windows)
    groups = np.arange(n_windows) // 4
    est = DRNRegressor(**{**CPU_DRN_PARAMS, "max_epochs": epochs, "random_state": 0})
    t = time.perf_counter()
    est.fit(X, y, groups=groups)
    return round(n_windows * epochs / (time.perf_counter() - t), 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    peak = matmul_gflops()
    X32 = (0.1 * rng.standard_normal((32, 2, 11025))).astype(np.float32)
    result = {"machine": {"threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
                          "loadavg_1min": round(os.getloadavg()[0], 2),
                          "torch": torch.__version__,
                          "native_bf16": _bf16_supported(torch.device("cpu"))},
              "matmul_gflops": round(peak, 1)}
    result["cpu"] = network(dict(CPU_DRN_PARAMS), rng, X32, peak, n_steps=10)
    result["cpu"]["fit_windows_per_s"] = fit_speed(rng)
    result["paper"] = network({}, rng, X32, peak, n_steps=2)
    result["training_speedup"] = round(result["cpu"]["training"]["windows_per_s"]
                                       / result["paper"]["training"]["windows_per_s"], 1)
    result["machine"]["loadavg_1min_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    main()
