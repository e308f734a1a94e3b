"""The experiment's outputs: Tables 3 and 4, Fig. 6, scores.json."""

from sklearn.utils import Bunch

from .._atomic import atomic_open
from .._optional import import_optional
from ._config import MODEL_LABELS
from ._state import _write_json

pd = import_optional("pandas", "sk_reseq.experiment")


def _write_outputs(out, config, scores, hyper):
    """Statistics, Tables 3 and 4, Fig. 6 and the JSON of scores."""
    from ..stats import effect_sizes, msbe_table, repeated_measures_anova, to_markdown, tukey_hsd

    table = msbe_table(scores)
    labels = list(table.index)
    anova = repeated_measures_anova(scores) if len(labels) > 1 else None
    tukey = tukey_hsd(scores) if len(labels) > 1 else None
    d = (effect_sizes(scores, "Baseline") if "Baseline" in labels and len(labels) > 1
         else pd.Series(dtype=float))
    files = {name: out / fname for name, fname in [
        ("table3_md", "table3.md"), ("hyperparameters", "hyperparameters.json"),
        ("table4_md", "table4.md"), ("table4_csv", "table4.csv"), ("fig6", "fig6.png"),
        ("scores", "scores.json")]}

    _write_json(files["hyperparameters"], hyper)
    with atomic_open(files["table3_md"]) as fh:
        fh.write(_table3(hyper, to_markdown) + "\n")
    with atomic_open(files["table4_csv"]) as fh:
        table.to_csv(fh)
    pretty = table.rename(columns={"mean": "Mean", "std": "Std. dev.", "ci_low": "95% CI low",
                                   "ci_high": "95% CI high", "n_runs": "Runs"})
    pretty.index.name = "Model"
    text = [f"MSBE^(35,65) per model, config {config.name!r}.", "", to_markdown(pretty)]
    if anova is not None:
        text += ["", f"Repeated-measures ANOVA: {anova}.", "", "Tukey HSD:", "",
                 to_markdown(tukey, index=False)]
    if len(d):
        text += ["", "Cohen's d over the baseline: "
                 + ", ".join(f"{m} {v:.2f}" for m, v in d.items()) + "."]
    with atomic_open(files["table4_md"]) as fh:
        fh.write("\n".join(text) + "\n")
    _save_figure(scores, files["fig6"])
    _write_json(files["scores"], {
        "config": config.to_dict(),
        "scores": scores.to_dict(orient="records"),
        "anova": None if anova is None else {"F": anova.F, "df_num": anova.df_num,
                                             "df_den": anova.df_den, "p": anova.p},
        "tukey": None if tukey is None else tukey.to_dict(orient="records"),
        "cohens_d_over_baseline": d.to_dict(),
    })
    return Bunch(scores=scores, table=table, anova=anova, tukey=tukey, effect_sizes=d,
                 hyperparameters=hyper, files=files)


def _table3(hyper, to_markdown):
    """The chosen hyper-parameters, one column per network (the paper's Table 3)."""
    if not hyper:
        return "No network was tuned."
    order = ["n_blocks", "block_size_low", "block_size_mid", "block_size_high", "pool_size",
             "final_size", "lr", "early_stopping_threshold", "lr_reduce_threshold"]
    columns = {}
    for name, res in hyper.items():
        params = {k.split("__", 1)[-1]: v for k, v in res["best_params"].items()}
        params["HPO MSBE"] = res["best_msbe"]
        columns[MODEL_LABELS[name]] = {k: v if isinstance(v, (int, str)) else f"{v:.3g}"
                                       for k, v in params.items()}
    names = list(dict.fromkeys(n for col in columns.values() for n in col))
    names.sort(key=lambda n: order.index(n) if n in order else len(order))
    table = pd.DataFrame(columns, index=names).fillna("-")
    table.index.name = "Hyper-parameter"
    return to_markdown(table)


def _save_figure(scores, path):
    # A bare Figure (no pyplot): no global backend change, nothing left open.
    from matplotlib.figure import Figure

    from ..plotting import plot_msbe_boxplot

    n_models = scores["model"].nunique()
    fig = Figure(figsize=(1.6 + 1.4 * n_models, 4.0))
    plot_msbe_boxplot(scores, ax=fig.add_subplot())
    fig.tight_layout()
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=120)
