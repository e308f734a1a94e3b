"""Machinery shared by the networks: the skorch training loop, batched
inference and the weights-only state used by :mod:`sk_reseq.persistence`
(targets, groups and ``score`` are in :mod:`._targets`).

The public estimators are plain scikit-learn estimators whose ``__init__``
only stores parameters; ``fit`` builds a ``skorch.NeuralNet`` (fitted
attribute ``net_``). That keeps ``clone``, ``get_params`` and the common
checks working, which a skorch subclass does not (its ``__init__`` sets
attributes and takes a ``callbacks`` object).
"""

import contextlib
import contextvars
import json
import logging
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..utils._sklearn_compat import Interval, StrOptions
from ._targets import RatingScoreMixin, check_groups, check_targets, grouped_valid_mask

logger = logging.getLogger(__name__)

# Set by sk_reseq.persistence.save_model: while it is true, the networks'
# __getstate__ replaces the skorch net by its weights (safetensors bytes)
# and its history (JSON), which skops can store without pickle.
WEIGHTS_ONLY_STATE = contextvars.ContextVar("sk_reseq_weights_only_state", default=False)


@contextlib.contextmanager
def _seeded_torch(seed, device):
    import torch

    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):  # leave the caller's RNG alone
        torch.manual_seed(int(seed))
        yield


def _check_device(device):
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError("device must be a torch device string like 'cpu' or 'cuda', "
                         f"got {device!r}.") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but no CUDA GPU is available; "
                         "use device='cpu'.")
    return dev


class BaseNetRegressor(RatingScoreMixin, RegressorMixin, BaseEstimator):
    """Base of FFNRegressor and DRNRegressor (not public).

    Subclasses define ``_validate_X(X, reset)`` (returns float32 input),
    ``_resolve_architecture()`` (sets architecture fitted attributes) and
    ``_build_module()`` (returns the torch module).
    """

    _parameter_constraints = {
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions({"adam", "adamw", "sgd"})],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "early_stopping_patience": [Interval(Integral, 1, None, closed="left"), None],
        "early_stopping_threshold": [Interval(Real, 0, None, closed="left")],
        "lr_reduce_patience": [Interval(Integral, 0, None, closed="left"), None],
        "lr_reduce_factor": [Interval(Real, 0, 1, closed="neither")],
        "lr_reduce_threshold": [Interval(Real, 0, None, closed="left")],
        "valid_fraction": [Interval(Real, 0, 1, closed="left")],
        "clip": ["boolean"],
        "predict_batch_size": [Interval(Integral, 1, None, closed="left")],
        "inference_dtype": [StrOptions({"float32", "bfloat16"})],
        "random_state": ["random_state"],
        "device": [str],
        "verbose": ["verbose"],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True  # tiny nets, few epochs in the checks
        return tags

    # -- training ---------------------------------------------------------

    def fit(self, X, y, groups=None):
        """Train the network on ``X`` and ratings ``y``.

        Parameters
        ----------
        X : array-like
            Input of the network (see the class docstring for its shape).
        y : array-like [shape=(n,) or (n, n_raters)]
            Ratings; NaN marks a declined rating in a 2-D matrix. The loss
            is MSBE^(35,65) (:class:`sk_reseq.metrics.MSBELoss`).
        groups : array-like [shape=(n,)], default=None
            Track id of each sample: the validation split that early
            stopping and LR reduction watch holds out whole groups. When
            None, windows with identical rating rows are taken as one track
            (``WindowSampler`` repeats a track's ratings for each window).
            Groups are used for the split only; they never reach the module.

        Returns
        -------
        self : object
        """
        self._validate_params()
        X = self._validate_X(X, reset=True)
        y = check_targets(y, n_samples=X.shape[0], bounded=self.clip)
        groups = check_groups(groups, y, X.shape[0])
        rng = check_random_state(self.random_state)
        split_seed, torch_seed = rng.randint(np.iinfo(np.int32).max, size=2)
        valid_mask = grouped_valid_mask(groups, self.valid_fraction, split_seed)
        train = ~valid_mask if valid_mask is not None else np.ones(len(X), dtype=bool)
        n_train = int(train.sum())
        if n_train < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 training samples (BatchNorm), got "
                f"{n_train} sample{'s' if n_train != 1 else ''}."
            )
        device = _check_device(self.device)
        self._resolve_architecture()
        y32 = y.astype(np.float32)
        valid = (X[valid_mask], y32[valid_mask]) if valid_mask is not None else None
        # A last training batch of one sample would break BatchNorm: drop it.
        drop_last = n_train % self.batch_size == 1
        with _seeded_torch(torch_seed, device):
            net = self._make_net(device, valid=valid, drop_last=drop_last,
                                 start=float(np.nanmean(y32[train])))
            net.fit(X[train], y32[train])  # initializes the net (seeded) then trains
        self.net_ = net
        self.valid_mask_ = valid_mask if valid_mask is not None else np.zeros(len(X), dtype=bool)
        self.n_iter_ = len(net.history)
        self._inference_cache = None
        self._inference_module()  # fold now: predict then leaves __dict__ alone
        return self

    def _make_net(self, device, *, valid=None, drop_last=False, start=None):
        import torch
        from skorch import NeuralNet
        from skorch.callbacks import EarlyStopping, LRScheduler
        from skorch.dataset import Dataset
        from skorch.helper import predefined_split

        from ._modules import MSBECriterion

        monitor = "valid_loss" if valid is not None else "train_loss"
        sink = logger.info if self.verbose else logger.debug
        callbacks = []
        if self.early_stopping_patience is not None:
            callbacks.append(("early_stopping", EarlyStopping(
                monitor=monitor, patience=self.early_stopping_patience,
                threshold=self.early_stopping_threshold, load_best=True, sink=sink,
            )))
        if self.lr_reduce_patience is not None:
            # skorch's LRScheduler watches train_loss unless told otherwise.
            callbacks.append(("lr_reduce", LRScheduler(
                policy=torch.optim.lr_scheduler.ReduceLROnPlateau, monitor=monitor,
                patience=self.lr_reduce_patience, factor=self.lr_reduce_factor,
                threshold=self.lr_reduce_threshold,
            )))
        optimizer = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
                     "sgd": torch.optim.SGD}[self.optimizer]
        module = self._build_module()
        if start is not None:
            # Start from the baseline: with a zero output layer the untrained
            # net predicts the mean rating, and training learns deviations.
            with torch.no_grad():
                module.output.weight.zero_()
                module.output.bias.fill_(start)
        net = NeuralNet(
            module=module,
            criterion=MSBECriterion,
            optimizer=optimizer,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train__shuffle=True,
            iterator_train__drop_last=drop_last,
            train_split=predefined_split(Dataset(*valid)) if valid is not None else None,
            callbacks=callbacks,
            callbacks__print_log__sink=sink,
            predict_nonlinearity=None,
            device=str(device),
            verbose=self.verbose,
        )
        return net

    # -- prediction -------------------------------------------------------

    def predict(self, X):
        """Predicted attenuation factor per sample.

        Runs the BatchNorm-folded network (see ``_inference``) in batches of
        ``predict_batch_size`` under ``torch.inference_mode``.

        Returns
        -------
        y_pred : np.ndarray of float64 [shape=(n,)]
            Clipped to [0, 1] when ``clip`` is True.
        """
        check_is_fitted(self, "net_")
        X = self._validate_X(X, reset=False)
        module, dtype = self._inference_module()
        from ._inference import predict_batched

        device = self.net_.module_.output.weight.device
        y_pred = predict_batched(module, X, batch_size=self._predict_batch_size(device),
                                 device=device, dtype=dtype)
        return np.clip(y_pred, 0.0, 1.0) if self.clip else y_pred

    def _predict_batch_size(self, device):
        """Samples per forward pass in ``predict``."""
        return self.predict_batch_size

    def _inference_module(self):
        from ._inference import fold_batchnorm, resolve_inference_dtype

        device = self.net_.module_.output.weight.device
        dtype = resolve_inference_dtype(self.inference_dtype, device)
        cache = getattr(self, "_inference_cache", None)
        if cache is None or cache[0] != dtype:
            cache = (dtype, fold_batchnorm(self.net_.module_).to(dtype=dtype))
            self._inference_cache = cache
        return cache[1], dtype

    # -- weights-only state for sk_reseq.persistence ----------------------

    def __getstate__(self):
        state = dict(super().__getstate__())  # object's default returns __dict__ itself
        state.pop("_inference_cache", None)
        if WEIGHTS_ONLY_STATE.get() and "net_" in state:
            from safetensors.torch import save

            net = state.pop("net_")
            weights = {k: v.detach().cpu().contiguous()
                       for k, v in net.module_.state_dict().items()}
            state["_net_weights"] = save(weights)
            state["_net_history"] = json.dumps(list(net.history), default=float)
        return state

    def __setstate__(self, state):
        state = dict(state)
        weights = state.pop("_net_weights", None)
        history = state.pop("_net_history", None)
        super().__setstate__(state)
        if weights is not None:
            # The hyper-parameters come from a file: check them before they size a network.
            self._validate_params()
            self._restore_net(weights, history)

    def _restore_net(self, weights, history):
        import torch
        from safetensors.torch import load
        from skorch.history import History

        device = torch.device(self.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            warnings.warn(f"Model saved for device={self.device!r}; no GPU here, "
                          "loading it on the CPU.", RuntimeWarning, stacklevel=2)
            device = torch.device("cpu")
        net = self._make_net(device).initialize()
        net.module_.load_state_dict(load(bytes(weights)))
        net.module_.to(device)
        if history is not None:
            net.history = History(json.loads(history))
        self.net_ = net
        self._inference_cache = None
        self._inference_module()
