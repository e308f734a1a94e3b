"""``sk-reseq eq IN OUT --factor F``: equalize a file at a fixed factor (or many: ``-o``)."""

from pathlib import Path

from ..audio import audio_info
from ..equalizer import ResonanceEqualizer
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
        "eq",
        help=COMMANDS["eq"],
        description="Equalize IN into OUT: same sample rate, and IN's sample format where OUT's "
                    "format holds it (else the nearest: 16-bit PCM from MP3 or OGG, 24-bit "
                    "FLAC from float). With -o OUT_DIR, equalize files and folders (WAV, "
                    "FLAC, OGG, MP3, ...) into OUT_DIR, in parallel with --jobs or on a dask "
                    "cluster with --scheduler. Files are processed in blocks: memory does not "
                    "grow with their length.",
    )
    add_paths_and_batch_arguments(p)
    p.add_argument("--factor", type=float, default=0.5,
                   help="attenuation factor in [0, 1] (default 0.5)")
    p.add_argument("--mix", type=float, default=1.0,
                   help="dry/wet proportion in [0, 1] (default 1)")
    p.add_argument("--smoothing", type=float, default=1.0,
                   help="smoothing width in octaves (default 1)")
    p.add_argument("--threshold", type=float, default=1.0,
                   help="excess in dB ignored by the detector (default 1; the paper: 0)")
    p.add_argument("--unlinked", action="store_true", help="one gain curve per channel")
    p.add_argument("--delta", action="store_true", help="write what is removed instead")
    p.add_argument("--plot", metavar="FILE.png",
                   help="draw the spectra of IN and OUT, what changed and the gain over time")
    add_loudness_arguments(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=run)


def run(args):
    eq = ResonanceEqualizer(
        factor=args.factor, mix=args.mix, smoothing=args.smoothing,
        threshold=args.threshold, link_channels=not args.unlinked,
        output="delta" if args.delta else "equalized",
    )
    single = single_paths(args, "--plot" if args.plot else None)
    check_loudness_arguments(args, batch=single is None)
    if single is None:
        return run_batch(args, eq)
    args.input, args.output = single
    # Every check before the work: the input, the output (format, subtype,
    # channels, rate, folder, not the input), the figure and the parameters.
    info = audio_info(args.input)
    check_audio_output_path(args.output, info, others={"IN": args.input})
    if args.plot:
        check_figure_path(args.plot, others={"IN": args.input, "OUT": args.output})
    eq.set_params(sr=info.samplerate).fit()
    seconds = info.frames / info.samplerate
    bar = progress_bar(seconds, Path(args.input).name, args.quiet, seconds, unit="s")
    try:
        # In blocks, the output's spectrum measured as it is written (for the plot).
        r, levels = equalize_with_levels(args.input, args.output, eq, args,
                                         analyze_output=bool(args.plot),
                                         progress=None if bar is None else bar.update)
    finally:
        if bar is not None:
            bar.close()
    analysis = r.analysis
    if args.plot:
        save_plot(analysis, args.plot, f"{Path(args.input).name}: factor {args.factor:g}",
                  after=r.output_analysis)
    if not args.quiet:
        print(f"{args.input} -> {args.output}: {r.channels} ch, {r.duration:.1f} s "
              f"at {r.rate} Hz, factor {args.factor:g}; {levels}")
    return 0


def save_plot(analysis, path, title, after=None):
    """Draw :func:`~sk_reseq.plotting.plot_equalizer_report` into ``path`` atomically."""
    use_agg()
    from ..plotting import plot_equalizer_report

    save_figure(plot_equalizer_report(analysis, after, title=title), path)
