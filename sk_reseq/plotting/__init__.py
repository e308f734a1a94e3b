"""Figures of the paper (matplotlib, imported on first use)."""

from ._eq import (
    plot_auto_report,
    plot_equalizer_curves,
    plot_equalizer_report,
    plot_gain_map,
    plot_level_change,
)
from ._ratings import plot_rater_correlations, plot_rating_percentiles
from ._results import plot_evaluation, plot_msbe_boxplot

__all__ = [
    "plot_equalizer_curves",
    "plot_level_change",
    "plot_gain_map",
    "plot_equalizer_report",
    "plot_auto_report",
    "plot_msbe_boxplot",
    "plot_evaluation",
    "plot_rating_percentiles",
    "plot_rater_correlations",
]
