"""``sk-reseq eq IN OUT --factor F``: equalize a file at a fixed factor."""

from pathlib import Path

from ..audio import audio_info, load_audio, save_audio
from ..equalizer import ResonanceEqualizer
from . import COMMANDS
from ._common import check_audio_output_path, check_figure_path, progress_bar, save_figure, use_agg


def register(subparsers):
    p = subparsers.add_parser(
        "eq",
        help=COMMANDS["eq"],
        description="Equalize IN into OUT: same sample rate, and IN's sample format where OUT's "
                    "format holds it (else the nearest: 16-bit PCM from MP3 or OGG, 24-bit "
                    "FLAC from float).",
    )
    p.add_argument("input", metavar="IN", help="input audio file (WAV, FLAC, OGG, MP3, ...)")
    p.add_argument("output", metavar="OUT",
                   help="output audio file; its extension sets the format")
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
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=run)


def run(args):
    # Every check before the work: the input, the output (format, subtype,
    # channels, rate, folder, not the input), the figure and the parameters.
    info = audio_info(args.input)
    subtype = check_audio_output_path(args.output, info, others={"IN": args.input})
    if args.plot:
        check_figure_path(args.plot, others={"IN": args.input, "OUT": args.output})
    eq = ResonanceEqualizer(
        factor=args.factor, sr=info.samplerate, mix=args.mix, smoothing=args.smoothing,
        threshold=args.threshold, link_channels=not args.unlinked,
        output="delta" if args.delta else "equalized",
    ).fit()
    audio, sr = load_audio(args.input)
    n_channels, n_samples = audio.shape
    bar = progress_bar(n_samples, Path(args.input).name, args.quiet, n_samples / sr)
    try:
        # In place: the file's audio is ours, and one copy of a long file is enough.
        y, analysis = eq.equalize(audio, return_analysis="mean", out=audio,
                                  progress=bar.update if bar else None)
    finally:
        if bar is not None:
            bar.close()
    save_audio(args.output, y, sr, subtype=subtype)
    if args.plot:
        # One more pass, for the output's spectrum (y itself is left as it is).
        _, after = eq.equalize(y, factor=0.0, return_analysis="mean")
        save_plot(analysis, args.plot, f"{Path(args.input).name}: factor {args.factor:g}",
                  after=after)
    if not args.quiet:
        gain = analysis.mean_gain_db
        print(f"{args.input} -> {args.output}: {n_channels} ch, {n_samples / sr:.1f} s "
              f"at {sr} Hz, factor {args.factor:g}; mean gain {gain.mean():.2f} dB, "
              f"strongest {gain.min():.2f} dB")
    return 0


def save_plot(analysis, path, title, after=None):
    """Draw :func:`~sk_reseq.plotting.plot_equalizer_report` into ``path`` atomically."""
    use_agg()
    from ..plotting import plot_equalizer_report

    save_figure(plot_equalizer_report(analysis, after, title=title), path)
