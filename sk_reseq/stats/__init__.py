"""Statistics of listening tests and model comparisons."""

from ._comparison import (
    AnovaResult,
    cohens_d,
    effect_sizes,
    msbe_table,
    repeated_measures_anova,
    to_markdown,
    tukey_hsd,
)
from ._raters import rater_correlations, rater_summary

__all__ = [
    "rater_summary",
    "rater_correlations",
    "AnovaResult",
    "cohens_d",
    "effect_sizes",
    "msbe_table",
    "repeated_measures_anova",
    "to_markdown",
    "tukey_hsd",
]
