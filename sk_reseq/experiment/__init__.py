"""The paper's experiment (section 4.3) from data to tables and figure.

:func:`run_experiment` does, in order:

1. windows of 0.5 s at 22 050 Hz from every track (:class:`WindowSampler`),
   the FFN's 679 features of each window (:class:`FeatureSummarizer`);
2. Bayesian hyper-parameter search of each network on the HPO partitions
   (:class:`HPOSplit`, :func:`make_bayes_search`);
3. the baseline and the tuned networks on a repeated grouped K-fold of the
   tracks the search did not test (:class:`RepeatedGroupKFold`);
4. the statistics and outputs: ``table3.md`` / ``hyperparameters.json``
   (chosen hyper-parameters), ``table4.md`` / ``table4.csv`` (MSBE per
   model), ``fig6.png`` (boxplots), ``scores.json`` (every score, the
   ANOVA, Tukey HSD and Cohen's d).

Every finished step is kept in ``out_dir/state`` (the features, each
model's search, each run of the cross-validation), so an interrupted
experiment resumes where it stopped and ends with the same results as an
uninterrupted one: every step is seeded from the config's
``random_state``. All files are written atomically.
"""

from ._config import CONFIGS, ExperimentConfig, get_config
from ._run import run_experiment

__all__ = ["CONFIGS", "ExperimentConfig", "get_config", "run_experiment"]
