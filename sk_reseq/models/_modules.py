"""The torch modules of the paper's two networks (Fig. 4 and 5).

``StandardBlock`` (Linear -> BatchNorm -> ReLU) builds the FFN and the
DRN's head; ``ResidualBlock`` (dilated conv + BN in parallel with a 1x1
conv + BN, summed, ReLU) builds the DRN's body. The architecture helpers
(:func:`tiered_sizes`, :func:`dilation_schedule`, :func:`receptive_field`)
are plain functions so that the estimators, the inference path and the
tests share one definition.
"""

import math

import numpy as np
import torch
from torch import nn

from ..metrics import MSBELoss

__all__ = [
    "tiered_sizes",
    "dilation_schedule",
    "receptive_field",
    "StandardBlock",
    "FFNModule",
    "ResidualBlock",
    "DRNModule",
]


def tiered_sizes(n_blocks, low, mid, high):
    """Layer sizes of ``n_blocks`` blocks split into low / mid / high tiers.

    The paper's Table 3 gives one size per third of the network. The split
    rule is :func:`numpy.array_split` of the block indices into three
    contiguous parts: when ``n_blocks`` is not a multiple of 3 the earlier
    tiers get the extra blocks (10 blocks -> 4 low, 3 mid, 3 high; 2 blocks
    -> 1 low, 1 mid; 1 block -> low only).

    Parameters
    ----------
    n_blocks : int
        Number of blocks, at least 1.
    low, mid, high : int
        Size (units or channels) of the blocks in each tier, at least 1.

    Returns
    -------
    sizes : tuple of int [shape=(n_blocks,)]

    Examples
    --------
    >>> from sk_reseq.models import tiered_sizes
    >>> tiered_sizes(10, 100, 100, 300)
    (100, 100, 100, 100, 100, 100, 100, 300, 300, 300)
    >>> tiered_sizes(4, 500, 250, 100)
    (500, 500, 250, 100)
    """
    for name, value in (("n_blocks", n_blocks), ("low", low), ("mid", mid), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    parts = np.array_split(np.arange(n_blocks), 3)
    return tuple(int(size) for size, part in zip((low, mid, high), parts) for _ in part)


def dilation_schedule(n_blocks, cycle=10):
    """Dilation of each residual block: ``2 ** (i % cycle)`` for block ``i``.

    Dilations double from block to block (1, 2, 4, ...) as in the paper's
    section 4.2.1; like WaveNet the schedule restarts at 1 every ``cycle``
    blocks, so deep stacks keep their receptive field inside the window
    (``cycle=None`` never restarts). The default, 10 blocks with cycle 10,
    gives dilations 1 ... 512.

    Examples
    --------
    >>> from sk_reseq.models import dilation_schedule
    >>> dilation_schedule(5)
    (1, 2, 4, 8, 16)
    >>> dilation_schedule(5, cycle=3)
    (1, 2, 4, 1, 2)
    """
    if cycle is None:
        return tuple(2**i for i in range(n_blocks))
    return tuple(2 ** (i % cycle) for i in range(n_blocks))


def receptive_field(kernel_size, dilations):
    """Receptive field, in samples, of stacked dilated convolutions.

    Each convolution of kernel ``k`` and dilation ``d`` widens it by
    ``(k - 1) * d``: ``1 + (k - 1) * sum(dilations)``.

    Examples
    --------
    >>> from sk_reseq.models import dilation_schedule, receptive_field
    >>> receptive_field(3, dilation_schedule(10))
    2047
    """
    return 1 + (int(kernel_size) - 1) * int(sum(dilations))


class MSBECriterion(MSBELoss):
    """:class:`sk_reseq.metrics.MSBELoss` under a module-level name.

    ``MSBELoss`` is built lazily inside a function, so pickle cannot find
    it by name; fitted nets hold their criterion and must pickle (joblib
    sends fitted estimators back from worker processes).

    Examples
    --------
    >>> import pickle
    >>> from sk_reseq.models._modules import MSBECriterion
    >>> type(pickle.loads(pickle.dumps(MSBECriterion()))).__name__
    'MSBECriterion'
    """


class StandardBlock(nn.Sequential):
    """Linear -> BatchNorm1d -> ReLU (the paper's "standard block").

    Examples
    --------
    >>> import torch
    >>> from sk_reseq.models._modules import StandardBlock
    >>> StandardBlock(4, 3).eval()(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(self, in_features, out_features):
        super().__init__(
            nn.Linear(in_features, out_features),
            nn.BatchNorm1d(out_features),
            nn.ReLU(),
        )


class FFNModule(nn.Module):
    """Standard blocks then a Linear with one output; returns shape ``(n,)``.

    Examples
    --------
    >>> import torch
    >>> from sk_reseq.models._modules import FFNModule
    >>> FFNModule(5, (8, 4)).eval()(torch.zeros(3, 5)).shape
    torch.Size([3])
    """

    def __init__(self, n_features, hidden_sizes):
        super().__init__()
        sizes = (int(n_features), *map(int, hidden_sizes))
        self.blocks = nn.Sequential(*(StandardBlock(a, b) for a, b in zip(sizes, sizes[1:])))
        self.output = nn.Linear(sizes[-1], 1)

    def forward(self, X):
        return self.output(self.blocks(X)).squeeze(-1)


class ResidualBlock(nn.Module):
    """Dilated conv + BN in parallel with 1x1 conv + BN, summed, then ReLU.

    The dilated convolution is zero-padded by ``dilation * (kernel_size - 1)
    / 2`` on both sides ("same" padding, odd kernels only), so the block keeps
    the temporal length, as the paper says; its centre tap then lines up
    with the 1x1 path, which the inference path exploits.

    Examples
    --------
    >>> import torch
    >>> from sk_reseq.models._modules import ResidualBlock
    >>> ResidualBlock(2, 4, kernel_size=3, dilation=8).eval()(torch.zeros(1, 2, 50)).shape
    torch.Size([1, 4, 50])
    """

    def __init__(self, in_channels, out_channels, *, kernel_size=3, dilation=1):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd for 'same' padding, got {kernel_size}.")
        self.conv = nn.Conv1d(
            in_channels, out_channels, kernel_size,
            dilation=dilation, padding=dilation * (kernel_size - 1) // 2,
        )
        self.bn = nn.BatchNorm1d(out_channels)
        self.skip = nn.Conv1d(in_channels, out_channels, 1)
        self.skip_bn = nn.BatchNorm1d(out_channels)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)) + self.skip_bn(self.skip(x)))


class DRNModule(nn.Module):
    """Dilated residual network of Fig. 4/5: PCM windows -> one factor each.

    Residual blocks (channels ``block_sizes``, dilations ``dilations``) keep
    the temporal length; average pooling with kernel = stride =
    ``pool_size`` (``ceil_mode``: the last, partial window averages the
    samples it covers) shortens it to ``ceil(n_samples / pool_size)``
    frames; these are flattened into a standard block of ``final_size``
    units and a Linear with one output. Input ``(n, n_channels,
    n_samples)``, output ``(n,)``.

    Examples
    --------
    >>> import torch
    >>> from sk_reseq.models._modules import DRNModule
    >>> net = DRNModule(2, 64, block_sizes=(4, 4), dilations=(1, 2), pool_size=16, final_size=3)
    >>> net.eval()(torch.zeros(5, 2, 64)).shape
    torch.Size([5])
    """

    def __init__(self, n_channels, n_samples, *, block_sizes, dilations, kernel_size=3,
                 pool_size=300, final_size=10):
        super().__init__()
        if len(block_sizes) != len(dilations):
            raise ValueError("block_sizes and dilations must have one entry per block.")
        channels = (int(n_channels), *map(int, block_sizes))
        self.blocks = nn.Sequential(*(
            ResidualBlock(a, b, kernel_size=kernel_size, dilation=int(d))
            for a, b, d in zip(channels, channels[1:], dilations)
        ))
        self.pool = nn.AvgPool1d(pool_size, stride=pool_size, ceil_mode=True)
        n_frames = math.ceil(int(n_samples) / pool_size)
        self.head = StandardBlock(channels[-1] * n_frames, int(final_size))
        self.output = nn.Linear(int(final_size), 1)

    def forward(self, X):
        h = self.pool(self.blocks(X))
        return self.output(self.head(h.flatten(1))).squeeze(-1)
