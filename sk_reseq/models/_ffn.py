"""FFNRegressor: the paper's feed-forward network on audio features (4.1)."""

from numbers import Integral

import numpy as np
from sklearn.utils.validation import validate_data

from ..utils._sklearn_compat import Interval
from ._base import BaseNetRegressor
from ._modules import FFNModule, tiered_sizes

#: Table 3's best FFN tier sizes, used for unset ``block_size_*``.
FFN_TIERS = (500, 250, 250)


def _positive_int_tuple(value, name):
    try:
        sizes = tuple(value)
    except TypeError:
        sizes = ()
    if not sizes or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1
                        for s in sizes):
        raise ValueError(f"{name} must be a non-empty sequence of integers >= 1, got {value!r}.")
    return tuple(int(s) for s in sizes)


class FFNRegressor(BaseNetRegressor):
    """Feed-forward network predicting the attenuation factor from features.

    The network of the paper's section 4.1: standard blocks (Linear ->
    BatchNorm1d -> ReLU) of ``hidden_sizes`` units, then a Linear with one
    output. It is trained with the MSBE^(35,65) loss on the raters' ratings
    (NaN = declined) by a ``skorch.NeuralNet`` built in ``fit``; early
    stopping and LR reduction (``ReduceLROnPlateau``) watch the loss on a
    validation split that holds out whole tracks (see ``fit``'s ``groups``).
    The output layer starts with zero weights and the mean training rating
    as bias, so the untrained network is the paper's baseline and training
    learns the deviations from it.

    Parameters
    ----------
    hidden_sizes : sequence of int, default=(500, 250, 250)
        Units of each standard block (Table 3's best FFN). Ignored when
        ``n_blocks`` is set.
    n_blocks : int, default=None
        Scalar form of the architecture for hyper-parameter search (skopt
        dimensions are scalars): ``n_blocks`` blocks whose sizes are
        ``tiered_sizes(n_blocks, block_size_low, block_size_mid,
        block_size_high)``, i.e. the first, second and last third of the
        blocks (see :func:`tiered_sizes` for the split rule).
    block_size_low, block_size_mid, block_size_high : int, default=None
        Tier sizes used with ``n_blocks``; unset ones default to Table 3's
        500 / 250 / 250. They must stay None when ``n_blocks`` is None.
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        Torch optimizer.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer.
    max_epochs : int, default=100
        Upper bound on training epochs.
    batch_size : int, default=64
        Training mini-batch size. A last batch of one sample is dropped
        (BatchNorm cannot train on it).
    early_stopping_patience : int or None, default=10
        Epochs without relative improvement of ``early_stopping_threshold``
        in the validation loss before training stops; the weights of the
        best epoch are restored. None disables early stopping.
    early_stopping_threshold : float, default=1e-4
        Relative improvement that counts for early stopping.
    lr_reduce_patience : int or None, default=5
        ``ReduceLROnPlateau`` patience on the validation loss; None disables.
    lr_reduce_factor : float, default=0.5
        Factor the learning rate is multiplied by on a plateau.
    lr_reduce_threshold : float, default=1e-4
        Relative improvement that resets the plateau counter.
    valid_fraction : float, default=0.2
        Fraction of the groups (tracks) held out for validation. 0, or a
        single group, means no validation split: the callbacks then watch
        the training loss.
    clip : bool, default=True
        Attenuation factors lie in [0, 1]: ``y`` must lie there and
        predictions are clipped to it. False accepts any real ``y`` and
        returns raw outputs (a generic regressor; the sklearn checks use it).
    predict_batch_size : int, default=4096
        Samples per forward pass in ``predict`` (bounds memory).
    inference_dtype : {"float32", "bfloat16"}, default="float32"
        Precision of ``predict``; bfloat16 falls back to float32 with a
        warning where the hardware has no native support.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split and torch (weights, batch order): the
        same integer gives identical predictions. torch's global RNG is
        left as it was.
    device : str, default="cpu"
        Torch device, e.g. "cuda"; a clear error if it is unavailable.
    verbose : int, default=0
        If > 0, per-epoch progress is logged at INFO level (DEBUG otherwise)
        to the ``sk_reseq.models._base`` logger.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained net; ``net_.module_`` is the :class:`torch.nn.Module` and
        ``net_.history`` the per-epoch losses.
    hidden_sizes_ : tuple of int
        The block sizes used.
    valid_mask_ : np.ndarray of bool [shape=(n_samples,)]
        Samples of ``fit`` held out for early stopping / LR reduction.
    n_iter_ : int
        Epochs trained.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : np.ndarray of str
        Feature names, when ``X`` was a DataFrame with string column names.

    See Also
    --------
    DRNRegressor : The network on raw PCM windows.
    MeanRatingRegressor : The paper's baseline.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.models import FFNRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 5)).astype(np.float32)
    >>> y = 1 / (1 + np.exp(-X[:, 0]))
    >>> ffn = FFNRegressor(hidden_sizes=(16,), max_epochs=5, random_state=0).fit(X, y)
    >>> ffn.predict(X[:3]).shape
    (3,)
    >>> FFNRegressor(n_blocks=4, block_size_low=64).set_params(max_epochs=2).fit(X, y).hidden_sizes_
    (64, 64, 250, 250)
    """

    _parameter_constraints = {
        **BaseNetRegressor._parameter_constraints,
        "hidden_sizes": ["array-like"],
        "n_blocks": [Interval(Integral, 1, None, closed="left"), None],
        "block_size_low": [Interval(Integral, 1, None, closed="left"), None],
        "block_size_mid": [Interval(Integral, 1, None, closed="left"), None],
        "block_size_high": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        hidden_sizes=(500, 250, 250),
        *,
        n_blocks=None,
        block_size_low=None,
        block_size_mid=None,
        block_size_high=None,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        max_epochs=100,
        batch_size=64,
        early_stopping_patience=10,
        early_stopping_threshold=1e-4,
        lr_reduce_patience=5,
        lr_reduce_factor=0.5,
        lr_reduce_threshold=1e-4,
        valid_fraction=0.2,
        clip=True,
        predict_batch_size=4096,
        inference_dtype="float32",
        random_state=None,
        device="cpu",
        verbose=0,
    ):
        self.hidden_sizes = hidden_sizes
        self.n_blocks = n_blocks
        self.block_size_low = block_size_low
        self.block_size_mid = block_size_mid
        self.block_size_high = block_size_high
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
        return validate_data(self, X, reset=reset, dtype=np.float32)

    def _resolve_architecture(self):
        tiers = (self.block_size_low, self.block_size_mid, self.block_size_high)
        if self.n_blocks is None:
            if any(t is not None for t in tiers):
                raise ValueError(
                    "block_size_low/mid/high are only used with n_blocks; set n_blocks too, "
                    "or give the layer sizes as hidden_sizes."
                )
            self.hidden_sizes_ = _positive_int_tuple(self.hidden_sizes, "hidden_sizes")
        else:
            low, mid, high = (t if t is not None else d for t, d in zip(tiers, FFN_TIERS))
            self.hidden_sizes_ = tiered_sizes(int(self.n_blocks), int(low), int(mid), int(high))

    def _build_module(self):
        return FFNModule(self.n_features_in_, self.hidden_sizes_)
