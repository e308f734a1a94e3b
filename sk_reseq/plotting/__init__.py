"""Figures of the paper (matplotlib, imported on first use)."""

from ._results import plot_msbe_boxplot

__all__ = [
    "plot_msbe_boxplot",
]
