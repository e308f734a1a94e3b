"""The paper's evaluation protocol (section 4.3): grouped splits, Bayesian
hyper-parameter search and the comparison of models on repeated grouped CV.
"""

from ._compare import compare_estimators
from ._search import drn_search_space, ffn_search_space, make_bayes_search
from ._split import HPOSplit, RepeatedGroupKFold, hpo_partitions

__all__ = [
    "HPOSplit",
    "RepeatedGroupKFold",
    "compare_estimators",
    "drn_search_space",
    "ffn_search_space",
    "hpo_partitions",
    "make_bayes_search",
]
