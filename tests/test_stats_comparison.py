"""Model-comparison statistics checked against statsmodels, scipy and textbook formulas."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sp_stats
from statsmodels.stats.anova import AnovaRM
from statsmodels.stats.multicomp import pairwise_tukeyhsd

from sk_reseq.stats import (
    cohens_d,
    effect_sizes,
    msbe_table,
    repeated_measures_anova,
    to_markdown,
    tukey_hsd,
)

MODELS = ["baseline", "FFN", "DRN"]


@pytest.fixture
def scores():
    """25 runs x 3 models: a run effect shared by all models plus model effects and noise."""
    rng = np.random.default_rng(42)
    n_runs = 25
    run_effect = rng.normal(0, 0.05, n_runs)
    effects = {"baseline": 0.24, "FFN": 0.16, "DRN": 0.155}
    rows = []
    for model in MODELS:
        values = effects[model] + run_effect + rng.normal(0, 0.04, n_runs)
        rows += [{"model": model, "run": r, "repeat": r // 5, "fold": r % 5, "msbe": v}
                 for r, v in enumerate(values)]
    return pd.DataFrame(rows)


def _matrix(scores):
    return scores.pivot(index="run", columns="model", values="msbe")[MODELS].to_numpy()


def test_anova_matches_statsmodels_and_manual_formula(scores):
    res = repeated_measures_anova(scores)
    ref = AnovaRM(scores, depvar="msbe", subject="run", within=["model"]).fit().anova_table
    assert res.F == pytest.approx(ref["F Value"].iloc[0])
    assert res.p == pytest.approx(ref["Pr > F"].iloc[0])

    # Textbook one-way repeated-measures ANOVA.
    x = _matrix(scores)
    n, k = x.shape
    grand = x.mean()
    ss_model = n * np.sum((x.mean(axis=0) - grand) ** 2)
    ss_subject = k * np.sum((x.mean(axis=1) - grand) ** 2)
    ss_error = np.sum((x - grand) ** 2) - ss_model - ss_subject
    df_num, df_den = k - 1, (k - 1) * (n - 1)
    F = (ss_model / df_num) / (ss_error / df_den)
    assert (res.df_num, res.df_den) == (df_num, df_den)
    assert res.F == pytest.approx(F)
    assert res.p == pytest.approx(sp_stats.f.sf(F, df_num, df_den))
    assert res.p < 0.05
    assert str(res).startswith(f"F({df_num}, {df_den}) = ")


def test_anova_is_invariant_to_row_order(scores):
    shuffled = scores.sample(frac=1.0, random_state=0)
    assert repeated_measures_anova(shuffled).F == pytest.approx(repeated_measures_anova(scores).F)


def test_tukey_matches_statsmodels_and_scipy(scores):
    tab = tukey_hsd(scores, alpha=0.05)
    ref = pairwise_tukeyhsd(scores.msbe, scores.model, alpha=0.05)
    assert len(tab) == 3
    np.testing.assert_allclose(tab.meandiff, ref.meandiffs)
    np.testing.assert_allclose(tab.p_adj, ref.pvalues)
    np.testing.assert_array_equal(tab.reject, ref.reject)

    # scipy orders groups as given; statistic[i, j] = mean_i - mean_j.
    samples = {m: scores.msbe[scores.model == m].to_numpy() for m in MODELS}
    sc = sp_stats.tukey_hsd(*samples.values())
    ci = sc.confidence_interval(0.95)
    for row in tab.itertuples():
        i, j = MODELS.index(row.group2), MODELS.index(row.group1)
        assert row.meandiff == pytest.approx(sc.statistic[i, j])
        assert row.p_adj == pytest.approx(sc.pvalue[i, j], abs=2e-3)
        assert row.lower == pytest.approx(ci.low[i, j], abs=1e-3)
        assert row.upper == pytest.approx(ci.high[i, j], abs=1e-3)
    by_pair = {frozenset((r.group1, r.group2)): r.reject for r in tab.itertuples()}
    assert by_pair[frozenset(("baseline", "FFN"))] and by_pair[frozenset(("baseline", "DRN"))]


def test_cohens_d_textbook_formulas():
    a = np.array([0.30, 0.21, 0.25, 0.35, 0.28, 0.19])
    b = np.array([0.20, 0.18, 0.22, 0.15, 0.17])
    na, nb = len(a), len(b)
    sa2 = np.sum((a - a.mean()) ** 2) / (na - 1)
    sb2 = np.sum((b - b.mean()) ** 2) / (nb - 1)
    pooled = np.sqrt(((na - 1) * sa2 + (nb - 1) * sb2) / (na + nb - 2))
    assert cohens_d(a, b) == pytest.approx((a.mean() - b.mean()) / pooled)
    assert cohens_d(b, a) == pytest.approx(-cohens_d(a, b))

    c = a[:5]
    diff = c - b
    dz = diff.mean() / np.sqrt(np.sum((diff - diff.mean()) ** 2) / (len(diff) - 1))
    assert cohens_d(c, b, paired=True) == pytest.approx(dz)


def test_cohens_d_reproduces_paper_effect_sizes_from_table_4():
    # Samples with exactly the Table 4 means and SDs (25 runs) give the
    # paper's d over baseline up to the rounding of the table (0.88, 0.82).
    def sample(mean, std, n=25):
        z = np.random.default_rng(0).normal(size=n)
        return mean + std * (z - z.mean()) / z.std(ddof=1)

    base = sample(0.237, 0.103)
    assert cohens_d(base, sample(0.154, 0.080)) == pytest.approx(0.88, abs=0.03)
    assert cohens_d(base, sample(0.159, 0.082)) == pytest.approx(0.82, abs=0.03)


def test_cohens_d_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        cohens_d([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="equal lengths"):
        cohens_d([1.0, 2.0, 3.0], [1.0, 2.0], paired=True)
    with pytest.raises(ValueError, match="finite"):
        cohens_d([1.0, np.nan], [1.0, 2.0])


def test_effect_sizes_over_reference(scores):
    d = effect_sizes(scores, "baseline")
    x = scores.pivot(index="run", columns="model", values="msbe")
    assert list(d.index) == ["FFN", "DRN"]
    assert d["FFN"] == pytest.approx(cohens_d(x["baseline"], x["FFN"]))
    assert (d > 0).all()
    with pytest.raises(ValueError, match="reference 'nope'"):
        effect_sizes(scores, "nope")


def test_msbe_table_matches_scipy_t_interval(scores):
    table = msbe_table(scores, confidence=0.95)
    assert list(table.index) == MODELS
    for model in MODELS:
        x = scores.msbe[scores.model == model].to_numpy()
        low, high = sp_stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sp_stats.sem(x))
        row = table.loc[model]
        assert row["mean"] == pytest.approx(x.mean())
        assert row["std"] == pytest.approx(x.std(ddof=1))
        assert (row.ci_low, row.ci_high) == pytest.approx((low, high))
        assert row.n_runs == len(x)


def test_duplicate_rows_per_run_are_averaged(scores):
    doubled = pd.concat([scores, scores.assign(msbe=scores.msbe + 0.02)])
    table = msbe_table(doubled)
    assert table.loc["FFN", "mean"] == pytest.approx(msbe_table(scores).loc["FFN", "mean"] + 0.01)
    assert table.loc["FFN", "n_runs"] == 25


def test_unbalanced_and_malformed_scores_are_rejected(scores):
    with pytest.raises(ValueError, match="Unbalanced"):
        repeated_measures_anova(scores.drop(index=scores.index[-1]))
    with pytest.raises(ValueError, match="no column"):
        msbe_table(scores.drop(columns="run"))
    with pytest.raises(ValueError, match="non-finite"):
        tukey_hsd(scores.assign(msbe=np.where(scores.index == 3, np.nan, scores.msbe)))
    with pytest.raises(TypeError, match="DataFrame"):
        msbe_table(scores.to_dict())
    with pytest.raises(ValueError, match="at least 2 models"):
        repeated_measures_anova(scores[scores.model == "FFN"])
    with pytest.raises(ValueError, match="confidence"):
        msbe_table(scores, confidence=95)
    original = scores.copy()
    msbe_table(scores), tukey_hsd(scores), repeated_measures_anova(scores)
    pd.testing.assert_frame_equal(scores, original)


def test_to_markdown_renders_every_cell(scores):
    table = msbe_table(scores)
    text = to_markdown(table, digits=3)
    lines = text.splitlines()
    assert lines[0] == "| model | mean | std | ci_low | ci_high | n_runs |"
    assert lines[1] == "|---|---:|---:|---:|---:|---:|"
    assert len(lines) == 2 + len(MODELS)
    assert lines[2].startswith(f"| baseline | {table.loc['baseline', 'mean']:.3f} |")
    escaped = to_markdown(pd.DataFrame({"a|b": ["x|y"]}), index=False).splitlines()
    assert escaped[0] == r"| a\|b |" and escaped[-1] == r"| x\|y |"
    with pytest.raises(TypeError, match="DataFrame"):
        to_markdown([1, 2])
