"""configlab.integrations.ingest: reading JUnit XML, pytest-json-report and CTRF reports as
results."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from configlab.errors import IntegrationError
from configlab.integrations import ingest
from configlab.results import Result, ResultSet
from configlab.snapshots import SnapshotStore
from tests.paths import DATA_DIR

REPORTS = DATA_DIR / "reports"
CONFIGS = {
    "70ea7ddec56d2080b4c8978eecb6ee87518de4151fe93b0544cb07e5aa6e91db":
        {"db": {"pool": 4}, "cache": {"enabled": True}, "log_level": "info"},
    "959de03113b8e6e53a84e66da09944b428cfa37babe77354ac29a3fc1e907bea":
        {"db": {"pool": 1}, "cache": {"enabled": False}, "log_level": "debug"},
    "0064e799ece932371aa975803827e3e1d94f774fe66b773c29e747589cca06ff":
        {"db": {"pool": 16}, "cache": {"enabled": True}, "log_level": "warn"},
}
BAD = "959de03113b8e6e53a84e66da09944b428cfa37babe77354ac29a3fc1e907bea"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("store")
    with SnapshotStore(root) as snapshots:
        for snapshot_id, config in CONFIGS.items():
            # the sample reports name these ids: saving the same config gives the same id
            assert snapshots.save_config(config, "config.json").id == snapshot_id
    return root


def _read(reader: Any, name: str, store: Path | None) -> tuple[ResultSet, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = reader(REPORTS / name, store)
    return results, [str(w.message) for w in caught if w.category is ingest.IngestWarning]


def test_surefire_report_resolves_snapshot_ids_from_system_out(store: Path) -> None:
    results, notes = _read(ingest.from_junit, "TEST-com.example.service.ServiceConfigTest.xml",
                           store)
    assert [r.outcome for r in results] == ["pass", "fail", "pass", "error", "skip"]
    assert [r.duration for r in results] == [0.412, 1.204, 0.397, 0.291, 0.0]
    assert results[1].test_id == (
        "com.example.service.ServiceConfigTest::startsUnderGeneratedConfig(Path)[2]")
    assert results[1].snapshot_id == BAD and results[1].config == CONFIGS[BAD]
    for result in results[:3]:
        assert result.config == CONFIGS[result.snapshot_id or ""]
    # suite-level system properties are never taken for config
    assert results[3].config == {} and results[3].snapshot_id is None
    assert len(notes) == 1 and "2 of 5 test case(s) carry no config link" in notes[0]


def test_pytest_junit_and_json_reports_agree(store: Path) -> None:
    xml, xml_notes = _read(ingest.from_junit, "pytest-junit.xml", store)
    js, js_notes = _read(ingest.from_pytest_json, "pytest-json-report.json", store)
    assert len(xml) == len(js) == 10
    for a, b in zip(xml, js, strict=True):
        assert a.outcome == b.outcome
        assert a.config == b.config
        assert a.snapshot_id == b.snapshot_id
        assert a.test_id.rsplit("::", 1)[1] == b.test_id.rsplit("::", 1)[1]
    by_name = {r.test_id.rsplit("::", 1)[1]: r for r in js}
    assert by_name["test_starts[pool-1]"].outcome == "fail"
    assert by_name["test_pool_flat[2]"].config == {
        "db": {"pool": 2}, "cache": {"enabled": True}, "log_level": "info"}
    assert by_name["test_config_json"].config["db"]["pool"] == 32
    assert by_name["test_needs_database"].outcome == "error"
    assert by_name["test_known_bug"].outcome == "skip"  # xfailed
    assert js[0].timestamp is not None and js[0].duration is not None
    assert "4 of 10" in xml_notes[0] and "4 of 10" in js_notes[0]


def test_jenkins_xunit_report_with_id_prefixes_and_empty_time(store: Path) -> None:
    results, notes = _read(ingest.from_junit, "jenkins-xunit-ctest.xml", store)
    assert [r.outcome for r in results] == ["pass", "fail", "skip", "pass"]
    assert results[2].duration is None
    assert results[1].snapshot_id == BAD  # 12-digit prefix resolved to the full id
    assert results[1].config == CONFIGS[BAD]
    assert results[0].test_id == "projectroot::service_start_config-0001"
    assert len(notes) == 1 and "1 of 4" in notes[0]


def test_junit_platform_report_entries(store: Path) -> None:
    results, notes = _read(ingest.from_junit, "junit-platform-legacy.xml", store)
    assert [r.outcome for r in results] == ["pass", "fail"]
    assert results[1].config == CONFIGS[BAD]
    assert results[0].timestamp == "2024-05-02T10:15:03+00:00"
    assert notes == []


def test_ctrf_report(store: Path) -> None:
    results, notes = _read(ingest.from_ctrf, "ctrf-report.json", store)
    assert [r.outcome for r in results] == ["pass", "fail", "pass", "pass", "skip", "error"]
    assert results[1].config == CONFIGS[BAD] and results[1].duration == 1.204
    assert results[0].test_id == "service::startup::starts under config-0001.json"
    assert results[0].timestamp == "2024-05-02T10:16:35+00:00"
    assert results[3].config == {"db": {"pool": 8}, "cache": {"enabled": True},
                                 "log_level": "info"}
    assert results[5].config["db"]["pool"] == 2
    assert len(notes) == 1 and "1 of 6" in notes[0]


def test_without_store_snapshot_links_are_kept_and_warned() -> None:
    results, notes = _read(ingest.from_junit, "jenkins-xunit-ctest.xml", None)
    assert [r.config for r in results] == [{}, {}, {}, {}]
    assert results[1].snapshot_id == "959de03113b8"
    assert any("3 test case(s) name a snapshot id" in n and "no snapshot store" in n
               for n in notes)
    assert any("1 of 4" in n for n in notes)


def test_unknown_snapshot_in_store(store: Path, tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    report.write_text('<testsuite name="s"><testcase name="t"><properties>'
                      '<property name="configlab.snapshot_id" value="abcdef123456"/>'
                      '</properties></testcase></testsuite>')
    with pytest.warns(ingest.IngestWarning, match="not found in"):
        results = ingest.from_junit(report, SnapshotStore(store))
    assert results[0].config == {} and results[0].snapshot_id == "abcdef123456"


def test_load_results_dispatches_on_content(store: Path, tmp_path: Path) -> None:
    expected = {
        "TEST-com.example.service.ServiceConfigTest.xml": "junit",
        "pytest-junit.xml": "junit",
        "pytest-json-report.json": "pytest-json",
        "ctrf-report.json": "ctrf",
    }
    for name, kind in expected.items():
        assert ingest.detect_report_format(REPORTS / name) == kind
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ingest.load_results(REPORTS / "ctrf-report.json", store) == ingest.from_ctrf(
            REPORTS / "ctrf-report.json", store)
        assert len(ingest.load_results(REPORTS / "pytest-json-report.json", store)) == 10
        assert len(ingest.load_results(REPORTS / "pytest-junit.xml", store)) == 10
    own = ResultSet([Result({"a": 1}, "pass"), Result({"a": "x"}, "fail", duration=0.5)])
    jsonl = own.to_jsonl(tmp_path / "r.data")  # content decides, not the suffix
    csv = own.to_csv(tmp_path / "r.table")
    assert ingest.detect_report_format(jsonl) == "jsonl" and ingest.load_results(jsonl) == own
    assert ingest.detect_report_format(csv) == "csv" and ingest.load_results(csv) == own
    assert ingest.detect_report_format(store) == "store"
    (tmp_path / "x.txt").write_text("hello\n")
    (tmp_path / "d").mkdir()
    (tmp_path / "other.json").write_text('{"a": 1}')
    for name, match in (("x.txt", "unknown results format"), ("d", "not a configlab store"),
                        ("other.json", "neither"), ("missing", "no such results file")):
        with pytest.raises(IntegrationError, match=match):
            ingest.load_results(tmp_path / name)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"config": {}, "outcome": "maybe"}\n')
    with pytest.raises(IntegrationError, match=r"bad\.jsonl:1"):
        ingest.load_results(bad)


def test_malformed_xml_names_file_line_and_column(tmp_path: Path) -> None:
    report = tmp_path / "broken.xml"
    report.write_text('<testsuite name="s">\n  <testcase name="a">\n  </testsuite>\n')
    with pytest.raises(IntegrationError, match=r"broken\.xml:3:\d+: malformed XML: mismatched"):
        ingest.from_junit(report)
    report.write_text('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n'
                      '<testsuite><testcase name="&a;"/></testsuite>')
    with pytest.raises(IntegrationError, match="refused unsafe XML"):
        ingest.from_junit(report)
    report.write_text("<html><body/></html>")
    with pytest.raises(IntegrationError, match="not a JUnit XML report"):
        ingest.from_junit(report)
    with pytest.raises(IntegrationError, match="no such report"):
        ingest.from_junit(tmp_path / "missing.xml")


@pytest.mark.parametrize(("case", "match"), [
    ('<testcase name="t" time="soon"/>', "time 'soon' is not a number"),
    ('<testcase name="t" time="-1"/>', "not a valid duration"),
    ('<testcase name="t"><properties><property value="1"/></properties></testcase>',
     "has no name"),
    ('<testcase name="t"><properties><property name="configlab.config" value="[1]"/>'
     '</properties></testcase>', "must be a JSON object"),
    ('<testcase name="t"><properties><property name="configlab.config" value="{x"/>'
     '</properties></testcase>', "malformed JSON config"),
    ('<testcase name="t"><properties><property name="config.a" value="[1,"/>'
     '</properties></testcase>', "malformed JSON value"),
    ('<testcase name="t"><properties><property name="configlab.metric.ms" value="fast"/>'
     '</properties></testcase>', "must be a number"),
    ('<testcase name="t"><properties><property name="configlab.metric.ms" value="inf"/>'
     '</properties></testcase>', "must be finite"),
    ('<testcase name="t"><properties><property name="config.a..b" value="1"/>'
     '</properties></testcase>', "empty segment"),
    ('<testcase name="t" timestamp="yesterday"/>', "not an ISO 8601 time"),
])
def test_malformed_testcases_name_the_case(tmp_path: Path, case: str, match: str) -> None:
    report = tmp_path / "r.xml"
    report.write_text(f'<testsuites><testsuite name="s">{case}</testsuite></testsuites>')
    with pytest.raises(IntegrationError, match=match) as info:
        ingest.from_junit(report)
    assert "r.xml: testcase #1 't'" in str(info.value)


def test_junit_attributes_metrics_nested_suites_and_run_ids(tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    report.write_text(
        '<testsuites><testsuite name="outer"><properties>'
        '<property name="configlab.run_id" value="ci-41"/></properties>'
        '<testsuite name="inner">'
        '<testcase classname="k" name="a" configlab.config=\'{"x": {"y": "8"}}\' time="1,234.5">'
        '<properties><property name="configlab.metric.latency_ms" value="12.5"/>'
        '<property name="config.x.z" value="&quot;8&quot;"/>'
        '<property name="config.x.w">[1, 2]</property>'
        '<property name="configlab.test_id" value="custom-id"/></properties>'
        '<error message="boom"/><failure message="also"/></testcase>'
        '<testcase name="b" configlab_snapshot_id="00ff00ff00ff"><failure/></testcase>'
        '</testsuite></testsuite></testsuites>')
    with pytest.warns(ingest.IngestWarning, match="name a snapshot id"):
        results = ingest.from_junit(report, run_id="fallback")
    first, second = results
    assert first.config == {"x": {"y": "8", "z": "8", "w": [1, 2]}}
    assert first.outcome == "error" and first.duration == 1234.5
    assert first.metrics == {"latency_ms": 12.5} and first.test_id == "custom-id"
    assert first.run_id == "ci-41"
    assert second.outcome == "fail" and second.snapshot_id == "00ff00ff00ff"
    assert second.test_id == "b"


def test_pytest_json_errors(tmp_path: Path) -> None:
    report = tmp_path / "p.json"
    cases = [
        ("{\n  \"tests\": [\n", r"p\.json:3:\d+: malformed pytest-json-report JSON"),
        ('{"tests": 3}', "not a pytest-json-report file"),
        ('{"tests": [1]}', "expected an object"),
        ('{"tests": [{"outcome": "passed"}]}', "no 'nodeid'"),
        ('{"tests": [{"nodeid": "t", "outcome": "exploded"}]}', "unknown outcome 'exploded'"),
        ('{"tests": [{"nodeid": "t", "outcome": "passed", "user_properties": {"a": 1}}]}',
         "user_properties must be a list"),
        ('{"tests": [{"nodeid": "t", "outcome": "passed", "metadata": [1]}]}',
         "metadata must be an object"),
        ('{"tests": [{"nodeid": "t", "outcome": "passed", "call": {"duration": "x"}}]}',
         "must be a number"),
        ('{"created": "then", "tests": []}', "not an ISO 8601 time"),
    ]
    for text, match in cases:
        report.write_text(text)
        with pytest.raises(IntegrationError, match=match):
            ingest.from_pytest_json(report)
    report.write_bytes(b"\xff\xfe{")
    with pytest.raises(IntegrationError, match="not valid UTF-8"):
        ingest.from_pytest_json(report)


def test_ctrf_errors(tmp_path: Path) -> None:
    report = tmp_path / "c.json"

    def doc(test: dict[str, Any]) -> str:
        return json.dumps({"results": {"tool": {"name": "x"}, "tests": [test]}})

    cases = [
        ('{"results": {}}', "not a CTRF report"),
        (doc({"status": "passed"}), "needs a 'name'"),
        (doc({"name": "t", "status": "weird"}), "unknown status 'weird'"),
        (doc({"name": "t", "status": "passed", "duration": -5}), "negative duration"),
        (doc({"name": "t", "status": "passed", "suite": [1]}), "list of strings"),
        (doc({"name": "t", "status": "passed", "start": "now"}), "milliseconds since the epoch"),
        (doc({"name": "t", "status": "passed", "start": 1e30}), "not a valid epoch time"),
        (doc({"name": "t", "status": "passed", "extra": {"configlab": []}}),
         "extra.configlab must be an object"),
        (doc({"name": "t", "status": "passed", "extra": {"configlab": {"metrics": 1}}}),
         "metrics must be an object"),
        (doc({"name": "t", "status": "passed", "labels": {"configlab.snapshot_id": True}}),
         "expected text"),
    ]
    for text, match in cases:
        report.write_text(text)
        with pytest.raises(IntegrationError, match=match):
            ingest.from_ctrf(report)
    report.write_text(doc({"name": "t", "status": "passed", "suite": "top",
                           "extra": {"configlab": {"config": {"a": 1}, "metrics": {"m": 2}}}}))
    (result,) = ingest.from_ctrf(report)
    assert result.test_id == "top::t" and result.config == {"a": 1}
    assert result.metrics == {"m": 2.0}


def test_store_argument_is_checked(tmp_path: Path) -> None:
    with pytest.raises(IntegrationError, match="no configlab store"):
        ingest.from_junit(REPORTS / "pytest-junit.xml", tmp_path)
    with pytest.raises(IntegrationError, match="must be a SnapshotStore"):
        ingest.from_junit(REPORTS / "pytest-junit.xml", 42)


def test_multi_file_snapshot_configs_are_merged(tmp_path: Path) -> None:
    root = tmp_path / "store"
    with SnapshotStore(root) as snapshots:
        snap = snapshots.capture(files=[("a.json", b'{"db": {"pool": 2}, "x": 1}'),
                                        ("b.yaml", b"db:\n  host: h\nx: 2\n")])
    report = tmp_path / "r.xml"
    report.write_text(f'<testsuite><testcase name="t"><system-out>\n'
                      f'configlab.snapshot_id = {snap.id[:10]}\n</system-out></testcase>'
                      f'</testsuite>')
    (result,) = ingest.from_junit(report, root)
    assert result.snapshot_id == snap.id
    assert result.config == {"db": {"pool": 2, "host": "h"}, "x": 2}
    report.write_text('<testsuite><testcase name="t"><properties>'
                      f'<property name="configlab.snapshot_id" value="{snap.id[:6]}"/>'
                      '</properties></testcase></testsuite>')
    bad_store = tmp_path / "bad"
    with SnapshotStore(bad_store) as snapshots:
        broken = snapshots.capture(files=[("a.json", b"{not json")], check=False)
    report.write_text('<testsuite><testcase name="t"><properties>'
                      f'<property name="configlab.snapshot_id" value="{broken.id}"/>'
                      '</properties></testcase></testsuite>')
    with pytest.raises(IntegrationError, match=f"snapshot {broken.id}"):
        ingest.from_junit(report, bad_store)


_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(_LEAF)
def test_encode_decode_round_trip(value: Any) -> None:
    text = ingest.encode_value(value)
    back = ingest.decode_value(text)
    assert type(back) is type(value)
    assert back == value or (isinstance(value, float) and math.isclose(back, value))
