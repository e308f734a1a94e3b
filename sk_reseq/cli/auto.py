"""``sk-reseq auto IN OUT``: the auto-adaptive equalizer on a file."""

from pathlib import Path

from ..audio import audio_info, load_audio, save_audio
from . import COMMANDS
from ._common import check_audio_output_path, check_figure_path, progress_bar, save_figure, use_agg


def register(subparsers):
    p = subparsers.add_parser(
        "auto",
        help=COMMANDS["auto"],
        description="Auto-adaptive resonance equalization: every --hop seconds a model predicts "
                    "the factor from the preceding 0.5 s, smoothed over --smoothing seconds.",
    )
    p.add_argument("input", metavar="IN", help="input audio file")
    p.add_argument("output", metavar="OUT", help="output audio file")
    p.add_argument("--model", metavar="MODEL", help="model file from sk-reseq train "
                   "(default: the model shipped with sk_reseq)")
    p.add_argument("--trust", nargs="*", default=(), metavar="TYPE",
                   help="extra types to trust when loading --model (see the error message)")
    p.add_argument("--hop", type=float, default=0.5, help="seconds between predictions")
    p.add_argument("--smoothing", type=float, default=3.0,
                   help="time constant in seconds of the factor smoothing (0 = none)")
    p.add_argument("--report", metavar="REPORT.png",
                   help="plot the factor and the gain over time, the spectra of IN and OUT "
                        "and what changed")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=run)


def run(args):
    from ..equalizer import AutoEqualizer
    from ..persistence import load_model

    # Every check before the work (see sk-reseq eq), the model's included.
    info = audio_info(args.input)
    subtype = check_audio_output_path(args.output, info, others={"IN": args.input})
    if args.report:
        check_figure_path(args.report, others={"IN": args.input, "OUT": args.output})
    model = load_model(args.model, trusted=args.trust) if args.model else None
    auto = AutoEqualizer(model, sr=info.samplerate, hop=args.hop, smoothing=args.smoothing).fit()
    audio, sr = load_audio(args.input)
    seconds = audio.shape[1] / sr
    bar = progress_bar(2 * audio.shape[1], Path(args.input).name, args.quiet, seconds)
    try:
        out = auto.equalize(audio, progress=bar.update if bar else None,
                            return_analysis="mean" if args.report else False)
        # For the report, the run's analysis: the input's levels and the gains applied.
        y, before = out if args.report else (out, None)
    finally:
        if bar is not None:
            bar.close()
    save_audio(args.output, y, sr, subtype=subtype)
    curve = auto.factors_
    if args.report:
        use_agg()
        from ..plotting import plot_auto_report

        _, after = auto.equalizer_.equalize(y, factor=0.0, return_analysis="mean")
        save_figure(plot_auto_report(curve, before, after, title=Path(args.input).name),
                    args.report)
    if not args.quiet:
        print(f"{args.input} -> {args.output}: {seconds:.1f} s at {sr} Hz; factor "
              f"mean {curve.factors.mean():.2f}, range {curve.factors.min():.2f}-"
              f"{curve.factors.max():.2f}")
    return 0
