"""``configlab spec``: verify, lint, diff and show from the command line."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from junitparser import JUnitXml

from tests.cli.conftest import CliRun
from tests.paths import DATA_DIR

DATA = DATA_DIR / "specs"
APP = f"{shlex.quote(sys.executable)} {shlex.quote(str(DATA / 'app.py'))} {{config}}"


def test_verify_violations_exit_1_and_write_all_reports(cli_run: CliRun, tmp_path: Path) -> None:
    store = tmp_path / "store"
    code, out, _ = cli_run(
        "spec",
        "verify",
        str(DATA / "spec_v1.yaml"),
        "--run",
        APP,
        "--timeout",
        "1",
        "--workers",
        "4",
        "--max-per-rule",
        "1",
        "--store",
        str(store),
        "--json",
        str(tmp_path / "r.json"),
        "--junit",
        str(tmp_path / "r.xml"),
        "--md",
        str(tmp_path / "r.md"),
        "--no-progress",
    )
    assert code == 1, out
    assert "violated  safe-mode-announced" in out
    assert "errored on snapshot" in out and "timeout after 1 s" in out
    assert "FAILED: demo-app@1" in out
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["totals"]["violated"] == 1 and data["totals"]["errored"] == 1
    assert len(list(JUnitXml.fromfile(str(tmp_path / "r.xml")))) == 6
    assert "## Violations" in (tmp_path / "r.md").read_text()
    # the violation's snapshot restores the config that broke the rule
    violation = next(r for r in data["rules"] if r["status"] == "violated")["checks"][0]
    code, out, _ = cli_run(
        "snapshot",
        "restore",
        violation["snapshot_id"],
        str(tmp_path / "repro"),
        "--store",
        str(store),
    )
    assert code == 0, out
    restored = list((tmp_path / "repro").iterdir())
    assert [p.name for p in restored] == ["config.yaml"]
    # and the spec that judged it is kept in the store
    code, out, _ = cli_run("spec", "show", data["spec"]["hash"], "--store", str(store))
    assert code == 0 and json.loads(out)["version"] == "1"
    code, _, _ = cli_run(
        "spec", "show", "spec:demo-app@1", "--store", str(store), "-o", str(tmp_path / "spec.json")
    )
    assert code == 0 and json.loads((tmp_path / "spec.json").read_text())["name"] == "demo-app"
    code, _, err = cli_run(
        "spec",
        "show",
        "spec:demo-app@1",
        "--store",
        str(store),
        "-o",
        str(tmp_path / "spec.json" / "x.json"),  # a parent that is a file
    )
    assert code == 2 and "cannot write" in err


def test_verify_all_held_exits_0_and_json_to_stdout(cli_run: CliRun, tmp_path: Path) -> None:
    code, out, _ = cli_run(
        "spec",
        "verify",
        str(DATA / "spec_v2.yaml"),
        "--run",
        APP,
        "--timeout",
        "10",
        "--no-store",
        "--json",
        "-",
        "--max-per-rule",
        "1",
        "--format",
        "json",
    )
    assert code == 0, out
    report = json.loads(out)
    assert report["ok"] is True and report["spec"]["snapshot"] is None
    assert {r["status"] for r in report["rules"]} == {"held"}


def test_verify_with_pytest_node(cli_run: CliRun, tmp_path: Path) -> None:
    spec = tmp_path / "pt.yaml"
    spec.write_text(
        "name: pt\nversion: 1\nspace:\n  parameters:\n    cache:\n"
        "      size: {type: int, min: 1, max: 64}\n"
        "rules:\n  - id: small\n    when: cache.size == 4\n    expect: [{outcome: pass}]\n"
    )
    node = f"{DATA / 'check_app.py'}::test_app"
    code, out, _ = cli_run(
        "spec",
        "verify",
        str(spec),
        "--pytest",
        node,
        "--no-store",
        env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert code == 0, out
    assert "OK: pt@1" in out


def test_verify_usage_errors_exit_2(cli_run: CliRun, tmp_path: Path) -> None:
    code, _, err = cli_run("spec", "verify", str(DATA / "spec_v1.yaml"))
    assert code == 2 and "exactly one of --run" in err
    code, _, err = cli_run("spec", "verify", str(DATA / "spec_v1.yaml"), "--run", "x",
                           "--pytest", "y")
    assert code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: t\nversion: 1\nrules:\n  - id: r\n    expect: [{exit: 0}]\n")
    code, _, err = cli_run("spec", "verify", str(bad), "--run", "true")
    assert code == 2 and "bad.yaml: rule 'r': unknown expectation key 'exit'" in err


def test_lint(cli_run: CliRun, tmp_path: Path) -> None:
    code, out, _ = cli_run("spec", "lint", str(DATA / "contradictory.yaml"))
    assert code == 1
    assert "rules 'fast-when-small' and 'slow-when-enabled' contradict" in out
    assert "witness config" in out and "rule 'never' is dead" in out
    code, out, _ = cli_run("spec", "lint", str(DATA / "contradictory.yaml"), "--json")
    assert code == 1 and json.loads(out)["dead"][0]["rule"] == "never"
    code, out, _ = cli_run("spec", "lint", str(DATA / "spec_v1.yaml"))
    assert code == 0 and "demo-app@1: ok" in out
    code, out, _ = cli_run(
        "spec", "lint", str(DATA / "demo.feature"), "--space", str(DATA / "space.yaml")
    )
    assert code == 0, out


def test_diff(cli_run: CliRun) -> None:
    code, out, _ = cli_run("spec", "diff", str(DATA / "spec_v1.yaml"), str(DATA / "spec_v2.yaml"))
    assert code == 0
    assert "+ rule safe-mode-prints-mode" in out and "- rule never-hangs" in out
    assert "~ rule small-cache-ok: when changed" in out
    code, out, _ = cli_run(
        "spec", "diff", str(DATA / "spec_v1.yaml"), str(DATA / "spec_v2.yaml"), "--json"
    )
    assert code == 0 and json.loads(out)["removed"] == ["safe-mode-announced", "never-hangs"]
