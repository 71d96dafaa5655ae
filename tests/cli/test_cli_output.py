"""Output options are the same on every command: a PATH, and `-` (or the bare option) for stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from configlab.cli import EXIT_USAGE, cli
from configlab.results import Result, ResultSet

SPACE = "parameters:\n  db: [sqlite, postgres]\n  cache: bool\n"


@pytest.fixture()
def results_file(tmp_path: Path) -> Path:
    rows = [
        Result({"db": db, "cache": cache}, "fail" if db == "postgres" and not cache else "pass",
               test_id=f"t.py::test[{index}]")
        for index, (db, cache) in enumerate(
            [(db, cache) for db in ("sqlite", "postgres") for cache in (False, True)] * 4
        )
    ]
    return ResultSet(rows).to_jsonl(tmp_path / "results.jsonl")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_analyze_md_takes_a_path_like_the_ci_file(results_file: Path, tmp_path: Path) -> None:
    # The README's command: --md PATH followed by another option.
    out = tmp_path / "out" / "analysis.md"
    code, stdout, err = _run("analyze", "--results", str(results_file), "--md", str(out),
                             "--png", str(tmp_path / "charts"))
    assert code == 0, err
    assert out.read_text().startswith("## configlab analysis")
    assert "Failure patterns" in stdout and not stdout.startswith("##")  # text report on stdout
    assert f"wrote {out}" in err and (tmp_path / "charts" / "impact.png").is_file()


@pytest.mark.parametrize("form", [["--md"], ["--md", "-"]])
def test_analyze_md_alone_or_dash_prints(results_file: Path, form: list[str]) -> None:
    code, stdout, _ = _run("analyze", "--results", str(results_file), *form)
    assert code == 0 and stdout.startswith("## configlab analysis")


def test_analyze_json_and_md_to_files_together(results_file: Path, tmp_path: Path) -> None:
    code, _, _ = _run("analyze", "--results", str(results_file), "--json",
                      str(tmp_path / "a.json"), "--md", str(tmp_path / "a.md"))
    assert code == 0
    assert json.loads((tmp_path / "a.json").read_text())["summary"]["n_failures"] == 4
    assert (tmp_path / "a.md").read_text().startswith("## configlab analysis")


def test_unwritable_output_is_a_one_line_error(results_file: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = _run("analyze", "--results", str(results_file), "--md",
                        str(blocker / "analysis.md"))
    assert code == EXIT_USAGE
    assert err.startswith("configlab: error: ") and "cannot write" in err
    assert len(err.strip().splitlines()) == 1


def test_coverage_json_path_and_stdout(results_file: Path, tmp_path: Path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    out = tmp_path / "coverage.json"
    code, stdout, _ = _run("coverage", "--space", str(space), "--results", str(results_file),
                           "--json", str(out))
    assert code == 0 and json.loads(out.read_text())["ratio"] == 1.0
    assert "Combinatorial coverage" in stdout
    code, stdout, _ = _run("coverage", "--space", str(space), "--results", str(results_file),
                           "--json")
    assert code == 0 and json.loads(stdout)["ratio"] == 1.0


def test_ingest_and_report_json_take_a_path(results_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "counts.json"
    code, _, _ = _run("ingest", str(results_file), "--json", str(out))
    assert code == 0 and json.loads(out.read_text())["results"] == 16
    out = tmp_path / "written.json"
    code, _, _ = _run("report", "--results", str(results_file), "--to", "csv", "-o",
                      str(tmp_path / "r.csv"), "--json", str(out))
    assert code == 0 and json.loads(out.read_text())["results"] == 16


def _json_forms(tmp_path: Path, name: str, *command: str) -> object:
    """Run ``command --json``, ``--json -`` and ``--json PATH`` (in a new directory); the
    three give the same JSON, and the file form says on stderr what it wrote."""
    code, bare, err = _run(*command, "--json")
    assert code in (0, 1), err
    code, dash, err = _run(*command, "--json", "-")
    assert code in (0, 1), err
    target = tmp_path / "reports" / name / "out.json"  # parents are created
    code, stdout, err = _run(*command, "--json", str(target))
    assert code in (0, 1), err
    assert f"wrote {target}" in err and str(target) not in stdout
    assert json.loads(bare) == json.loads(dash) == json.loads(target.read_text())
    return json.loads(bare)


def test_json_takes_a_path_on_snapshot_space_spec_and_prioritize(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    config = tmp_path / "app.yaml"
    config.write_text("db: sqlite\ncache: true\n")
    code, snap_id, err = _run("snapshot", "capture", str(config), "--store", store, "--tag", "a")
    assert code == 0, err
    config.write_text("db: postgres\ncache: true\n")
    assert _run("snapshot", "capture", str(config), "--store", store, "--tag", "b")[0] == 0
    listed = _json_forms(tmp_path, "list", "snapshot", "list", "--store", store)
    assert listed[0]["id"] == snap_id.strip()  # type: ignore[index]
    shown = _json_forms(tmp_path, "show", "snapshot", "show", "a", "--store", store)
    assert shown["id"] == snap_id.strip()  # type: ignore[index]
    entries = _json_forms(tmp_path, "diff", "snapshot", "diff", "a", "b", "--store", store)
    assert any(e["path"] == "db" for e in entries)  # type: ignore[union-attr]
    verified = _json_forms(tmp_path, "verify", "snapshot", "verify", "--store", store)
    assert verified["ok"] is True  # type: ignore[index]
    checked = _json_forms(tmp_path, "check", "space", "check", str(space), "-c", str(config))
    assert checked["configs"][0]["valid"] is True  # type: ignore[index]
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: s\nversion: '1'\nspace: space.yaml\nrules:\n"
                    "  - id: r1\n    when: db == 'sqlite'\n    expect: {outcome: pass}\n")
    linted = _json_forms(tmp_path, "lint", "spec", "lint", str(spec))
    assert "contradictions" in json.dumps(linted)
    suite = tmp_path / "suite.jsonl"
    assert _run("generate", "--space", str(space), "--jsonl", str(suite))[0] == 0
    order = _json_forms(tmp_path, "prioritize", "prioritize", "--space", str(space), str(suite))
    assert sorted(order["order"]) == list(range(len(suite.read_text().splitlines())))  # type: ignore[index]
