"""Figures of a listening test: rating percentiles and rater correlations (Figs. 2-3)."""

import numpy as np

from .._optional import import_optional
from ..stats._raters import _as_frame, rater_correlations

__all__ = ["plot_rating_percentiles", "plot_rater_correlations"]


def plot_rating_percentiles(ratings, ax=None):
    """Rating percentiles per rater in steps of 10 % (the paper's Fig. 2).

    For each rater, nested bands span the 0-100th, 10-90th, 20-80th, 30-70th
    and 40-60th percentiles of the ratings given (declines ignored), darker
    towards the centre; a bold mark shows the median.

    Parameters
    ----------
    ratings : pandas.DataFrame or array-like [shape=(n_tracks, n_raters)]
        Wide ratings in [0, 1], NaN = declined.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sk_reseq.plotting import plot_rating_percentiles
    >>> ratings = np.random.default_rng(0).integers(0, 17, size=(20, 3)) / 16
    >>> ax = plot_rating_percentiles(ratings)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['s01', 's02', 's03']
    """
    plt = import_optional("matplotlib.pyplot", "sk_reseq.plotting")

    frame = _as_frame(ratings)
    names = [str(c) for c in frame.columns]
    x = np.arange(len(names))
    if ax is None:
        _, ax = plt.subplots(figsize=(max(5.0, 0.45 * len(names) + 1.5), 4.0))
    cmap = plt.get_cmap("Blues")
    columns = [frame[c].dropna().to_numpy() for c in frame.columns]
    for k, low in enumerate(range(0, 50, 10)):
        lo = np.array([np.percentile(v, low) if v.size else np.nan for v in columns])
        hi = np.array([np.percentile(v, 100 - low) if v.size else np.nan for v in columns])
        ax.bar(
            x, hi - lo, bottom=lo, width=0.7, color=cmap(0.25 + 0.15 * k), linewidth=0,
            label=f"{low}-{100 - low} %",
        )
    medians = np.array([np.median(v) if v.size else np.nan for v in columns])
    ax.hlines(medians, x - 0.35, x + 0.35, colors="black", linewidth=2.5, label="median")
    ax.set_xticks(x, names, rotation=90 if len(names) > 20 else 0)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("Rater")
    ax.set_ylabel("Attenuation factor")
    ax.set_title("Rating percentiles per rater")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return ax


def plot_rater_correlations(ratings, ax=None):
    """Pearson correlation matrix of the raters, annotated (the paper's Fig. 3).

    Each pair is correlated over the tracks both rated.

    Parameters
    ----------
    ratings : pandas.DataFrame or array-like [shape=(n_tracks, n_raters)]
        Wide ratings in [0, 1], NaN = declined.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sk_reseq.plotting import plot_rater_correlations
    >>> ratings = np.random.default_rng(0).integers(0, 17, size=(20, 3)) / 16
    >>> ax = plot_rater_correlations(ratings)
    >>> len(ax.texts)
    9
    """
    plt = import_optional("matplotlib.pyplot", "sk_reseq.plotting")

    corr = rater_correlations(ratings)
    names = [str(c) for c in corr.columns]
    n = len(names)
    if ax is None:
        size = max(4.5, 0.5 * n + 1.5)
        _, ax = plt.subplots(figsize=(size + 1.0, size))
    values = corr.to_numpy()
    image = ax.imshow(values, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="Pearson r")
    fontsize = 8 if n <= 12 else max(4.5, 8 - 0.2 * (n - 12))
    for i in range(n):
        for j in range(n):
            value = values[i, j]
            text = "" if np.isnan(value) else f"{value:.2f}".replace("0.", ".", 1)
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize,
                    color="white" if abs(value) > 0.6 else "black")
    ax.set_xticks(np.arange(n), names, rotation=90)
    ax.set_yticks(np.arange(n), names)
    ax.set_title("Correlation of ratings between raters")
    return ax
