"""configlab.integrations.ci and ``configlab ci``: end to end on a tiny real program, every exit
code."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from configlab.cli import EXIT_COVERAGE, EXIT_FAILURES, EXIT_OK, EXIT_USAGE, cli
from configlab.errors import IntegrationError
from configlab.integrations.ci import Annotation, load_ci_config, run_ci
from configlab.results import ResultSet
from tests.paths import DATA_DIR

DATA = DATA_DIR
PYTHON = shlex.quote(sys.executable)
#: pool >= 2 never triggers app.py's bug; pool 1 with the cache off does.
SAFE_SPACE = """name: safe
parameters:
  db.pool: {type: int, min: 2, max: 16}
  cache.enabled: bool
"""


def _project(tmp_path: Path, steps: str, space: str | None = None) -> Path:
    shutil.copy(DATA / "ci" / "app.py", tmp_path / "app.py")
    if space is None:
        shutil.copy(DATA / "ci" / "space.yaml", tmp_path / "space.yaml")
    else:
        (tmp_path / "space.yaml").write_text(space)
    config = tmp_path / "ci.yaml"
    config.write_text("space: space.yaml\nsteps:\n" + steps)
    return config


RUN = f'  - run: {{command: "{PYTHON} app.py --config {{config}}", timeout: 30}}\n'
GENERATE = "  - generate: {strategy: covering, strength: 2, seed: 7, out: configs/, format: json}\n"


def _invoke(config: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(cli, ["ci", "--config", str(config)], env=env or {})
    return result.exit_code, result.stdout, result.stderr


def test_exit_0_when_everything_passes(tmp_path: Path) -> None:
    config = _project(tmp_path, GENERATE + RUN + "  - coverage: {strength: 2, fail_under: 1.0}\n"
                      "  - export: {junit: out/results.xml, markdown: out/summary.md}\n",
                      SAFE_SPACE)
    code, out, err = _invoke(config, {"GITHUB_ACTIONS": "true"})
    assert code == EXIT_OK, err
    assert "::error" not in out
    assert "step 2 (run): ok" in err and "coverage 100.0%" in err
    assert (tmp_path / "out" / "results.xml").is_file()
    stored = ResultSet.from_store(tmp_path / ".configlab")
    assert len(stored) > 0 and all(r.snapshot_id for r in stored)


def test_directive_configs_are_run_and_snapshotted(tmp_path: Path) -> None:
    """A redis.conf-style suite: files named .conf, written as directives, snapshotted in that
    format (a .conf name alone does not tell the store the format)."""
    space = "parameters:\n  maxmemory: {type: int, min: 0, max: 1024}\n  appendonly: [yes, no]\n"
    check = (f"{PYTHON} -c \"import sys; t = open(sys.argv[1]).read(); "
             f"sys.exit(0 if t.startswith('maxmemory ') else 1)\" {{config}}")
    config = _project(tmp_path, "  - generate: {strategy: covering, seed: 1, out: configs/, "
                      "format: directive}\n"
                      f"  - run: {{command: {json.dumps(check)}, timeout: 30}}\n", space)
    code, _, err = _invoke(config)
    assert code == EXIT_OK, err
    files = sorted((tmp_path / "configs").glob("config-*.conf"))
    assert files and files[0].read_text().startswith("maxmemory ")
    stored = ResultSet.from_store(tmp_path / ".configlab")
    assert len(stored) == len(files) and all(r.snapshot_id for r in stored)


def test_exit_1_with_annotations_and_step_summary(tmp_path: Path) -> None:
    config = _project(tmp_path, GENERATE + RUN + "  - coverage: {strength: 2}\n"
                      "  - analyze: {md: analysis.md, json: analysis.json, png: charts/}\n"
                      "  - export: {junit: out/results.xml, ctrf: out/ctrf.json,"
                      " allure: out/allure/, markdown: out/summary.md}\n")
    summary = tmp_path / "step-summary.md"
    summary.write_text("previous step\n")
    code, out, _ = _invoke(config, {"GITHUB_ACTIONS": "true",
                                    "GITHUB_STEP_SUMMARY": str(summary)})
    assert code == EXIT_FAILURES
    errors = [line for line in out.splitlines() if line.startswith("::error ")]
    assert errors, out
    first = errors[0]
    assert first.startswith("::error file=configs/config-")
    assert "title=configlab%3A run failed (exit 1)::exit 1 under configs/config-" in first
    assert "%0Aconnection pool exhausted" in first and "replay: configlab snapshot restore" in first
    text = summary.read_text()
    assert text.startswith("previous step\n## ❌ configlab ci")
    assert "### Failures" in text and "### Coverage" in text and "### Top suspects" in text
    assert (tmp_path / "analysis.md").read_text().startswith("## configlab analysis")
    assert json.loads((tmp_path / "analysis.json").read_text())["schema"]
    assert (tmp_path / "charts" / "impact.png").stat().st_size > 0
    assert list((tmp_path / "out" / "allure").glob("*-result.json"))
    # without GITHUB_ACTIONS: same exit code, no workflow commands
    code, out, _ = _invoke(config)
    assert code == EXIT_FAILURES and "::error" not in out


def test_exit_3_when_coverage_is_below_threshold(tmp_path: Path) -> None:
    steps = ("  - generate: {strategy: random, count: 2, seed: 1, out: configs/, format: json}\n"
             + RUN + "  - coverage: {strength: 2, fail_under: 0.95}\n")
    config = _project(tmp_path, steps, SAFE_SPACE)
    code, out, err = _invoke(config, {"GITHUB_ACTIONS": "1"})
    assert code == EXIT_COVERAGE, err
    assert "::error file=space.yaml,title=configlab%3A coverage below threshold::" in out
    assert "below-threshold" in err


@pytest.mark.parametrize(("steps", "match"), [
    ("  - deploy: {}\n", "unknown step 'deploy'"),
    ("  - generate: {out: c/, colour: red}\n", "unknown option"),
    ("  - generate: {strength: 2}\n", "'out' is required"),
    ("  - generate: {out: c/, seed: yes}\n", "'seed' must be int"),
    ("  - coverage: {fail_under: 2}\n", "between 0 and 1"),
    (RUN, "needs a 'generate' step before it"),
    ("  - export: {}\n", "name at least one output"),
    ("  - ingest: {reports: 3}\n", "'reports' must be list or str"),
    ("  - [1, 2]\n", "expected one '<kind>: {options}' mapping"),
    ("  - generate: [1]\n", "options must be a mapping"),
])
def test_exit_2_on_bad_configuration(tmp_path: Path, steps: str, match: str) -> None:
    config = _project(tmp_path, steps)
    code, _, err = _invoke(config)
    assert code == EXIT_USAGE
    assert match in err and "ci.yaml" in err


def test_exit_2_on_bad_files(tmp_path: Path) -> None:
    assert _invoke(tmp_path / "missing.yaml")[0] == EXIT_USAGE
    bad = tmp_path / "bad.yaml"
    for text, match in (("steps: [\n", "bad.yaml"), ("steps: []\n", "non-empty list"),
                        ("colour: 1\nsteps: [export: {csv: x}]\n", "unknown key"),
                        ("steps: [coverage]\n", "need 'space'"),
                        ("space: [1]\nsteps: [analyze: {md: a.md}]\n", "'space' must be a path"),
                        ("store: 3\nsteps: [analyze: {md: a.md}]\n", "must be strings")):
        bad.write_text(text)
        with pytest.raises(IntegrationError, match=match):
            load_ci_config(bad)
    bad.write_text("space: nowhere.yaml\nsteps: [analyze: {md: a.md}]\n")
    with pytest.raises(IntegrationError, match=r"space nowhere\.yaml"):
        run_ci(bad)
    config = _project(tmp_path, "  - generate: {out: configs/, format: yaml2}\n")
    code, _, err = _invoke(config)
    assert code == EXIT_USAGE and "unknown format 'yaml2'" in err
    config.write_text("space: space.yaml\nsteps:\n  - ingest: {reports: [none/*.xml],"
                      " required: true}\n")
    code, _, err = _invoke(config)
    assert code == EXIT_USAGE and "no report matched" in err


def test_timeouts_and_unstartable_commands_are_errors(tmp_path: Path) -> None:
    slow = f'  - run: {{command: "{PYTHON} -c \\"import time; time.sleep(10)\\"", timeout: 0.3}}\n'
    steps = ("  - generate: {strategy: random, count: 1, seed: 1, out: configs/, format: json}\n"
             + slow + '  - run: {command: "./no-such-program {config}", name: ghost}\n')
    config = _project(tmp_path, steps, SAFE_SPACE)
    report = run_ci(config, environ={}, emit=lambda line: None)
    assert report.exit_code == EXIT_FAILURES
    assert report.counts == {"pass": 0, "fail": 0, "error": 2, "skip": 0}
    titles = [a.title for a in report.annotations]
    assert any("timed out after 0.3 s" in t for t in titles)
    assert any(t.startswith("configlab: ghost failed (cannot start") for t in titles)


def test_shell_commands_env_and_json_output(tmp_path: Path) -> None:
    steps = ("  - generate: {strategy: random, count: 2, seed: 3, out: configs/, format: json}\n"
             f'  - run: {{command: "test -n \\"$MARK\\" && {PYTHON} app.py --config {{config}}",'
             ' shell: true, env: {MARK: on}}\n')
    config = _project(tmp_path, steps, SAFE_SPACE)
    result = CliRunner().invoke(cli, ["ci", "--config", str(config), "--json"], env={})
    assert result.exit_code == EXIT_OK, result.stderr
    data = json.loads(result.stdout)
    assert data["exit_code"] == 0 and data["counts"]["pass"] == 2
    assert [s["step"] for s in data["steps"]] == ["step 1 (generate)", "step 2 (run)"]


def test_ingest_step_reads_foreign_reports(tmp_path: Path) -> None:
    reports = tmp_path / "build" / "test-results"
    reports.mkdir(parents=True)
    shutil.copy(DATA / "reports" / "jenkins-xunit-ctest.xml", reports / "ctest.xml")
    config = _project(tmp_path, "  - ingest: {reports: [build/test-results/*.xml]}\n"
                      "  - ingest: {reports: nothing/*.xml}\n"
                      "  - export: {markdown: summary.md}\n")
    report = run_ci(config, environ={"GITHUB_ACTIONS": "true"}, emit=lambda line: None)
    assert report.exit_code == EXIT_FAILURES
    assert report.counts == {"pass": 2, "fail": 1, "error": 0, "skip": 1}
    levels = sorted({(a.level, a.title) for a in report.annotations})
    assert ("warning", "configlab ingest") in levels
    assert any(a.file == "build/test-results/ctest.xml" and a.level == "error"
               for a in report.annotations)
    assert "service_start_config-0002" in (tmp_path / "summary.md").read_text()


def test_verify_step_fails_on_violated_rules(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: service\nversion: '1'\nrules:\n"
                    "  - id: starts\n    when: 'true'\n    expect:\n      - exit_code: 0\n")
    steps = (GENERATE + f'  - verify: {{spec: spec.yaml, command: "{PYTHON} app.py --config'
             ' {config}", timeout: 30}\n')
    config = _project(tmp_path, steps)
    report = run_ci(config, environ={}, emit=lambda line: None)
    assert report.exit_code == EXIT_FAILURES
    assert any(a.title == "configlab: spec rule starts violated" for a in report.annotations)
    (tmp_path / "space.yaml").write_text(SAFE_SPACE)
    assert run_ci(config, environ={}, emit=lambda line: None).exit_code == EXIT_OK


def test_annotation_escaping() -> None:
    note = Annotation("warning", "a:b,c", "50%\r\ndone", file="x,y.yaml")
    assert note.github() == "::warning file=x%2Cy.yaml,title=a%3Ab%2Cc::50%25%0D%0Adone"
