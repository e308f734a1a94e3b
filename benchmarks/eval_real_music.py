"""How the auto-adaptive equalizer's model does on real tracks it never saw (leave tracks out).

The 108 real tracks of ../shared/corpus and ../shared/music are split into
5 folds by source file (a seeded permutation; the corpus's excerpts come
from distinct source files, so no music is on both sides). For each fold,
a model is trained with the settings of the default model
(``sk_reseq.training.PRESETS["default"]``) on a panel simulated on the
other folds' tracks, and :func:`sk_reseq.evaluation.evaluate_auto_equalizer`
judges it on the fold's tracks (20 s each, 0, 1, 2 and 4 injected
resonances, 150 Hz-6 kHz, Q 3-10, 6-15 dB). The variants of all folds are
pooled for the summary.

Prints one JSON line: ``pooled`` (the summary over the 108 held-out tracks,
see ``sk_reseq.evaluation.EVALUATION_SUMMARY``) and ``folds`` (each fold's
summary). Writes the variants to ``eval_real_music.csv`` and the figure to
``eval_real_music.png`` in ``--out`` (default: the current folder).

``--model drn`` trains the filterbank DRN (``CPU_DRN_PARAMS``, through
``train_model(model="drn")``) on the same panels and targets instead, on
windows of ``--window`` seconds (default 2).

Run from the project root: ``python benchmarks/eval_real_music.py`` (about
half an hour on 2 cores; ``--folds 2`` runs the first two folds only).
"""

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from sk_reseq.datasets import list_audio_files
from sk_reseq.equalizer import AutoEqualizer
from sk_reseq.evaluation import _summary, evaluate_auto_equalizer
from sk_reseq.training import DEFAULT_SOURCE, PRESETS, train_model

N_FOLDS = 5


def fold_files(seed=0):
    files = sorted(f for folder in DEFAULT_SOURCE for f in list_audio_files(folder))
    order = np.random.default_rng(seed).permutation(len(files))
    return [[files[i] for i in order[k::N_FOLDS]] for k in range(N_FOLDS)]


def run_fold(k, folds, settings, smoothing=None):
    test = folds[k]
    train = [f for j, fold in enumerate(folds) if j != k for f in fold]
    start = time.perf_counter()
    params = dict(settings, source=train, n_tracks=2 * len(train))
    model = train_model("simulated", random_state=k, **params)
    trained = time.perf_counter() - start
    auto = None if smoothing is None else AutoEqualizer(smoothing=smoothing)
    result = evaluate_auto_equalizer(test, model, auto=auto, random_state=100 + k)
    result.variants["fold"] = k
    return result, trained, time.perf_counter() - start - trained


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=N_FOLDS, help="folds to run (default all)")
    parser.add_argument("--jobs", type=int, default=2, help="folds run in parallel")
    parser.add_argument("--out", default=".", help="folder for the CSV and the figure")
    parser.add_argument("--model", choices=("default", "drn"), default="default",
                        help="the default model's settings, or the filterbank DRN")
    parser.add_argument("--smoothing", type=float, default=None,
                        help="the auto equalizer's smoothing in seconds (default: its own, 3)")
    parser.add_argument("--window", type=float, default=2.0,
                        help="seconds per window of the DRN (default 2)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    folds = fold_files()
    settings = dict(PRESETS["default"])
    settings.pop("source")
    settings.pop("n_tracks")
    if args.model == "drn":  # the same panels and target, the DRN on the raw PCM
        settings.update(model="drn", window=args.window)
    results = Parallel(n_jobs=args.jobs)(
        delayed(run_fold)(k, folds, settings, args.smoothing) for k in range(args.folds))
    variants = pd.concat([r.variants for r, _, _ in results], ignore_index=True)
    out = Path(args.out)
    variants.to_csv(out / "eval_real_music.csv", index=False)
    import matplotlib

    matplotlib.use("Agg")
    from sk_reseq.plotting import plot_evaluation

    plot_evaluation(variants, title=f"{variants.track.nunique()} real tracks never seen in "
                                    "training (5-fold, by source file)").savefig(
        out / "eval_real_music.png", dpi=110)
    print(json.dumps({
        "model": args.model, **({"window": args.window} if args.model == "drn" else {}),
        "smoothing": args.smoothing,
        "pooled": {k: round(v, 4) if isinstance(v, float) else v
                   for k, v in _summary(variants).items()},
        "folds": [{"fold": k, "train_s": round(t, 1), "evaluate_s": round(e, 1),
                   **{n: round(v, 4) if isinstance(v, float) else v
                      for n, v in r.summary.items()}}
                  for k, (r, t, e) in enumerate(results)],
    }))


if __name__ == "__main__":
    main()
