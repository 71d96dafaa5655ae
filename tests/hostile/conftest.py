"""Shared helpers of the hostile-input tests: run the real CLI in a subprocess with a timeout.

A subprocess (not click's CliRunner) so that a hang is a failed test after ``timeout`` seconds,
not a hung suite, and so that file descriptors, devices and FIFOs are the real ones.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")


def run_cli(*args: str, timeout: float = 30, cwd: str | Path | None = None,
            env: dict[str, str] | None = None, stdin: str | None = None
            ) -> subprocess.CompletedProcess[str]:
    """``configlab ARGS`` in a subprocess; fails the test (not hangs) after ``timeout`` s."""
    environ = dict(os.environ if env is None else env)
    environ["PYTHONPATH"] = SRC + os.pathsep + environ.get("PYTHONPATH", "")
    try:
        return subprocess.run(
            [sys.executable, "-c", "from configlab.cli import main; main()", *args],
            capture_output=True, text=True, timeout=timeout, cwd=cwd, env=environ,
            input=stdin if stdin is not None else "", check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"configlab {' '.join(args)} hung for more than {timeout} s")


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Exit 2, no traceback, exactly one ``configlab: error:`` line naming every needle."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("configlab: error: ")]
    assert len(errors) == 1, result.stderr
    assert "Usage:" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])


root_only = pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root (CI runs as root)")
