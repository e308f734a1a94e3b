"""Regressors of the attenuation factor: the paper's baseline, FFN and DRN.

- :class:`MeanRatingRegressor` predicts the mean training rating (baseline).
- :class:`FFNRegressor` is the feed-forward network on audio features (4.1).
- :class:`DRNRegressor` is the dilated residual network on stereo PCM (4.2);
  :data:`CPU_DRN_PARAMS` configures it to learn on a CPU (a filterbank frontend).
- :class:`RatingTargetRegressor` fits any scikit-learn regressor to a rating matrix.

The networks are scikit-learn estimators that train a skorch ``NeuralNet``
with the MSBE loss and a validation split grouped by track. They need torch
and skorch (the ``models`` extra) and are imported on first use, so that the
core install loads the default model (a scikit-learn pipeline) without them.
"""

import importlib

from .._optional import missing_extra_message
from ._baseline import MeanRatingRegressor
from ._presets import CPU_DRN_PARAMS
from ._target import RatingTargetRegressor

# Names served lazily (PEP 562) from the modules that import torch.
_TORCH_NAMES = {
    "FFNRegressor": "._ffn",
    "DRNRegressor": "._drn",
    "tiered_sizes": "._modules",
    "dilation_schedule": "._modules",
    "receptive_field": "._modules",
    "gabor_filterbank": "._modules",
}

__all__ = [
    "MeanRatingRegressor",
    "FFNRegressor",
    "DRNRegressor",
    "CPU_DRN_PARAMS",
    "RatingTargetRegressor",
    "tiered_sizes",
    "dilation_schedule",
    "receptive_field",
    "gabor_filterbank",
]


def __getattr__(name):
    if name not in _TORCH_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(_TORCH_NAMES[name], __name__)
    except ModuleNotFoundError as exc:
        message = missing_extra_message(exc.name, f"sk_reseq.models.{name}")
        if message is None:
            raise
        raise ImportError(message, name=exc.name) from exc
    return getattr(module, name)


def __dir__():
    return sorted(__all__)
