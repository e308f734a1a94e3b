"""``sk-reseq evaluate MUSIC``: judge an auto-adaptive model on clean music."""

from pathlib import Path

from . import COMMANDS
from ._common import check_figure_path, check_output_path, progress_bar, save_figure, use_agg


def register(subparsers):
    p = subparsers.add_parser(
        "evaluate",
        help=COMMANDS["evaluate"],
        description="For each file, inject 0, 1, 2 and 4 peaking resonances (seeded), find the "
                    "factor that restores the clean music (the oracle), run the auto equalizer "
                    "and report how its factors follow the oracle. Use music the model never saw.",
    )
    p.add_argument("music", nargs="+", metavar="MUSIC",
                   help="a folder of clean audio files, or files")
    p.add_argument("--model", metavar="MODEL", help="model file from sk-reseq train "
                   "(default: the model shipped with sk_reseq)")
    p.add_argument("--trust", nargs="*", default=(), metavar="TYPE",
                   help="extra types to trust when loading --model")
    p.add_argument("--resonances", type=int, nargs="+", default=[0, 1, 2, 4], metavar="N",
                   help="resonances injected per variant (default: 0 1 2 4)")
    p.add_argument("--duration", type=float, default=20.0,
                   help="seconds of each file used; shorter files whole (default 20)")
    p.add_argument("--min-duration", type=float, default=10.0,
                   help="files shorter than this are an error (default 10)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--jobs", type=int, default=1, help="files evaluated in parallel (default 1)")
    p.add_argument("--json", metavar="OUT.json", help="write the summary and every variant")
    p.add_argument("--plot", metavar="OUT.png", help="predicted vs oracle, by resonances")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args):
    from ..evaluation import EVALUATION_SUMMARY, evaluate_auto_equalizer
    from ..persistence import load_model

    if args.json:
        check_output_path(args.json)
    if args.plot:
        check_figure_path(args.plot)
    music = args.music[0] if len(args.music) == 1 and Path(args.music[0]).is_dir() else args.music
    for item in args.music:
        if not Path(item).exists():
            raise FileNotFoundError(f"no such file or folder: {item}")
    model = load_model(args.model, trusted=args.trust) if args.model else None
    n_files = len(args.music) if isinstance(music, list) else None
    bar = progress_bar(n_files, "evaluating", args.quiet, unit="file")
    try:
        result = evaluate_auto_equalizer(music, model, n_resonances=args.resonances,
                                         duration=args.duration,
                                         min_duration=args.min_duration, random_state=args.seed,
                                         n_jobs=args.jobs,
                                         progress=None if bar is None else bar.update)
    finally:
        if bar is not None:
            bar.close()
    summary = result.summary
    if args.json:
        from .._atomic import atomic_write_json

        # JSON has no NaN (a within-track correlation is undefined when nothing varies).
        clean = {k: None if v != v else v for k, v in summary.items()}
        atomic_write_json(args.json, {"summary": clean,
                                      "variants": result.variants.to_dict(orient="records")})
    if args.plot:
        use_agg()
        from ..plotting import plot_evaluation

        save_figure(plot_evaluation(result.variants, title=f"{summary['n_tracks']} tracks"),
                    args.plot)
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {text:>7}  {EVALUATION_SUMMARY[key]}")
    return 0
