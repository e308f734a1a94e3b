"""Resonances injected into music: the simulated listening test's peaking filters."""

import numpy as np
from scipy import signal

from .._optional import import_optional
from ..spectral import peaking_sos, random_peaking_filters

pd = import_optional("pandas", "sk_reseq.datasets")

__all__ = ["add_resonances"]

# Every excerpt of a panel is scaled to this RMS level (dBFS), resonances included.
_TARGET_RMS_DB = -20.0


def _inject(audio, table, sr, inverse=False):
    """Apply (or undo, ``inverse=True``) the peaking filters of ``table``."""
    if len(table) == 0:
        return audio.astype(np.float64)
    sign = -1.0 if inverse else 1.0
    sos = np.stack(
        [peaking_sos(c, q, sign * g, sr)
         for c, q, g in table[["center_hz", "q", "gain_db"]].to_numpy()]
    )
    return signal.sosfilt(sos, audio.astype(np.float64), axis=-1)


def add_resonances(audio, resonances, sr, *, inverse=False):
    """Inject resonances into audio as peaking filters (or remove them).

    The filters of the simulated listening test (:func:`make_listening_test`):
    RBJ audio-EQ-cookbook peaking biquads, applied one after the other.

    Parameters
    ----------
    audio : np.ndarray [shape=(channels, samples) or (samples,)]
        Float or integer PCM audio; it is not modified.
    resonances : DataFrame or sequence of (center_hz, q, gain_db)
        One filter per row; a DataFrame needs the columns ``center_hz``,
        ``q`` and ``gain_db`` (as ``make_listening_test(...).resonances``).
    sr : float
        Sample rate in Hz; every centre must lie below ``sr / 2``.
    inverse : bool, default=False
        Apply the inverse filters (``-gain_db``), which undo the injection
        exactly up to rounding.

    Returns
    -------
    audio : np.ndarray [shape=(channels, samples)], float32

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.datasets import add_resonances
    >>> x = np.random.default_rng(0).standard_normal((2, 4410)).astype(np.float32)
    >>> y = add_resonances(x, [(1000.0, 8.0, 12.0)], sr=44100)
    >>> y.shape, y.dtype
    ((2, 4410), dtype('float32'))
    >>> bool(np.allclose(add_resonances(y, [(1000.0, 8.0, 12.0)], 44100, inverse=True), x,
    ...                  atol=1e-5))
    True
    """
    from .._validation import check_audio

    x = check_audio(audio, name="audio")
    columns = ["center_hz", "q", "gain_db"]
    if isinstance(resonances, pd.DataFrame):
        missing = sorted(set(columns) - set(resonances.columns))
        if missing:
            raise ValueError(f"resonances lacks the columns {missing}; it needs {columns}.")
        table = resonances[columns]
    else:
        rows = np.asarray(resonances, dtype=np.float64)
        if rows.size == 0:
            rows = rows.reshape(0, 3)
        if rows.ndim != 2 or rows.shape[1] != 3:
            raise ValueError(
                f"resonances must be rows of (center_hz, q, gain_db); got shape {rows.shape}."
            )
        table = pd.DataFrame(rows, columns=columns)
    values = table.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError("resonances must be finite numbers (center_hz, q, gain_db).")
    bad = (values[:, 0] <= 0) | (values[:, 0] >= sr / 2) | (values[:, 1] <= 0)
    if bad.any():
        row = tuple(values[np.argmax(bad)])
        raise ValueError(
            f"resonance {row} is invalid: center_hz must lie in (0, sr/2 = {sr / 2:g}) and q "
            f"must be positive."
        )
    return _inject(x, table, sr, inverse=inverse).astype(np.float32)


def _draw_resonances(rng, sr):
    """0-4 of the panel's random peaking filters, as a table."""
    return pd.DataFrame(random_peaking_filters(rng, rng.integers(0, 5), sr),
                        columns=["center_hz", "q", "gain_db"])


def _inject_and_align(x, table, sr):
    """Inject ``table`` into ``x``, scale both to -20 dBFS RMS: ``(audio, clean)``."""
    y = _inject(x, table, sr)
    gain = 10 ** (_TARGET_RMS_DB / 20) / (np.sqrt(np.mean(y**2)) + 1e-12)
    gain = min(gain, 0.99 / (np.abs(y).max() + 1e-12))
    y = (gain * y).astype(np.float32)
    x = (gain * np.asarray(x, dtype=np.float64)).astype(np.float32)
    return y, x
