"""The execution monitor: times, memory, exit status, config fingerprints and drift."""

from __future__ import annotations

import hashlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from configlab.errors import IntegrationError
from configlab.integrations.monitor import (
    MISSING,
    UNREADABLE,
    Execution,
    Monitor,
    drifted_files,
    exit_code,
    file_fingerprint,
    fingerprint,
    run_command,
    start_failure_code,
)

PY = sys.executable


def test_file_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    assert file_fingerprint(path) is MISSING
    path.write_bytes(b"x: 1\n")
    assert file_fingerprint(path) == hashlib.sha256(b"x: 1\n").hexdigest()
    assert file_fingerprint(tmp_path) is not None  # a directory: unreadable, not missing
    assert str(file_fingerprint(tmp_path)).startswith(UNREADABLE)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file_fingerprint(tmp_path: Path) -> None:  # pragma: no cover - non-root
    path = tmp_path / "secret.yaml"
    path.write_text("a: 1")
    path.chmod(0)
    assert str(file_fingerprint(path)).startswith(UNREADABLE)


def test_fingerprint_keeps_order_and_first_duplicate(tmp_path: Path) -> None:
    (tmp_path / "b").write_text("b")
    found = fingerprint([tmp_path / "b", tmp_path / "a", tmp_path / "b"])
    assert list(found) == [str(tmp_path / "b"), str(tmp_path / "a")]
    assert found[str(tmp_path / "a")] is None


fingerprints = st.dictionaries(st.sampled_from("abcdef"), st.one_of(st.none(), st.text("01",
                                                                                      max_size=2)))


@given(fingerprints, fingerprints)
def test_drifted_files_is_the_set_of_changed_entries(start: dict[str, str | None],
                                                     end: dict[str, str | None]) -> None:
    drift = drifted_files(start, end)
    changed = {k for k in set(start) | set(end) if start.get(k) != end.get(k)}
    assert set(drift) == changed
    assert len(drift) == len(set(drift))
    assert [d for d in drift if d in start] == [k for k in start if k in changed]
    assert drifted_files(start, start) == ()


@given(st.integers(-64, 255))
def test_exit_code_follows_the_shell_convention(status: int) -> None:
    code = exit_code(status)
    assert code == (status if status >= 0 else 128 - status)
    assert code >= 0


def test_monitor_measures_cpu_memory_and_drift(tmp_path: Path) -> None:
    config = tmp_path / "app.yaml"
    config.write_text("a: 1\n")
    late = tmp_path / "late.yaml"
    monitor = Monitor([config, config])
    assert monitor.files == (str(config),)
    with monitor:
        monitor.watch(late)
        monitor.watch(late)
        data = bytearray(64 * 1024 * 1024)  # 64 MiB touched: the peak grows
        for i in range(0, len(data), 4096):
            data[i] = 1
        sum(range(300_000))
        config.write_text("a: 2\n")
        late.write_text("new")
        del data
    execution = monitor.execution
    assert execution is not None
    assert execution.wall_s > 0 and execution.cpu_s > 0
    assert execution.peak_rss_mb > 60
    assert execution.drift
    assert execution.drifted == (str(config), str(late))
    assert execution.exit_status is None
    metrics = execution.metrics()
    assert set(metrics) == {"wall_s", "cpu_s", "peak_rss_mb", "rss_growth_mb", "config_drift"}
    assert metrics["config_drift"] == 1.0
    assert "config drift" in execution.describe()
    data_dict = execution.to_dict()
    assert data_dict["drifted"] == [str(config), str(late)]
    assert data_dict["files_start"][str(late)] is None


def test_monitor_without_drift_and_misuse() -> None:
    with Monitor() as monitor:
        pass
    assert monitor.execution is not None and not monitor.execution.drift
    assert monitor.execution.metrics()["config_drift"] == 0.0
    with pytest.raises(IntegrationError, match="before start"):
        Monitor().stop()
    with pytest.raises(IntegrationError, match="before start"):
        monitor.stop()  # already stopped


def test_run_command_exit_status_and_child_resources(tmp_path: Path) -> None:
    config = tmp_path / "app.json"
    config.write_text("{}")
    script = (
        "import sys, pathlib\n"
        "data = bytearray(200 * 1024 * 1024)\n"
        "for i in range(0, len(data), 4096): data[i] = 1\n"
        "sum(range(200_000))\n"
        f"pathlib.Path({str(config)!r}).write_text('{{\"changed\": 1}}')\n"
        "sys.exit(3)\n"
    )
    execution = run_command([PY, "-c", script], [config])
    assert execution.exit_status == 3
    assert execution.peak_rss_mb > 200  # the child's own peak, not ours
    assert execution.cpu_s > 0 and execution.wall_s >= execution.cpu_s / 4
    assert execution.drifted == (str(config),)
    metrics = execution.metrics()
    assert metrics["exit_status"] == 3.0
    assert metrics["rss_floor_mb"] > 0
    assert execution.describe().startswith("exit 3, ")


def test_run_command_environment_cwd_and_signals(tmp_path: Path) -> None:
    ok = run_command([PY, "-c", "import os, sys; sys.exit(0 if os.environ['X'] == 'y' and "
                               "os.getcwd() == sys.argv[1] else 1)", str(tmp_path)],
                     cwd=tmp_path, env={**os.environ, "X": "y"})
    assert ok.exit_status == 0 and not ok.drift
    killed = run_command([PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    assert killed.exit_status == -signal.SIGKILL
    assert exit_code(killed.exit_status) == 128 + signal.SIGKILL
    assert killed.describe().startswith(f"killed by signal {int(signal.SIGKILL)}")


def test_run_command_start_failures(tmp_path: Path) -> None:
    with pytest.raises(IntegrationError, match="no command"):
        run_command([])
    with pytest.raises(IntegrationError, match="cannot run 'no-such-command-xyz'") as missing:
        run_command(["no-such-command-xyz"])
    assert start_failure_code(missing.value) == 127
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)  # not executable
    with pytest.raises(IntegrationError) as denied:
        run_command([str(script)])
    assert start_failure_code(denied.value) == 126


def test_run_command_second_interrupt_kills(monkeypatch: pytest.MonkeyPatch) -> None:
    real_wait4 = os.wait4
    calls = {"n": 0}

    def interrupted_wait4(pid: int, options: int) -> Any:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise KeyboardInterrupt
        return real_wait4(pid, options)

    monkeypatch.setattr(os, "wait4", interrupted_wait4)
    execution = run_command([PY, "-c", "import time; time.sleep(30)"])
    # the first interrupt is passed on to the command's group (SIGINT), the second kills it;
    # whichever ends the sleeping command first, it ends at once
    assert execution.exit_status in (-signal.SIGINT, -signal.SIGKILL, 1)
    assert execution.wall_s < 20


def test_execution_defaults() -> None:
    execution = Execution(wall_s=1.0, cpu_s=0.5, peak_rss_mb=10.0)
    assert execution.describe() == "1.000 s wall, 0.500 s CPU, peak 10.0 MB"
    assert execution.to_dict()["exit_status"] is None
