"""Common checks for estimators that take audio windows ``(n, channels, samples)``.

scikit-learn's :func:`~sklearn.utils.estimator_checks.parametrize_with_checks`
feeds 2-D tables and, for an estimator tagged ``three_d_array`` only, runs
little more than the clone check. These checks cover the same ground
(cloning, parameters, fit/transform contracts, input left untouched,
pickling, determinism, sample-order invariance, errors before fit) on
audio windows, much as imbalanced-learn adds checks for its resamplers.
"""

import pickle

import numpy as np
from sklearn.base import clone, is_regressor

__all__ = ["AUDIO_CHECKS", "parametrize_with_audio_checks"]


def _windows(n=6, channels=2, samples=11025, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / 22050
    tone = np.sin(2 * np.pi * rng.uniform(200, 2000, (n, 1, 1)) * t)
    return (0.3 * tone + 0.05 * rng.standard_normal((n, channels, samples))).astype(np.float32)


def _target(n, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, n)


def _fit(est, X, y):
    return est.fit(X, y) if is_regressor(est) else est.fit(X)


def _output(est, X):
    return est.predict(X) if is_regressor(est) else est.transform(X)


def check_clone_and_params(est, X, y):
    params = est.get_params()
    cloned = clone(est)
    assert cloned.get_params().keys() == params.keys()
    cloned.set_params(**{k: v for k, v in params.items() if "__" not in k})
    assert not any(k.endswith("_") and not k.startswith("_") for k in vars(cloned))


def check_fit_returns_self_and_keeps_input(est, X, y):
    X_copy, y_copy = X.copy(), y.copy()
    assert _fit(est, X, y) is est
    _output(est, X)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)


def check_output_shape(est, X, y):
    out = _output(_fit(est, X, y), X)
    assert out.shape[0] == X.shape[0]
    assert np.all(np.isfinite(out))


def check_deterministic_and_pickle(est, X, y):
    first = _output(_fit(clone(est), X, y), X)
    fitted = _fit(clone(est), X, y)
    np.testing.assert_allclose(_output(fitted, X), first, rtol=1e-5, atol=1e-6)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(_output(restored, X), first, rtol=1e-5, atol=1e-6)


def check_sample_order_invariance(est, X, y):
    fitted = _fit(est, X, y)
    out = _output(fitted, X)
    order = np.arange(len(X))[::-1]
    np.testing.assert_allclose(_output(fitted, X[order]), out[order], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_output(fitted, X[:2]), out[:2], rtol=1e-5, atol=1e-5)


def check_rejects_2d_and_nan(est, X, y):
    import pytest

    if not est.__sklearn_tags__().input_tags.two_d_array:
        with pytest.raises((ValueError, TypeError)):
            _fit(clone(est), X[:, 0, :], y)
    bad = X.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _output(_fit(clone(est), bad, y), bad)  # stateless estimators check in transform


#: The checks that :func:`parametrize_with_audio_checks` runs, each a function
#: ``check(estimator, X, y)`` on audio windows ``X`` and targets ``y``.
AUDIO_CHECKS = [
    check_clone_and_params,
    check_fit_returns_self_and_keeps_input,
    check_output_shape,
    check_deterministic_and_pickle,
    check_sample_order_invariance,
    check_rejects_2d_and_nan,
]


def parametrize_with_audio_checks(estimators, *, n_windows=6, channels=2, samples=11025):
    """Pytest decorator running :data:`AUDIO_CHECKS` on each estimator.

    The decorated test receives ``estimator`` and ``check``; call
    ``check(estimator)``.

    Examples
    --------
    >>> from sk_reseq.preprocessing import ELCSpectrum
    >>> from sk_reseq.utils.estimator_checks import parametrize_with_audio_checks
    >>> @parametrize_with_audio_checks([ELCSpectrum()])
    ... def test_audio(estimator, check):
    ...     check(estimator)
    """
    import functools

    import pytest

    X = _windows(n_windows, channels, samples)
    y = _target(n_windows)
    params, ids = [], []
    for est in estimators:
        for check in AUDIO_CHECKS:
            bound = functools.partial(lambda e, c: c(clone(e), X, y), c=check)
            params.append((est, bound))
            ids.append(f"{type(est).__name__}-{check.__name__}")
    return pytest.mark.parametrize("estimator, check", params, ids=ids)
