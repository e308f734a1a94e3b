"""The batch form of ``sk-reseq eq`` and ``sk-reseq auto``: ``IN... -o OUT_DIR``."""

import sys
from pathlib import Path

# Options that only the batch form takes, and their defaults.
_BATCH_ONLY = {"format": None, "jobs": 1, "scheduler": None, "manifest": None,
               "overwrite": False}


def add_paths_and_batch_arguments(p):
    """The positional paths and the batch options of an equalizing command."""
    p.add_argument("paths", metavar="IN", nargs="+",
                   help="IN OUT: one input file and its output file (the extension sets the "
                        "format); or, with -o, input files and folders")
    g = p.add_argument_group("batch (IN... -o OUT_DIR)")
    g.add_argument("-o", "--output-dir", metavar="OUT_DIR",
                   help="equalize every IN into OUT_DIR: folders recursively, their files' "
                        "relative paths kept; outputs already complete are skipped, so an "
                        "interrupted run resumes")
    g.add_argument("--format", metavar="EXT",
                   help="output format by extension, e.g. flac (default: each input's)")
    g.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="worker processes (default 1; -1: all cores)")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on the dask.distributed scheduler at ADDRESS (e.g. "
                        "tcp://host:8786; the workers must see the files at the same paths), "
                        "or 'local' for a local cluster of --jobs workers (needs the dask "
                        "extra)")
    g.add_argument("--manifest", metavar="FILE.csv|json",
                   help="write one row per file: file, output, duration, rate, channels, "
                        "factor mean/min/max, strongest gain, seconds, status, error")
    g.add_argument("--overwrite", action="store_true",
                   help="equalize again the files whose output is complete")


def single_paths(args, figure_option=None):
    """``(IN, OUT)`` of the one-file form, or None for the batch form (``-o``).

    Checks that the options given belong to the form used. ``figure_option``
    names the command's one-file figure option (e.g. ``"--plot"``) if set.
    """
    if args.output_dir is None:
        extra = [f"--{k}" for k, default in _BATCH_ONLY.items() if getattr(args, k) != default]
        if len(args.paths) != 2:
            raise ValueError(f"give IN OUT (one file) or IN... -o OUT_DIR (files and folders "
                             f"into a folder); got {len(args.paths)} path(s) and no -o.")
        if extra:
            raise ValueError(f"{', '.join(extra)} {'needs' if len(extra) == 1 else 'need'} "
                             "-o OUT_DIR (the batch form).")
        if Path(args.paths[0]).is_dir():
            raise ValueError(f"IN {args.paths[0]} is a folder: equalize folders with "
                             "IN... -o OUT_DIR.")
        return tuple(args.paths)
    if figure_option is not None:
        raise ValueError(f"{figure_option} draws one file: use the form IN OUT, without -o.")
    return None


def run_batch(args, equalizer):
    """Run :func:`~sk_reseq.equalizer.equalize_files` for the parsed ``args``; the exit code.

    0 when every file was equalized or skipped as complete, 1 when some
    failed (each listed on stderr, and in the manifest).
    """
    from ..equalizer import equalize_files

    # Rows as dicts: the batch form needs no pandas (not in the core install).
    rows = equalize_files(args.paths, args.output_dir, equalizer=equalizer, n_jobs=args.jobs,
                          scheduler=args.scheduler, format=args.format, manifest=args.manifest,
                          overwrite=args.overwrite, progress=not args.quiet, as_frame=False)
    by_status = {s: [r for r in rows if r["status"] == s] for s in ("done", "skipped", "failed")}
    for row in by_status["failed"]:
        print(f"sk-reseq {args.command}: {row['file']}: {row['error']}", file=sys.stderr)
    if not args.quiet:
        seconds = sum(r["duration"] for r in by_status["done"])
        print(f"{len(by_status['done'])} file(s) equalized into {args.output_dir} "
              f"({seconds:.1f} s of audio), {len(by_status['skipped'])} skipped as complete, "
              f"{len(by_status['failed'])} failed"
              + (f"; manifest: {args.manifest}" if args.manifest else ""))
    return 1 if by_status["failed"] else 0
