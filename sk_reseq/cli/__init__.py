"""The ``sk-reseq`` command.

Each sub-command lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (called
with the parsed arguments, returning an exit status). Modules are found at
start-up, so adding a command never touches this file.
"""

import argparse
import importlib
import logging
import pkgutil
import sys

from .. import __version__

__all__ = ["main", "build_parser"]


def build_parser():
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="sk-reseq",
        description="Auto-adaptive resonance equalization (Grachten et al., 2018).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv=None):
    """Run ``sk-reseq`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, OSError) as exc:
        # Expected user errors (bad files, bad values) get one clear line, no traceback.
        print(f"sk-reseq {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sk-reseq {args.command}: interrupted", file=sys.stderr)
        return 130
