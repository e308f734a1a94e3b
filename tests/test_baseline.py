import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_reseq.metrics import msbe
from sk_reseq.models import MeanRatingRegressor


@parametrize_with_checks([MeanRatingRegressor()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_mean_of_given_ratings_ignores_nan_and_X():
    Y = np.array([[0.0, np.nan, 1.0], [0.5, 0.5, np.nan]])
    est = MeanRatingRegressor().fit(np.zeros((2, 2, 16)), Y)
    assert est.mean_ == pytest.approx(0.5)
    assert est.n_ratings_ == 4
    pred = est.predict(np.random.default_rng(0).normal(size=(5, 2, 4)))
    assert pred.shape == (5,) and np.all(pred == 0.5)


def test_mean_weights_each_rating_not_each_row():
    # Row means are 0.0 and 0.9; the mean over ratings is (0 + 0.8 + 0.9 + 1.0) / 4.
    Y = np.array([[0.0, np.nan, np.nan], [0.8, 0.9, 1.0]])
    assert MeanRatingRegressor().fit(np.zeros((2, 1)), Y).mean_ == pytest.approx(0.675)


def test_one_d_y_and_input_not_mutated():
    y = np.array([0.2, 0.4, 0.9])
    y_copy = y.copy()
    est = MeanRatingRegressor().fit(np.zeros((3, 5)), y)
    assert est.predict(np.zeros((1, 5)))[0] == pytest.approx(y.mean())
    np.testing.assert_array_equal(y, y_copy)


def test_score_is_zero_for_the_mean_itself_on_training_data():
    rng = np.random.default_rng(0)
    Y = rng.uniform(size=(20, 5))
    Y[rng.uniform(size=Y.shape) < 0.2] = np.nan
    Y[np.isnan(Y).all(axis=1), 0] = 0.5
    est = MeanRatingRegressor().fit(np.zeros((20, 2)), Y)
    assert est.score(np.zeros((20, 2)), Y) == pytest.approx(0.0)
    assert msbe(Y, est.predict(np.zeros((20, 2)))) > 0


@pytest.mark.parametrize(
    "y, error, match",
    [
        ([0.1, np.nan], ValueError, "no target"),
        ([[np.nan, np.nan], [0.1, 0.2]], ValueError, "no target"),
        (["a", "b"], TypeError, "numeric"),
        ([0.1, 0.2, 0.3], ValueError, "rows but X has 2"),
        (np.zeros((2, 2, 2)), ValueError, "3"),
    ],
)
def test_bad_y(y, error, match):
    with pytest.raises(error, match=match):
        MeanRatingRegressor().fit(np.zeros((2, 3)), y)


def test_clone_and_unfitted_predict():
    est = clone(MeanRatingRegressor())
    with pytest.raises(Exception, match="not fitted"):
        est.predict(np.zeros((2, 2)))
