"""The ``sk-reseq`` command.

Each sub-command lives in its own module of this package, named as the
command, and exposes ``register(subparsers)``, which adds its parser and sets
``func`` (called with the parsed arguments, returning an exit status). A new
command adds its module and a line to :data:`COMMANDS`.

Only the command being run is imported: ``sk-reseq --help`` lists the
commands from :data:`COMMANDS` alone, so it does not pay for scikit-learn or
torch, and ``sk-reseq eq`` does not import what ``train`` needs.
"""

import argparse
import importlib
import logging
import sys

from .. import __version__
from .._optional import missing_extra_message

__all__ = ["COMMANDS", "main", "build_parser"]

#: Each command's one-line help, in the order ``sk-reseq --help`` lists them;
#: its module ``sk_reseq.cli.<name>`` is imported only to run or describe it.
COMMANDS = {
    "auto": "equalize a file with the factor predicted from the audio",
    "demo": "the whole system on generated data (what `make demo` runs)",
    "eq": "attenuate resonances in an audio file by a fixed factor",
    "evaluate": "inject resonances into clean music and judge the auto equalizer's factors",
    "experiment": "run the paper's model comparison (HPO, repeated CV, statistics)",
    "listen": "run the listening test (prepare a panel, serve it, export ratings)",
    "panel": "simulate a listening test, or summarize a ratings file",
    "train": "train a model of the attenuation factor (for sk-reseq auto)",
}


def build_parser(commands=None):
    """The ``sk-reseq`` argument parser.

    Parameters
    ----------
    commands : iterable of str, default=None
        The commands whose modules are imported and whose full parsers are
        registered; the others get a stub that only carries their help line.
        None registers every command (for the docs and the tests).

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> from sk_reseq.cli import build_parser
    >>> build_parser(commands=["eq"]).parse_args(["eq", "in.wav", "out.wav"]).factor
    0.5
    """
    selected = set(COMMANDS) if commands is None else set(commands)
    unknown = selected - set(COMMANDS)
    if unknown:
        raise ValueError(f"unknown commands {sorted(unknown)}; choose from {sorted(COMMANDS)}.")
    parser = argparse.ArgumentParser(
        prog="sk-reseq",
        description="Auto-adaptive resonance equalization (Grachten et al., 2018).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name, help_line in COMMANDS.items():
        if name in selected:
            importlib.import_module(f"{__name__}.{name}").register(subparsers)
        else:
            subparsers.add_parser(name, help=help_line)
    return parser


def _command_in(argv):
    """The first word of ``argv`` that names a command, or None."""
    return next((word for word in argv if word in COMMANDS), None)


def main(argv=None):
    """Run ``sk-reseq`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = _command_in(argv)
    parser = build_parser(commands=[] if command is None else [command])
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, OSError, ImportError) as exc:
        # Expected user errors (bad files, bad values, a missing extra) get one
        # clear line, no traceback.
        if isinstance(exc, ModuleNotFoundError):
            exc = missing_extra_message(exc.name, f"sk-reseq {args.command}") or exc
        print(f"sk-reseq {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sk-reseq {args.command}: interrupted", file=sys.stderr)
        return 130
