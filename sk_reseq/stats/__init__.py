"""Statistics of the listening test and of model comparisons."""

from ._comparison import (
    AnovaResult,
    cohens_d,
    effect_sizes,
    msbe_table,
    repeated_measures_anova,
    to_markdown,
    tukey_hsd,
)

__all__ = [
    "AnovaResult",
    "cohens_d",
    "effect_sizes",
    "msbe_table",
    "repeated_measures_anova",
    "to_markdown",
    "tukey_hsd",
]
