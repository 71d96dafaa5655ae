"""One convention for output options of every command: an output option takes a PATH, and ``-``
(or the bare option, for the ``--json``/``--md`` report options) means stdout.

So ``configlab analyze --md analysis.md`` writes a file, ``--md -`` and plain ``--md`` print, and
the CI file's ``analyze: {md: PATH}`` means the same as the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

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
    path = Path(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as error:
        raise IntegrationError(f"{path}: cannot write: {error.strerror or error}") from None
    click.echo(f"wrote {path}", err=True)


__all__ = ["STDOUT", "emit", "output_option"]
