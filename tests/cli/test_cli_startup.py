"""Fast start: the command list is a table (no subcommand module imported for --help) and
``configlab run`` does not import numpy, scipy, matplotlib or rich (issue 16 item 3)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from configlab.cli import LAZY_COMMANDS, cli
from tests.paths import SRC_DIR

SRC = str(SRC_DIR)


def test_table_help_matches_each_command() -> None:
    ctx = click.Context(cli)
    for name, (_, _, text) in LAZY_COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=300) == text, name
    assert cli.get_command(ctx, "no-such-command") is None


def _imported(*argv: str, cwd: Path) -> set[str]:
    code = f"import sys; from configlab.cli import main; sys.argv = ['configlab', *{argv!r}]\n" \
           "try:\n    main()\nexcept SystemExit:\n    pass\n" \
           "print('\\n'.join(sorted(sys.modules)), file=sys.__stdout__)"
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=cwd, check=False)
    return set(done.stdout.split())


def test_help_and_run_import_nothing_heavy(tmp_path: Path) -> None:
    heavy = {"numpy", "scipy", "matplotlib", "rich", "pandas", "pyarrow", "yaml"}
    help_modules = _imported("--help", cwd=tmp_path)
    assert "click" in help_modules
    assert not heavy & help_modules
    assert not {m for m in help_modules if m.startswith("configlab.cli.")}
    run_modules = _imported("run", "--store", str(tmp_path / "s"), "--", "true", cwd=tmp_path)
    assert "configlab.integrations.monitor" in run_modules
    assert not heavy & run_modules
    # modules only some commands need, kept off the path of `run` (docs/execution.md,
    # "Fast start"): each costs a few ms of every `configlab run`
    lean = {"zstandard", "tempfile", "csv", "secrets", "configlab.constraints",
            "configlab.redaction", "duckdb", "polars"}
    assert not lean & run_modules, lean & run_modules
    assert not lean & help_modules, lean & help_modules
    assert (tmp_path / "s" / "index.sqlite").is_file()


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in LAZY_COMMANDS:
        assert f"  {name} " in result.output


def test_python_dash_m_configlab_cli_runs_the_cli() -> None:
    """``python -m configlab.cli`` (the spelling of the developers' guide) is the CLI too,
    not "'configlab.cli' is a package and cannot be directly executed"."""
    env = {**os.environ, "PYTHONPATH": str(SRC_DIR)}
    for module in ("configlab", "configlab.cli"):
        done = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True,
                              text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "configlab" in done.stdout
