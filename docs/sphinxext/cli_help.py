"""The ``sk-reseq-cli`` directive: the CLI reference from the argparse parser.

``sk_reseq.cli.build_parser()`` is the single source of truth for the command
line; this directive walks its sub-parsers and renders each one's ``--help``
as a section, so the reference cannot drift from the code. (sphinx-argparse
would do this too, but would be one more dependency for ~50 lines.)
"""

import argparse
import os
from contextlib import contextmanager

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

_UNDERLINES = "=-~^\"'"


@contextmanager
def _columns(width):
    """Fix argparse's wrapping width (it reads $COLUMNS) for reproducible output."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def _subcommands(parser):
    """(name, sub-parser) pairs of ``parser``, in registration order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices.items())
    return []


def _render(parser, path, depth, lines):
    command = " ".join(path)
    title = f"``{command}``"
    lines += [f".. _cli-{'-'.join(path[1:]) or 'main'}:", "", title,
              _UNDERLINES[depth] * len(title), "", ".. code-block:: text", ""]
    lines += ["   " + line if line else "" for line in parser.format_help().splitlines()]
    lines.append("")
    for name, sub in _subcommands(parser):
        _render(sub, path + [name], depth + 1, lines)


class SkReseqCLI(SphinxDirective):
    """Render ``sk-reseq --help`` and every sub-command's help as sections."""

    has_content = False
    option_spec = {"width": int}

    def run(self):
        from sk_reseq.cli import build_parser

        lines = []
        with _columns(self.options.get("width", 88)):
            parser = build_parser()
            for name, sub in _subcommands(parser):
                _render(sub, ["sk-reseq", name], 0, lines)
        container = nodes.section()
        nested_parse_with_titles(self.state, StringList(lines, source="sk_reseq.cli"), container)
        return container.children


def setup(app):
    app.add_directive("sk-reseq-cli", SkReseqCLI)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
