"""Save and load fitted models safely: one file, no pickle.

:func:`save_model` writes a fitted estimator or Pipeline to one skops file
(a zip archive). scikit-learn parts are stored by skops; each network of
:class:`~sk_reseq.models.FFNRegressor` / :class:`~sk_reseq.models.DRNRegressor`
is stored as its hyper-parameters plus its weights in safetensors format
(and its training history as JSON), never as pickled torch objects. On
load the network is rebuilt from the hyper-parameters and the weights are
loaded into it. Optimizer state is not stored: a loaded model predicts,
and ``fit`` trains it anew.

:func:`load_model` first lists the types in the file. Types of scikit-learn
and numpy that skops trusts, and exactly the package's estimator classes
(:data:`TRUSTED_TYPES`), are trusted by default; any other name makes
loading fail with an error naming it, unless the caller trusts it explicitly
with ``trusted=``. Functions are never trusted by default: skops calls what
a file names with arguments from the file, so a trusted function (say, a
writer of files) would let a crafted model file act when it is loaded.
"""

import sys
from contextlib import contextmanager
from pathlib import Path

from sklearn.base import BaseEstimator

from ._atomic import atomic_open
from .models._base import WEIGHTS_ONLY_STATE

# Adapters of scikit-learn's array API support that import their library.
_ARRAY_API_ADAPTERS = {"torch": "sklearn.externals.array_api_compat.torch",
                       "dask": "sklearn.externals.array_api_compat.dask"}


@contextmanager
def _without_array_api_adapters():
    """Import skops.io without the torch and dask imports it would trigger.

    skops.io lists scikit-learn's estimators when it is imported
    (``all_estimators``), and ``pkgutil.walk_packages`` imports every package
    of sklearn on the way, the array API adapters among them, which import
    torch and dask when they are installed: 1.5 s of the 2.4 s that ``sk-reseq
    auto`` spent on imports, paid again in every batch worker. The walk skips
    packages that fail to import, so the adapters of libraries not yet
    imported are marked unimportable (``None`` in ``sys.modules``) for that
    moment only; they import normally afterwards.
    """
    blocked = [name for lib, name in _ARRAY_API_ADAPTERS.items()
               if lib not in sys.modules and name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None
    try:
        yield
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


with _without_array_api_adapters():
    import skops.io as sio

__all__ = [
    "save_model", "load_model", "UntrustedTypesError", "TRUSTED_TYPES", "default_model_path",
    "load_default_model",
]

#: The package's classes a model file may name (full ``module.Class``
#: names, as skops records them). Each only stores parameters in
#: ``__init__`` and state in ``__setstate__``, so building one from a file
#: runs nothing else. Never a module prefix: that would trust functions too.
#: The tests check that each name is one of the package's estimator classes,
#: or a class of scikit-learn's fitted state that skops does not list: the
#: Adam optimizer an MLPRegressor keeps (its state is arrays and numbers).
TRUSTED_TYPES = frozenset({
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sk_reseq.equalizer._auto.AutoEqualizer",
    "sk_reseq.equalizer._resonance.ResonanceEqualizer",
    "sk_reseq.features._summarizer.FeatureSummarizer",
    "sk_reseq.models._baseline.MeanRatingRegressor",
    "sk_reseq.models._drn.DRNRegressor",
    "sk_reseq.models._ffn.FFNRegressor",
    "sk_reseq.models._target.RatingTargetRegressor",
    "sk_reseq.preprocessing._profile.ResonanceProfile",
    "sk_reseq.preprocessing._sampler.WindowSampler",
    "sk_reseq.preprocessing._spectrum.ELCSpectrum",
    "sk_reseq.preprocessing._spectrum.ResonanceDetector",
})


class UntrustedTypesError(ValueError):
    """The file holds types that were not trusted; ``types`` lists them."""

    def __init__(self, message, types):
        super().__init__(message)
        self.types = types


def save_model(estimator, path):
    """Write a fitted estimator (or Pipeline) to one file, atomically.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Anything skops can store; sk_reseq's networks are stored as
        hyper-parameters + safetensors weights.
    path : str or path-like
        Destination (by convention ``*.skops``). Written to a temporary file
        in the same folder, then renamed: an existing file is replaced only
        by a complete one.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sk_reseq.models import MeanRatingRegressor
    >>> from sk_reseq.persistence import save_model, load_model
    >>> est = MeanRatingRegressor().fit(np.zeros((2, 3)), [0.25, 0.75])
    >>> path = save_model(est, os.path.join(tempfile.mkdtemp(), "baseline.skops"))
    >>> load_model(path).predict(np.zeros((1, 3)))
    array([0.5])
    """
    path = Path(path)
    token = WEIGHTS_ONLY_STATE.set(True)
    try:
        data = sio.dumps(estimator)
    finally:
        WEIGHTS_ONLY_STATE.reset(token)
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return path


def load_model(path, trusted=None):
    """Load a model written by :func:`save_model`.

    Parameters
    ----------
    path : str or path-like
        File written by :func:`save_model`.
    trusted : sequence of str, default=None
        Full type names (as listed in the error) to trust in addition to
        skops' defaults and :data:`TRUSTED_TYPES`. Only trust a file's types
        if you trust where the file came from.

    Returns
    -------
    estimator : object

    Raises
    ------
    UntrustedTypesError
        The file holds types that are not trusted (listed in the message
        and in ``.types``).
    ValueError
        The file is corrupt, was not written by :func:`save_model`, or does
        not hold an estimator.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sk_reseq.models import MeanRatingRegressor
    >>> from sk_reseq.persistence import save_model, load_model
    >>> pipe = make_pipeline(StandardScaler(), MeanRatingRegressor()).fit(np.eye(2), [0.0, 1.0])
    >>> path = save_model(pipe, os.path.join(tempfile.mkdtemp(), "pipe.skops"))
    >>> load_model(path)[-1].mean_
    0.5
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # zip, JSON or schema errors: all mean "not a model file"
        raise ValueError(
            f"{path} is not a valid sk_reseq model file (corrupt, truncated, or not written "
            f"by save_model): {type(exc).__name__}: {exc}"
        ) from exc
    allowed = set(trusted or ())
    refused = sorted(t for t in untrusted if t not in TRUSTED_TYPES and t not in allowed)
    if refused:
        raise UntrustedTypesError(
            f"{path} contains types that are not trusted: {refused}. Loading could run their "
            "code. If you trust the file's source, pass them: load_model(path, trusted=[...]).",
            refused,
        )
    try:
        estimator = sio.loads(data, trusted=untrusted)
    except Exception as exc:
        raise ValueError(
            f"{path} could not be loaded as an sk_reseq model (corrupt or incompatible): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(estimator, BaseEstimator):
        raise ValueError(
            f"{path} holds a {type(estimator).__name__}, not an estimator or Pipeline."
        )
    return estimator


def default_model_path():
    """Where the default model lives inside the installed package."""
    return Path(__file__).resolve().parent / "data" / "default_model.skops"


def load_default_model():
    """The model shipped with sk_reseq, loaded from the package's data.

    Rebuilt by ``sk-reseq train --preset default --out <path>`` (see
    :data:`sk_reseq.training.PRESETS`).

    Returns
    -------
    model : Pipeline

    Raises
    ------
    FileNotFoundError
        If the package was installed without its data file.
    """
    path = default_model_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"The default model is missing from the installation ({path}); pass a model "
            "explicitly or rebuild it with `sk-reseq train --preset default --out PATH`."
        )
    return load_model(path)
