"""Per-rater statistics (Table 1) and the ratings figures (Figs. 2-3)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sk_reseq.plotting import plot_rater_correlations, plot_rating_percentiles  # noqa: E402
from sk_reseq.stats import rater_correlations, rater_summary  # noqa: E402


def _ratings():
    return pd.DataFrame(
        {
            "ann": [0.0, 0.25, np.nan, 0.0, 1.0],
            "bob": [0.5, 0.5, 0.75, np.nan, np.nan],
            "cyd": [0.125, 0.0, 0.25, 0.5, 0.0625],
        },
        index=list("abcde"),
    )


def test_summary_counts_and_order_statistics():
    s = rater_summary(_ratings())
    assert s.columns.tolist() == ["# No rating", "# 0.0", "Min", "Median", "Max"]
    assert s.index.tolist() == ["ann", "bob", "cyd"]
    assert s["# No rating"].tolist() == [1, 2, 0]
    assert s["# 0.0"].tolist() == [2, 0, 1]
    assert s.loc["ann", "Median"] == pytest.approx(0.125)  # of 0, 0, 0.25, 1
    assert s.loc["bob", "Median"] == 0.5
    assert s.loc["cyd", ["Min", "Max"]].tolist() == [0.0, 0.5]


def test_summary_accepts_an_array_and_names_raters():
    arr = _ratings().to_numpy()
    s = rater_summary(arr)
    assert s.index.tolist() == ["s01", "s02", "s03"]
    pd.testing.assert_frame_equal(s.reset_index(drop=True),
                                  rater_summary(_ratings()).reset_index(drop=True))


def test_summary_of_a_rater_without_ratings():
    s = rater_summary([[np.nan, 0.5], [np.nan, 0.25]])
    assert s.loc["s01", "# No rating"] == 2 and np.isnan(s.loc["s01", "Median"])


@pytest.mark.parametrize(
    "ratings, error, match",
    [
        ([0.1, 0.2], ValueError, "2-D"),
        ([[0.1, 1.5]], ValueError, r"\[0, 1\]"),
        ("ratings.csv", TypeError, "DataFrame"),
        (pd.DataFrame({"a": ["x", "y"]}), TypeError, "numeric"),
    ],
)
def test_summary_bad_input(ratings, error, match):
    with pytest.raises(error, match=match):
        rater_summary(ratings)


def test_correlations_are_pairwise_complete():
    r = _ratings()
    corr = rater_correlations(r)
    both = r[["ann", "cyd"]].dropna()
    expected = np.corrcoef(both["ann"], both["cyd"])[0, 1]
    assert corr.loc["ann", "cyd"] == pytest.approx(expected)
    assert corr.loc["cyd", "ann"] == pytest.approx(expected)
    # ann and bob share only two tracks, fewer than min_periods=3.
    assert np.isnan(corr.loc["ann", "bob"])
    np.testing.assert_allclose(np.diag(corr.to_numpy())[[0, 2]], 1.0)


def test_percentile_figure_draws_nested_bands_and_medians():
    rng = np.random.default_rng(0)
    ratings = pd.DataFrame(rng.integers(0, 17, size=(40, 4)) / 16, columns=list("wxyz"))
    ratings.iloc[:5, 1] = np.nan
    ax = plot_rating_percentiles(ratings)
    assert [t.get_text() for t in ax.get_xticklabels()] == list("wxyz")
    bars = ax.patches
    assert len(bars) == 5 * 4  # five percentile bands per rater
    # The widest band of rater "x" spans its min to max, the median line its median.
    widest_x = bars[1]
    given = ratings["x"].dropna()
    assert widest_x.get_y() == pytest.approx(given.min())
    assert widest_x.get_y() + widest_x.get_height() == pytest.approx(given.max())
    segments = ax.collections[0].get_segments()
    assert segments[3][0][1] == pytest.approx(ratings["z"].median())
    plt.close(ax.figure)


def test_correlation_figure_annotates_every_cell(tmp_path):
    ratings = _ratings()
    fig, ax = plt.subplots()
    out = plot_rater_correlations(ratings, ax=ax)
    assert out is ax
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 9
    assert texts[0] == "1.00" and texts[1] == ""  # ann/bob: too few common tracks
    image = ax.images[0].get_array()
    np.testing.assert_allclose(np.asarray(image), rater_correlations(ratings).to_numpy())
    fig.savefig(tmp_path / "corr.png")
    assert (tmp_path / "corr.png").stat().st_size > 0
    plt.close(fig)


def test_cli_summary_prints_table_and_writes_figures(tmp_path, capsys):
    from sk_reseq.cli import main
    from sk_reseq.datasets import save_ratings

    csv = tmp_path / "ratings.csv"
    save_ratings(_ratings(), csv)
    out = tmp_path / "figs"
    assert main(["panel", "summary", str(csv), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "# No rating" in printed and "ann" in printed and "mean pairwise Pearson r" in printed
    for name in ("rating_percentiles.png", "rater_correlations.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_summary_reports_bad_rows(tmp_path, capsys):
    from sk_reseq.cli import main

    csv = tmp_path / "bad.csv"
    csv.write_text("track,rater,rating\na,s,0.5\nb,s,7\n")
    assert main(["panel", "summary", str(csv)]) == 2
    assert "line 3: rating 7 is outside [0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "rating_percentiles.png").exists()
