"""The SQLite demo: the behaviours themselves, and a reduced run of the whole pipeline."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from configlab.cli import cli
from configlab.demo import (
    BEHAVIOURS,
    REDUCED_MAX,
    DemoResult,
    _shown_arg,
    _spec_outcomes,
    _split_test_id,
    example_dir,
    main,
    run_demo,
)
from configlab.errors import ConfiglabError
from configlab.results import Result

EXAMPLE = example_dir()
ROOT = EXAMPLE.parents[1]


@pytest.fixture(scope="module")
def sqlite_example() -> Iterator[Any]:
    """The example's behaviour module, imported from examples/sqlite."""
    sys.path.insert(0, str(EXAMPLE))
    try:
        import behaviours

        yield behaviours
    finally:
        sys.path.remove(str(EXAMPLE))


def pragma(**values: Any) -> dict[str, Any]:
    return {"pragma": values}


# --------------------------------------------------------------------------- real behaviours


def dirs(tmp_path: Path, names: str) -> None:
    for name in names:
        (tmp_path / name).mkdir()


def test_journal_off_loses_statement_atomicity(sqlite_example: Any, tmp_path: Path) -> None:
    dirs(tmp_path, "ab")
    on = sqlite_example.statement_atomicity(tmp_path / "a", pragma(journal_mode="DELETE"))
    off = sqlite_example.statement_atomicity(tmp_path / "b", pragma(journal_mode="OFF"))
    assert on.after_failed_statement == on.expected_after_statement == 3
    assert off.after_failed_statement > off.expected_after_statement
    assert on.after_rollback == on.committed == 2


def test_readers_blocked_by_exclusive_lock_and_cache_spill(sqlite_example: Any,
                                                          tmp_path: Path) -> None:
    dirs(tmp_path, "abcde")
    read = sqlite_example.concurrent_read
    assert read(tmp_path / "a", pragma(journal_mode="DELETE")).error is None
    assert read(tmp_path / "b", pragma(journal_mode="WAL", cache_size=10)).error is None
    spilled = read(tmp_path / "c", pragma(journal_mode="DELETE", cache_size=10))
    assert spilled.error is not None and "locked" in spilled.error
    assert read(tmp_path / "d", pragma(journal_mode="DELETE", cache_size=10,
                                        cache_spill=False)).error is None
    assert read(tmp_path / "e", pragma(locking_mode="EXCLUSIVE")).error is not None


def test_foreign_keys_and_auto_vacuum(sqlite_example: Any, tmp_path: Path) -> None:
    dirs(tmp_path, "abcde")
    assert sqlite_example.foreign_key_violation_refused(tmp_path / "a", pragma(foreign_keys=True))
    assert not sqlite_example.foreign_key_violation_refused(tmp_path / "b", pragma())
    full = sqlite_example.shrink_after_delete(tmp_path / "c", pragma(auto_vacuum="FULL"))
    none = sqlite_example.shrink_after_delete(tmp_path / "d", pragma(auto_vacuum="NONE"))
    wal = sqlite_example.shrink_after_delete(
        tmp_path / "e", pragma(auto_vacuum="FULL", journal_mode="WAL"))
    assert full.after_delete < full.filled // 4
    assert wal.after_delete < wal.filled // 4
    assert none.after_delete == none.filled


def test_pragmas_refuse_bad_input(tmp_path: Path) -> None:
    sys.path.insert(0, str(EXAMPLE))
    try:
        import pragmas
    finally:
        sys.path.remove(str(EXAMPLE))
    with pytest.raises(KeyError):
        pragmas.connect(tmp_path / "x.db", pragma(no_such_pragma=1))
    with pytest.raises(ValueError):
        pragmas.connect(tmp_path / "x.db", pragma(journal_mode="WAL; DROP TABLE t"))
    db = pragmas.connect(tmp_path / "y.db", pragma(journal_mode="WAL", foreign_keys=True),
                         create=True)
    try:
        seen = pragmas.effective(db)
    finally:
        db.close()
    assert seen["journal_mode"] == "wal" and seen["foreign_keys"] == 1


# --------------------------------------------------------------------------- helpers


def test_split_test_id_and_shown_arg(tmp_path: Path) -> None:
    node = "examples/sqlite/t.py::TestCovering::test_x[cfg0003-journal_mode=WAL]"
    assert _split_test_id(node) == ("TestCovering", "test_x", "cfg0003-journal_mode=WAL")
    assert _split_test_id("t.py::test_y") == ("", "test_y", "")
    assert _shown_arg(f"--junitxml={tmp_path / 'j.xml'}", tmp_path) == "--junitxml=j.xml"
    assert _shown_arg(str(tmp_path / "store"), tmp_path) == "store"
    assert _shown_arg("-q", tmp_path) == "-q"


def test_spec_outcomes_turn_test_runs_into_metrics() -> None:
    config = {"pragma": {"foreign_keys": False}}
    base = "examples/sqlite/test_sqlite_behaviours.py::TestCovering::"
    runs = [
        Result(config, "fail", test_id=base + "test_foreign_key_violation_refused[cfg0000]"),
        Result(config, "pass", test_id=base + "test_write_heavy_workload[cfg0000]",
               duration=0.25),
        Result(config, "error", test_id=base + "test_deleting_rows_shrinks_file[cfg0000]"),
        Result(config, "pass", test_id="elsewhere.py::test_other"),
    ]
    outcomes = _spec_outcomes(runs)
    assert list(outcomes) == [runs[0].config_key]
    assert dict(outcomes[runs[0].config_key].metrics) == {
        "fk_enforced": 0.0, "write_heavy_passed": 1.0, "write_heavy_s": 0.25,
    }


def test_bad_arguments_are_configlab_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfiglabError, match="seed"):
        run_demo(tmp_path, seed="1")  # type: ignore[arg-type]
    with pytest.raises(ConfiglabError, match="workers"):
        run_demo(tmp_path, workers=0)
    assert main([str(tmp_path), "--workers", "0"]) == 2
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path), "--workers", "0"])
    assert result.exit_code == 2


# --------------------------------------------------------------------------- the pipeline


@pytest.fixture(scope="module")
def reduced(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    out = tmp_path_factory.mktemp("demo")
    lines: list[str] = []
    result = run_demo(out, reduced=True, seed=7, progress=lines.append)
    steps = [line.split("] ", 1)[1].split(":", 1)[0] for line in lines]
    for step in ("generate", "pytest", "snapshots", "specs", "coverage", "analysis", "exports",
                 "report"):
        assert step in steps
    return result


@pytest.mark.slow
def test_reduced_pipeline_writes_the_report(reduced: DemoResult) -> None:
    text = reduced.report.read_text(encoding="utf-8")
    for section in ("## Pipeline", "## Behaviours", "## Behaviour spec verification",
                    "## Coverage of the space", "## Why behaviours fail",
                    "## What drives the write-heavy duration", "## Reproduce a failure",
                    "## Configurations", "## Files"):
        assert section in text
    assert reduced.configs <= 2 * REDUCED_MAX
    assert reduced.executions == reduced.configs * len(BEHAVIOURS)
    assert reduced.outcomes.get("fail", 0) > 0
    assert reduced.spec_ok, reduced.spec_totals
    for chart in reduced.charts:
        assert chart.suffix == ".png"
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({chart.relative_to(reduced.out_dir).as_posix()})" in text
    names = {c.name for c in reduced.charts}
    assert {"coverage_pairwise.png", "coverage_values.png"} <= names
    exports = {p.name for p in reduced.exports}
    assert {"pytest-junit.xml", "spec-verification.xml", "results.jsonl"} <= exports
    assert "<testsuite" in (reduced.out_dir / "exports" / "pytest-junit.xml").read_text()


@pytest.mark.slow
def test_product_exports_are_written_and_well_formed(reduced: DemoResult) -> None:
    import json

    from junitparser import JUnitXml, Properties, Property

    from configlab.integrations.ingest import SNAPSHOT_KEY, from_junit
    from configlab.results import ResultStore

    exports = reduced.out_dir / "exports"
    text = reduced.report.read_text(encoding="utf-8")
    pipeline = text.split("## Pipeline", 1)[1].split("\n## ", 1)[0]
    names = ("configlab-junit.xml", "allure-results", "configlab-ctrf.json",
             "configlab-summary.md")
    for name in names:
        assert exports / name in reduced.exports
        assert f"`exports/{name}" in pipeline
        assert f"- `exports/{name}`" in text  # the Files section
    store = ResultStore(reduced.out_dir / "store")
    try:
        stored = {r.test_id: r for r in store.load(run_id="configlab-demo-7")}
    finally:
        store.close()
    assert len(stored) == reduced.executions

    # configlab's JUnit XML: one testcase per execution, snapshot id and config as properties
    cases = [case for suite in JUnitXml.fromfile(str(exports / "configlab-junit.xml"))
             for case in suite]
    assert len(cases) == reduced.executions
    failures = 0
    for case in cases:
        found = case.child(Properties)
        assert found is not None
        props = {p.name: p.value for p in found.iterchildren(Property)}
        own = stored[f"{case.classname}::{case.name}"]
        assert props[SNAPSHOT_KEY] == own.snapshot_id
        assert props["config.pragma.journal_mode"] == own.config["pragma"]["journal_mode"]
        failures += case.is_failure
    assert failures == reduced.outcomes.get("fail", 0)
    assert [r.config_key for r in from_junit(exports / "configlab-junit.xml")] == [
        stored[f"{c.classname}::{c.name}"].config_key for c in cases]

    # Allure: one result file per execution, with the config as parameters
    allure = sorted((exports / "allure-results").glob("*-result.json"))
    assert len(allure) == reduced.executions
    first = json.loads(allure[0].read_text(encoding="utf-8"))
    assert first["status"] in ("passed", "failed", "broken", "skipped")
    assert any(p["name"] == "pragma.journal_mode" for p in first["parameters"])
    environment = (exports / "allure-results" / "environment.properties").read_text()
    assert "application=SQLite " in environment

    # CTRF
    ctrf = json.loads((exports / "configlab-ctrf.json").read_text(encoding="utf-8"))
    summary = ctrf["results"]["summary"]
    assert ctrf["reportFormat"] == "CTRF"
    assert summary["tests"] == len(ctrf["results"]["tests"]) == reduced.executions
    assert summary["failed"] == reduced.outcomes.get("fail", 0)
    assert summary["passed"] == reduced.outcomes.get("pass", 0)

    # Markdown summary: counts, failures with replay commands, coverage
    markdown = (exports / "configlab-summary.md").read_text(encoding="utf-8")
    assert markdown.startswith("## ❌ configlab on SQLite")
    assert f"**{reduced.executions} results: {reduced.outcomes.get('pass', 0)} passed" in markdown
    assert "--configlab-replay" in markdown and "### Coverage (strength 3" in markdown

    # pytest's own JUnit XML carries the plugin's snapshot ids: every case links back
    n = reduced.executions
    assert f"pytest's JUnit XML: {n} / {n} test cases linked back" in pipeline


@pytest.mark.slow
def test_failures_are_attributed_to_the_right_parameter(reduced: DemoResult) -> None:
    by_test = {a.behaviour: a for a in reduced.attributions}
    fk = by_test["test_foreign_key_violation_refused"]
    assert fk.failures > 0
    assert fk.params[0] == "pragma.foreign_keys"
    shrink = by_test["test_deleting_rows_shrinks_file"]
    # 12 runs over three auto_vacuum classes may be too few for significance: when a
    # parameter is named, it must be the right one.
    assert shrink.failures > 0 and shrink.params[:1] in ((), ("pragma.auto_vacuum",))
    assert by_test["test_write_heavy_workload"].failures == 0


@pytest.mark.slow
def test_same_seed_same_configs(reduced: DemoResult) -> None:
    from configlab.generation import generate, prioritize
    from configlab.results import ResultStore, config_key
    from configlab.space import Space

    space = Space.load(EXAMPLE / "space.yaml")
    expected = set()
    for strategy, count in (("covering", None), ("boundary", 16)):
        configs = list(generate(space, strategy=strategy, seed=7, count=count))
        head = prioritize(configs, space, strength=2).head(REDUCED_MAX).configs
        expected |= {config_key(c) for c in head}
    store = ResultStore(reduced.out_dir / "store")
    try:
        ran = {r.config_key for r in store.load(run_id="configlab-demo-7")}
    finally:
        store.close()
    assert ran == expected


@pytest.mark.slow
def test_reproduce_commands_in_the_report_reproduce_the_failure(reduced: DemoResult) -> None:
    text = reduced.report.read_text(encoding="utf-8")
    fk = next(a for a in reduced.attributions
              if a.behaviour == "test_foreign_key_violation_refused")
    assert fk.snapshot_id is not None
    replay = next(line for line in text.splitlines()
                  if line.startswith("pytest ") and "test_foreign_key_violation_refused" in line)
    args = shlex.split(replay)[1:]
    store = reduced.out_dir / "store"
    args[args.index("--configlab-store") + 1] = str(store)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, capture_output=True, text=True, check=False)
    assert completed.returncode == 1, completed.stdout[-2000:]
    assert re.search(r"1 failed", completed.stdout)
    assert "a payment referencing a missing account was stored" in completed.stdout
    restore = next(line for line in text.splitlines()
                   if line.startswith("configlab snapshot restore") and fk.snapshot_id[:12] in line)
    target = reduced.out_dir / "repro"
    result = CliRunner().invoke(cli, ["snapshot", "restore", fk.snapshot_id[:12], str(target),
                                      "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert restore.split()[3] == fk.snapshot_id[:12]
    assert '"foreign_keys": false' in (target / "config.json").read_text()


def test_pytest_that_cannot_run_is_a_configlab_error(tmp_path: Path) -> None:
    from configlab.demo import _run_pytest

    command = [sys.executable, "-m", "pytest", str(tmp_path / "missing_test.py"), "-q"]
    with pytest.raises(ConfiglabError, match="pytest exited with status 4"):
        _run_pytest(command, tmp_path)
