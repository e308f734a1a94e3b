"""Helpers shared by the command modules: output checks, progress bars, figures."""

from pathlib import Path

from .._atomic import atomic_path, check_writable
from .._atomic import same_file as _same_file
from ..audio import check_audio_output

# Inputs longer than this get a progress bar (unless --quiet).
PROGRESS_MIN_SECONDS = 20.0


def check_distinct(path, others):
    """Fail if ``path`` is the same file as one of ``others`` (a mapping label -> path)."""
    for label, other in others.items():
        if other is not None and _same_file(path, other):
            raise ValueError(
                f"output {path} is the same file as {label} ({other}); choose another path "
                "(sk-reseq never overwrites its input, nor one output with another)."
            )


def check_output_path(path, *, others=None):
    """Fail before any work if ``path`` cannot be written or is one of ``others``.

    Writability is tested by creating and removing a temporary file in the
    destination folder (``os.access`` says yes to root on a read-only mount).
    """
    check_distinct(path, others or {})
    check_writable(path)


def check_audio_output_path(path, info, *, others=None):
    """:func:`check_output_path` for audio shaped like ``info``.

    ``info`` is an :func:`~sk_reseq.audio.audio_info` result.

    Also checks the extension, the channels and the rate against the output
    format (by a trial write). Returns the subtype to write.
    """
    check_distinct(path, others or {})
    _, subtype = check_audio_output(path, info.samplerate, info.channels, info.subtype)
    return subtype


def figure_formats():
    """File extensions matplotlib can save figures as (without the dot)."""
    from matplotlib.backend_bases import FigureCanvasBase

    return sorted(FigureCanvasBase.get_supported_filetypes())


def check_figure_path(path, *, others=None):
    """:func:`check_output_path` for a figure: also its extension must be an image format."""
    ext = Path(path).suffix.lower().lstrip(".")
    formats = figure_formats()
    if ext not in formats:
        raise ValueError(
            f"unsupported figure format {('.' + ext) if ext else '(no extension)'!r} for {path}; "
            f"supported: {', '.join('.' + f for f in formats)}."
        )
    check_output_path(path, others=others)


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
    try:
        with atomic_path(path, suffix=path.suffix) as tmp:
            fig.savefig(tmp, dpi=120)
    finally:
        plt.close(fig)


def use_agg():
    """Select matplotlib's file-only backend (the CLI never opens windows)."""
    import matplotlib

    matplotlib.use("Agg")
