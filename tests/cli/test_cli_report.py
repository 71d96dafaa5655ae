"""``configlab report``, ``configlab ingest`` and ``configlab analyze``."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from configlab.cli import EXIT_USAGE
from configlab.integrations.ingest import from_ctrf, from_junit, load_results
from configlab.results import Result, ResultSet
from configlab.snapshots import SnapshotStore
from tests.cli.conftest import CliRun
from tests.paths import DATA_DIR

REPORTS = DATA_DIR / "reports"
SPACE = """parameters:
  db: [sqlite, postgres]
  cache: bool
  workers: {type: int, min: 1, max: 4}
"""


@pytest.fixture()
def results_file(tmp_path: Path) -> Path:
    rows = []
    combos = itertools.product(["sqlite", "postgres"], [False, True], [1, 2, 3, 4])
    for i, (db, cache, workers) in enumerate(combos):
        outcome = "fail" if db == "postgres" and not cache else "pass"
        rows.append(Result({"db": db, "cache": cache, "workers": workers}, outcome,
                           duration=0.1 * (i + 1), test_id=f"t.py::test[{i}]",
                           snapshot_id=f"{i:064x}"))
    return ResultSet(rows).to_jsonl(tmp_path / "results.jsonl")


def test_report_every_format(cli_run: CliRun, results_file: Path, tmp_path: Path) -> None:
    expected = ResultSet.from_jsonl(results_file)
    for fmt in ("junit", "ctrf", "csv", "parquet", "jsonl"):
        out = tmp_path / f"out.{fmt}"
        code, stdout, _ = cli_run("report", "--results", str(results_file), "--to", fmt,
                               "-o", str(out), "--json")
        assert code == 0
        assert json.loads(stdout) == {"format": fmt, "output": str(out), "results": 16}
        assert load_results(out) == expected
    code, _, err = cli_run("report", "--results", str(results_file), "--to", "allure",
                        "-o", str(tmp_path / "allure"))
    assert code == 0 and "wrote 16 results as allure" in err
    assert len(list((tmp_path / "allure").glob("*-result.json"))) == 16


def test_report_markdown_with_space(cli_run: CliRun, results_file: Path, tmp_path: Path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    out = tmp_path / "summary.md"
    code, _, _ = cli_run("report", "--results", str(results_file), "--to", "markdown",
                      "-o", str(out), "--space", str(space))
    assert code == 0
    text = out.read_text()
    assert "### Failures (4)" in text and "### Coverage (strength 2, 16 runs)" in text
    assert "### Top suspects" in text and "db == postgres" in text and "cache == false" in text
    code, _, _ = cli_run("report", "--results", str(results_file), "--to", "markdown",
                      "-o", str(out))
    assert code == 0 and "Top suspects" not in out.read_text()


def test_ingest_reports(cli_run: CliRun, tmp_path: Path) -> None:
    store = tmp_path / "store"
    with SnapshotStore(store) as snapshots:
        snapshots.save_config({"db": {"pool": 1}, "cache": {"enabled": False},
                               "log_level": "debug"}, "config.json")
    jsonl = tmp_path / "all.jsonl"
    code, stdout, err = cli_run("ingest", str(REPORTS / "jenkins-xunit-ctest.xml"),
                             str(REPORTS / "ctrf-report.json"), "--store", str(store),
                             "--to-jsonl", str(jsonl), "--record", "--run-id", "ci-9")
    assert code == 0, err
    assert "jenkins-xunit-ctest.xml (junit): 4 results, 3 linked to a config" in stdout
    assert "ctrf-report.json (ctrf): 6 results, 5 linked" in stdout
    assert "configlab: warning:" in err and "could not be read" in err
    everything = ResultSet.from_jsonl(jsonl)
    assert len(everything) == 10 and {r.run_id for r in everything} == {"ci-9"}
    assert everything[1].config["db"]["pool"] == 1
    assert len(ResultSet.from_store(store)) == 10
    code, stdout, _ = cli_run("ingest", str(REPORTS / "pytest-json-report.json"), "--json",
                           "--store", str(tmp_path / "nowhere"))
    data = json.loads(stdout)
    assert code == 0 and data["results"] == 10
    assert data["reports"][0] | {"report": ""} == {
        "report": "", "format": "pytest-json", "results": 10, "linked": 6,
        "pass": 5, "fail": 2, "error": 1, "skip": 2}


def test_analyze_text_json_md_png(cli_run: CliRun, results_file: Path, tmp_path: Path) -> None:
    code, stdout, _ = cli_run("analyze", "--results", str(results_file))
    assert code == 0 and "Failure patterns" in stdout and "db" in stdout
    code, stdout, _ = cli_run("analyze", "--results", str(results_file), "--json")
    data = json.loads(stdout)
    assert code == 0 and data["summary"]["n_failures"] == 4
    assert data["schema"] == "configlab.analysis/1"  # the documented name, not a module path
    top = set(data["patterns"][0]["condition"].split(" and "))
    assert top == {"db == postgres", "cache == false"}
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    code, stdout, err = cli_run("analyze", "--results", str(results_file), "--space", str(space),
                             "--md", "--png", str(tmp_path / "png"))
    assert code == 0 and stdout.startswith("## configlab analysis")
    assert (tmp_path / "png" / "impact.png").stat().st_size > 0 and "wrote" in err
    # foreign reports are analysed directly
    code, stdout, _ = cli_run("analyze", "--results", str(REPORTS / "ctrf-report.json"), "--json")
    assert code == 0 and json.loads(stdout)["summary"]["n_rows"] == 6


def test_read_commands_reject_bad_input(
    cli_run: CliRun, results_file: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<testsuite><testcase></testsuite>")
    for args in (
        ("report", "--results", str(bad), "--to", "junit", "-o", str(tmp_path / "x")),
        ("ingest", str(bad)),
        ("analyze", "--results", str(bad)),
        ("analyze", "--results", str(results_file), "--json", "--md"),
        ("report", "--results", str(results_file), "--to", "html", "-o", "x"),
    ):
        code, _, err = cli_run(*args)
        assert code == EXIT_USAGE, args
    code, _, err = cli_run("ingest", str(bad))
    assert "bad.xml:1:" in err and "malformed XML" in err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    empty_csv = tmp_path / "empty.csv"
    empty_csv.write_text("outcome\n")
    code, _, err = cli_run("analyze", "--results", str(empty_csv))
    assert code == EXIT_USAGE and "no results to analyse" in err
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = cli_run("analyze", "--results", str(results_file), "--png",
                        str(blocker / "sub"))
    assert code == EXIT_USAGE and "cannot create" in err


def test_cli_exports_read_back(cli_run: CliRun, results_file: Path, tmp_path: Path) -> None:
    junit, ctrf = tmp_path / "j.xml", tmp_path / "c.json"
    cli_run("report", "--results", str(results_file), "--to", "junit", "-o", str(junit))
    cli_run("report", "--results", str(results_file), "--to", "ctrf", "-o", str(ctrf))
    assert from_junit(junit) == from_ctrf(ctrf) == ResultSet.from_jsonl(results_file)


def test_analyze_asks_for_one_blas_thread_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before numpy loads, analyze sets one BLAS thread (extra threads only spin on a busy
    machine); a user's own setting is kept, and once numpy is loaded nothing is touched."""
    import os
    import sys

    import numpy  # noqa: F401 - the first call below finds it loaded

    from configlab.cli import report_cmd

    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    for name in names:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    report_cmd._single_threaded_blas()  # numpy is loaded in this process: no change
    assert "OPENBLAS_NUM_THREADS" not in os.environ
    monkeypatch.delitem(sys.modules, "numpy")
    report_cmd._single_threaded_blas()
    assert [os.environ.get(name) for name in names] == ["1", "1", "3"]
