"""The mean squared bounds error (MSBE) of the paper, section 4.3.1.

For a window with ratings ``F`` (one per rater, NaN where a rater declined)
the zero-penalty interval is ``[P_low(F), P_high(F)]``, the ``low``-th and
``high``-th percentiles of the ratings given (linear interpolation, as
:func:`numpy.percentile`). A prediction inside the interval costs nothing;
outside it costs the squared distance to the nearest bound (Eq. 4), and
MSBE averages that over windows (Eq. 3). With a 1-D ``y`` (one rating per
window) both bounds equal the rating and MSBE is the mean squared error.
"""

import numpy as np
from sklearn.metrics import make_scorer

from ._validation import check_ratings

# MSBELoss is made on first access by the module __getattr__ below (torch is imported lazily).
__all__ = ["rating_bounds", "msbe", "msbe_scorer", "MSBELoss"]  # noqa: F822


def _check_percentiles(low, high):
    if not 0 <= low <= high <= 100:
        raise ValueError("Need 0 <= low <= high <= 100 percentiles, "
                         f"got low={low!r}, high={high!r}.")


def rating_bounds(Y, low=35, high=65):
    """Lower and upper MSBE bounds per window.

    Parameters
    ----------
    Y : array-like [shape=(n,) or (n, n_raters)]
        Ratings in [0, 1]; NaN marks a declined rating in 2-D ``Y``.
    low, high : float, default=(35, 65)
        Percentiles (0-100) of the ratings that bound the zero-penalty interval.

    Returns
    -------
    lower, upper : np.ndarray [shape=(n,)]

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.metrics import rating_bounds
    >>> lo, hi = rating_bounds([[0.0, 0.5, 1.0, np.nan]], low=0, high=100)
    >>> float(lo[0]), float(hi[0])
    (0.0, 1.0)
    """
    _check_percentiles(low, high)
    Y = check_ratings(Y, name="Y")
    if Y.ndim == 1:
        return Y.copy(), Y.copy()
    lower, upper = np.nanpercentile(Y, [low, high], axis=1)
    return lower, upper


def msbe(Y, y_pred, low=35, high=65):
    """Mean squared bounds error MSBE^(low, high) (Eq. 3-4).

    Parameters
    ----------
    Y : array-like [shape=(n,) or (n, n_raters)]
        Ratings (NaN = declined in 2-D).
    y_pred : array-like [shape=(n,)]
        Predicted attenuation factors.
    low, high : float, default=(35, 65)
        Percentiles bounding the zero-penalty interval.

    Returns
    -------
    loss : float

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.metrics import msbe
    >>> Y = np.array([[0.1, 0.2, 0.3], [0.5, np.nan, 0.5]])
    >>> msbe(Y, [0.2, 0.5])
    0.0
    >>> round(msbe(Y, [0.0, 0.7]), 4)
    0.0344
    """
    lower, upper = rating_bounds(Y, low, high)
    pred = np.asarray(y_pred, dtype=np.float64)
    if pred.ndim == 2 and pred.shape[1] == 1:
        pred = pred[:, 0]
    if pred.shape != lower.shape:
        raise ValueError(f"y_pred must have shape ({lower.shape[0]},), got {pred.shape}.")
    if not np.all(np.isfinite(pred)):
        raise ValueError("y_pred contains NaN or infinite predictions.")
    err = np.maximum(pred - upper, 0.0) + np.minimum(pred - lower, 0.0)
    return float(np.mean(err**2))


#: Scorer for ``scoring=`` in cross_validate, GridSearchCV and BayesSearchCV
#: (greater is better, so it returns ``-msbe``).
msbe_scorer = make_scorer(msbe, greater_is_better=False)


_MSBELOSS_DOC = """MSBE as a torch loss; the same value as :func:`msbe`.

    The bounds are percentiles of each row's non-NaN ratings
    (``torch.nanquantile``, linear interpolation like numpy); they carry
    no gradient. A 1-D target gives the mean squared error.

    Parameters
    ----------
    low, high : float, default=(35, 65)
        Percentiles (0-100) bounding the zero-penalty interval.

    Examples
    --------
    >>> import torch
    >>> from sk_reseq.metrics import MSBELoss
    >>> Y = torch.tensor([[0.2, 0.2], [0.5, float("nan")]])
    >>> loss = MSBELoss()(torch.tensor([0.0, 0.5]), Y)
    >>> round(float(loss), 4)
    0.02
    """

# MSBELoss only exists once accessed (see __getattr__), so doctest would find its
# example only if something had touched it first: listed here, it always runs.
__test__ = {"MSBELoss": _MSBELOSS_DOC}


def _make_loss_class():
    import torch

    class MSBELoss(torch.nn.Module):
        __doc__ = _MSBELOSS_DOC

        def __init__(self, low=35, high=65):
            super().__init__()
            _check_percentiles(low, high)
            self.low = low
            self.high = high

        def forward(self, y_pred, y_true):
            """MSBE of ``y_pred`` ``(n,)`` against ratings ``y_true`` ``(n[, n_raters])``."""
            y_pred = y_pred.reshape(-1)
            y_true = y_true.to(y_pred.dtype)
            if y_true.ndim == 1:
                lower = upper = y_true
            else:
                y_true = y_true.reshape(y_pred.shape[0], -1)
                q = torch.tensor([self.low / 100, self.high / 100], dtype=y_true.dtype,
                                 device=y_true.device)
                lower, upper = torch.nanquantile(y_true, q, dim=1)
            err = torch.clamp(y_pred - upper, min=0) + torch.clamp(y_pred - lower, max=0)
            return torch.mean(err**2)

    return MSBELoss


def __getattr__(name):
    # torch is imported on first use of MSBELoss only, so that importing
    # sk_reseq.metrics (for msbe and msbe_scorer) stays light.
    if name == "MSBELoss":
        cls = _make_loss_class()
        cls.__module__ = __name__
        globals()["MSBELoss"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
