"""Atomic file writes: nothing half-written is ever left under the final name."""

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_open", "atomic_write_json"]

# mkstemp creates files readable by the owner only; the final file should get
# the permissions of a plain open() instead. The umask can only be read by
# setting it, so read it once, at import.
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path, suffix=".tmp"):
    """A temporary path next to ``path``, renamed over ``path`` if the block succeeds.

    On any exception the temporary file is removed and ``path`` is left as
    it was. ``suffix`` lets writers that infer a format from the name
    (e.g. ``savefig``) see the right extension.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_open(path, mode="w", **kwargs):
    """Open a temporary file next to ``path``; it replaces ``path`` when closed without error.

    Text modes default to UTF-8. The data is flushed to disk before the rename.
    """
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write_json(path, obj, *, default=None):
    """Write ``obj`` as indented JSON (no NaN, trailing newline), atomically."""
    with atomic_open(path) as fh:
        json.dump(obj, fh, indent=1, allow_nan=False, default=default)
        fh.write("\n")
