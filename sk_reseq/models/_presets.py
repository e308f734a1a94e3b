"""Named DRN configurations (no torch needed to read them).

``DRNRegressor()`` is the paper's network (Table 3). :data:`CPU_DRN_PARAMS`
is the filterbank DRN that learns on a CPU in minutes; the experiment's
quick config and ``sk-reseq train --model drn`` use it unless a GPU is asked
for. The models guide gives its cost and the measurements behind it.
"""

from types import MappingProxyType

__all__ = ["CPU_DRN_PARAMS"]

#: Parameters of :class:`~sk_reseq.models.DRNRegressor` for the DRN that
#: learns on a CPU: a fixed constant-Q filterbank of 128 bands (40 Hz-10 kHz,
#: 2048-tap kernels, stride 512) on the mid channel, averaged over the
#: window's 18 frames, then 5 residual blocks of 16 channels with dilations
#: 1-16 along the frequency axis (a receptive field of 63 bands, 3.9 octaves),
#: average pooling over all 128 bands (a resonance counts alike at any
#: frequency), a final block of 16 units. 20 MFLOPs per 0.5 s window (the
#: paper's network: 18 GFLOPs); it trained 2195 times faster than the paper's
#: network in one run of ``benchmarks/bench_drn.py`` on two CPU threads. Use
#: it as ``DRNRegressor(**CPU_DRN_PARAMS)``.
CPU_DRN_PARAMS = MappingProxyType({
    "frontend": "filterbank",
    "n_filters": 128,
    "filter_length": 2048,
    "hop_length": 512,
    "fmin": 40.0,
    "fmax": 10000.0,
    "mid_side": False,
    "train_frontend": False,
    "n_blocks": 5,
    "block_sizes": (16, 16, 16),
    "kernel_size": 3,
    "dilation_cycle": 10,
    "pool_size": 128,
    "final_size": 16,
    "lr": 3e-3,
    "batch_size": 16,
    "max_epochs": 30,
    "early_stopping_patience": 6,
    "lr_reduce_patience": 3,
})
