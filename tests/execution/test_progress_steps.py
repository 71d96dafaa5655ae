"""Progress on the long steps of ``coverage`` and ``analyze`` (issue 16): named steps that keep
printing while they run, plain lines when stderr is not a terminal, nothing under --quiet."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from configlab.cli import cli
from configlab.execution import Progress
from configlab.results import Result, ResultSet

SPACE = """
parameters:
  db: [sqlite, postgres]
  cache: bool
  workers: {type: int, min: 1, max: 4}
  log: [debug, info, warn]
"""


def test_a_long_step_is_never_silent() -> None:
    stream = io.StringIO()
    with Progress(2, "analyze", stream=stream, interval=0.05, final=False,
                  failures=False) as progress:
        with progress.working_on("reading results"):
            time.sleep(0.4)  # one long call: the heartbeat speaks meanwhile
        progress.advance()
        assert progress.doing is None
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 3, lines
    assert lines[0].startswith("analyze: 0/2 done, ") and lines[0].endswith("; reading results")
    assert all("failed" not in line for line in lines)  # nothing here can fail
    assert lines[-1].startswith("analyze: 1/2 done")  # the last line, as periodic ones came


def test_short_steps_and_quiet_print_nothing() -> None:
    stream = io.StringIO()
    with Progress(1, "coverage", stream=stream, final=False, failures=False) as progress:
        with progress.working_on("reading results"):
            pass
        progress.advance()
    quiet = io.StringIO()
    with Progress(1, "coverage", stream=quiet, quiet=True, interval=0.0) as silent:
        with silent.working_on("reading results"):
            time.sleep(0.1)
        silent.advance()
    assert stream.getvalue() == quiet.getvalue() == ""


def test_working_on_names_the_step_on_the_bar() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    with Progress(3, "coverage", stream=Tty(), failures=False) as progress:
        with progress.working_on("reading results"):
            assert progress.doing == "reading results"
        progress.advance()
    assert progress.doing is None and progress.done == 1


def test_interval_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIGLAB_PROGRESS_INTERVAL", "30")
    assert Progress(1, "x").interval == 30.0
    assert Progress(1, "x", interval=0.5).interval == 0.5  # an explicit interval wins
    for bad in ("soon", "-1"):
        monkeypatch.setenv("CONFIGLAB_PROGRESS_INTERVAL", bad)
        assert Progress(1, "x").interval == 5.0


@pytest.fixture()
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "space.yaml").write_text(SPACE)
    results = ResultSet(
        Result({"db": db, "cache": cache, "workers": w, "log": log},
               "fail" if db == "sqlite" and w > 2 else "pass")
        for db in ("sqlite", "postgres") for cache in (True, False) for w in (1, 2, 3, 4)
        for log in ("debug", "info", "warn"))
    return tmp_path / "space.yaml", results.to_jsonl(tmp_path / "r.jsonl")


def test_coverage_counts_the_combinations_it_scans(inputs: tuple[Path, Path]) -> None:
    space, results = inputs
    args = ["coverage", "--space", str(space), "--results", str(results), "-t", "3"]
    env = {"CONFIGLAB_PROGRESS_INTERVAL": "0"}
    shown = CliRunner().invoke(cli, args, env=env)
    assert shown.exit_code == 0, shown.output
    lines = [line for line in shown.stderr.splitlines() if line.startswith("coverage: ")]
    # 4 + 6 + 4 combinations measured (t = 1..3), then 4 scanned for gaps (t = 3)
    assert lines[-1].startswith("coverage: 18/18 done, ") and "failed" not in lines[-1]
    # (a slow "reading results" step also prints "coverage: 0/18 done; reading results"
    # heartbeat lines under load: only the counting lines are compared)
    counted = [line for line in lines if "; reading results" not in line]
    assert [int(re.match(r"coverage: (\d+)/", line)[1]) for line in counted][:3] == [1, 2, 3]
    quiet = CliRunner().invoke(cli, [*args, "--quiet"], env=env)
    assert quiet.exit_code == 0 and "coverage: " not in quiet.stderr
    assert quiet.stdout == shown.stdout  # the report itself is the same
    default = CliRunner().invoke(cli, args)  # quick, not a terminal: no progress at all
    assert "coverage: " not in default.stderr


def test_analyze_names_its_steps(inputs: tuple[Path, Path]) -> None:
    _, results = inputs
    env = {"CONFIGLAB_PROGRESS_INTERVAL": "0"}
    for extra in ([], ["--where", "workers > 1"]):  # columnar path, then the row reader
        shown = CliRunner().invoke(cli, ["analyze", "--results", str(results), *extra], env=env)
        assert shown.exit_code == 0, shown.output
        lines = [line for line in shown.stderr.splitlines() if line.startswith("analyze: ")]
        assert lines and lines[-1].startswith("analyze: 2/2 done"), shown.stderr
        quiet = CliRunner().invoke(cli, ["analyze", "--results", str(results), "-q", *extra],
                                   env=env)
        assert quiet.exit_code == 0 and "analyze: " not in quiet.stderr
        assert quiet.stdout == shown.stdout
