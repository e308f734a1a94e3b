"""DRNRegressor: the paper's dilated residual network on stereo PCM (4.2)."""

from numbers import Integral, Real

import numpy as np

from .._validation import AudioValueError, check_windows
from ..utils._sklearn_compat import Interval, StrOptions
from ._base import BaseNetRegressor
from ._ffn import _positive_int_tuple
from ._modules import (
    DRNModule,
    FilterbankFrontend,
    dilation_schedule,
    receptive_field,
    tiered_sizes,
)

N_CHANNELS = 2


class DRNRegressor(BaseNetRegressor):
    """Dilated residual network predicting the attenuation factor from PCM.

    The network of the paper's section 4.2 and Fig. 4/5, on stereo windows
    ``(n, 2, n_samples)`` of float PCM (integer PCM is scaled to [-1, 1)):

    1. ``n_blocks`` residual blocks. Block ``i`` is a dilated Conv1d (kernel
       ``kernel_size``, dilation ``dilation_schedule(n_blocks,
       dilation_cycle)[i]`` = ``2 ** (i % dilation_cycle)``, zero 'same'
       padding so the temporal length is kept) + BatchNorm1d, in parallel
       with a 1x1 Conv1d + BatchNorm1d; the two are summed and pass a ReLU.
       Channels per block: ``tiered_sizes(n_blocks, low, mid, high)`` with
       ``(low, mid, high) = block_sizes`` (first / second / last third of
       the blocks, earlier tiers taking the extra blocks: 10 blocks -> 4, 3, 3).
    2. Temporal average pooling, kernel = stride = ``pool_size`` (the last,
       partial window averages the samples it covers), flattened.
    3. A standard block (Linear -> BatchNorm1d -> ReLU) of ``final_size``
       units, then a Linear with one output.

    Trained like :class:`FFNRegressor` (MSBE loss, early stopping and LR
    reduction on a validation split grouped by track; the output layer
    starts at the mean training rating). ``predict`` runs a
    copy with every BatchNorm folded into its convolution, and each block's
    1x1 path folded into the centre tap of its dilated kernel (one
    convolution + ReLU per block), in batches of ``predict_batch_size``.

    The defaults are the paper's Table 3 network: 18 GFLOPs per window
    (folded; 24 as trained), under 1 window/s of training on two CPU
    threads, a GPU's job. With
    ``frontend="filterbank"`` the first layer is a strided convolution
    initialised as a constant-Q filterbank (:class:`FilterbankFrontend`:
    ``n_filters`` log-spaced bands from ``fmin`` to ``fmax``, kernels of
    ``filter_length``, stride ``hop_length``), whose log band power,
    averaged over the window, the residual blocks read along the frequency
    axis; ``pool_size`` then counts bands. :data:`CPU_DRN_PARAMS` is the
    configuration of that kind that learns on a CPU in minutes (see the
    models guide for its cost and how it was chosen).

    Parameters
    ----------
    n_blocks : int, default=10
        Number of residual blocks (Table 3).
    block_sizes : tuple of 3 int, default=(100, 100, 300)
        Channels of the low / mid / high tiers of blocks (Table 3).
    block_size_low, block_size_mid, block_size_high : int, default=None
        Scalar aliases for hyper-parameter search; each one set overrides
        the matching entry of ``block_sizes``.
    kernel_size : int, default=3
        Width of the dilated kernels; odd, so that 'same' padding is
        symmetric.
    dilation_cycle : int or None, default=10
        Dilations double from block to block and restart at 1 every
        ``dilation_cycle`` blocks (WaveNet-style); None never restarts.
        The default network has dilations 1 ... 512 and a receptive field of
        2047 samples (93 ms at 22 050 Hz).
    pool_size : int, default=300
        Kernel and stride of the temporal average pooling (of the average
        pooling over bands with ``frontend="filterbank"``).
    final_size : int, default=10
        Units of the final standard block.
    frontend : {"pcm", "filterbank"}, default="pcm"
        ``"pcm"``: the residual blocks read the stereo samples (the paper).
        ``"filterbank"``: they read the window's log spectrum from a
        filterbank convolution (see above).
    n_filters : int, default=128
        Filterbank bands (``frontend="filterbank"`` only, as are the
        parameters up to ``train_frontend``).
    filter_length : int, default=2048
        Taps of each filterbank kernel (93 ms at 22 050 Hz); at most
        ``n_samples``.
    hop_length : int, default=512
        Stride of the filterbank convolution, in samples.
    fmin, fmax : float, default=40.0, 10000.0
        Lowest and highest band centre in Hz (``fmax < sr / 2``).
    mid_side : bool, default=False
        Filter the side channel ``(L - R) / 2`` too, besides the mid channel
        ``(L + R) / 2``.
    train_frontend : bool, default=False
        Learn the filterbank kernels (initialised to the bank) instead of
        keeping them fixed.
    sr : int, default=22050
        Sample rate the windows must have (the paper's 22 050 Hz). Input
        arrays do not carry a rate: resampling (and cutting windows) is
        the job of ``WindowSampler``; ``sr`` documents the model's contract
        and is used by the automatic equalizer.
    n_samples : int, default=11025
        Samples per window (0.5 s at 22 050 Hz). Windows of another length
        are refused.
    lr, optimizer, weight_decay, max_epochs, batch_size, \
early_stopping_patience, early_stopping_threshold, lr_reduce_patience, \
lr_reduce_factor, lr_reduce_threshold, valid_fraction, clip, \
inference_dtype, random_state, device, verbose
        As in :class:`FFNRegressor` (defaults: lr=1e-3, max_epochs=50,
        batch_size=32).
    predict_batch_size : int or None, default=None
        Windows per forward pass in ``predict``; None means 1 for the
        paper's network on a CPU and 32 otherwise. On a CPU one window's
        activations (300 x 11 025 floats, 13 MB, for the paper's network)
        already exceed the caches, so larger passes only add memory
        traffic: 32 windows at once were 1.3x slower per window than one at
        a time. The filterbank DRN's activations are small and its
        per-pass overhead dominates: 32 windows per pass were 3.1x faster
        per window than one (``benchmarks/bench_drn.py``).

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained net (``net_.module_`` is a ``DRNModule``).
    block_sizes_ : tuple of int
        Channels of each residual block.
    dilations_ : tuple of int
        Dilation of each residual block.
    receptive_field_ : int
        Receptive field of the residual stack,
        ``1 + (kernel_size - 1) * sum(dilations_)``: in samples with
        ``frontend="pcm"``, in filterbank bands with ``"filterbank"`` (whose
        every band sees the whole window).
    center_frequencies_ : np.ndarray or None
        Centre frequencies of the filterbank bands in Hz (None with
        ``frontend="pcm"``).
    valid_mask_ : np.ndarray of bool [shape=(n_windows,)]
        Windows of ``fit`` held out for early stopping / LR reduction.
    n_iter_ : int
        Epochs trained.

    See Also
    --------
    FFNRegressor : The network on summarized audio features.
    MeanRatingRegressor : The paper's baseline.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.models import DRNRegressor
    >>> rng = np.random.default_rng(0)
    >>> amp = rng.uniform(0.1, 1.0, size=32)
    >>> X = (amp[:, None, None] * rng.standard_normal((32, 2, 256))).astype(np.float32)
    >>> drn = DRNRegressor(n_blocks=3, block_sizes=(4, 4, 8), pool_size=64, final_size=4,
    ...                    n_samples=256, max_epochs=3, random_state=0).fit(X, amp)
    >>> drn.predict(X[:2]).shape
    (2,)
    >>> drn.dilations_, drn.receptive_field_
    ((1, 2, 4), 15)

    The configuration that learns on a CPU, here shrunk to a toy size:

    >>> from sk_reseq.models import CPU_DRN_PARAMS
    >>> params = {**CPU_DRN_PARAMS, "n_filters": 16, "filter_length": 64, "hop_length": 32,
    ...           "pool_size": 4, "max_epochs": 3}
    >>> fb = DRNRegressor(**params, n_samples=256, random_state=0).fit(X, amp)
    >>> fb.center_frequencies_.shape, fb.predict(X[:2]).shape
    ((16,), (2,))
    """

    _parameter_constraints = {
        **BaseNetRegressor._parameter_constraints,
        "n_blocks": [Interval(Integral, 1, None, closed="left")],
        "block_sizes": ["array-like"],
        "block_size_low": [Interval(Integral, 1, None, closed="left"), None],
        "block_size_mid": [Interval(Integral, 1, None, closed="left"), None],
        "block_size_high": [Interval(Integral, 1, None, closed="left"), None],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "dilation_cycle": [Interval(Integral, 1, None, closed="left"), None],
        "pool_size": [Interval(Integral, 1, None, closed="left")],
        "final_size": [Interval(Integral, 1, None, closed="left")],
        "frontend": [StrOptions({"pcm", "filterbank"})],
        "n_filters": [Interval(Integral, 2, None, closed="left")],
        "filter_length": [Interval(Integral, 2, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="neither")],
        "fmax": [Interval(Real, 0, None, closed="neither")],
        "mid_side": ["boolean"],
        "train_frontend": ["boolean"],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "predict_batch_size": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        *,
        n_blocks=10,
        block_sizes=(100, 100, 300),
        block_size_low=None,
        block_size_mid=None,
        block_size_high=None,
        kernel_size=3,
        dilation_cycle=10,
        pool_size=300,
        final_size=10,
        frontend="pcm",
        n_filters=128,
        filter_length=2048,
        hop_length=512,
        fmin=40.0,
        fmax=10000.0,
        mid_side=False,
        train_frontend=False,
        sr=22050,
        n_samples=11025,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        max_epochs=50,
        batch_size=32,
        early_stopping_patience=10,
        early_stopping_threshold=1e-4,
        lr_reduce_patience=5,
        lr_reduce_factor=0.5,
        lr_reduce_threshold=1e-4,
        valid_fraction=0.2,
        clip=True,
        predict_batch_size=None,
        inference_dtype="float32",
        random_state=None,
        device="cpu",
        verbose=0,
    ):
        self.n_blocks = n_blocks
        self.block_sizes = block_sizes
        self.block_size_low = block_size_low
        self.block_size_mid = block_size_mid
        self.block_size_high = block_size_high
        self.kernel_size = kernel_size
        self.dilation_cycle = dilation_cycle
        self.pool_size = pool_size
        self.final_size = final_size
        self.frontend = frontend
        self.n_filters = n_filters
        self.filter_length = filter_length
        self.hop_length = hop_length
        self.fmin = fmin
        self.fmax = fmax
        self.mid_side = mid_side
        self.train_frontend = train_frontend
        self.sr = sr
        self.n_samples = n_samples
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.early_stopping_patience = early_stopping_patience
        self.early_stopping_threshold = early_stopping_threshold
        self.lr_reduce_patience = lr_reduce_patience
        self.lr_reduce_factor = lr_reduce_factor
        self.lr_reduce_threshold = lr_reduce_threshold
        self.valid_fraction = valid_fraction
        self.clip = clip
        self.predict_batch_size = predict_batch_size
        self.inference_dtype = inference_dtype
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _validate_X(self, X, reset):
        X = check_windows(X, name="X")
        shape = f"(n_windows, {N_CHANNELS}, {self.n_samples})"
        if X.shape[1] != N_CHANNELS:
            raise AudioValueError(
                f"X must be stereo windows {shape}; got {X.shape[1]} channel(s) (shape "
                f"{X.shape}). Give both channels of a stereo track; for mono audio repeat the "
                "channel first (np.repeat(X, 2, axis=1))."
            )
        if X.shape[2] != self.n_samples:
            raise AudioValueError(
                f"X windows have {X.shape[2]} samples; this DRNRegressor expects {shape}, "
                f"i.e. {self.n_samples / self.sr:g} s at sr={self.sr} Hz. Resample the audio to "
                f"{self.sr} Hz and cut windows with WindowSampler (or set n_samples to train "
                "on another window length)."
            )
        return np.asarray(X, dtype=np.float32)

    def _predict_batch_size(self, device):
        if self.predict_batch_size is not None:
            return self.predict_batch_size
        return 32 if device.type == "cuda" or self.frontend == "filterbank" else 1

    def _resolve_architecture(self):
        sizes = _positive_int_tuple(self.block_sizes, "block_sizes")
        if len(sizes) != 3:
            raise ValueError(f"block_sizes must give 3 tier sizes (low, mid, high), got {sizes!r}.")
        overrides = (self.block_size_low, self.block_size_mid, self.block_size_high)
        low, mid, high = (int(o) if o is not None else s for o, s in zip(overrides, sizes))
        if self.kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd ('same' padding), got {self.kernel_size}.")
        self.block_sizes_ = tiered_sizes(int(self.n_blocks), low, mid, high)
        self.dilations_ = dilation_schedule(int(self.n_blocks), self.dilation_cycle)
        self.receptive_field_ = receptive_field(self.kernel_size, self.dilations_)
        self.center_frequencies_ = None
        if self.frontend == "filterbank":
            if self.filter_length > self.n_samples:
                raise ValueError(f"filter_length ({self.filter_length}) must not exceed the "
                                 f"window, n_samples={self.n_samples}.")
            if not self.fmin < self.fmax < self.sr / 2:
                raise ValueError(f"need fmin < fmax < sr / 2 = {self.sr / 2:g} Hz; got "
                                 f"fmin={self.fmin!r}, fmax={self.fmax!r}.")
            self.center_frequencies_ = self._build_frontend().centres

    def _build_frontend(self):
        return FilterbankFrontend(
            n_filters=int(self.n_filters), filter_length=int(self.filter_length),
            hop_length=int(self.hop_length), sr=self.sr, fmin=float(self.fmin),
            fmax=float(self.fmax), mid_side=bool(self.mid_side),
            trainable=bool(self.train_frontend),
        )

    def _build_module(self):
        frontend = self._build_frontend() if self.frontend == "filterbank" else None
        return DRNModule(
            N_CHANNELS, self.n_samples, block_sizes=self.block_sizes_, dilations=self.dilations_,
            kernel_size=int(self.kernel_size), pool_size=int(self.pool_size),
            final_size=int(self.final_size), frontend=frontend,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags
