"""Atomic file writes: nothing half-written is ever left under the final name."""

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_open", "atomic_write_json", "scratch_path", "check_writable",
           "same_file"]

# mkstemp creates files readable by the owner only; the final file should get
# the permissions of a plain open() instead. The umask can only be read by
# setting it, so read it once, at import.
_UMASK = os.umask(0)
os.umask(_UMASK)


def same_file(a, b):
    """Whether paths ``a`` and ``b`` name one file (same path, a link to it, or a hard link).

    Writers call it to refuse overwriting their input.
    """
    a, b = Path(a), Path(b)
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


@contextmanager
def atomic_path(path, suffix=".tmp"):
    """A temporary path next to ``path``, renamed over ``path`` if the block succeeds.

    On any exception the temporary file is removed and ``path`` is left as
    it was. ``suffix`` lets writers that infer a format from the name
    (e.g. ``savefig``) see the right extension.
    """
    path = Path(path)
    tmp = _temp_next_to(path, suffix)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _temp_next_to(path, suffix):
    """Create an empty temporary file in ``path``'s folder; clear errors if it cannot be."""
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"output folder does not exist: {folder}")
    if path.is_dir():
        raise IsADirectoryError(f"output path is a directory: {path}")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=folder)
    except OSError as exc:  # EACCES, EROFS, EDQUOT, ...: say which folder and why
        raise PermissionError(
            f"output folder is not writable: {folder} ({exc.strerror or exc})"
        ) from exc
    os.close(fd)
    return tmp


@contextmanager
def scratch_path(path, suffix=".tmp"):
    """A temporary file next to ``path``, always removed: a place for a trial write.

    It is created where :func:`atomic_path` would create its own, so a
    successful trial means the real write can get there too.
    """
    tmp = _temp_next_to(Path(path), suffix)
    try:
        yield tmp
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_writable(path):
    """Fail unless a file can be written at ``path`` (atomically, via a temporary file).

    Creates and removes a temporary file in the destination folder rather
    than asking ``os.access``, which answers yes to root even on a
    read-only file system.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        Missing folder, ``path`` a directory, folder not writable.
    """
    with scratch_path(path):
        pass


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
