"""The experiment runner end to end on the 'tiny' config: outputs, resumability, bad input."""

import dataclasses
import json
import shutil

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("essentia")

from sk_reseq import experiment  # noqa: E402
from sk_reseq.cli import main  # noqa: E402
from sk_reseq.experiment import CONFIGS, run_experiment  # noqa: E402
from sk_reseq.training import make_model  # noqa: E402

OUTPUTS = ["table3.md", "hyperparameters.json", "table4.md", "table4.csv", "fig6.png",
           "scores.json"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One uninterrupted run through the CLI."""
    out = tmp_path_factory.mktemp("tiny") / "out"
    assert main(["experiment", "--config", "tiny", "--data", "simulated", "--out", str(out),
                 "--quiet"]) == 0
    return out


def test_tiny_experiment_writes_every_output(tiny_run):
    for name in OUTPUTS:
        assert (tiny_run / name).stat().st_size > 0, name
    assert (tiny_run / "fig6.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    config = CONFIGS["tiny"]
    n_runs = config.cv_n_splits * config.cv_n_repeats
    table = pd.read_csv(tiny_run / "table4.csv", index_col=0)
    assert list(table.index) == ["Baseline", "FFN", "DRN"]
    assert (table.n_runs == n_runs).all()
    assert (table.ci_low <= table["mean"]).all() and (table["mean"] <= table.ci_high).all()

    report = json.loads((tiny_run / "scores.json").read_text())
    scores = pd.DataFrame(report["scores"])
    assert len(scores) == 3 * n_runs
    assert scores.groupby("model").msbe.mean().to_dict() == pytest.approx(table["mean"].to_dict())
    assert report["anova"]["df_num"] == 2 and report["anova"]["df_den"] == 2 * (n_runs - 1)
    assert set(report["cohens_d_over_baseline"]) == {"FFN", "DRN"}

    hyper = json.loads((tiny_run / "hyperparameters.json").read_text())
    for net, prefix in (("ffn", "ffnregressor__"), ("drn", "drnregressor__")):
        assert len(hyper[net]["trials"]) == config.hpo_n_iter
        lo, hi = getattr(config, f"{net}_space")["n_blocks"]
        assert lo <= hyper[net]["best_params"][prefix + "n_blocks"] <= hi
        # The one model builder: the tuned parameters fit the models `sk-reseq train` makes.
        model = make_model(net, "essentia" if net == "ffn" else None)
        model.set_params(**hyper[net]["best_params"])
        assert model[-1].n_blocks == hyper[net]["best_params"][prefix + "n_blocks"]
    table3 = (tiny_run / "table3.md").read_text()
    assert table3.startswith("| Hyper-parameter | FFN | DRN |")
    md = (tiny_run / "table4.md").read_text()
    assert "| Model | Mean | Std. dev. | 95% CI low | 95% CI high | Runs |" in md
    assert "Repeated-measures ANOVA: F(2, " in md


def test_interrupted_experiment_resumes_to_the_same_table(tiny_run, tmp_path, monkeypatch):
    out = tmp_path / "out"
    calls = {"n": 0}
    evaluate = experiment._run._evaluate

    def crash_on_third_run(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(experiment._run, "_evaluate", crash_on_third_run)
    with pytest.raises(KeyboardInterrupt):
        run_experiment("tiny", "simulated", out)
    assert sorted(p.name for p in (out / "state" / "runs").iterdir()) == [
        "run000.json", "run001.json"]  # finished runs kept, nothing half-written
    assert not (out / "table4.csv").exists()

    calls["n"] = -100  # no more crashes
    searches = []
    monkeypatch.setattr(experiment._run, "make_bayes_search",
                        lambda *a, **k: searches.append(1) or pytest.fail("search redone"))
    result = run_experiment("tiny", "simulated", out)
    assert calls["n"] == -100 + 2  # only the two missing runs were evaluated
    assert not searches
    pd.testing.assert_frame_equal(pd.read_csv(out / "table4.csv"),
                                  pd.read_csv(tiny_run / "table4.csv"))
    assert result.anova.F == pytest.approx(
        json.loads((tiny_run / "scores.json").read_text())["anova"]["F"])


def test_other_config_in_same_folder_is_refused_and_state_kept(tiny_run, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(tiny_run, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    other = dataclasses.replace(CONFIGS["tiny"], cv_n_repeats=3)
    with pytest.raises(ValueError, match="different experiment"):
        run_experiment(other, "simulated", out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def _write_folder(folder, names, ratings_rows):
    from sk_reseq.audio import save_audio

    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in names:
        save_audio(folder / f"{name}.wav", (0.1 * rng.standard_normal((2, 22050))).astype(
            np.float32), 22050)
    if ratings_rows is not None:
        lines = ["track,rater,rating"] + [f"{t},{r},{v}" for t, r, v in ratings_rows]
        (folder / "ratings.csv").write_text("\n".join(lines) + "\n")


def test_bad_input_gives_clear_errors_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="Unknown config 'huge'"):
        run_experiment("huge", "simulated", out)
    assert main(["experiment", "--config", "huge", "--out", str(out)]) == 2
    assert "unknown config 'huge'" in capsys.readouterr().err

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="No audio files"):
        run_experiment("tiny", empty, out)

    no_ratings = tmp_path / "no_ratings"
    _write_folder(no_ratings, ["a", "b"], None)
    with pytest.raises(ValueError, match="No ratings"):
        run_experiment("tiny", no_ratings, out)

    missing = tmp_path / "missing"
    _write_folder(missing, ["a", "b"], [("a", "s1", 0.5), ("b", "s1", 0.25), ("c", "s1", 0.5)])
    with pytest.raises(ValueError, match="unknown track"):
        run_experiment("tiny", missing, out)

    few = tmp_path / "few"
    _write_folder(few, ["a", "b"], [("a", "s1", 0.5), ("b", "s1", 0.25)])
    with pytest.raises(ValueError, match="needs at least"):
        run_experiment("tiny", few, out)

    with pytest.raises(TypeError, match="data must be"):
        run_experiment("tiny", 42, out)
    # A bad model setting is refused before the panel is simulated (an absent folder as data
    # would fail later, when it is read).
    for change, message in (({"drn_architecture": "gpu"}, "architecture must be 'cpu' or"),
                            ({"models": ("baseline", "svm")}, r"Unknown model\(s\) \['svm'\]")):
        bad = dataclasses.replace(CONFIGS["tiny"], **change)
        with pytest.raises(ValueError, match=message):
            run_experiment(bad, tmp_path / "absent", out)
    assert not out.exists()


def test_experiment_reads_a_panel_make_folder(tmp_path):
    # The one loader: a folder written by `sk-reseq panel make` (audio/ and ratings.csv).
    panel = tmp_path / "panel"
    assert main(["panel", "make", str(panel), "--n-tracks", "12", "--n-raters", "5",
                 "--duration", "1.0", "-q"]) == 0
    assert (panel / "audio").is_dir()
    out = tmp_path / "out"
    assert main(["experiment", "--config", "tiny", "--data", str(panel), "--out", str(out),
                 "--quiet"]) == 0
    table = pd.read_csv(out / "table4.csv", index_col=0)
    assert len(table) == 3 and table.notna().all().all()
