"""``configlab run -- CMD``: records one result per command, exits with the command's code."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from configlab.cli import cli
from configlab.cli.run_cmd import merge_configs
from configlab.results import ResultStore
from configlab.snapshots import SnapshotStore

PY = sys.executable


def _invoke(tmp_path: Path, *args: str) -> tuple[int, str]:
    runner = CliRunner()
    result = runner.invoke(cli, ["run", "--store", str(tmp_path / "store"), *args])
    return result.exit_code, result.output


def _stored(tmp_path: Path) -> list[Any]:
    store = ResultStore(tmp_path / "store")
    try:
        return list(store.load())
    finally:
        store.close()


def test_passing_command_is_recorded(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("db:\n  pool: 5\n  host: a\nlog: info\n")
    (tmp_path / "override.json").write_text('{"db": {"pool": 9}, "extra": [1]}')
    code, output = _invoke(
        tmp_path, "--config", str(tmp_path / "base.yaml"), "--config",
        str(tmp_path / "override.json"), "--run-id", "r1", "--", PY, "-c", "pass",
    )
    assert code == 0, output
    assert "configlab: pass: exit 0, " in output
    (result,) = _stored(tmp_path)
    assert result.outcome == "pass"
    assert result.config == {"db": {"pool": 9, "host": "a"}, "log": "info",
                             "extra": [1]}
    assert result.run_id == "r1"
    assert result.test_id.startswith(PY)
    metrics = result.metrics
    assert {"wall_s", "cpu_s", "peak_rss_mb", "exit_status", "config_drift"} <= set(metrics)
    assert metrics["exit_status"] == 0.0 and metrics["config_drift"] == 0.0
    assert result.snapshot_id is None


@pytest.mark.parametrize(("script", "expected"), [
    ("import sys; sys.exit(3)", 3),
    ("import sys; sys.exit(1)", 1),
    ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", 128 + signal.SIGTERM),
])
def test_failing_command_exit_code_is_passed_through(
    tmp_path: Path, script: str, expected: int
) -> None:
    code, output = _invoke(tmp_path, "--test-id", "t-1", "--", PY, "-c", script)
    assert code == expected
    (result,) = _stored(tmp_path)
    assert result.outcome == "fail"
    assert result.test_id == "t-1"
    assert "configlab: fail: " in output


def test_command_that_cannot_start(tmp_path: Path) -> None:
    code, output = _invoke(tmp_path, "--", "no-such-command-xyz", "--flag")
    assert code == 127
    assert "cannot run 'no-such-command-xyz'" in output
    script = tmp_path / "x.sh"
    script.write_text("#!/bin/sh\n")
    code, _ = _invoke(tmp_path, "--", str(script))
    assert code == 126
    outcomes = [r.outcome for r in _stored(tmp_path)]
    assert outcomes == ["error", "error"]


def test_drift_and_snapshots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIGLAB_RUN_ID", "from-env")
    config = tmp_path / "app.yaml"
    config.write_text("mode: a\n")
    script = f"import pathlib; pathlib.Path({str(config)!r}).write_text('mode: b\\n')"
    code, output = _invoke(tmp_path, "--config", str(config), "--snapshot", "--",
                           PY, "-c", script)
    assert code == 0
    assert f"config drift: {config} changed while the command ran" in output
    assert "end state saved as snapshot" in output
    (result,) = _stored(tmp_path)
    assert result.metrics["config_drift"] == 1.0
    assert result.config == {"mode": "a"}
    assert result.run_id == "from-env"
    store = SnapshotStore(tmp_path / "store")
    start = store.get(result.snapshot_id)
    assert store.read_tree(start) == {"mode": "a"}
    ends = [s for s in store.list() if s.meta.get("state") == "end"]
    assert [store.read_tree(s) for s in ends] == [{"mode": "b"}]
    store.close()
    assert f"[snapshot {start.short_id}]" in output


def test_usage_errors(tmp_path: Path) -> None:
    code, output = _invoke(tmp_path)
    assert code == 2 and "Missing argument" in output
    code, output = _invoke(tmp_path, "--", "--")
    assert code == 2 and "no command given" in output
    code, output = _invoke(tmp_path, "--config", str(tmp_path / "nope.yaml"), "--", PY, "-c",
                           "pass")
    assert code == 2 and "no such config file" in output
    (tmp_path / "bad.yaml").write_text("a: [\n")
    code, output = _invoke(tmp_path, "--config", str(tmp_path / "bad.yaml"), "--", "true")
    assert code == 2 and "bad.yaml" in output
    assert not (tmp_path / "store").exists()  # nothing ran, nothing recorded


def test_unrecordable_result(tmp_path: Path) -> None:
    (tmp_path / "store" / "index.sqlite").mkdir(parents=True)  # unusable store
    code, output = _invoke(tmp_path, "--", PY, "-c", "pass")
    assert code == 2
    assert "result not recorded" in output
    code, output = _invoke(tmp_path, "--", PY, "-c", "import sys; sys.exit(5)")
    assert code == 5  # the command's failure wins


def test_merge_configs() -> None:
    assert merge_configs([]) == {}
    first: dict[str, Any] = {"a": {"b": 1, "c": [1]}, "d": 1}
    merged = merge_configs([first, {"a": {"b": 2}, "d": {"e": 1}}, {"a": 3}])
    assert merged == {"a": 3, "d": {"e": 1}}
    merged = merge_configs([first, {"a": {"x": 0}}])
    assert merged == {"a": {"b": 1, "c": [1], "x": 0}, "d": 1}
    merged["a"]["c"].append(2)
    assert first["a"]["c"] == [1]  # copies, not aliases
