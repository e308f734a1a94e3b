"""Regressors of the attenuation factor: the paper's baseline, FFN and DRN.

- :class:`MeanRatingRegressor` predicts the mean training rating (baseline).
- :class:`FFNRegressor` is the feed-forward network on audio features (4.1).
- :class:`DRNRegressor` is the dilated residual network on stereo PCM (4.2).
- :class:`RatingTargetRegressor` fits any scikit-learn regressor to a rating matrix.

The networks are scikit-learn estimators that train a skorch ``NeuralNet``
with the MSBE loss and a validation split grouped by track.
"""

from ._baseline import MeanRatingRegressor
from ._drn import DRNRegressor
from ._ffn import FFNRegressor
from ._modules import dilation_schedule, receptive_field, tiered_sizes
from ._target import RatingTargetRegressor

__all__ = [
    "MeanRatingRegressor",
    "FFNRegressor",
    "DRNRegressor",
    "RatingTargetRegressor",
    "tiered_sizes",
    "dilation_schedule",
    "receptive_field",
]
