"""Fixtures shared by the CLI tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
from click.testing import CliRunner

from configlab.cli import cli

#: ``cli_run(*args, env=None) -> (exit code, stdout, stderr)``.
CliRun = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli_run() -> CliRun:
    """Run ``configlab ARGS`` in-process with click's runner; (exit code, stdout, stderr)."""

    def run(*args: str, env: Mapping[str, str] | None = None) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, list(args), env=env)
        return result.exit_code, result.stdout, result.stderr

    return run
