"""``sk-reseq auto IN OUT``: the auto-adaptive equalizer on a file (or many: ``-o``)."""

from pathlib import Path

from ..audio import audio_info
from . import COMMANDS
from ._batch import add_paths_and_batch_arguments, run_batch, single_paths
from ._common import (
    add_loudness_arguments,
    check_audio_output_path,
    check_figure_path,
    check_loudness_arguments,
    equalize_with_levels,
    progress_bar,
    save_figure,
    use_agg,
)


def register(subparsers):
    p = subparsers.add_parser(
        "auto",
        help=COMMANDS["auto"],
        description="Auto-adaptive resonance equalization: every --hop seconds a model predicts "
                    "the factor from the preceding 0.5 s, smoothed over --smoothing seconds. "
                    "With -o OUT_DIR, equalize files and folders into OUT_DIR (the model "
                    "loaded once, in parallel with --jobs or on a dask cluster with "
                    "--scheduler). Files are processed in blocks: memory does not grow with "
                    "their length.",
    )
    add_paths_and_batch_arguments(p)
    p.add_argument("--model", metavar="MODEL", help="model file from sk-reseq train "
                   "(default: the model shipped with sk_reseq)")
    p.add_argument("--trust", nargs="*", default=(), metavar="TYPE",
                   help="extra types to trust when loading --model (see the error message)")
    p.add_argument("--hop", type=float, default=None,
                   help="seconds between predictions (default: a fifth of the model's window, "
                        "at least 0.5; 1 s for the default model)")
    p.add_argument("--smoothing", type=float, default=3.0,
                   help="time constant in seconds of the factor smoothing (default 3; 0 = none)")
    p.add_argument("--report", metavar="REPORT.png",
                   help="plot the factor and the gain over time, the spectra of IN and OUT "
                        "and what changed")
    add_loudness_arguments(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=run)


def run(args):
    from ..equalizer import AutoEqualizer
    from ..persistence import load_model

    single = single_paths(args, "--report" if args.report else None)
    check_loudness_arguments(args, batch=single is None)
    if single is None:
        model = load_model(args.model, trusted=args.trust) if args.model else None
        return run_batch(args, AutoEqualizer(model, hop=args.hop, smoothing=args.smoothing))
    args.input, args.output = single
    # Every check before the work (see sk-reseq eq), the model's included.
    info = audio_info(args.input)
    check_audio_output_path(args.output, info, others={"IN": args.input})
    if args.report:
        check_figure_path(args.report, others={"IN": args.input, "OUT": args.output})
    model = load_model(args.model, trusted=args.trust) if args.model else None
    auto = AutoEqualizer(model, sr=info.samplerate, hop=args.hop, smoothing=args.smoothing).fit()
    sr, seconds = info.samplerate, info.frames / info.samplerate
    bar = progress_bar(seconds, Path(args.input).name, args.quiet, seconds, unit="s")
    try:
        # In blocks; the run's analysis (the input's levels, the gains applied) and,
        # for the report, the output's spectrum measured as it is written.
        r, levels = equalize_with_levels(args.input, args.output, auto, args,
                                         analyze_output=bool(args.report),
                                         progress=None if bar is None else bar.update)
    finally:
        if bar is not None:
            bar.close()
    curve, before, after = r.factors, r.analysis, r.output_analysis
    if args.report:
        use_agg()
        from ..plotting import plot_auto_report

        save_figure(plot_auto_report(curve, before, after, title=Path(args.input).name),
                    args.report)
    if not args.quiet:
        print(f"{args.input} -> {args.output}: {seconds:.1f} s at {sr} Hz; factor "
              f"mean {curve.factors.mean():.2f}, range {curve.factors.min():.2f}-"
              f"{curve.factors.max():.2f}; {levels}")
    return 0
