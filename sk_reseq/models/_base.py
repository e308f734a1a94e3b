"""Machinery shared by the regressors: targets, groups, the grouped
validation split, the skorch training loop, batched inference and the
weights-only state used by :mod:`sk_reseq.persistence`.

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
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import GroupShuffleSplit
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted

from .._validation import check_ratings
from ..metrics import msbe
from ..utils._sklearn_compat import Interval, StrOptions

logger = logging.getLogger(__name__)

# Set by sk_reseq.persistence.save_model: while it is true, the networks'
# __getstate__ replaces the skorch net by its weights (safetensors bytes)
# and its history (JSON), which skops can store without pickle.
WEIGHTS_ONLY_STATE = contextvars.ContextVar("sk_reseq_weights_only_state", default=False)


def check_targets(y, *, n_samples, bounded):
    """Validate ``y``: 1-D ``(n,)`` or a rating matrix ``(n, n_raters)``.

    NaN marks a declined rating in a 2-D ``y`` (never in 1-D). With
    ``bounded`` the ratings must lie in [0, 1] (:func:`check_ratings`);
    otherwise any finite real is accepted. A single column is flattened to
    1-D with a ``DataConversionWarning``, like scikit-learn regressors do.
    """
    if y is None:
        raise ValueError("This estimator requires y to be passed, but the target y is None.")
    if bounded:
        y = check_ratings(y, n_samples=n_samples)
    else:
        if isinstance(y, (str, bytes)):
            raise TypeError(f"y must be an array of numeric targets, got {type(y).__name__}.")
        try:
            y = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"y must hold numeric targets (NaN for declined): {exc}") from exc
        y = check_array(y, ensure_2d=False, ensure_all_finite="allow-nan", input_name="y")
        if y.shape[0] != n_samples:
            raise ValueError(f"y has {y.shape[0]} rows but X has {n_samples} samples.")
        nan_rows = np.isnan(y).all(axis=1) if y.ndim == 2 else np.isnan(y)
        if nan_rows.any():
            raise ValueError(
                f"y rows {np.flatnonzero(nan_rows)[:5].tolist()} have no target at all; "
                "NaN only marks declined ratings in a 2-D rating matrix."
            )
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; it is used as "
            "one rating per sample.", DataConversionWarning, stacklevel=3,
        )
        y = y[:, 0]
    return y


def groups_from_ratings(y):
    """One group per distinct rating row: the track id when groups are unknown.

    ``WindowSampler`` repeats a track's rating row for each of its windows,
    so identical rows mark windows of one track (two tracks rated exactly
    alike merge into one group, which only makes the split coarser).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.models._base import groups_from_ratings
    >>> groups_from_ratings(np.array([[0.5, np.nan], [0.5, np.nan], [0.25, 1.0]])).tolist()
    [1, 1, 0]
    """
    rows = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    rows = np.where(np.isnan(rows), np.inf, rows)  # NaN != NaN: give declines one code
    return np.unique(rows, axis=0, return_inverse=True)[1].reshape(-1)


def check_groups(groups, y, n_samples):
    """Integer group codes ``(n,)``; inferred from ``y`` when ``groups`` is None."""
    if groups is None:
        return groups_from_ratings(y)
    groups = np.asarray(groups)
    if groups.ndim != 1 or groups.shape[0] != n_samples:
        raise ValueError(
            f"groups must be 1-D with one track id per sample ({n_samples}); got shape "
            f"{groups.shape}."
        )
    return np.unique(groups, return_inverse=True)[1].reshape(-1)


def grouped_valid_mask(groups, valid_fraction, seed):
    """Boolean mask of the validation windows; whole groups go to one side.

    About ``valid_fraction`` of the groups (at least one, and at least one
    left for training) are drawn with ``GroupShuffleSplit``. Returns None
    when ``valid_fraction`` is 0 or there are fewer than two groups (with a
    warning in that case).
    """
    n_groups = np.unique(groups).size
    if valid_fraction == 0:
        return None
    if n_groups < 2:
        warnings.warn(
            "Only one group (track) in the training data: no grouped validation split is "
            "possible, so early stopping and LR reduction watch the training loss.",
            UserWarning, stacklevel=3,
        )
        return None
    n_valid = min(max(1, round(valid_fraction * n_groups)), n_groups - 1)
    splitter = GroupShuffleSplit(n_splits=1, test_size=n_valid, random_state=seed)
    _, valid_idx = next(splitter.split(np.zeros((len(groups), 1)), groups=groups))
    mask = np.zeros(len(groups), dtype=bool)
    mask[valid_idx] = True
    return mask


class RatingScoreMixin:
    """``score``: R² for 1-D ``y``; its MSBE analogue for a rating matrix.

    For a 2-D rating matrix the score is ``1 - MSBE(y, pred) / MSBE(y,
    m)``, where ``m`` is the mean of all ratings (the paper's baseline
    prediction); for 1-D ``y`` this formula is exactly R². 1 is perfect, 0
    is no better than predicting the mean rating, greater is better.
    """

    def score(self, X, y, sample_weight=None):
        """R² for 1-D ``y``; ``1 - MSBE / MSBE of the mean rating`` for a rating matrix.

        Parameters
        ----------
        X : array-like
            Input of the model, as for ``predict``.
        y : array-like [shape=(n,) or (n, n_raters)]
            Ratings; NaN marks a declined rating in a 2-D matrix.
        sample_weight : array-like [shape=(n,)], default=None
            Sample weights; only with 1-D ``y``.

        Returns
        -------
        score : float
            1 is perfect, 0 is no better than predicting the mean rating;
            greater is better.
        """
        y_pred = self.predict(X)
        y = check_targets(y, n_samples=len(y_pred), bounded=False)
        if y.ndim == 1:
            return r2_score(y, y_pred, sample_weight=sample_weight)
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported with a 2-D rating matrix y.")
        reference = msbe(y, np.full(len(y), np.nanmean(y)))
        loss = msbe(y, y_pred)
        if reference == 0:
            return 1.0 if loss == 0 else 0.0
        return 1.0 - loss / reference


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
