"""configlab.integrations.exporters: JUnit XML, Allure results, CTRF, Markdown, CSV and Parquet."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from junitparser import Error, Failure, JUnitXml, Skipped

from configlab.analysis import analyze
from configlab.coverage import measure
from configlab.errors import IntegrationError
from configlab.integrations import exporters, ingest
from configlab.results import Result, ResultSet, canonical_json
from configlab.space import Space
from tests.paths import DATA_DIR

SCHEMAS = DATA_DIR / "report-schemas"
REPORTS = DATA_DIR / "reports"
SNAP = "959de03113b8e6e53a84e66da09944b428cfa37babe77354ac29a3fc1e907bea"


def _sample() -> ResultSet:
    return ResultSet([
        Result({"db": {"pool": 1}, "cache": {"enabled": False}, "tag": "8"}, "fail",
               duration=1.25, metrics={"latency_ms": 12.5}, snapshot_id=SNAP,
               test_id="tests/test_app.py::test_start[c1]", run_id="ci-7",
               timestamp="2024-05-02T10:15:03+00:00", stdout="starting\nready on :8080\n",
               stderr="Traceback (most recent call last):\nMemoryError: OOM command not allowed\n"),
        Result({"db": {"pool": 4}, "cache": {"enabled": True}, "tag": "x|y"}, "pass",
               duration=0.5, test_id="tests/test_app.py::test_start[c2]", run_id="ci-7"),
        Result({"db": {"pool": 8}, "cache": {"enabled": True}, "tag": None}, "error",
               test_id="com.example.AppTest::boot", run_id="ci-8", stdout="no newline at end"),
        Result({}, "skip", test_id="plain-id"),
        Result({"labels": {"a.b": [1, 2]}, "empty": {}}, "pass"),
    ])


def test_junit_export_parses_back_with_junitparser(tmp_path: Path) -> None:
    results = _sample()
    path = exporters.to_junit(results, tmp_path / "junit.xml")
    xml = JUnitXml.fromfile(str(path))
    suites = list(xml)
    assert [s.name for s in suites] == ["ci-7", "ci-8", "configlab"]
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (5, 1, 1, 1)
    cases = [case for suite in suites for case in suite]
    first = cases[0]
    assert (first.classname, first.name, first.time) == (
        "tests/test_app.py", "test_start[c1]", 1.25)
    assert isinstance(first.result[0], Failure)
    assert "replay: pytest 'tests/test_app.py::test_start[c1]' --configlab-replay 959de03113b8" \
        in first.result[0].message
    props = {p.get("name"): p.get("value") for p in first._elem.iterfind("properties/property")}
    assert props["configlab.snapshot_id"] == SNAP
    assert props["config.db.pool"] == "1" and props["config.tag"] == '"8"'
    assert props["configlab.metric.latency_ms"] == "12.5"
    assert isinstance(cases[2].result[0], Error) and isinstance(cases[3].result[0], Skipped)
    assert cases[2].time is None  # no duration: no time attribute
    assert cases[4].classname == "configlab" and cases[4].name.startswith("config-")
    # and configlab reads its own export back exactly
    assert ingest.from_junit(path) == results


def test_allure_results_validate_against_the_model_schema(tmp_path: Path) -> None:
    schema = json.loads((SCHEMAS / "allure-result.schema.json").read_text())
    out = exporters.to_allure(_sample(), tmp_path / "allure-results",
                              environment={"app": "service 2.1"},
                              snapshot_url="https://ci.example/snap/{snapshot_id}")
    files = sorted(out.glob("*-result.json"))
    assert len(files) == 5
    statuses = []
    for file in files:
        data = json.loads(file.read_text())
        jsonschema.validate(data, schema)
        assert file.name == f"{data['uuid']}-result.json"
        for key in ("name", "fullName", "status", "start", "stop", "labels", "parameters",
                    "links", "historyId"):
            assert key in data
        assert data["stop"] >= data["start"]
        for attachment in data["attachments"]:
            assert (out / attachment["source"]).is_file()
        statuses.append(data["status"])
        config_file = out / data["attachments"][0]["source"]
        params = {p["name"]: p["value"] for p in data["parameters"]}
        if data["fullName"] == "tests/test_app.py::test_start[c1]":
            assert json.loads(config_file.read_text())["db"] == {"pool": 1}
            assert params["db.pool"] == "1"
            assert data["links"][0]["url"] == f"https://ci.example/snap/{SNAP}"
            assert data["statusDetails"]["message"].startswith("configlab outcome: fail")
            assert {"name": "parentSuite", "value": "ci-7"} in data["labels"]
            # config, metrics and the two output tails
            assert [a["name"] for a in data["attachments"]] == ["config", "metrics", "stdout",
                                                                 "stderr"]
            assert data["statusDetails"]["trace"].endswith("MemoryError: OOM command not allowed")
    assert sorted(statuses) == ["broken", "failed", "passed", "passed", "skipped"]
    env = (out / "environment.properties").read_text()
    assert "app=service 2.1\n" in env and "configlab.results=5\n" in env
    categories = json.loads((out / "categories.json").read_text())
    assert {c["matchedStatuses"][0] for c in categories} == {"failed", "broken", "skipped"}
    bad = {"uuid": "x", "status": "exploded"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_outputs_are_deterministic(tmp_path: Path) -> None:
    for run in ("a", "b"):
        exporters.to_allure(_sample(), tmp_path / run / "allure")
        exporters.to_ctrf(_sample(), tmp_path / run / "ctrf.json")
        exporters.to_junit(_sample(), tmp_path / run / "junit.xml")
        exporters.to_parquet(_sample(), tmp_path / run / "r.parquet")
    for path in sorted((tmp_path / "a").rglob("*")):
        if path.is_file():
            twin = tmp_path / "b" / path.relative_to(tmp_path / "a")
            assert path.read_bytes() == twin.read_bytes(), path.name


def test_ctrf_export_validates_and_round_trips(tmp_path: Path) -> None:
    schema = json.loads((SCHEMAS / "ctrf.schema.json").read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    results = _sample()
    path = exporters.to_ctrf(results, tmp_path / "ctrf.json")
    data = json.loads(path.read_text())
    validator.validate(data)
    summary = data["results"]["summary"]
    assert (summary["tests"], summary["passed"], summary["failed"], summary["skipped"],
            summary["other"]) == (5, 2, 1, 1, 1)
    assert data["results"]["tests"][0]["duration"] == 1250
    assert ingest.from_ctrf(path) == results
    # the sample CTRF report from another producer is valid CTRF as well
    validator.validate(json.loads((REPORTS / "ctrf-report.json").read_text()))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**data, "reportFormat": "JUnit"})


def test_markdown_summary_content() -> None:
    space = Space.from_dict({"parameters": {"db.pool": {"type": "int", "min": 1, "max": 8},
                                            "cache.enabled": "bool"}})
    results = ResultSet([r for r in _sample() if "db" in r.config])
    coverage = measure(results, space, 2)
    analysis = analyze(results, space)
    first = exporters.markdown_summary(results, max_failures=1)
    assert "### Failures (2)" in first and "… and 1 more" in first
    assert "`com.example.AppTest::boot` | error" in first and "959de03113b8" not in first
    text = exporters.markdown_summary(results, coverage=coverage, analysis=analysis)
    assert text.startswith("## ❌ configlab results")
    assert "**3 results: 1 passed, 1 failed, 1 errors, 0 skipped** (pass rate 33.3%)" in text
    assert "`959de03113b8`" in text
    assert "`pytest 'tests/test_app.py::test_start[c1]' --configlab-replay 959de03113b8`" in text
    assert "db.pool=1, cache.enabled=false, tag=\"8\"" in text
    assert "### Coverage (strength 2, 3 runs)" in text and "| 1 |" in text
    assert "### Top suspects" in text and analysis.summary.headline[:20] in text
    clean = exporters.markdown_summary(ResultSet([Result({"a": "x|y"}, "pass")]))
    assert clean.startswith("## ✅") and "Failures" not in clean and "Coverage" not in clean


def test_markdown_config_cell_shows_the_space_parameters() -> None:
    """A config built on a whole redis.conf base: the cell shows the varied parameters, in the
    space's order, not the base's alphabetically first directives (report --space)."""
    base = {f"aa-directive-{n}": "yes" for n in range(30)}
    results = ResultSet([Result({**base, "maxmemory": 2, "databases": 1}, "fail")])
    plain = exporters.markdown_summary(results)
    assert "`aa-directive-0=yes" in plain and "maxmemory=2" not in plain
    text = exporters.markdown_summary(results, parameters=["maxmemory", "databases", "gone"])
    assert "| `maxmemory=2, databases=1` |" in text and "aa-directive" not in text
    assert "| `(empty)` |" in exporters.markdown_summary(results, parameters=["gone"])


def test_markdown_failures_do_not_depend_on_the_recording_order() -> None:
    """A parallel run records results in completion order: the summary lists failures by test
    id, then config, so the same results give the same text whatever order they were stored."""
    rows = [Result({"port": n}, "fail", test_id=f"exec::cfg{n:02d}") for n in (7, 3, 11, 1)]
    rows.append(Result({"port": 2}, "error", test_id="exec::cfg03"))
    texts = {exporters.markdown_summary(ResultSet(order), max_failures=4)
             for order in (rows, rows[::-1], rows[2:] + rows[:2])}
    assert len(texts) == 1
    text = texts.pop()
    assert text.index("exec::cfg01") < text.index("exec::cfg03") < text.index("exec::cfg07")
    assert text.index("`port=2`") < text.index("`port=3`") and "exec::cfg11" not in text


def test_replay_command_forms() -> None:
    assert exporters.replay_command(Result({}, "fail")) is None
    assert exporters.replay_command(Result({}, "fail", snapshot_id="ab" * 32, test_id="x::y")) \
        == f"configlab snapshot restore {'ab' * 6} replay/"


def test_csv_and_parquet_round_trips(tmp_path: Path) -> None:
    results = ResultSet([
        *_sample(),
        Result({"db": {"pool": 2**70}, "mixed": 1, "tag": True}, "pass", metrics={"m": 1.0}),
        Result({"mixed": "one", "ratio": 0.5, "flag": False}, "fail"),
    ])
    csv = exporters.to_csv(results, tmp_path / "out" / "r.csv")
    # the tables hold configs, outcomes and metrics; the output tails stay out (documented)
    tabular = ResultSet(dataclasses.replace(r, stdout=None, stderr=None) for r in results)
    assert ingest.load_results(csv) == tabular
    parquet = exporters.to_parquet(results, tmp_path / "r.parquet")
    assert ingest.load_results(parquet) == tabular
    import pyarrow.parquet as pq

    table = pq.read_table(parquet)
    types = {name: str(table.schema.field(name).type) for name in table.column_names}
    assert types["duration"] == "double" and types["cache.enabled"] == "bool"
    assert types["ratio"] == "double" and types["metric.latency_ms"] == "double"
    # mixed types, explicit nulls and huge ints fall back to canonical text
    assert types["mixed"] == types["tag"] == types["db.pool"] == "string"
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(IntegrationError, match="cannot read Parquet"):
        ingest.load_results(tmp_path / "junk.parquet")


def test_export_dispatch_and_errors(tmp_path: Path) -> None:
    results = _sample()
    for fmt in exporters.EXPORT_FORMATS:
        target = tmp_path / f"out-{fmt}"
        written = exporters.export(results, fmt, target)
        assert written.exists()
    assert ingest.load_results(tmp_path / "out-jsonl") == results
    with pytest.raises(IntegrationError, match="unknown export format"):
        exporters.export(results, "html", tmp_path / "x")
    with pytest.raises(IntegrationError, match="expected a ResultSet"):
        exporters.junit_xml([1, 2])
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(IntegrationError, match="cannot write"):
        exporters.to_junit(results, blocker / "x.xml")
    with pytest.raises(IntegrationError, match="cannot write"):
        exporters.to_csv(results, blocker / "x.csv")
    with pytest.raises(IntegrationError, match="cannot write"):
        exporters.to_parquet(results, blocker / "x.parquet")
    assert exporters.junit_xml(list(results)) == exporters.junit_xml(results)


def test_ingested_samples_export_to_every_format(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = ingest.load_results(REPORTS / "TEST-com.example.service.ServiceConfigTest.xml")
    for fmt in exporters.EXPORT_FORMATS:
        exporters.export(results, fmt, tmp_path / fmt)
    back = ingest.from_ctrf(tmp_path / "ctrf")
    assert [r.outcome for r in back] == [r.outcome for r in results]


_KEY = st.text(alphabet="abcxyz._", min_size=1, max_size=4)
_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                   st.floats(allow_nan=False, allow_infinity=False, width=32),
                   st.text(max_size=6), st.lists(st.integers(0, 9), max_size=2))
_CONFIG: Any = st.recursive(st.dictionaries(_KEY, _VALUE, max_size=3),
                            lambda inner: st.dictionaries(_KEY, inner, max_size=3), max_leaves=6)
_RESULT = st.builds(
    Result, config=_CONFIG, outcome=st.sampled_from(["pass", "fail", "error", "skip"]),
    duration=st.one_of(st.none(), st.floats(0, 1e4, allow_nan=False)),
    metrics=st.dictionaries(st.text(alphabet="mn", min_size=1, max_size=2),
                            st.floats(-1e6, 1e6, allow_nan=False), max_size=2),
    test_id=st.text(alphabet="ab:/.[]", max_size=8),
    snapshot_id=st.one_of(st.none(), st.text(alphabet="0123456789abcdef", min_size=6,
                                              max_size=12)),
    run_id=st.one_of(st.none(), st.sampled_from(["r1", "r2"])),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(_RESULT, max_size=4))
def test_junit_and_ctrf_round_trip_any_results(tmp_path: Path, rows: list[Result]) -> None:
    directory = tmp_path
    results = ResultSet(rows)
    junit = exporters.to_junit(results, directory / "j.xml")
    ctrf = exporters.to_ctrf(results, directory / "c.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # JUnit groups results by run id: compare as multisets within the same order per run
        back = ingest.from_junit(junit)
        def key(r: Result) -> str:
            return canonical_json(r.to_dict())

        assert sorted(map(key, back)) == sorted(map(key, results))
        assert ingest.from_ctrf(ctrf) == results


def test_failures_show_the_end_of_their_output(tmp_path: Path) -> None:
    results = _sample()
    junit = exporters.to_junit(results, tmp_path / "junit.xml").read_text()
    assert "<system-err>Traceback (most recent call last):\nMemoryError: OOM command not allowed" \
        "\n</system-err>" in junit
    assert "<system-out>starting\nready on :8080\n</system-out>" in junit
    # the failure's text is the end of the output: stderr, else stdout
    case = JUnitXml.fromfile(str(tmp_path / "junit.xml"))
    failure, error = (c.result[0] for s in case for c in s if c.result and c.result[0].text)
    assert failure.text.endswith("MemoryError: OOM command not allowed")
    assert error.text == "no newline at end"
    ctrf = exporters.ctrf_report(results)["results"]["tests"]
    assert ctrf[0]["stderr"] == ["Traceback (most recent call last):\n",
                                 "MemoryError: OOM command not allowed\n"]
    assert ctrf[2]["stdout"] == ["no newline at end"] and "stdout" not in ctrf[1]
    text = exporters.markdown_summary(results)
    assert "| test | outcome | snapshot | config | output | replay |" in text
    assert "`MemoryError: OOM command not allowed`" in text


def test_output_excerpt_keeps_the_end_from_a_line_start() -> None:
    long = "".join(f"line {n}\n" for n in range(2000))
    excerpt = exporters.output_excerpt(Result({}, "fail", stderr=long), limit=100)
    assert excerpt.startswith("…line ") and excerpt.endswith("line 1999")
    assert len(excerpt) <= 101 and "\n" in excerpt
    one_line = exporters.output_excerpt(Result({}, "fail", stdout="x" * 500), limit=100)
    assert one_line == "…" + "x" * 100
    assert exporters.output_excerpt(Result({}, "fail", stdout=" \n", stderr="")) == ""


def test_report_output_of_other_tools_is_read_as_the_result_output(tmp_path: Path) -> None:
    junit = tmp_path / "pytest.xml"
    junit.write_text(
        '<testsuite name="pytest"><testcase classname="t" name="a">'
        '<failure message="boom">E  assert 1 == 2</failure>'
        "<system-out>connected\n</system-out><system-err>DB index is out of range\n</system-err>"
        "</testcase></testsuite>")
    with pytest.warns(Warning, match="no config link"):
        result = ingest.from_junit(junit)[0]
    assert (result.stdout, result.stderr) == ("connected\n", "DB index is out of range\n")
    assert len(ResultSet([result]).select(where='"out of range" in stderr')) == 1
    ctrf = tmp_path / "ctrf.json"
    ctrf.write_text(json.dumps({"reportFormat": "CTRF", "specVersion": "1.0.0", "results": {
        "tool": {"name": "jest"}, "summary": {"tests": 1, "passed": 0, "failed": 1,
                                              "skipped": 0, "pending": 0, "other": 0,
                                              "start": 0, "stop": 1},
        "tests": [{"name": "b", "status": "failed", "duration": 1,
                   "stdout": ["one", "two"], "stderr": []}]}}))
    with pytest.warns(Warning, match="no config link"):
        result = ingest.from_ctrf(ctrf)[0]
    assert (result.stdout, result.stderr) == ("one\ntwo\n", None)
    bad = json.loads(ctrf.read_text())
    bad["results"]["tests"][0]["stdout"] = "one"
    ctrf.write_text(json.dumps(bad))
    with pytest.raises(IntegrationError, match="'stdout' must be a list of strings"):
        ingest.from_ctrf(ctrf)


def test_output_tails_are_redacted_in_exports(tmp_path: Path) -> None:
    from configlab import redaction

    leaky = Result({"db": {"password": "s3cret"}}, "fail",
                   stderr="cannot connect to postgresql://app:hunter2@db:5432/app\n")
    junit = exporters.junit_xml([leaky])
    assert "hunter2" not in junit and "s3cret" not in junit
    assert "postgresql://app:" in junit  # the rest of the line is kept
    with redaction.using(redaction.RedactionRules(enabled=False)):
        assert "hunter2" in exporters.junit_xml([leaky])


def test_output_in_real_reports_is_searchable(tmp_path: Path) -> None:
    # CTest's JUnit (Jenkins xUnit): the application's own words are in <system-out>
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctest = ingest.load_results(REPORTS / "jenkins-xunit-ctest.xml")
    exhausted = ctest.select(where='"pool exhausted" in stdout')
    assert [r.outcome for r in exhausted] == ["fail"]
    assert exhausted[0].stdout.endswith("connection pool exhausted during warm-up\n")
    # pytest-json-report keeps what pytest captured per phase
    report = json.loads((REPORTS / "pytest-json-report.json").read_text())
    report["tests"][0]["setup"]["stdout"] = "starting\n"
    report["tests"][0]["call"]["stderr"] = "WARNING pool too small\n"
    (tmp_path / "captured.json").write_text(json.dumps(report))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = ingest.load_results(tmp_path / "captured.json")[0]
    assert (first.stdout, first.stderr) == ("starting\n", "WARNING pool too small\n")
