"""The torch modules of the paper's two networks (Fig. 4 and 5).

``StandardBlock`` (Linear -> BatchNorm -> ReLU) builds the FFN and the
DRN's head; ``ResidualBlock`` (dilated conv + BN in parallel with a 1x1
conv + BN, summed, ReLU) builds the DRN's body. ``FilterbankFrontend`` (a
strided convolution initialised as a constant-Q filterbank, then log band
power averaged over the window) is the optional first layer of the DRN that
learns on a CPU. The architecture helpers (:func:`tiered_sizes`,
:func:`dilation_schedule`, :func:`receptive_field`, :func:`gabor_filterbank`)
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
    "gabor_filterbank",
    "StandardBlock",
    "FFNModule",
    "ResidualBlock",
    "FilterbankFrontend",
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


def gabor_filterbank(n_filters, filter_length, *, sr, fmin, fmax):
    """Complex constant-Q filters at log-spaced centre frequencies.

    Filter ``k`` is a Hann window times ``cos`` (row ``2k``) and ``sin`` (row
    ``2k + 1``) at its centre ``f_k``, the centres spaced evenly in log
    frequency from ``fmin`` to ``fmax``. Each window is long enough that its
    -3 dB bandwidth (1.44 bins of a Hann window) equals the spacing of the
    centres, ``1.44 sr / L_k = f_k (r - 1)`` with ``r`` the ratio of
    neighbouring centres, so that the bands tile the spectrum like a
    constant-Q transform; windows longer than ``filter_length`` are cut to it
    (the lowest bands are then wider than the spacing). Each window is
    centred in the kernel and scaled to unit sum, so a sinusoid of amplitude
    ``a`` at ``f_k`` gives band power ``(a / 2) ** 2``.

    Parameters
    ----------
    n_filters : int
        Number of bands, at least 2.
    filter_length : int
        Taps of every kernel.
    sr : float
        Sample rate in Hz.
    fmin, fmax : float
        Lowest and highest centre frequency in Hz, ``0 < fmin < fmax < sr / 2``.

    Returns
    -------
    weights : np.ndarray of float32 [shape=(2 * n_filters, filter_length)]
        Cosine and sine kernels, interleaved.
    centres : np.ndarray [shape=(n_filters,)]
        Centre frequencies in Hz.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.models import gabor_filterbank
    >>> weights, centres = gabor_filterbank(32, 1024, sr=8000, fmin=100, fmax=3200)
    >>> weights.shape, round(float(centres[1]), 1)
    ((64, 1024), 111.8)
    >>> t = np.arange(1024) / 8000
    >>> power = ((weights @ np.cos(2 * np.pi * centres[20] * t)) ** 2).reshape(32, 2).sum(axis=1)
    >>> int(power.argmax()), round(float(power.max()), 3)
    (20, 0.25)
    """
    if not 0 < fmin < fmax < sr / 2:
        raise ValueError(f"need 0 < fmin < fmax < sr / 2; got fmin={fmin!r}, fmax={fmax!r}, "
                         f"sr={sr!r}.")
    if n_filters < 2 or filter_length < 2:
        raise ValueError(f"need n_filters >= 2 and filter_length >= 2; got {n_filters!r} and "
                         f"{filter_length!r}.")
    ratio = (fmax / fmin) ** (1.0 / (n_filters - 1))
    centres = fmin * ratio ** np.arange(n_filters)
    t = np.arange(filter_length) - (filter_length - 1) / 2
    weights = np.zeros((2 * n_filters, filter_length))
    for k, fc in enumerate(centres):
        length = int(np.clip(round(1.44 * sr / ((ratio - 1) * fc)), 2, filter_length))
        start = (filter_length - length) // 2
        window = np.zeros(filter_length)
        window[start:start + length] = np.hanning(length + 2)[1:-1]  # no zero end taps
        window /= window.sum()
        phase = 2 * np.pi * fc * t / sr
        weights[2 * k] = window * np.cos(phase)
        weights[2 * k + 1] = window * np.sin(phase)
    return weights.astype(np.float32), centres


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


class FilterbankFrontend(nn.Module):
    """Strided filterbank convolution, log band power, averaged over the window.

    Stereo windows ``(n, 2, n_samples)`` become the mid channel ``(L + R) /
    2`` (and, with ``mid_side``, the side channel ``(L - R) / 2``), which a
    Conv1d of kernel ``filter_length`` and stride ``hop_length`` filters with
    the complex constant-Q bank of :func:`gabor_filterbank`. Each band's power
    (cosine output squared plus sine output squared) is taken to
    ``log10(power + 1e-10)`` and averaged over the frames of the window: the
    window's long-term log spectrum, ``(n, n_channels, n_filters)``, on which
    a static resonance stands out and the notes average away.

    With ``trainable=False`` the kernels are a fixed buffer, rebuilt from
    the parameters (not stored in ``state_dict``); with ``trainable=True``
    they are a parameter, initialised to the bank and learnt (as SincNet
    learns its first layer).

    Examples
    --------
    >>> import torch
    >>> from sk_reseq.models._modules import FilterbankFrontend
    >>> front = FilterbankFrontend(n_filters=16, filter_length=256, hop_length=128, sr=8000,
    ...                            fmin=100, fmax=3000)
    >>> front(torch.zeros(3, 2, 1024)).shape
    torch.Size([3, 1, 16])
    """

    def __init__(self, *, n_filters=128, filter_length=2048, hop_length=512, sr=22050,
                 fmin=40.0, fmax=10000.0, mid_side=False, trainable=False):
        super().__init__()
        weights, centres = gabor_filterbank(int(n_filters), int(filter_length), sr=sr,
                                            fmin=fmin, fmax=fmax)
        weights = torch.from_numpy(weights)[:, None, :]
        if trainable:
            self.weight = nn.Parameter(weights)
        else:
            self.register_buffer("weight", weights, persistent=False)
        self.centres = centres
        self.n_filters = int(n_filters)
        self.hop_length = int(hop_length)
        self.mid_side = bool(mid_side)
        self.n_outputs = 2 if mid_side else 1

    def forward(self, X):
        mid = 0.5 * (X[:, 0] + X[:, 1])
        x = torch.stack([mid, 0.5 * (X[:, 0] - X[:, 1])], 1) if self.mid_side else mid[:, None]
        n, c, T = x.shape
        z = nn.functional.conv1d(x.reshape(n * c, 1, T), self.weight, stride=self.hop_length)
        power = z[:, 0::2] ** 2 + z[:, 1::2] ** 2  # (n * c, n_filters, frames)
        return torch.log10(power + 1e-10).mean(-1).reshape(n, c, self.n_filters)


class DRNModule(nn.Module):
    """Dilated residual network of Fig. 4/5: PCM windows -> one factor each.

    Residual blocks (channels ``block_sizes``, dilations ``dilations``) keep
    the temporal length; average pooling with kernel = stride =
    ``pool_size`` (``ceil_mode``: the last, partial window averages the
    samples it covers) shortens it to ``ceil(n_samples / pool_size)``
    frames; these are flattened into a standard block of ``final_size``
    units and a Linear with one output. Input ``(n, n_channels,
    n_samples)``, output ``(n,)``.

    With a ``frontend`` (a :class:`FilterbankFrontend`) the blocks run over
    its output instead, ``(n, frontend.n_outputs, frontend.n_filters)``
    after a BatchNorm1d (``norm``): their convolutions slide along the
    frequency axis, comparing each band with its neighbours as the
    equalizer's resonance detector does, and the pooling averages
    ``pool_size`` neighbouring bands.

    Examples
    --------
    >>> import torch
    >>> from sk_reseq.models._modules import DRNModule
    >>> net = DRNModule(2, 64, block_sizes=(4, 4), dilations=(1, 2), pool_size=16, final_size=3)
    >>> net.eval()(torch.zeros(5, 2, 64)).shape
    torch.Size([5])
    """

    def __init__(self, n_channels, n_samples, *, block_sizes, dilations, kernel_size=3,
                 pool_size=300, final_size=10, frontend=None):
        super().__init__()
        if len(block_sizes) != len(dilations):
            raise ValueError("block_sizes and dilations must have one entry per block.")
        self.frontend = frontend
        if frontend is not None:
            n_channels, n_samples = frontend.n_outputs, frontend.n_filters
            self.norm = nn.BatchNorm1d(n_channels)
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
        if self.frontend is not None:
            X = self.norm(self.frontend(X))
        h = self.pool(self.blocks(X))
        return self.output(self.head(h.flatten(1))).squeeze(-1)
