"""``sk-reseq panel make|summary``: a simulated listening test and its statistics."""

import logging
import os
import shutil
import tempfile
from pathlib import Path

from .._atomic import atomic_path
from . import COMMANDS

logger = logging.getLogger(__name__)

_FIGURES = ("rating_percentiles.png", "rater_correlations.png")


def register(subparsers):
    parser = subparsers.add_parser(
        "panel",
        help=COMMANDS["panel"],
        description="Simulated listening panels (synthetic data) and rating statistics.",
    )
    sub = parser.add_subparsers(dest="panel_command", metavar="ACTION")
    sub.required = True

    p = sub.add_parser(
        "make",
        help="write a simulated listening test: audio, ratings.csv and README.md",
        description=(
            "Generate a synthetic listening test like the paper's: excerpts with injected "
            "resonances, their oracle factors and simulated raters. OUTDIR must not exist "
            "or be empty; it is filled atomically (built aside, then renamed)."
        ),
    )
    p.add_argument("outdir", metavar="OUTDIR", help="folder to create")
    p.add_argument("--n-tracks", type=int, default=150, help="number of excerpts (default 150)")
    p.add_argument("--n-raters", type=int, default=15, help="number of raters (default 15)")
    p.add_argument("--duration", type=float, default=10.0,
                   help="excerpt length in seconds (default 10)")
    p.add_argument("--sr", type=int, default=22050, help="sample rate in Hz (default 22050)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--source", metavar="DIR", nargs="+",
                   help="take excerpts of the audio files in these folders (or files) instead "
                        "of synthetic music")
    p.add_argument("--variants", type=int, default=1,
                   help="resonance variants of each excerpt (default 1); tracks.csv's group "
                        "column keeps the variants of one recording together in grouped splits")
    p.add_argument("--format", choices=("flac", "wav"), default="flac",
                   help="audio file format (default flac, 24-bit)")
    p.add_argument("--jobs", type=int, default=1, help="parallel jobs (default 1; -1 = all cores)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=run_make)

    p = sub.add_parser(
        "summary",
        help="print per-rater statistics (Table 1) and draw Figs. 2-3",
        description="Per-rater statistics of a ratings CSV (track,rater,rating) and two figures.",
    )
    p.add_argument("ratings", metavar="RATINGS.csv", help="long-format ratings file")
    p.add_argument("--out", metavar="DIR",
                   help=f"folder for {' and '.join(_FIGURES)} (default: the CSV's folder)")
    p.set_defaults(func=run_summary)


# -- make --------------------------------------------------------------------------


def _check_outdir(outdir):
    out = Path(outdir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"OUTDIR exists and is not an empty folder: {out}")
    parent = out.resolve().parent
    if not parent.is_dir():
        raise FileNotFoundError(f"parent folder of OUTDIR does not exist: {parent}")
    return out


def _markdown_table(frame, floatfmt="{:.3g}"):
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        cells = [floatfmt.format(v) if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _readme(data, args, audio_ext):
    import pandas as pd

    from ..stats import rater_summary

    per_track = []
    for name, oracle, strength in zip(data.track_names, data.oracle, data.strength):
        rows = data.resonances[data.resonances["track"] == name]
        injected = "; ".join(
            f"{c:.0f} Hz, Q {q:.1f}, +{g:.1f} dB"
            for c, q, g in rows[["center_hz", "q", "gain_db"]].to_numpy()
        )
        per_track.append({"track": f"`{name}{audio_ext}`",
                          "injected resonances": injected or "none",
                          "sum of gains (dB)": float(strength), "oracle factor": float(oracle)})
    summary = rater_summary(data.frame).reset_index()
    profiles = data.rater_profiles.reset_index()
    source = ("the built-in synthetic music" if args.source is None
              else "excerpts of " + ", ".join(f"`{s}`" for s in args.source))
    return f"""# Simulated listening panel (synthetic)

**These ratings are synthetic**: simulated raters, not people. The panel imitates
the shape and statistics of the listening test of Grachten, Deruty and Tanguy
(2018) so that models can be trained and compared end to end. Made with
`sk-reseq panel make` (sk_reseq.datasets.make_listening_test), seed {args.seed}:
{len(data.track_names)} excerpts of {args.duration:g} s at {data.sr} Hz from {source},
{len(data.rater_names)} raters.

## Files

- `audio/`: the excerpts *with* injected resonances, the audio that was "rated".
- `ratings.csv`: long format `track,rater,rating`; an empty rating = declined.
  Read it with `sk_reseq.datasets.load_ratings`.
- `tracks.csv`: per excerpt, the number and summed gain of injected
  resonances, the oracle factor and the group (the recording it comes from).
- `resonances.csv`: every injected resonance (centre, Q, gain).

## The model

{data.DESCR.split(chr(10) + chr(10), 2)[2].split('Fields:')[0]}
## Rater profiles

{_markdown_table(profiles)}

## Per-rater statistics (as the paper's Table 1)

{_markdown_table(summary)}

## Excerpts: injected resonances and oracle factor

{_markdown_table(pd.DataFrame(per_track))}
"""


def run_make(args):
    from tqdm.auto import tqdm

    from ..audio import save_audio
    from ..datasets import make_listening_test, save_ratings
    from ..stats import rater_summary

    out = _check_outdir(args.outdir)
    ext = f".{args.format}"
    total = args.n_tracks * args.variants
    with tqdm(total=total, desc="simulating", unit="track", disable=args.quiet) as bar:
        data = make_listening_test(
            n_tracks=args.n_tracks, n_raters=args.n_raters, source=args.source,
            variants=args.variants,
            duration=args.duration, sr=args.sr, n_jobs=args.jobs, random_state=args.seed,
            progress=bar.update,
        )
    # Build the panel beside OUTDIR and rename it at the end: never half a panel.
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.resolve().parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp's 0700 would otherwise stay on OUTDIR
    try:
        (staging / "audio").mkdir()
        names = zip(data.track_names, data.audio)
        for name, audio in tqdm(names, total=len(data.audio), desc="writing", unit="file",
                                disable=args.quiet):
            save_audio(staging / "audio" / f"{name}{ext}", audio, data.sr, subtype="PCM_24")
        save_ratings(data.frame, staging / "ratings.csv")
        tracks = data.frame.index.to_frame(index=False)
        counts = data.resonances.groupby("track").size()
        tracks["n_resonances"] = [int(counts.get(n, 0)) for n in data.track_names]
        tracks["strength_db"] = data.strength
        tracks["oracle"] = data.oracle
        tracks["group"] = data.groups  # the recording (source file) of each track
        tracks.to_csv(staging / "tracks.csv", index=False, float_format="%.6g")
        data.resonances.to_csv(staging / "resonances.csv", index=False, float_format="%.6g")
        (staging / "README.md").write_text(_readme(data, args, ext), encoding="utf-8")
        if out.exists():
            out.rmdir()  # empty, checked above
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if not args.quiet:
        print(f"wrote {len(data.audio)} excerpts, ratings.csv and README.md to {out}")
        print(rater_summary(data.frame).to_string(float_format=lambda v: f"{v:.3f}"))
    return 0


# -- summary -----------------------------------------------------------------------


def _save_figure(fig, path):
    """Write a figure atomically (temporary file, then rename)."""
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")


def run_summary(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from ..datasets import load_ratings
    from ..plotting import plot_rater_correlations, plot_rating_percentiles
    from ..stats import rater_correlations, rater_summary

    ratings = load_ratings(args.ratings)
    out = Path(args.out) if args.out else Path(args.ratings).resolve().parent
    out.mkdir(parents=True, exist_ok=True)
    summary = rater_summary(ratings)
    corr = rater_correlations(ratings).to_numpy()
    pairs = corr[np.triu_indices(len(corr), 1)]
    print(f"{ratings.shape[0]} tracks, {ratings.shape[1]} raters ({args.ratings})")
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    if np.isfinite(pairs).any():
        print(f"mean pairwise Pearson r: {np.nanmean(pairs):.3f}")
    for name, plot in zip(_FIGURES, (plot_rating_percentiles, plot_rater_correlations)):
        ax = plot(ratings)
        _save_figure(ax.figure, out / name)
        plt.close(ax.figure)
        print(f"wrote {out / name}")
    return 0
