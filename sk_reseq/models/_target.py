"""Any scikit-learn regressor on a rating matrix: :class:`RatingTargetRegressor`."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from ..metrics import rating_bounds
from ..utils._sklearn_compat import HasMethods, Interval, num_samples
from ._targets import RatingScoreMixin, check_targets

__all__ = ["RatingTargetRegressor"]


class RatingTargetRegressor(RatingScoreMixin, RegressorMixin, BaseEstimator):
    """Fit any regressor to the centre of the raters' MSBE bounds.

    scikit-learn's regressors take one target per sample and reject NaN,
    while a listening test gives a rating matrix with declines. This
    wrapper fits ``regressor`` to the midpoint of each row's MSBE bounds
    (the ``low``-th and ``high``-th percentiles of the row's given
    ratings), the value whose MSBE^(low, high) is smallest in the worst
    case; with 1-D ``y`` the target is ``y`` itself. Predictions are
    clipped to [0, 1] when ``clip``.

    Parameters
    ----------
    regressor : regressor, default=None
        Any scikit-learn regressor; None is :class:`~sklearn.linear_model.Ridge`.
        Cloned in ``fit``.
    low, high : float, default=(35, 65)
        Percentiles of the MSBE bounds (the paper: 35 and 65).
    clip : bool, default=True
        Clip predictions to [0, 1], the range of the attenuation factor.

    Attributes
    ----------
    regressor_ : regressor
        The fitted regressor.
    n_features_in_ : int

    See Also
    --------
    sk_reseq.metrics.rating_bounds : the bounds.
    MeanRatingRegressor : the paper's baseline.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.models import RatingTargetRegressor
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> Y = np.array([[0.0, 0.1, np.nan], [0.4, 0.5, 0.6], [0.9, 1.0, np.nan]])
    >>> model = RatingTargetRegressor().fit(X, Y)   # Ridge on the midpoints 0.05, 0.5, 0.95
    >>> model.predict([[1.0]]).round(2)
    array([0.5])
    """

    _parameter_constraints: dict = {
        "regressor": [HasMethods(["fit", "predict"]), None],
        "low": [Interval(Real, 0, 100, closed="both")],
        "high": [Interval(Real, 0, 100, closed="both")],
        "clip": ["boolean"],
    }

    def __init__(self, regressor=None, *, low=35, high=65, clip=True):
        self.regressor = regressor
        self.low = low
        self.high = high
        self.clip = clip

    def fit(self, X, y, **fit_params):
        """Fit ``regressor`` to the bounds' midpoints of ``y``.

        Parameters
        ----------
        X : array-like [shape=(n, n_features)]
        y : array-like [shape=(n,) or (n, n_raters)]
            Ratings; NaN marks a declined rating in a 2-D matrix.
        **fit_params
            Passed to ``regressor.fit``.

        Returns
        -------
        self : RatingTargetRegressor
        """
        self._validate_params()
        if self.low > self.high:
            raise ValueError(f"low must be at most high; got low={self.low}, high={self.high}.")
        n = num_samples(X)
        y = check_targets(y, n_samples=n, bounded=False)
        if y.ndim == 2:
            lower, upper = rating_bounds(y, self.low, self.high)
            y = (lower + upper) / 2
        regressor = Ridge() if self.regressor is None else self.regressor
        self.regressor_ = clone(regressor).fit(X, y, **fit_params)
        if hasattr(self.regressor_, "n_features_in_"):
            self.n_features_in_ = self.regressor_.n_features_in_
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(Ridge() if self.regressor is None else self.regressor)
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        return tags

    def predict(self, X):
        """Predicted attenuation factor per sample, shape ``(n,)``."""
        check_is_fitted(self, "regressor_")
        pred = np.asarray(self.regressor_.predict(X), dtype=np.float64).reshape(-1)
        return np.clip(pred, 0.0, 1.0) if self.clip else pred
