"""Fig. 6 boxplot: one box per model over its per-run mean scores."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sk_reseq.plotting import plot_msbe_boxplot  # noqa: E402


@pytest.fixture
def scores():
    rng = np.random.default_rng(0)
    rows = []
    for model, level in [("baseline", 0.24), ("FFN", 0.16), ("DRN", 0.15)]:
        for run in range(25):
            # two rows per run: the plot must average them
            for _ in range(2):
                rows.append({"model": model, "run": run, "msbe": level + rng.normal(0, 0.05)})
    return pd.DataFrame(rows)


def test_boxplot_shows_per_run_means_medians_and_mean_triangles(scores, tmp_path):
    fig, ax = plt.subplots()
    out = plot_msbe_boxplot(scores, ax=ax)
    assert out is ax
    assert [t.get_text() for t in ax.get_xticklabels()] == ["baseline", "FFN", "DRN"]
    per_run = scores.groupby(["model", "run"]).msbe.mean()
    # Mean markers are triangles at the mean of the per-run means.
    means = [line for line in ax.lines if line.get_marker() == "^"]
    assert len(means) == 3
    for line, model in zip(means, ["baseline", "FFN", "DRN"]):
        assert line.get_ydata()[0] == pytest.approx(per_run[model].mean())
    # Median lines: horizontal segments at each model's median of per-run means.
    medians = [line.get_ydata()[0] for line in ax.lines
               if line.get_color() == "black" and line.get_marker() in ("", "None")
               and len(line.get_ydata()) == 2 and line.get_ydata()[0] == line.get_ydata()[1]]
    for model in ["baseline", "FFN", "DRN"]:
        assert any(m == pytest.approx(per_run[model].median()) for m in medians)
    fig.savefig(tmp_path / "fig6.png")
    assert (tmp_path / "fig6.png").stat().st_size > 0
    plt.close(fig)


def test_order_and_bad_input(scores):
    ax = plot_msbe_boxplot(scores, order=["DRN", "baseline"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["DRN", "baseline"]
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="unknown model"):
        plot_msbe_boxplot(scores, order=["CNN"])
    with pytest.raises(ValueError, match="no column"):
        plot_msbe_boxplot(scores.rename(columns={"msbe": "loss"}))
