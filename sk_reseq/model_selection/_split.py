"""Grouped splitters for the paper's protocol (section 4.3.1).

A learning sample is a window and a group is the track it comes from, so
every split here keeps a track's windows on one side.

- :class:`HPOSplit`: the hyper-parameter search partitions (test /
  validation / train tracks, a fixed number of random windows per test track).
- :class:`RepeatedGroupKFold`: scikit-learn's ``GroupKFold(shuffle=True)``
  repeated with different seeds, as ``RepeatedKFold`` does for ``KFold``
  (scikit-learn has no grouped variant).
"""

import numbers

import numpy as np
from sklearn.model_selection import GroupKFold
from sklearn.utils import Bunch, check_random_state

from ..utils._sklearn_compat import MetadataRequester

__all__ = ["HPOSplit", "RepeatedGroupKFold", "hpo_partitions"]


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _check_groups(groups, n_samples=None):
    if groups is None:
        raise ValueError("The 'groups' parameter should not be None: pass one track id per window.")
    groups = np.asarray(groups)
    if groups.ndim != 1:
        raise ValueError(f"groups must be 1-D (one track id per window), got shape {groups.shape}.")
    if n_samples is not None and groups.shape[0] != n_samples:
        raise ValueError(f"groups has {groups.shape[0]} entries but X has {n_samples} samples.")
    return groups


def _repr(obj, names):
    args = ", ".join(f"{name}={getattr(obj, name)!r}" for name in names)
    return f"{type(obj).__name__}({args})"


def hpo_partitions(groups, *, n_partitions=2, n_test=10, n_valid=10, n_test_windows=100,
                   random_state=None):
    """The paper's hyper-parameter search partitions of the tracks.

    Each partition divides the tracks into ``n_test`` test tracks,
    ``n_valid`` validation tracks and the rest for training. Test tracks
    are disjoint across partitions (the paper's two partitions of 150
    tracks have 20 test tracks in all); the validation tracks of a partition
    are drawn from its non-test tracks, so one partition's test tracks train
    the other. Each test track contributes ``n_test_windows`` of its windows,
    drawn without replacement (all of them when it has fewer).

    Parameters
    ----------
    groups : array-like [shape=(n_samples,)]
        Track id of each window.
    n_partitions : int, default=2
        Number of partitions.
    n_test, n_valid : int, default=10
        Test and validation tracks per partition.
    n_test_windows : int or None, default=100
        Windows drawn per test track; None keeps every window.
    random_state : int, RandomState instance or None, default=None
        Draws the tracks and the test windows.

    Returns
    -------
    partitions : list of Bunch
        One per partition, with sample indices ``train``, ``valid``, ``test``
        (sorted) and track ids ``train_groups``, ``valid_groups``,
        ``test_groups``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.model_selection import hpo_partitions
    >>> groups = np.repeat(np.arange(30), 8)        # 30 tracks, 8 windows each
    >>> parts = hpo_partitions(groups, n_test=3, n_valid=3, n_test_windows=5, random_state=0)
    >>> [(len(p.train_groups), len(p.valid_groups), len(p.test_groups), len(p.test)) for p in parts]
    [(24, 3, 3, 15), (24, 3, 3, 15)]
    """
    groups = _check_groups(groups)
    n_partitions = _check_int(n_partitions, "n_partitions", 1)
    n_test = _check_int(n_test, "n_test", 1)
    n_valid = _check_int(n_valid, "n_valid", 0)
    if n_test_windows is not None:
        n_test_windows = _check_int(n_test_windows, "n_test_windows", 1)
    unique = np.unique(groups)
    if n_partitions * n_test > unique.size or n_test + n_valid >= unique.size:
        raise ValueError(
            f"groups has {unique.size} tracks; {n_partitions} partitions need "
            f"n_partitions * n_test = {n_partitions * n_test} distinct test tracks and "
            f"n_test + n_valid = {n_test + n_valid} tracks fewer than the total, "
            "so that each partition keeps training tracks."
        )
    rng = check_random_state(random_state)
    test_pool = rng.permutation(unique)[: n_partitions * n_test]
    partitions = []
    for p in range(n_partitions):
        test_groups = np.sort(test_pool[p * n_test:(p + 1) * n_test])
        others = np.setdiff1d(unique, test_groups)
        valid_groups = np.sort(rng.choice(others, size=n_valid, replace=False))
        train_groups = np.setdiff1d(others, valid_groups)
        test = []
        for g in test_groups:
            idx = np.flatnonzero(groups == g)
            if n_test_windows is not None and idx.size > n_test_windows:
                idx = rng.choice(idx, size=n_test_windows, replace=False)
            test.append(idx)
        partitions.append(Bunch(
            train=np.flatnonzero(np.isin(groups, train_groups)),
            valid=np.flatnonzero(np.isin(groups, valid_groups)),
            test=np.sort(np.concatenate(test)),
            train_groups=train_groups,
            valid_groups=valid_groups,
            test_groups=test_groups,
        ))
    return partitions


class HPOSplit(MetadataRequester):
    """Cross-validator of the paper's hyper-parameter search partitions.

    Yields one ``(train, test)`` split per partition of
    :func:`hpo_partitions`: ``test`` holds ``n_test_windows`` random windows
    of each test track, ``train`` every window of the training *and*
    validation tracks. The validation tracks are what the nets' early
    stopping and learning-rate reduction watch; they reach the estimator by
    its own validation split, which holds out whole tracks of the training
    data given to ``fit`` (pass ``groups`` to ``fit``; BayesSearchCV and
    :func:`compare_estimators` do). That split draws its held-out tracks
    itself, so they are not the very tracks listed in ``valid_groups``,
    but they come from the same pool. Set the nets' ``valid_fraction`` to
    ``n_valid / (n_tracks - n_test)`` (10 / 140 in the paper) for as many
    validation tracks as the paper. Use :meth:`partitions` for the exact
    three-way division.

    The search criterion of the paper, the frame-wise loss averaged over
    both test sets, is the mean of the per-split scores, as every split
    has the same number of test windows when each test track has at least
    ``n_test_windows`` windows.

    Parameters
    ----------
    n_partitions : int, default=2
        Number of partitions (splits).
    n_test, n_valid : int, default=10
        Test and validation tracks per partition.
    n_test_windows : int or None, default=100
        Windows drawn per test track; None keeps every window.
    random_state : int, RandomState instance or None, default=None
        Pass an int for the same partitions on every call of ``split``.

    See Also
    --------
    hpo_partitions : The partitions as sample and track indices.
    RepeatedGroupKFold : The cross-validation that follows the search.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.model_selection import HPOSplit
    >>> groups = np.repeat(np.arange(30), 8)
    >>> cv = HPOSplit(n_test=3, n_valid=3, n_test_windows=5, random_state=0)
    >>> [(len(train), len(test)) for train, test in cv.split(groups, groups=groups)]
    [(216, 15), (216, 15)]
    >>> len(cv.remaining_groups(groups))   # tracks left for the 5x5-fold CV
    24
    """

    __metadata_request__split = {"groups": True}

    def __init__(self, n_partitions=2, *, n_test=10, n_valid=10, n_test_windows=100,
                 random_state=None):
        self.n_partitions = n_partitions
        self.n_test = n_test
        self.n_valid = n_valid
        self.n_test_windows = n_test_windows
        self.random_state = random_state

    def partitions(self, groups):
        """The partitions, as :func:`hpo_partitions` returns them."""
        return hpo_partitions(
            groups, n_partitions=self.n_partitions, n_test=self.n_test, n_valid=self.n_valid,
            n_test_windows=self.n_test_windows, random_state=self.random_state,
        )

    def split(self, X, y=None, groups=None):
        """Generate ``(train, test)`` indices, one pair per partition.

        Parameters
        ----------
        X : array-like [shape=(n_samples, ...)]
            Windows; only their number is used.
        y : array-like, default=None
            Ignored.
        groups : array-like [shape=(n_samples,)]
            Track id of each window.

        Yields
        ------
        train, test : np.ndarray
            Sample indices; ``train`` includes the validation tracks.
        """
        groups = _check_groups(groups, len(X))
        for part in self.partitions(groups):
            yield np.union1d(part.train, part.valid), part.test

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of splits: ``n_partitions``."""
        return _check_int(self.n_partitions, "n_partitions", 1)

    def remaining_groups(self, groups):
        """Track ids that no partition tests: the data of the CV that follows.

        Select their windows with ``np.isin(groups, cv.remaining_groups(groups))``.
        """
        tested = np.concatenate([p.test_groups for p in self.partitions(groups)])
        return np.setdiff1d(np.unique(groups), tested)

    def __repr__(self):
        return _repr(self, ["n_partitions", "n_test", "n_valid", "n_test_windows", "random_state"])


class RepeatedGroupKFold(MetadataRequester):
    """Group K-fold repeated ``n_repeats`` times with different shuffles.

    Each repeat is a ``sklearn.model_selection.GroupKFold(n_splits,
    shuffle=True)`` seeded from ``random_state``, so every track is tested
    exactly once per repeat and never on both sides of a split. The splits
    come repeat by repeat: split ``i`` is fold ``i % n_splits`` of repeat
    ``i // n_splits``.

    Parameters
    ----------
    n_splits : int, default=5
        Folds per repeat (at least 2).
    n_repeats : int, default=5
        Number of repeats.
    random_state : int, RandomState instance or None, default=None
        Pass an int for the same splits on every call of ``split``.

    See Also
    --------
    sklearn.model_selection.RepeatedKFold : The same idea without groups.
    sklearn.model_selection.GroupKFold : One repeat.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.model_selection import RepeatedGroupKFold
    >>> groups = np.repeat(np.arange(10), 3)
    >>> cv = RepeatedGroupKFold(n_splits=5, n_repeats=2, random_state=0)
    >>> cv.get_n_splits()
    10
    >>> all(not set(groups[tr]) & set(groups[te]) for tr, te in cv.split(groups, groups=groups))
    True
    """

    __metadata_request__split = {"groups": True}

    def __init__(self, n_splits=5, *, n_repeats=5, random_state=None):
        self.n_splits = n_splits
        self.n_repeats = n_repeats
        self.random_state = random_state

    def split(self, X, y=None, groups=None):
        """Generate ``(train, test)`` indices, repeat by repeat.

        Parameters
        ----------
        X : array-like [shape=(n_samples, ...)]
            Windows; only their number is used.
        y : array-like, default=None
            Ignored.
        groups : array-like [shape=(n_samples,)]
            Track id of each window.

        Yields
        ------
        train, test : np.ndarray
            Sample indices of the split.
        """
        n_splits = _check_int(self.n_splits, "n_splits", 2)
        n_repeats = _check_int(self.n_repeats, "n_repeats", 1)
        groups = _check_groups(groups, len(X))
        rng = check_random_state(self.random_state)
        for _ in range(n_repeats):
            cv = GroupKFold(n_splits, shuffle=True, random_state=rng)
            yield from cv.split(X, y, groups)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of splits: ``n_splits * n_repeats``."""
        return (_check_int(self.n_splits, "n_splits", 2)
                * _check_int(self.n_repeats, "n_repeats", 1))

    def __repr__(self):
        return _repr(self, ["n_splits", "n_repeats", "random_state"])
