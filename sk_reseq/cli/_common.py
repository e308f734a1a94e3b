"""Helpers shared by the command modules: output checks, progress bars, figures."""

import os
from pathlib import Path

# Inputs longer than this get a progress bar (unless --quiet).
PROGRESS_MIN_SECONDS = 20.0


def check_output_path(path):
    """Fail before any work if ``path`` cannot be written."""
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise FileNotFoundError(f"output folder does not exist: {parent}")
    if not os.access(parent, os.W_OK):
        raise PermissionError(f"output folder is not writable: {parent}")
    if Path(path).is_dir():
        raise IsADirectoryError(f"output path is a directory: {path}")


def progress_bar(total, desc, quiet, seconds=None, unit="sample"):
    """A tqdm bar, or None when quiet or when the input is short."""
    if quiet or (seconds is not None and seconds < PROGRESS_MIN_SECONDS):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, leave=False)


def save_figure(fig, path):
    """Save a matplotlib figure atomically and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    tmp = path.with_name(f".{path.name}.part{path.suffix}")
    try:
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if tmp.exists():
            tmp.unlink()


def use_agg():
    """Select matplotlib's file-only backend (the CLI never opens windows)."""
    import matplotlib

    matplotlib.use("Agg")
