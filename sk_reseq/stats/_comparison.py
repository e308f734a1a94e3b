"""Statistics of a model comparison (paper section 4.3.2, Table 4).

The input is a tidy score table with one row per (model, run), as
:func:`sk_reseq.model_selection.compare_estimators` returns it. A run (one
fold of one repeat) is evaluated by every model, so runs are the subjects
of a one-way repeated-measures design with the model as the within factor.
"""

from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sp_stats

from .._optional import import_optional

pd = import_optional("pandas", "sk_reseq.stats")

__all__ = [
    "AnovaResult",
    "cohens_d",
    "effect_sizes",
    "msbe_table",
    "repeated_measures_anova",
    "to_markdown",
    "tukey_hsd",
]


def _per_run(scores, dv, within, subject):
    """Runs x models matrix of ``dv`` (mean over duplicate rows), models in order of appearance."""
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(f"scores must be a pandas DataFrame, got {type(scores).__name__}.")
    missing = [c for c in (dv, within, subject) if c not in scores.columns]
    if missing:
        raise ValueError(f"scores has no column(s) {missing}; columns are {list(scores.columns)}.")
    values = pd.to_numeric(scores[dv], errors="coerce")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"scores[{dv!r}] has missing or non-finite values.")
    table = (scores.assign(**{dv: values})
             .pivot_table(index=subject, columns=within, values=dv, aggfunc="mean", sort=False))
    table = table[list(pd.unique(scores[within]))]
    if table.isna().any().any():
        holes = table.columns[table.isna().any()].tolist()
        raise ValueError(f"Unbalanced scores: model(s) {holes} miss some {subject!r} values; "
                         "every model must be scored on every run.")
    return table


def _check_models(table):
    if table.shape[1] < 2 or table.shape[0] < 2:
        raise ValueError(f"Need at least 2 models and 2 runs, got {table.shape[1]} models "
                         f"and {table.shape[0]} runs.")


@dataclass(frozen=True)
class AnovaResult:
    """Result of :func:`repeated_measures_anova`.

    Attributes
    ----------
    F : float
        F statistic of the within factor.
    df_num, df_den : float
        Degrees of freedom: ``k - 1`` and ``(k - 1)(n - 1)`` for ``k``
        models and ``n`` runs.
    p : float
        p-value.
    table : pandas.DataFrame
        statsmodels' ANOVA table.
    """

    F: float
    df_num: float
    df_den: float
    p: float
    table: pd.DataFrame = field(repr=False, compare=False)

    def __str__(self):
        return f"F({self.df_num:g}, {self.df_den:g}) = {self.F:.2f}, p = {self.p:.3g}"


def repeated_measures_anova(scores, *, dv="msbe", within="model", subject="run"):
    """One-way repeated-measures ANOVA of the score over models.

    Runs are the subjects (statsmodels ``AnovaRM``); several rows of one
    (run, model) are averaged first.

    Parameters
    ----------
    scores : pandas.DataFrame
        Tidy scores, one row per (model, run).
    dv, within, subject : str, default=("msbe", "model", "run")
        Columns of the score, the factor and the subject.

    Returns
    -------
    result : AnovaResult

    Examples
    --------
    >>> import pandas as pd
    >>> from sk_reseq.stats import repeated_measures_anova
    >>> scores = pd.DataFrame({"model": ["a"] * 3 + ["b"] * 3, "run": [0, 1, 2] * 2,
    ...                        "msbe": [0.30, 0.25, 0.28, 0.20, 0.18, 0.21]})
    >>> res = repeated_measures_anova(scores)
    >>> (res.df_num, res.df_den), res.p < 0.05
    ((1.0, 2.0), True)
    """
    from statsmodels.stats.anova import AnovaRM

    table = _per_run(scores, dv, within, subject)
    _check_models(table)
    long = table.reset_index().melt(id_vars=subject, var_name=within, value_name=dv)
    res = AnovaRM(long, depvar=dv, subject=subject, within=[within]).fit()
    row = res.anova_table.iloc[0]
    return AnovaResult(F=float(row["F Value"]), df_num=float(row["Num DF"]),
                       df_den=float(row["Den DF"]), p=float(row["Pr > F"]),
                       table=res.anova_table)


def tukey_hsd(scores, *, dv="msbe", within="model", subject="run", alpha=0.05):
    """Tukey's honestly significant difference test between all pairs of models.

    statsmodels' ``pairwise_tukeyhsd`` on the per-run scores. Like the
    paper's post-hoc test it treats the models' runs as independent samples
    (the pairing of runs is used by the ANOVA, not here).

    Parameters
    ----------
    scores : pandas.DataFrame
        Tidy scores, one row per (model, run).
    dv, within, subject : str, default=("msbe", "model", "run")
        Columns of the score, the factor and the subject.
    alpha : float, default=0.05
        Family-wise error rate.

    Returns
    -------
    table : pandas.DataFrame
        One row per pair with ``group1``, ``group2``, ``meandiff``
        (mean of group2 minus mean of group1), ``p_adj``, ``lower``,
        ``upper`` (simultaneous confidence interval of ``meandiff``) and
        ``reject``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sk_reseq.stats import tukey_hsd
    >>> scores = pd.DataFrame({"model": ["a"] * 3 + ["b"] * 3, "run": [0, 1, 2] * 2,
    ...                        "msbe": [0.30, 0.25, 0.28, 0.20, 0.18, 0.21]})
    >>> tab = tukey_hsd(scores)
    >>> row = tab.loc[0]
    >>> row[["group1", "group2"]].tolist(), float(round(row["meandiff"], 3)), bool(row["reject"])
    (['a', 'b'], -0.08, True)
    """
    from statsmodels.stats.multicomp import pairwise_tukeyhsd

    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")
    table = _per_run(scores, dv, within, subject)
    _check_models(table)
    long = table.reset_index().melt(id_vars=subject, var_name=within, value_name=dv)
    res = pairwise_tukeyhsd(long[dv].to_numpy(), long[within].astype(str).to_numpy(), alpha=alpha)
    names = res.groupsunique
    pairs = [(names[i], names[j]) for i in range(len(names)) for j in range(i + 1, len(names))]
    return pd.DataFrame({
        "group1": [a for a, _ in pairs],
        "group2": [b for _, b in pairs],
        "meandiff": res.meandiffs,
        "p_adj": res.pvalues,
        "lower": res.confint[:, 0],
        "upper": res.confint[:, 1],
        "reject": res.reject.astype(bool),
    })


def cohens_d(a, b, *, paired=False):
    """Cohen's d of ``mean(a) - mean(b)``.

    Independent samples (default): the difference of means over the pooled
    standard deviation ``sqrt(((n_a - 1) s_a^2 + (n_b - 1) s_b^2) / (n_a + n_b - 2))``
    (``s`` with ``ddof=1``). This reproduces the paper's effect sizes over the
    baseline from its Table 4 (0.90 and 0.84 from the rounded means and
    standard deviations, against the reported 0.88 and 0.82). With
    ``paired=True``: ``d_z``, the mean of ``a - b`` over its standard
    deviation.

    Parameters
    ----------
    a, b : array-like [shape=(n_a,), (n_b,)]
        Scores of two models (equal lengths when paired).
    paired : bool, default=False
        Use ``d_z`` of paired differences.

    Returns
    -------
    d : float

    Examples
    --------
    >>> from sk_reseq.stats import cohens_d
    >>> cohens_d([3.0, 4.0, 5.0], [1.0, 2.0, 3.0])
    2.0
    >>> round(cohens_d([3.0, 4.0, 6.0], [1.0, 2.0, 3.0], paired=True), 3)
    4.041
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.size < 2 or b.size < 2:
        raise ValueError(f"a and b need at least 2 values each, got {a.size} and {b.size}.")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("a and b must be finite.")
    if paired:
        if a.size != b.size:
            raise ValueError(f"paired=True needs equal lengths, got {a.size} and {b.size}.")
        diff = a - b
        return float(diff.mean() / diff.std(ddof=1))
    pooled = ((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / (a.size + b.size - 2)
    return float((a.mean() - b.mean()) / np.sqrt(pooled))


def effect_sizes(scores, reference, *, dv="msbe", within="model", subject="run", paired=False):
    """Cohen's d of every model over a reference model (the paper's "d over baseline").

    ``d = cohens_d(reference, model)``, positive when the model's loss is lower.

    Parameters
    ----------
    scores : pandas.DataFrame
        Tidy scores, one row per (model, run).
    reference : str
        The reference model, e.g. ``"baseline"``.
    dv, within, subject : str, default=("msbe", "model", "run")
        Columns of the score, the factor and the subject.
    paired : bool, default=False
        Passed to :func:`cohens_d`.

    Returns
    -------
    d : pandas.Series
        Indexed by the other models.

    Examples
    --------
    >>> import pandas as pd
    >>> from sk_reseq.stats import effect_sizes
    >>> scores = pd.DataFrame({"model": ["base"] * 3 + ["net"] * 3, "run": [0, 1, 2] * 2,
    ...                        "msbe": [3.0, 4.0, 5.0, 1.0, 2.0, 3.0]})
    >>> effect_sizes(scores, "base").to_dict()
    {'net': 2.0}
    """
    table = _per_run(scores, dv, within, subject)
    if reference not in table.columns:
        raise ValueError(f"reference {reference!r} is not a model; "
                         f"models are {list(table.columns)}.")
    others = [m for m in table.columns if m != reference]
    d = [cohens_d(table[reference], table[m], paired=paired) for m in others]
    return pd.Series(d, index=pd.Index(others, name=within), name="cohens_d")


def msbe_table(scores, *, dv="msbe", within="model", subject="run", confidence=0.95):
    """The paper's Table 4: mean, standard deviation and CI of the mean per model.

    Scores are first averaged per (model, run); the confidence interval of
    the mean is Student's t over runs (``scipy.stats.t.interval`` with
    ``n - 1`` degrees of freedom and the standard error of the mean).

    Parameters
    ----------
    scores : pandas.DataFrame
        Tidy scores, one row per (model, run).
    dv, within, subject : str, default=("msbe", "model", "run")
        Columns of the score, the factor and the subject.
    confidence : float, default=0.95
        Confidence level of the interval.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by model (in order of appearance), columns ``mean``,
        ``std`` (``ddof=1``), ``ci_low``, ``ci_high``, ``n_runs``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sk_reseq.stats import msbe_table
    >>> scores = pd.DataFrame({"model": ["a"] * 3 + ["b"] * 3, "run": [0, 1, 2] * 2,
    ...                        "msbe": [0.30, 0.25, 0.28, 0.20, 0.18, 0.21]})
    >>> msbe_table(scores).round(3)  # doctest: +NORMALIZE_WHITESPACE
            mean    std  ci_low  ci_high  n_runs
    model
    a      0.277  0.025   0.214    0.339       3
    b      0.197  0.015   0.159    0.235       3
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}.")
    table = _per_run(scores, dv, within, subject)
    rows = {}
    for model in table.columns:
        x = table[model].to_numpy()
        mean, n = x.mean(), x.size
        std = x.std(ddof=1) if n > 1 else np.nan
        if n > 1 and std > 0:
            low, high = sp_stats.t.interval(confidence, n - 1, loc=mean, scale=std / np.sqrt(n))
        else:
            low = high = mean if n > 1 else np.nan
        rows[model] = {"mean": mean, "std": std, "ci_low": low, "ci_high": high, "n_runs": n}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = within
    return out


def to_markdown(table, *, digits=3, index=True):
    """Render a DataFrame as a GitHub Markdown table (no ``tabulate`` needed).

    Parameters
    ----------
    table : pandas.DataFrame
        For example :func:`msbe_table`'s output.
    digits : int, default=3
        Decimals of float cells.
    index : bool, default=True
        Include the index as the first column.

    Returns
    -------
    text : str

    Examples
    --------
    >>> import pandas as pd
    >>> from sk_reseq.stats import to_markdown
    >>> table = pd.DataFrame({"mean": [0.2371]}, index=pd.Index(["baseline"], name="model"))
    >>> print(to_markdown(table))
    | model | mean |
    |---|---:|
    | baseline | 0.237 |
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}.")
    frame = table.reset_index() if index else table

    def cell(value):
        if isinstance(value, (float, np.floating)):
            return "" if np.isnan(value) else f"{value:.{digits}f}"
        return str(value).replace("|", r"\|")

    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
               for c in frame.columns]
    lines = ["| " + " | ".join(cell(c) for c in frame.columns) + " |",
             "|" + "|".join("---:" if num else "---" for num in numeric) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines)
