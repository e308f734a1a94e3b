"""Bayesian hyper-parameter search as in the paper (section 4.3.1).

A Gaussian process models the cross-validated loss as a function of the
hyper-parameters and a confidence bound picks the next point to try. The
paper speaks of the upper confidence bound of the score; scikit-optimize
minimises the loss, where the same rule is the lower confidence bound
(``acq_func="LCB"``).
"""

from .._optional import import_optional
from ..metrics import msbe_scorer

BayesSearchCV = import_optional("skopt", "the Bayesian search").BayesSearchCV
Integer = import_optional("skopt.space", "the Bayesian search").Integer
Real = import_optional("skopt.space", "the Bayesian search").Real

__all__ = ["ffn_search_space", "drn_search_space", "make_bayes_search"]


def _prefixed(space, prefix):
    if not isinstance(prefix, str):
        raise TypeError("prefix must be a str such as 'ffnregressor__', "
                        f"got {type(prefix).__name__}.")
    return {prefix + name: dim for name, dim in space.items()}


def _training_space():
    # The training hyper-parameters the paper searched besides the shape.
    return {
        "lr": Real(1e-4, 1e-1, prior="log-uniform"),
        "early_stopping_threshold": Real(1e-5, 1e-2, prior="log-uniform"),
        "lr_reduce_threshold": Real(1e-5, 1e-2, prior="log-uniform"),
    }


def ffn_search_space(prefix=""):
    """Search space of :class:`~sk_reseq.models.FFNRegressor`.

    Depth (number of Linear-BatchNorm-ReLU blocks, from 3: the paper's best
    FFN is the shallowest it tried), the block sizes at the low, middle and
    high end of the stack (log-uniform), the learning rate and the relative
    improvement thresholds of early stopping and learning-rate reduction
    (log-uniform).

    Parameters
    ----------
    prefix : str, default=""
        Prepended to every name, e.g. ``"ffnregressor__"`` for the step of
        a Pipeline.

    Returns
    -------
    space : dict of str to skopt.space.Dimension

    Examples
    --------
    >>> from sk_reseq.model_selection import ffn_search_space
    >>> space = ffn_search_space()
    >>> space["n_blocks"]
    Integer(low=3, high=8, prior='uniform', transform='identity')
    >>> sorted(ffn_search_space("ffn__"))[0]
    'ffn__block_size_high'
    """
    space = {
        "n_blocks": Integer(3, 8),
        "block_size_low": Integer(32, 1024, prior="log-uniform"),
        "block_size_mid": Integer(32, 1024, prior="log-uniform"),
        "block_size_high": Integer(32, 1024, prior="log-uniform"),
        **_training_space(),
    }
    return _prefixed(space, prefix)


def drn_search_space(prefix=""):
    """Search space of :class:`~sk_reseq.models.DRNRegressor`.

    Depth (residual blocks, up to 10: the paper's best DRN is the deepest it
    tried), the channel counts at the low, middle and high end of the stack,
    the temporal pooling size and the units of the final standard block
    (Table 3 reports both), the learning rate and the improvement
    thresholds of early stopping and learning-rate reduction (all but the
    depth log-uniform).

    Parameters
    ----------
    prefix : str, default=""
        Prepended to every name, e.g. ``"drnregressor__"``.

    Returns
    -------
    space : dict of str to skopt.space.Dimension

    Examples
    --------
    >>> from sk_reseq.model_selection import drn_search_space
    >>> drn_search_space()["n_blocks"]
    Integer(low=2, high=10, prior='uniform', transform='identity')
    """
    space = {
        "n_blocks": Integer(2, 10),
        "block_size_low": Integer(16, 512, prior="log-uniform"),
        "block_size_mid": Integer(16, 512, prior="log-uniform"),
        "block_size_high": Integer(16, 512, prior="log-uniform"),
        "pool_size": Integer(50, 1000, prior="log-uniform"),
        "final_size": Integer(4, 64, prior="log-uniform"),
        **_training_space(),
    }
    return _prefixed(space, prefix)


def make_bayes_search(estimator, search_spaces, *, cv, n_iter=50, scoring=msbe_scorer, kappa=1.96,
                      n_points=1, n_jobs=None, refit=True, random_state=None, verbose=0):
    """BayesSearchCV with the paper's Gaussian process and confidence bound.

    Parameters
    ----------
    estimator : estimator
        The model (or Pipeline) to tune.
    search_spaces : dict
        Parameter name to skopt dimension, e.g. :func:`ffn_search_space`.
    cv : cross-validation splitter
        Usually :class:`HPOSplit`. ``search.fit(X, y, groups=groups)``
        gives the groups to the splitter. To give them to the estimator's
        ``fit`` as well (the nets' track-wise validation split), either
        enable metadata routing (``sklearn.set_config(enable_metadata_routing=True)``
        and ``estimator.set_fit_request(groups=True)``) or, for a Pipeline,
        pass them once more as ``<step>__groups=groups``.
    n_iter : int, default=50
        Hyper-parameter settings tried.
    scoring : str or callable, default=msbe_scorer
        Score to maximise (minus the MSBE by default).
    kappa : float, default=1.96
        Width of the confidence bound: ``mu - kappa * sigma`` of the
        predicted loss (the 95 % bound at 1.96).
    n_points : int, default=1
        Settings proposed per iteration; at most ``n_points * n_splits``
        fits run at once, so raise it to use more than ``n_splits`` workers.
    n_jobs : int, default=None
        Parallel fits (joblib; a dask cluster through
        ``joblib.parallel_backend("dask")``).
    refit : bool, default=True
        Refit the best setting on all data given to ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds the optimiser.
    verbose : int, default=0
        Verbosity of BayesSearchCV.

    Returns
    -------
    search : skopt.BayesSearchCV
        Unfitted. Fit parameters go to ``search.fit(X, y, groups=...,
        **fit_params)`` (the constructor's ``fit_params`` is ignored by
        scikit-optimize 0.10).

    Examples
    --------
    >>> import numpy as np
    >>> from skopt.space import Real
    >>> from sklearn.linear_model import Ridge
    >>> from sk_reseq.model_selection import HPOSplit, make_bayes_search
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 3))
    >>> y = np.clip(0.5 + 0.1 * X[:, 0], 0, 1)
    >>> groups = np.repeat(np.arange(24), 5)
    >>> search = make_bayes_search(Ridge(), {"alpha": Real(1e-3, 1e3, prior="log-uniform")},
    ...                            cv=HPOSplit(n_test=4, n_valid=2, random_state=0),
    ...                            n_iter=5, random_state=0)
    >>> bool(search.fit(X, y, groups=groups).best_score_ > -0.01)
    True
    """
    return BayesSearchCV(
        estimator,
        search_spaces,
        n_iter=n_iter,
        scoring=scoring,
        cv=cv,
        n_points=n_points,
        n_jobs=n_jobs,
        refit=refit,
        random_state=random_state,
        verbose=verbose,
        optimizer_kwargs={
            "base_estimator": "GP",
            "acq_func": "LCB",
            "acq_func_kwargs": {"kappa": kappa},
        },
    )
