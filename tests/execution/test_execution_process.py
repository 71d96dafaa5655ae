"""The one process runner and command templates: timeouts that stop the whole tree, output
tails, and no shell injection through the config path (issue 16 item 1, issue 18 items 2, 4)."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

from configlab.errors import ExecutionError, IntegrationError, SpecError
from configlab.execution import CommandTemplate, descendants, run_process
from configlab.integrations.ci import run_ci
from configlab.specs._runners import CommandRunner
from tests.paths import DATA_DIR

PY = sys.executable
DATA = DATA_DIR
HOSTILE = "x$(touch PWNED1)`touch PWNED2`;touch PWNED3 'q\"d"


def _left_running(marker: str, wait: float = 5.0) -> list[int]:
    """Pids still running ``marker`` after up to ``wait`` s: a SIGKILL is sent before
    run_process returns, but dying takes a scheduling slice, which on a loaded machine can
    come after the check."""
    deadline = time.monotonic() + wait
    while (pids := _running_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return pids


def _running_with(marker: str) -> list[int]:
    """Pids of live processes whose command line holds ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().decode(errors="replace")
            with open(f"/proc/{entry}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != b"Z":
            found.append(int(entry))
    return found


def _pwned(*roots: Path) -> list[str]:
    return [str(p) for root in roots for p in root.rglob("PWNED*")]


# --------------------------------------------------------------------------- run_process


def test_exit_status_output_tails_and_measurements() -> None:
    done = run_process([PY, "-c", "import sys; print('x' * 5000); "
                        "sys.stderr.write('boom\\n'); sys.exit(3)"], tail_bytes=100)
    assert done.exit_code == 3 and done.problem is None and done.shell_code == 3
    assert done.stdout == "x" * 99 + "\n" and done.stdout_truncated
    assert done.stderr == "boom\n" and not done.stderr_truncated
    assert done.output_tail() == "boom"
    assert done.wall_s > 0 and done.peak_rss_mb > 0
    assert done.metrics()["exit_status"] == 3.0
    assert done.describe().startswith("exit 3, ")


def test_signal_and_start_failures() -> None:
    killed = run_process([PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    assert killed.signal_name == "SIGKILL" and killed.problem == "killed by signal SIGKILL"
    assert killed.shell_code == 137
    missing = run_process(["no-such-program-xyz"])
    assert missing.exit_code is None and missing.shell_code == 127
    assert missing.problem == "could not start: No such file or directory"
    assert run_process(["/etc/hostname"]).shell_code == 126


def test_timeout_kills_escaped_grandchildren_without_waiting_for_their_pipes() -> None:
    marker = f"{os.getpid() % 1000 + 25}.{time.monotonic_ns() % 10**6}"
    started = time.perf_counter()
    done = run_process(f"setsid sleep {marker} & sleep 1{marker}", timeout=1, grace=1)
    elapsed = time.perf_counter() - started
    assert done.timed_out and done.problem == "timeout after 1 s"
    assert "timed_out" in done.metrics() and "exit_status" not in done.metrics()
    assert elapsed < 4, elapsed
    assert _left_running(marker) == []


def test_term_is_tried_before_kill() -> None:
    script = ("import signal, sys, time\n"
              "signal.signal(signal.SIGTERM, lambda *a: (print('bye', flush=True), sys.exit(7)))\n"
              "print('up', flush=True)\n"
              "time.sleep(30)\n")
    done = run_process([PY, "-c", script], timeout=1)
    assert done.timed_out and done.exit_code == 7 and "bye" in done.stdout


def test_background_job_holding_the_pipe_does_not_delay_a_normal_exit() -> None:
    marker = f"3{time.monotonic_ns() % 10**6}"
    started = time.perf_counter()
    done = run_process(f"sleep {marker} & echo done", drain=0.3)
    assert done.exit_code == 0 and done.stdout == "done\n"
    assert time.perf_counter() - started < 3
    # the background job stayed in the command's session: it is stopped with it
    time.sleep(0.1)
    assert _left_running(f"sleep {marker}") == []


def test_echo_copies_output(capfd: pytest.CaptureFixture[str]) -> None:
    done = run_process(["sh", "-c", "echo out; echo err >&2"], echo=True)
    captured = capfd.readouterr()
    assert captured.out == "out\n" and captured.err == "err\n"
    assert done.stdout == "out\n"


def test_descendants_lists_the_tree() -> None:
    assert descendants(2**22 + 7) == []
    assert os.getpid() not in descendants(1) or True  # never raises on a live tree


# --------------------------------------------------------------------------- templates


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("app --config {config}", ["app", "--config", HOSTILE]),
        ("app --config={config} -n {index}", ["app", f"--config={HOSTILE}", "-n", "4"]),
        ('cat "{config}" | wc -c', 'cat "${CONFIGLAB_CONFIG}" | wc -c'),
        ("cat {config} && echo {index}", 'cat "$CONFIGLAB_CONFIG" && echo 4'),
        ("cat '{config}'; true", "cat ''\"$CONFIGLAB_CONFIG\"''; true"),
        ('echo "$(cat {config})"', 'echo "$(cat "$CONFIGLAB_CONFIG")"'),
        ("echo `cat {config}` \\{x}", 'echo `cat "$CONFIGLAB_CONFIG"` \\{x}'),
    ],
)
def test_placeholder_substitution(template: str, expected: list[str] | str) -> None:
    assert CommandTemplate(template).argv(HOSTILE, 4) == expected


@pytest.mark.parametrize(
    "template",
    ['sh -c "cat {config}"', "bash -c 'wc -c {config}'", 'sh -c "cat {config}" | wc -c',
     "/bin/sh -ec \"cat '{config}'\" && true", "", "   ", 'app "unclosed {config}'],
)
def test_unsafe_or_broken_templates_are_refused(template: str) -> None:
    with pytest.raises(ExecutionError):
        CommandTemplate(template)


def test_explicit_shell_flag() -> None:
    assert CommandTemplate("app {config}", shell=True).argv("p") == 'app "$CONFIGLAB_CONFIG"'
    assert CommandTemplate("app {config}", shell=True).uses_shell
    assert not CommandTemplate("app {config}").uses_shell


@pytest.mark.parametrize(
    "template",
    ["cat {config}", 'cat "{config}" | wc -c', "cat '{config}' > /dev/null && true",
     'x=$(cat "{config}"); echo "$x"', "sh -c 'cat \"$CONFIGLAB_CONFIG\"'"],
)
def test_hostile_directory_names_never_run_as_code(tmp_path: Path, template: str) -> None:
    directory = tmp_path / HOSTILE
    directory.mkdir()
    config = directory / "config.yaml"
    config.write_text("a: 1\n")
    command = CommandTemplate(template)
    done = run_process(command.argv(str(config), 1), cwd=tmp_path,
                       env={**os.environ, **command.environment(str(config))})
    assert done.exit_code == 0, done.stderr
    assert _pwned(tmp_path) == []


# --------------------------------------------------------------------------- wired in


def test_spec_runner_timeout_stops_escaped_grandchild() -> None:
    marker = f"2{time.monotonic_ns() % 10**6}"
    runner = CommandRunner(f"setsid sleep {marker} & sleep 3{marker}", timeout=1)
    started = time.perf_counter()
    outcome = runner({"a": 1})
    assert outcome.outcome == "error" and outcome.error == "timeout after 1 s"
    assert time.perf_counter() - started < 5
    assert _left_running(marker) == []


def test_spec_runner_refuses_nested_shell_and_survives_hostile_tmpdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SpecError, match=r"nested shell|own argument"):
        CommandRunner('sh -c "cat {config}"')
    hostile = tmp_path / HOSTILE
    hostile.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(hostile))
    monkeypatch.chdir(tmp_path)
    for template in ('cat "{config}" | grep -q "a: 1"', "cat {config}"):
        outcome = CommandRunner(template)({"a": 1})
        assert outcome.outcome == "pass", outcome
    assert _pwned(tmp_path) == []


def test_ci_run_step_with_hostile_output_directory(tmp_path: Path) -> None:
    shutil.copy(DATA / "ci" / "app.py", tmp_path / "app.py")
    (tmp_path / "space.yaml").write_text(
        "name: safe\nparameters:\n  db.pool: {type: int, min: 2, max: 16}\n")
    out = HOSTILE.replace("'", "").replace('"', "")
    steps = (f"  - generate: {{strategy: random, count: 2, seed: 1, out: '{out}/', format: json}}\n"
             f"  - run: {{command: 'cat \"{{config}}\" | {shlex.quote(PY)} app.py --config "
             f"{{config}} --stdin', shell: true, timeout: 30, jobs: 2}}\n")
    (tmp_path / "ci.yaml").write_text("space: space.yaml\nsteps:\n" + steps)
    run_ci(tmp_path / "ci.yaml", environ={}, emit=lambda line: None)
    assert _pwned(tmp_path) == []
    (tmp_path / "ci.yaml").write_text(
        "space: space.yaml\nsteps:\n" + steps.split("\n")[0]
        + "\n  - run: {command: 'sh -c \"cat {config}\"'}\n")
    with pytest.raises(IntegrationError, match="own argument"):
        run_ci(tmp_path / "ci.yaml", environ={}, emit=lambda line: None)
    assert _pwned(tmp_path) == []


def test_ci_run_step_timeout_leaves_no_process(tmp_path: Path) -> None:
    marker = f"4{time.monotonic_ns() % 10**6}"
    (tmp_path / "space.yaml").write_text("name: s\nparameters:\n  a: {type: int, min: 1, max: 3}\n")
    (tmp_path / "ci.yaml").write_text(
        "space: space.yaml\nsteps:\n"
        "  - generate: {strategy: random, count: 2, seed: 1, out: c/, format: json}\n"
        f"  - run: {{command: 'setsid sleep {marker} & sleep 1{marker}', timeout: 1, jobs: 2}}\n")
    started = time.perf_counter()
    report = run_ci(tmp_path / "ci.yaml", environ={}, emit=lambda line: None)
    assert time.perf_counter() - started < 8
    assert report.counts["error"] == 2
    assert any("timed out after 1 s" in a.title for a in report.annotations)
    assert _left_running(marker) == []


def test_configlab_run_timeout_stops_the_tree(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from configlab.cli import cli
    from configlab.results import ResultSet

    marker = f"5{time.monotonic_ns() % 10**6}"
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["run", "--store", str(tmp_path / "s"), "--timeout", "1",
                                      "--", "sh", "-c", f"setsid sleep {marker} & sleep 1{marker}"])
    assert result.exit_code == 124, result.output
    assert time.perf_counter() - started < 6
    assert _left_running(marker) == []
    (recorded,) = ResultSet.from_store(tmp_path / "s")
    assert recorded.outcome == "error" and recorded.metrics["timed_out"] == 1.0
    bad = CliRunner().invoke(cli, ["run", "--timeout", "0", "--", "true"])
    assert bad.exit_code == 2
