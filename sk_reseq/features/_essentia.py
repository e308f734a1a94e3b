"""Lazy access to Essentia, the only place the toolkit imports it.

Essentia (AGPL-3.0) is an optional dependency (the ``features`` extra), so
the rest of sk_reseq imports without it. Its C++ logger writes INFO and
WARNING lines straight to the terminal (e.g. when OddToEvenHarmonicEnergyRatio
clips its output); :func:`quiet_essentia` mutes them for the duration of a
computation and restores the caller's settings afterwards.
"""

import contextlib
import importlib

__all__ = ["import_essentia", "quiet_essentia"]

_INSTALL_HINT = (
    "sk_reseq.features needs Essentia (AGPL-3.0), an optional dependency: "
    "install it with `pip install sk_reseq[features]` (or `pip install essentia`)."
)


def import_essentia():
    """Return ``essentia.standard``, importing it quietly on first use.

    Raises
    ------
    ImportError
        If Essentia is not installed; the message names the ``features`` extra.

    Examples
    --------
    >>> from sk_reseq.features._essentia import import_essentia
    >>> es = import_essentia()
    >>> float(es.Energy()([1.0, 2.0]))
    5.0
    """
    try:
        essentia = importlib.import_module("essentia")
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    # Importing essentia.standard logs an INFO line about MusicExtractorSVM.
    with quiet_essentia(essentia):
        return importlib.import_module("essentia.standard")


@contextlib.contextmanager
def quiet_essentia(essentia=None):
    """Mute Essentia's INFO and WARNING log lines inside a ``with`` block.

    Examples
    --------
    >>> from sk_reseq.features._essentia import quiet_essentia
    >>> with quiet_essentia():
    ...     pass
    """
    if essentia is None:
        essentia = importlib.import_module("essentia")
    log = essentia.log
    saved = (log.infoActive, log.warningActive)
    log.infoActive = log.warningActive = False
    try:
        yield
    finally:
        log.infoActive, log.warningActive = saved
