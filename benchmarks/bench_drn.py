"""Benchmark of DRNRegressor inference and training speed (paper configuration).

Prints ONE JSON line. All figures come from one run, so the ratios compare
like with like even on a busy machine:

- ``matmul_gflops``: float32 2048x2048 torch matmul throughput (the peak
  reference);
- per 0.5 s window (2 x 11 025 samples at 22 050 Hz), at batch 1 and 32:
  ``eager``, a plain float32 PyTorch reference (the same trained network,
  eval mode, ``no_grad``, BatchNorm and 1x1 paths unfolded) and ``ours``,
  ``DRNRegressor.predict`` on 1 or 32 windows with its default
  micro-batching (BatchNorm and 1x1 paths folded into one convolution per
  block, ``inference_mode``, one window per pass on a CPU), and
  ``ours_bf16`` where the CPU has native bfloat16;
- FLOPs are counted analytically (2 per multiply-add of every convolution
  and linear layer the path executes) and divided by the time to give the
  fraction of the matmul peak;
- ``train_s_per_epoch_1000``: estimated from timing a few mini-batches
  (forward, backward, Adam step) of 8 windows, scaled to 1000 windows
  (marked ``"estimated": true``).

Run: ``python benchmarks/bench_drn.py`` (about 2 minutes on 2 idle cores,
longer on a busy machine; ``loadavg_1min`` is reported).
"""

import json
import os
import time
import warnings

import numpy as np
import torch

from sk_reseq.models import DRNRegressor
from sk_reseq.models._inference import _bf16_supported


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


def conv_flops(est, folded):
    """FLOPs of one window through the network, counted per layer."""
    k, T = est.kernel_size, est.n_samples
    channels = (2, *est.block_sizes_)
    flops = 0
    for cin, cout in zip(channels, channels[1:]):
        flops += 2 * k * cin * cout * T  # dilated conv
        if not folded:
            flops += 2 * cin * cout * T  # 1x1 path (folded into the centre tap otherwise)
    n_frames = -(-T // est.pool_size)
    flops += 2 * channels[-1] * n_frames * est.final_size + 2 * est.final_size
    return flops


def main():
    rng = np.random.default_rng(0)
    n_threads = torch.get_num_threads()
    peak = matmul_gflops()

    # The paper's configuration, trained for one tiny epoch so that every
    # fitted attribute and the folded inference path exist.
    X_fit = (0.1 * rng.standard_normal((4, 2, 11025))).astype(np.float32)
    est = DRNRegressor(max_epochs=1, batch_size=4, valid_fraction=0.0, random_state=0)
    est.fit(X_fit, rng.uniform(size=4))
    module = est.net_.module_.eval()

    X32 = (0.1 * rng.standard_normal((32, 2, 11025))).astype(np.float32)
    X1 = X32[:4]
    result = {"machine": {"threads": n_threads, "cpu_count": os.cpu_count(),
                          "loadavg_1min": round(os.getloadavg()[0], 2),
                          "torch": torch.__version__},
              "matmul_gflops": round(peak, 1),
              "config": {"n_blocks": est.n_blocks, "block_sizes": list(est.block_sizes_),
                         "kernel_size": est.kernel_size, "dilations": list(est.dilations_),
                         "pool_size": est.pool_size, "final_size": est.final_size,
                         "window": [2, est.n_samples], "sr": est.sr}}
    flops = {"eager": conv_flops(est, folded=False), "ours": conv_flops(est, folded=True)}
    result["gflop_per_window"] = {k: round(v / 1e9, 2) for k, v in flops.items()}

    def eager(X):
        with torch.no_grad():
            return module(torch.from_numpy(X)).numpy()

    # Give the output layer random weights so the eager / folded comparison
    # below is not trivially equal (one tiny epoch leaves it near zero).
    with torch.no_grad():
        module.output.weight.normal_()
    est._inference_cache = None

    timings = {}
    for batch, X in ((1, X1), (32, X32)):
        warm = X[:2]  # one small batch warms the allocator and oneDNN primitives

        def eager_run(X, batch=batch):
            for i in range(0, len(X), batch):
                eager(X[i:i + batch])

        timings[("eager", batch)] = timed(eager_run, X, warm)
        # Ours as a user calls it: predict() on 1 or 32 windows, default
        # micro-batching (one window per pass on a CPU).
        est.set_params(predict_batch_size=None, inference_dtype="float32")
        timings[("ours", batch)] = timed(est.predict, X, warm)
        if _bf16_supported(torch.device("cpu")):
            est.set_params(inference_dtype="bfloat16")
            timings[("ours_bf16", batch)] = timed(est.predict, X, warm)

    per_window = {}
    for (path, batch), seconds in timings.items():
        executed = flops["eager" if path == "eager" else "ours"]
        per_window[f"{path}_batch{batch}"] = {
            "ms_per_window": round(seconds * 1e3, 2),
            "fraction_of_matmul_peak": round(executed / seconds / 1e9 / peak, 3),
            "realtime_factor": round(0.5 / seconds, 2),
        }
    result["inference"] = per_window
    result["ours_over_eager_batch1"] = round(timings[("ours", 1)] / timings[("eager", 1)], 3)
    if ("ours_bf16", 1) in timings:
        result["ours_bf16_over_eager_batch1"] = round(
            timings[("ours_bf16", 1)] / timings[("eager", 1)], 3)
    result["batch32_over_batch1_per_window"] = {
        path: round(timings[(path, 32)] / timings[(path, 1)], 3)
        for path in ("eager", "ours", "ours_bf16") if (path, 1) in timings
    }
    # Check the paths agree on these windows (not a timing: a sanity figure).
    est.set_params(inference_dtype="float32", clip=False)
    result["max_abs_diff_ours_vs_eager"] = float(np.abs(est.predict(X1) - eager(X1)).max())

    # Training: forward + backward + Adam step on mini-batches of 8 windows
    # (the default is 32; 8 keeps the run short), scaled to 1000 windows.
    train_batch = 8
    net = est.net_
    net.module_.train()
    Xb = torch.from_numpy(X32[:train_batch])
    yb = torch.from_numpy(rng.uniform(size=train_batch).astype(np.float32))

    def step():
        net.optimizer_.zero_grad()
        loss = net.criterion_(net.module_(Xb), yb)
        loss.backward()
        net.optimizer_.step()

    n_steps = 2
    t = best_time(step, repeats=n_steps)
    result["training"] = {"estimated": True, "batch_size": train_batch,
                          "timed_steps": n_steps, "s_per_batch": round(t, 2),
                          "train_s_per_epoch_1000": round(t * 1000 / train_batch, 1)}
    print(json.dumps(result))


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    main()
