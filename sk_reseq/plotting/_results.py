"""Figures of a model comparison (the paper's Fig. 6)."""

import numpy as np

from .._optional import import_optional

__all__ = ["plot_msbe_boxplot", "plot_evaluation"]


def plot_msbe_boxplot(scores, *, ax=None, dv="msbe", within="model", subject="run", order=None):
    """Boxplots of the mean MSBE per run for each model (the paper's Fig. 6).

    Each box shows the distribution over runs of a model's score (averaged
    per run first); the line in the box is the median, the triangle the mean.

    Parameters
    ----------
    scores : pandas.DataFrame
        Tidy scores, one row per (model, run), e.g. from
        :func:`sk_reseq.model_selection.compare_estimators`.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure when None.
    dv, within, subject : str, default=("msbe", "model", "run")
        Columns of the score, the model and the run.
    order : list of str, default=None
        Models to show, in this order; all, in order of appearance, when None.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from sk_reseq.plotting import plot_msbe_boxplot
    >>> scores = pd.DataFrame({"model": ["baseline"] * 3 + ["FFN"] * 3, "run": [0, 1, 2] * 2,
    ...                        "msbe": [0.30, 0.25, 0.28, 0.20, 0.18, 0.21]})
    >>> ax = plot_msbe_boxplot(scores)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['baseline', 'FFN']
    """
    plt = import_optional("matplotlib.pyplot", "sk_reseq.plotting")

    from ..stats._comparison import _per_run

    table = _per_run(scores, dv, within, subject)
    if order is not None:
        unknown = [m for m in order if m not in table.columns]
        if unknown:
            raise ValueError(f"order has unknown model(s) {unknown}; "
                             f"models are {list(table.columns)}.")
        table = table[list(order)]
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 + 1.4 * table.shape[1], 4.0))
    positions = list(range(1, table.shape[1] + 1))
    ax.boxplot(
        [table[m].to_numpy() for m in table.columns],
        positions=positions,
        showmeans=True,
        meanprops={"marker": "^", "markerfacecolor": "black", "markeredgecolor": "black"},
        medianprops={"color": "black"},
    )
    # tick labels set apart: boxplot's labels= became tick_labels= in matplotlib 3.9
    ax.set_xticks(positions, [str(m) for m in table.columns])
    ax.set_xlabel("Model")
    ax.set_ylabel(r"Mean $MSBE^{(35,65)}$ per run" if dv == "msbe" else f"Mean {dv} per run")
    ax.grid(axis="y", alpha=0.3)
    return ax


def plot_evaluation(variants, *, title=None):
    """Predicted against oracle factors, and both by number of resonances.

    Left: one point per variant (:func:`sk_reseq.evaluation.evaluate_auto_equalizer`),
    coloured by how many resonances were injected, with the diagonal where
    the prediction equals the oracle. Right: the mean predicted and oracle
    factor for each number of resonances, which shows whether the factor
    rises as resonances are added and stays low on clean music.

    Parameters
    ----------
    variants : pandas.DataFrame
        ``evaluate_auto_equalizer(...).variants`` (columns ``n_resonances``,
        ``oracle``, ``predicted``).
    title : str, optional

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from sk_reseq.plotting import plot_evaluation
    >>> variants = pd.DataFrame({"n_resonances": [0, 1, 2, 4], "oracle": [0, 0.2, 0.3, 0.5],
    ...                          "predicted": [0.1, 0.2, 0.25, 0.4]})
    >>> len(plot_evaluation(variants).axes)
    2
    """
    plt = import_optional("matplotlib.pyplot", "sk_reseq.plotting")

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    counts = sorted(variants["n_resonances"].unique())
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(counts)))
    for count, color in zip(counts, colors):
        rows = variants[variants["n_resonances"] == count]
        left.scatter(rows["oracle"], rows["predicted"], s=14, alpha=0.7, color=color,
                     label=f"{count} resonance{'s' if count != 1 else ''}")
    left.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="prediction = oracle")
    left.set(xlim=(-0.03, 1.03), ylim=(-0.03, 1.03),
             xlabel="oracle factor (restores the clean music)",
             ylabel="factor chosen by the auto equalizer", title="each variant")
    left.legend(fontsize=8, loc="upper left")
    means = variants.groupby("n_resonances")[["oracle", "predicted"]].mean()
    right.plot(means.index, means["oracle"], "o-", color="black", label="oracle")
    right.plot(means.index, means["predicted"], "s-", color="tab:orange", label="auto equalizer")
    right.set(xticks=counts, ylim=(0, 1), xlabel="resonances injected",
              ylabel="mean factor", title="by number of resonances")
    right.legend(fontsize=8, loc="upper left")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
