"""Figures of the paper (matplotlib, imported on first use)."""

from ._eq import plot_equalizer_curves
from ._results import plot_msbe_boxplot

__all__ = [
    "plot_equalizer_curves",
    "plot_msbe_boxplot",
]
