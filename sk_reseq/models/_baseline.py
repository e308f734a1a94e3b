"""The paper's baseline: predict the mean rating seen in training."""

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._targets import RatingScoreMixin, check_targets


class MeanRatingRegressor(RatingScoreMixin, RegressorMixin, BaseEstimator):
    """Predict the mean training rating, whatever the input (section 4.3.1).

    The paper's reference: the mean attenuation factor over all ratings of
    the training tracks, used as the prediction for every test window.
    With a 2-D rating matrix the mean is over all non-NaN ratings (each
    given rating counts once); with 1-D ``y`` it is ``y.mean()``. The
    targets are not required to lie in [0, 1], so the estimator is also a
    generic constant baseline (like :class:`sklearn.dummy.DummyRegressor`).

    ``X`` may have any shape with samples first: audio windows ``(n,
    channels, samples)`` or a feature matrix ``(n, n_features)``. Its values
    are not used (NaN is fine, sparse too); as in every scikit-learn
    estimator ``X`` must be numeric and ``X.shape[1]`` must match at
    ``predict`` what it was at ``fit``.

    Attributes
    ----------
    mean_ : float
        The mean rating, the constant prediction.
    n_ratings_ : int
        Number of (non-NaN) ratings the mean was taken over.
    n_features_in_ : int
        ``X.shape[1]`` at fit (features, or channels of windows).
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string column names.

    See Also
    --------
    FFNRegressor, DRNRegressor : The paper's networks.
    sk_reseq.metrics.msbe : The loss the paper scores with.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.models import MeanRatingRegressor
    >>> Y = np.array([[0.25, np.nan], [0.5, 0.75]])
    >>> MeanRatingRegressor().fit(np.zeros((2, 2, 8)), Y).predict(np.zeros((3, 2, 8)))
    array([0.5, 0.5, 0.5])
    """

    _parameter_constraints = {}

    def fit(self, X, y):
        """Store the mean of the ratings ``y`` (NaN = declined in 2-D)."""
        X = _check_X(self, X, reset=True)
        y = check_targets(y, n_samples=X.shape[0], bounded=False)
        given = y[~np.isnan(y)]
        self.mean_ = float(given.mean())
        self.n_ratings_ = int(given.size)
        return self

    def predict(self, X):
        """The mean rating for each of the ``n`` samples of ``X``; shape ``(n,)``."""
        check_is_fitted(self, "mean_")
        X = _check_X(self, X, reset=False)
        return np.full(X.shape[0], self.mean_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        tags.input_tags.allow_nan = True  # X is ignored
        tags.input_tags.three_d_array = True
        tags.input_tags.sparse = True
        return tags


def _check_X(estimator, X, reset):
    # Values are not used: any numeric array with samples first (2-D or
    # more, sparse too) is fine, NaN included.
    return validate_data(estimator, X, reset=reset, accept_sparse=True, allow_nd=True,
                         ensure_all_finite=False, dtype="numeric")
