"""
=========================================
A simulated listening panel
=========================================

The paper's 150 rated tracks are not public, so sk_reseq simulates a
listening test of the same shape: synthetic music with 0-4 injected
resonances, an *oracle* attenuation factor per excerpt, and 15 simulated
raters with their own bias, noise, habits of answering 0.0 and of declining.
**All ratings here are synthetic**; they stand in for real ones, which load
from a CSV with :func:`~sk_reseq.datasets.load_ratings`.

This example simulates a small panel (30 short excerpts, to build quickly)
and draws the paper's Table 1 and Figs. 2-3 from it.
"""

# %%
# Simulate the panel
# ------------------
import matplotlib.pyplot as plt
import numpy as np

from sk_reseq.datasets import make_listening_test
from sk_reseq.plotting import plot_rater_correlations, plot_rating_percentiles
from sk_reseq.stats import rater_summary

panel = make_listening_test(n_tracks=30, n_raters=15, duration=3.0, random_state=0)
print(f"{len(panel.audio)} excerpts of {panel.audio[0].shape[1] / panel.sr:.0f} s, "
      f"ratings {panel.ratings.shape}, {np.isnan(panel.ratings).sum()} declined")

# %%
# The ratings follow the audio: each rater answers the excerpt's oracle factor
# (the equalizer setting whose output is closest to the clean excerpt) through
# their own bias and noise. Here is how the median rating tracks the oracle.
median = np.nanmedian(panel.ratings, axis=1)
print(f"correlation of the median rating with the oracle: "
      f"{np.corrcoef(median, panel.oracle)[0, 1]:.2f}")
print(panel.frame.iloc[:5, :6])

# %%
# Table 1: statistics per rater
# -----------------------------
# Ratings declined, ratings of exactly 0.0, and the minimum, median and
# maximum rating of each rater, as in the paper's Table 1.
print(rater_summary(panel.frame).to_string())

# %%
# Fig. 2: rating percentiles per rater
# ------------------------------------
fig, ax = plt.subplots(figsize=(8, 4))
plot_rating_percentiles(panel.frame, ax=ax)
fig.tight_layout()

# %%
# Fig. 3: correlations between raters
# -----------------------------------
# Each pair is correlated over the excerpts both rated. Raters agree only
# moderately, as in the paper: the models are scored against the spread of
# the ratings (MSBE, :func:`~sk_reseq.metrics.msbe`), not against one answer.
fig, ax = plt.subplots(figsize=(7.5, 6.5))
plot_rater_correlations(panel.frame, ax=ax)
fig.tight_layout()
