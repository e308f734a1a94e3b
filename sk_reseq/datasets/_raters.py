"""Simulated raters modelled on the paper's Table 1."""

import numpy as np

from .._optional import import_optional

pd = import_optional("pandas", "sk_reseq.datasets")

# Rater profiles modelled on the paper's Table 1 (s01 ... s15): bias and
# scale of the rater's response to the oracle factor, noise standard
# deviation, probability of answering 0.0 regardless of the track, and
# number of declined tracks per 150. s01 and s15 are prone to 0.0, s07
# prefers strong attenuation, s13 declines often and agrees least.
_PROFILES = pd.DataFrame(
    [
        # bias, scale, noise, zero_prob, declines (fitted to Table 1's counts
        # of 0.0 and medians on the simulated oracle distribution)
        (-0.11, 0.45, 0.14, 0.08, 1),
        (0.02, 0.45, 0.10, 0.00, 0),
        (-0.045, 0.45, 0.10, 0.00, 2),
        (0.08, 0.45, 0.10, 0.00, 2),
        (-0.015, 0.45, 0.10, 0.00, 4),
        (-0.045, 0.45, 0.10, 0.00, 0),
        (0.3, 0.45, 0.11, 0.02, 0),
        (0.14, 0.45, 0.10, 0.04, 8),
        (0.08, 0.45, 0.10, 0.00, 0),
        (0.02, 0.45, 0.10, 0.00, 1),
        (0.08, 0.45, 0.10, 0.00, 1),
        (0.02, 0.45, 0.10, 0.00, 2),
        (0.14, 0.45, 0.24, 0.00, 21),
        (0.08, 0.45, 0.10, 0.00, 0),
        (0.1, 0.45, 0.24, 0.28, 0),
    ],
    columns=["bias", "scale", "noise", "zero_prob", "declines_per_150"],
)


def _rater_profiles(n_raters, rng):
    """Paper-like profiles s01..s15 (cycled beyond 15), each slightly jittered."""
    rows = _PROFILES.iloc[np.arange(n_raters) % len(_PROFILES)].reset_index(drop=True).copy()
    rows["bias"] += rng.normal(0.0, 0.015, n_raters)
    rows["noise"] *= rng.uniform(0.9, 1.1, n_raters)
    return rows


def _simulate_ratings(oracle, profiles, rng):
    n_tracks = len(oracle)
    n_raters = len(profiles)
    p = profiles
    latent = (
        p["bias"].to_numpy() + p["scale"].to_numpy() * oracle[:, None]
        + rng.normal(size=(n_tracks, n_raters)) * p["noise"].to_numpy()
    )
    ratings = np.round(np.clip(latent, 0.0, 1.0) * 16) / 16
    ratings[rng.uniform(size=ratings.shape) < p["zero_prob"].to_numpy()] = 0.0
    # Declines: a fixed share per rater, more likely on strongly resonant tracks.
    weights = (0.5 + oracle) / (0.5 + oracle).sum()
    for j, per_150 in enumerate(p["declines_per_150"].to_numpy()):
        k = min(int(round(per_150 * n_tracks / 150)), n_tracks - 1)
        if k:
            ratings[rng.choice(n_tracks, size=k, replace=False, p=weights), j] = np.nan
    # A track that every rater declined would have no target: restore one rating.
    for i in np.flatnonzero(np.isnan(ratings).all(axis=1)):
        ratings[i, rng.integers(n_raters)] = np.round(np.clip(oracle[i], 0, 1) * 16) / 16
    return ratings
