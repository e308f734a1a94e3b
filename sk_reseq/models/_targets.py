"""Targets, groups and scores shared by the regressors (no torch needed).

The rating matrix or 1-D target (:func:`check_targets`), the groups that keep
a track's windows together (:func:`groups_from_ratings`, :func:`check_groups`),
the grouped validation split of the networks (:func:`grouped_valid_mask`) and
``score`` (:class:`RatingScoreMixin`).
"""

import warnings

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import GroupShuffleSplit
from sklearn.utils import check_array

from .._validation import check_ratings
from ..metrics import msbe

__all__ = ["RatingScoreMixin", "check_groups", "check_targets", "grouped_valid_mask",
           "groups_from_ratings"]


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
    >>> from sk_reseq.models._targets import groups_from_ratings
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
