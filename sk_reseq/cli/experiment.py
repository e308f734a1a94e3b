"""``sk-reseq experiment``: the paper's model comparison (section 4.3) in one command."""

from . import COMMANDS


def _run(args):
    from ..experiment import CONFIGS, run_experiment

    if args.config not in CONFIGS:
        raise ValueError(f"unknown config {args.config!r}; choose one of {sorted(CONFIGS)}.")
    result = run_experiment(args.config, args.data, args.out, resume=not args.restart,
                            n_jobs=args.n_jobs, progress=not args.quiet)
    print(result.files["table4_md"].read_text(encoding="utf-8"), end="")
    print(f"\nWrote {', '.join(sorted(p.name for p in result.files.values()))} to {args.out}")
    return 0


def register(subparsers):
    """Add the ``experiment`` command."""
    p = subparsers.add_parser(
        "experiment", help=COMMANDS["experiment"],
        description="Bayesian hyper-parameter search of the FFN and the DRN, then baseline, FFN "
                    "and DRN on a repeated grouped 5-fold cross-validation, the repeated-measures "
                    "ANOVA, Tukey HSD and Cohen's d. Writes table3.md, hyperparameters.json, "
                    "table4.md, table4.csv, fig6.png and scores.json to OUT. Resumable: a rerun "
                    "continues from the steps already done (kept in OUT/state).")
    p.add_argument("--config", default="quick",
                   help="quick (minutes on 2 CPU cores), real (a real-music panel of sk-reseq "
                        "panel make --source ../shared/corpus ../shared/music --n-tracks 216 "
                        "--variants 4 --duration 4; under 30 minutes), paper (the paper's sizes; "
                        "hours) or tiny (smoke test); default: quick")
    p.add_argument("--data", default="simulated",
                   help="'simulated' (a synthetic listening test of the config's size; the "
                        "default) or a folder of audio files with ratings.csv (columns track, "
                        "rater, rating)")
    p.add_argument("--out", required=True, metavar="OUT", help="output folder")
    p.add_argument("--restart", action="store_true",
                   help="discard the finished steps in OUT/state and start afresh")
    p.add_argument("-j", "--n-jobs", type=int, default=None, help="parallel fits (default: 1)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)
