"""Optional dependencies: which extra brings each, and one way to import them.

The core install (``pip install .``) serves the equalizer, ``sk-reseq eq`` and
``sk-reseq auto`` with the default model. Everything else comes with an extra
(see ``pyproject.toml``), and the modules that need one import it through
:func:`import_optional`, so that a missing extra fails with one line that says
what to install instead of a bare ``No module named ...``.
"""

import importlib

__all__ = ["EXTRAS", "import_optional", "missing_extra_message"]

#: Top-level module -> (the distribution to install, the sk_reseq extra that brings it).
EXTRAS = {
    "torch": ("torch", "models"),
    "skorch": ("skorch", "models"),
    "safetensors": ("safetensors", "models"),
    "pandas": ("pandas", "models"),
    "matplotlib": ("matplotlib", "plot"),
    "skopt": ("scikit-optimize", "experiment"),
    "statsmodels": ("statsmodels", "experiment"),
    "starlette": ("starlette", "listen"),
    "uvicorn": ("uvicorn", "listen"),
    "dask": ("dask[distributed]", "dask"),
    "distributed": ("dask[distributed]", "dask"),
    "essentia": ("essentia (AGPL-3.0)", "features"),
}


def missing_extra_message(module, purpose=None):
    """The one-line message for a missing optional ``module`` (None if it is not one).

    Parameters
    ----------
    module : str
        The module that failed to import (its top-level package decides).
    purpose : str, default=None
        What needed it, e.g. ``"sk_reseq.datasets"``; None says "this".

    Returns
    -------
    str or None

    Examples
    --------
    >>> from sk_reseq._optional import missing_extra_message
    >>> print(missing_extra_message("skopt.space", "the search").split(": ")[1])
    pip install 'sk_reseq[experiment]'
    >>> missing_extra_message("numpy") is None
    True
    """
    top = (module or "").partition(".")[0]
    if top not in EXTRAS:
        return None
    distribution, extra = EXTRAS[top]
    return (f"{purpose or 'this'} needs {distribution}, which the core install leaves out: "
            f"pip install 'sk_reseq[{extra}]'")


def import_optional(module, purpose):
    """Import ``module``, an optional dependency, or fail naming its extra.

    Parameters
    ----------
    module : str
        A module listed (by its top-level package) in :data:`EXTRAS`.
    purpose : str
        What needs it, for the error message.

    Returns
    -------
    module

    Raises
    ------
    ImportError
        If the module is not installed; the message names the extra.

    Examples
    --------
    >>> from sk_reseq._optional import import_optional
    >>> import_optional("pandas", "sk_reseq.datasets").__name__
    'pandas'
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        message = missing_extra_message(exc.name or module, purpose)
        if message is None:  # something the optional package itself needs
            raise
        raise ImportError(message, name=exc.name) from exc
