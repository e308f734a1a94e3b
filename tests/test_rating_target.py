"""RatingTargetRegressor: any scikit-learn regressor on a rating matrix with declines."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_reseq.metrics import msbe, rating_bounds
from sk_reseq.models import MeanRatingRegressor, RatingTargetRegressor


@parametrize_with_checks([RatingTargetRegressor(clip=False)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def ratings(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    truth = 1 / (1 + np.exp(-X[:, 0]))
    Y = np.clip(truth[:, None] + rng.normal(0, 0.1, (n, 7)), 0, 1)
    Y[rng.uniform(size=Y.shape) < 0.2] = np.nan
    Y[:, 0] = np.clip(truth, 0, 1)
    return X, Y


def test_fits_the_bounds_midpoint():
    X, Y = ratings()
    lower, upper = rating_bounds(Y)
    a = RatingTargetRegressor(LinearRegression(), clip=False).fit(X, Y)
    b = LinearRegression().fit(X, (lower + upper) / 2)
    np.testing.assert_allclose(a.predict(X), b.predict(X))
    # Better than the paper's baseline on its own loss, and clipped to [0, 1].
    clipped = RatingTargetRegressor(LinearRegression()).fit(X, Y).predict(10 * X)
    assert clipped.min() >= 0 and clipped.max() <= 1
    assert msbe(Y, a.predict(X)) < 0.5 * msbe(Y, MeanRatingRegressor().fit(X, Y).predict(X))


def test_bad_targets_and_bounds():
    X, Y = ratings(10)
    with pytest.raises(ValueError, match="low must be at most high"):
        RatingTargetRegressor(low=70, high=30).fit(X, Y)
    with pytest.raises(ValueError, match="outside \\[0, 1\\]"):
        RatingTargetRegressor().fit(X, Y + 2)
