"""Every ``--help`` entry says what it is, its default and its choices."""

import argparse
import pkgutil

import pytest

from sk_reseq.cli import COMMANDS, build_parser


def _actions(parser, path=()):
    """(command path, action) for every argument of ``parser`` and its sub-commands."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, (*path, name))
        elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            yield path, action


ACTIONS = list(_actions(build_parser()))


def _id(item):
    path, action = item
    return " ".join(path) + " " + (action.option_strings[0] if action.option_strings
                                   else action.dest)


def test_every_command_module_is_listed_and_registers_its_command():
    import sk_reseq.cli

    modules = {m.name for m in pkgutil.iter_modules(sk_reseq.cli.__path__)
               if not m.name.startswith("_")}
    assert modules == set(COMMANDS)
    assert {path[0] for path, _ in ACTIONS if path} == set(COMMANDS)


@pytest.mark.parametrize("item", ACTIONS, ids=_id)
def test_help_shows_defaults_and_choices(item):
    _, action = item
    text = action.help or ""
    assert text.strip(), "no help text"
    # A default worth knowing: not None, not a switch that is off, not an empty list.
    shown = action.default not in (None, False, argparse.SUPPRESS) and not (
        isinstance(action.default, (list, tuple)) and not action.default)
    if action.option_strings and shown:
        assert "default" in text, f"default {action.default!r} is not in the help"
    if action.choices and action.metavar is not None:  # argparse lists them without a metavar
        assert all(str(choice) in text for choice in action.choices), "choices are hidden"
