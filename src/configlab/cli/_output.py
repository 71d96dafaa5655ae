"""One convention for output options of every command: an output option takes a PATH, and ``-``
(or the bare option, for the ``--json``/``--md`` report options) means stdout.

So ``configlab analyze --md analysis.md`` writes a file, ``--md -`` and plain ``--md`` print, and
the CI file's ``analyze: {md: PATH}`` means the same as the command line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from configlab._internal import safeio
from configlab.errors import IntegrationError

STDOUT = "-"
_F = TypeVar("_F", bound=Callable[..., Any])


def output_option(name: str, dest: str, what: str) -> Callable[[_F], _F]:
    """A ``--NAME [PATH]`` option: the bare option or ``-`` prints *what* on stdout."""
    return click.option(
        name, dest, metavar="PATH", is_flag=False, flag_value=STDOUT, default=None,
        type=click.Path(dir_okay=False, allow_dash=True),
        help=f"Write {what} to PATH ('-', or the option alone: stdout).",
    )


def emit(target: str, text: str) -> None:
    """Write *text* to *target* (a path, or ``-`` for stdout); say on stderr what was written.

    A target that cannot be written raises IntegrationError naming it (CLI: exit 2).
    """
    if target == STDOUT:
        click.echo(text, nl=not text.endswith("\n"))
        return
    # the one output door: parents created, devices and FIFOs written in place, regular files
    # replaced atomically, other special files refused (issue 18)
    safeio.write_output(target, text if text.endswith("\n") else text + "\n",
                        what="output", error=IntegrationError)
    click.echo(f"wrote {target}", err=True)


def emit_json(target: str, value: Any) -> None:
    """:func:`emit` of ``value`` as indented JSON (non-JSON values as ``str``)."""
    emit(target, json.dumps(value, indent=2, ensure_ascii=False, default=str))


__all__ = ["STDOUT", "emit", "emit_json", "output_option"]
