"""Write configlab results in the formats test dashboards and CI systems read.

* :func:`to_junit` — JUnit XML, one ``<testcase>`` per result, the snapshot id and the flattened
  config as ``<properties>`` (reads back with :func:`configlab.integrations.ingest.from_junit`);
* :func:`to_allure` — an ``allure-results`` directory (``allure generate`` input);
* :func:`to_ctrf` — a CTRF JSON report (reads back with
:func:`configlab.integrations.ingest.from_ctrf`);
* :func:`markdown_summary` / :func:`to_markdown` — a Markdown summary for
  ``$GITHUB_STEP_SUMMARY`` or a merge-request comment;
* :func:`to_csv` and :func:`to_parquet` — the results table.

Every output is deterministic: the same results give byte-identical files (ids are derived from
content hashes, never random, and nothing reads the clock).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shlex
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from configlab import redaction
from configlab import tree as _tree
from configlab._internal.safeio import write_output
from configlab._version import __version__
from configlab.errors import IntegrationError, ResultsError
from configlab.integrations.ingest import (
    CONFIG_KEY,
    CONFIG_KEY_PREFIX,
    METRIC_KEY_PREFIX,
    RUN_ID_KEY,
    SNAPSHOT_KEY,
    TEST_ID_KEY,
    encode_value,
)
from configlab.results import (
    METRIC_PREFIX,
    RESERVED_COLUMNS,
    Result,
    ResultSet,
    canonical_json,
)

if TYPE_CHECKING:  # pragma: no cover
    from configlab.analysis import AnalysisReport
    from configlab.coverage import CoverageReport

#: What the writers take: a ResultSet or a sequence of Results.
ResultRows = ResultSet | Sequence[Result]
#: Formats :func:`export` writes.
EXPORT_FORMATS = ("junit", "allure", "ctrf", "markdown", "csv", "parquet", "jsonl")
#: CTRF specification version written by :func:`to_ctrf`.
CTRF_SPEC_VERSION = "1.0.0"
#: Namespace of the deterministic (uuid5) ids of exported results.
UUID_NAMESPACE = uuid.UUID("6f1c3b52-5d0e-4c41-9a57-3c2f2b7f0a10")

_ALLURE_STATUS = {"pass": "passed", "fail": "failed", "error": "broken", "skip": "skipped"}
_CTRF_STATUS = {"pass": "passed", "fail": "failed", "error": "other", "skip": "skipped"}
_DEFAULT_CLASS = "configlab"
#: Characters XML 1.0 documents cannot contain.
_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# --------------------------------------------------------------------------- helpers


def _results(results: ResultRows) -> ResultSet:
    if isinstance(results, ResultSet):
        return _redacted(results)
    if isinstance(results, Sequence) and all(isinstance(r, Result) for r in results):
        return _redacted(ResultSet(results))
    raise IntegrationError(f"expected a ResultSet, got {type(results).__name__}")


def _redacted(rows: ResultSet) -> ResultSet:
    """``rows`` with secret-looking config values redacted (configlab.redaction rules).

    Every export format is built from this, so a ``password`` field never reaches a JUnit
    property, an Allure parameter or a CSV cell, nor a URL password the application printed
    a ``<system-err>``; ``configlab --no-redact`` keeps them.
    """
    rules = redaction.current()
    if not rules.enabled:
        return rows
    out = ResultSet()
    for result in rows:
        config = rules.tree(result.config)
        # the output tails too: an application may print its connection URL with the password
        stdout = None if result.stdout is None else rules.text(result.stdout)
        stderr = None if result.stderr is None else rules.text(result.stderr)
        if (config, stdout, stderr) == (result.config, result.stdout, result.stderr):
            out.append(result)
        else:
            out.append(dataclasses.replace(result, config=config, stdout=stdout, stderr=stderr))
    return out


def _write(path: Path, text: str) -> Path:
    write_output(path, text, what="export", error=IntegrationError, parents=True)
    return path


def split_test_id(result: Result) -> tuple[str, str]:
    """(classname, name) of a result's test: the test id split at its last ``::``.

    Without ``::`` the class is ``configlab``; without a test id the name is
    ``config-<first 12 hex digits of the config key>``.
    """
    test_id = result.test_id
    if not test_id:
        return _DEFAULT_CLASS, f"config-{result.config_key[:12]}"
    if "::" in test_id:
        classname, name = test_id.rsplit("::", 1)
        if classname and name:
            return classname, name
    return _DEFAULT_CLASS, test_id


def replay_command(result: Result) -> str | None:
    """How to rerun a result under its exact config, or None without a snapshot id.

    A pytest node id (``path.py::test``) gives ``pytest '<node id>' --configlab-replay <id>``;
    anything else ``configlab snapshot restore <id> replay/`` (writes the config files back).
    """
    if not result.snapshot_id:
        return None
    short = result.snapshot_id[:12]
    test_id = result.test_id
    if "::" in test_id and test_id.split("::", 1)[0].endswith(".py"):
        return f"pytest {shlex.quote(test_id)} --configlab-replay {short}"
    return f"configlab snapshot restore {short} replay/"


def _uuid(index: int, result: Result) -> str:
    return str(uuid.uuid5(UUID_NAMESPACE, f"{index}:{canonical_json(result.to_dict())}"))


def _hex(text: str, size: int = 32) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:size]


def _epoch_ms(stamp: str | None) -> int | None:
    if stamp is None:
        return None
    return round(datetime.fromisoformat(stamp).timestamp() * 1000)


def _duration_ms(result: Result) -> int:
    return 0 if result.duration is None else round(result.duration * 1000)


def _timeline(results: Sequence[Result]) -> list[tuple[int, int]]:
    """(start, stop) epoch milliseconds per result; results without a timestamp follow the
    previous one (starting at the earliest known timestamp, else 0)."""
    known = [ms for ms in (_epoch_ms(r.timestamp) for r in results) if ms is not None]
    clock = min(known) if known else 0
    spans = []
    for result in results:
        start = _epoch_ms(result.timestamp)
        if start is None:
            start = clock
        stop = start + _duration_ms(result)
        clock = max(clock, stop)
        spans.append((start, stop))
    return spans


def _message(result: Result) -> str:
    parts = [f"configlab outcome: {result.outcome}"]
    if result.snapshot_id:
        parts.append(f"snapshot {result.snapshot_id}")
    replay = replay_command(result)
    if replay:
        parts.append(f"replay: {replay}")
    return "; ".join(parts)


#: Characters of output shown in a failure's text (JUnit) or trace (Allure): the end of it.
OUTPUT_EXCERPT = 4000


def output_excerpt(result: Result, limit: int = OUTPUT_EXCERPT) -> str:
    """The end of what a result's command wrote (its stderr tail, else its stdout tail), at
    most ``limit`` characters, starting at a whole line when one fits: what a failure shows."""
    text = (result.stderr or "").strip() or (result.stdout or "").strip()
    if len(text) <= limit:
        return text
    text = text[-limit:]
    start = text.find("\n") + 1  # drop the cut line, unless it is most of the excerpt
    return "…" + (text[start:] if 0 < start <= limit // 2 else text)


def _flat_config(result: Result) -> dict[str, Any]:
    return _tree.flatten(result.config)


def config_properties(result: Result) -> list[tuple[str, str]]:
    """The ``(name, value)`` properties describing a result (see
    :func:`configlab.integrations.ingest`).

    ``configlab.test_id`` (always, so an empty id reads back empty), ``configlab.snapshot_id``,
    ``configlab.run_id``, ``configlab.metric.<name>`` and one ``config.<path>`` per config leaf
    (an empty config is written as ``configlab.config = {}`` so the link is kept).  Values
    XML cannot hold are written as ASCII JSON (config leaves, lossless) or get U+FFFD (names,
    ids).
    """
    props: list[tuple[str, str]] = [(TEST_ID_KEY, result.test_id)]
    if result.snapshot_id:
        props.append((SNAPSHOT_KEY, result.snapshot_id))
    if result.run_id:
        props.append((RUN_ID_KEY, result.run_id))
    for name in sorted(result.metrics):
        props.append((METRIC_KEY_PREFIX + name, repr(result.metrics[name])))
    flat = _flat_config(result)
    if not flat:
        props.append((CONFIG_KEY, "{}"))
    for path, value in flat.items():
        text = encode_value(value)
        if _XML_INVALID.search(text):  # XML 1.0 cannot hold it: ASCII JSON reads back the same
            text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        props.append((CONFIG_KEY_PREFIX + _xml_safe(path), text))
    return [(name, _xml_safe(value)) for name, value in props]


def _xml_safe(text: str) -> str:
    """``text`` with characters XML 1.0 cannot hold replaced by U+FFFD."""
    return _XML_INVALID.sub("\ufffd", text)


# --------------------------------------------------------------------------- JUnit XML


def junit_xml(results: ResultRows, *, name: str = "configlab") -> str:
    """JUnit XML text: one ``<testsuite>`` per run id (in order of first appearance), one
    ``<testcase>`` per result with its properties (:func:`config_properties`).

    fail -> ``<failure>``, error -> ``<error>`` (its text: the end of the output,
    :func:`output_excerpt`), skip -> ``<skipped>``; the kept stdout / stderr tails are
    ``<system-out>`` / ``<system-err>``; ``time`` is left out when the duration is unknown.
    Suites get no ``timestamp`` (readers would give it to the results that have none); each
    testcase carries its own.
    """
    rows = _results(results)
    groups: dict[str | None, list[Result]] = {}
    for result in rows:
        groups.setdefault(result.run_id, []).append(result)
    root = ET.Element("testsuites", {"name": name})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for run_id, members in groups.items():
        suite = ET.SubElement(root, "testsuite", {"name": _xml_safe(run_id or name)})
        counts = {
            "tests": len(members),
            "failures": sum(r.outcome == "fail" for r in members),
            "errors": sum(r.outcome == "error" for r in members),
            "skipped": sum(r.outcome == "skip" for r in members),
        }
        seconds = sum(r.duration or 0.0 for r in members)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{seconds:.3f}")
        total_time += seconds
        if run_id:
            props = ET.SubElement(suite, "properties")
            ET.SubElement(props, "property", {"name": RUN_ID_KEY, "value": _xml_safe(run_id)})
        for result in members:
            classname, case_name = split_test_id(result)
            case = ET.SubElement(suite, "testcase", {"classname": _xml_safe(classname),
                                                     "name": _xml_safe(case_name)})
            if result.duration is not None:
                case.set("time", repr(result.duration))
            if result.timestamp:
                case.set("timestamp", result.timestamp)
            props = ET.SubElement(case, "properties")
            for prop_name, prop_value in config_properties(result):
                ET.SubElement(props, "property", {"name": prop_name, "value": prop_value})
            if result.outcome in ("fail", "error"):
                tag = "failure" if result.outcome == "fail" else "error"
                problem = ET.SubElement(case, tag, {"message": _xml_safe(_message(result)),
                                                    "type": f"configlab.{result.outcome}"})
                excerpt = output_excerpt(result)
                if excerpt:
                    problem.text = _xml_safe(excerpt)
            elif result.outcome == "skip":
                ET.SubElement(case, "skipped", {"message": "configlab outcome: skip"})
            # the kept tails, whole (ingest reads them back as the result's stdout / stderr)
            if result.stdout:
                ET.SubElement(case, "system-out").text = _xml_safe(result.stdout)
            if result.stderr:
                ET.SubElement(case, "system-err").text = _xml_safe(result.stderr)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def to_junit(results: ResultRows, path: str | os.PathLike[str], *, name: str = "configlab") -> Path:
    """Write :func:`junit_xml` to ``path``; returns the path."""
    return _write(Path(path), junit_xml(results, name=name))


# --------------------------------------------------------------------------- Allure


def allure_results(results: ResultRows, *, snapshot_url: str | None = None
                   ) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    """The Allure test results: ``(uuid, result JSON, {attachment file: text})`` per result.

    Fields follow allure-python's ``TestResult`` model: uuid, historyId, testCaseId, name,
    fullName, status (passed/failed/broken/skipped), stage, statusDetails, start/stop (epoch
    ms), labels (framework, suite, parentSuite = run id, tag), parameters (one per config path,
    plus the snapshot id excluded from the history id), links (``snapshot_url`` with
    ``{snapshot_id}`` when given), attachments (the config, and the metrics, as JSON; the kept
    stdout / stderr as text), statusDetails (message, and the end of the output as trace).
    """
    rows = _results(results)
    out = []
    for index, (result, (start, stop)) in enumerate(
        zip(rows, _timeline(rows), strict=True)
    ):
        ident = _uuid(index, result)
        classname, name = split_test_id(result)
        full_name = result.test_id or f"{classname}::{name}"
        labels: list[dict[str, Any]] = [
            {"name": "framework", "value": "configlab"},
            {"name": "suite", "value": classname},
            {"name": "tag", "value": "configlab"},
        ]
        if result.run_id:
            labels.append({"name": "parentSuite", "value": result.run_id})
        parameters: list[dict[str, Any]] = [
            {"name": path, "value": encode_value(value)}
            for path, value in _flat_config(result).items()
        ]
        links: list[dict[str, Any]] = []
        if result.snapshot_id:
            parameters.append({"name": SNAPSHOT_KEY, "value": result.snapshot_id,
                               "excluded": True})
            if snapshot_url:
                links.append({"type": "snapshot", "name": result.snapshot_id[:12],
                              "url": snapshot_url.replace("{snapshot_id}", result.snapshot_id)})
        files: dict[str, str] = {f"{ident}-attachment.json": json.dumps(
            dict(result.config), indent=2, sort_keys=True, ensure_ascii=False) + "\n"}
        attachments = [{"name": "config", "source": f"{ident}-attachment.json",
                        "type": "application/json"}]
        if result.metrics:
            metrics_file = f"{ident}-metrics-attachment.json"
            files[metrics_file] = json.dumps(dict(result.metrics), indent=2, sort_keys=True) + "\n"
            attachments.append({"name": "metrics", "source": metrics_file,
                                "type": "application/json"})
        for stream in ("stdout", "stderr"):
            text = getattr(result, stream)
            if text:
                files[f"{ident}-{stream}-attachment.txt"] = text
                attachments.append({"name": stream, "source": f"{ident}-{stream}-attachment.txt",
                                    "type": "text/plain"})
        data: dict[str, Any] = {
            "uuid": ident,
            "historyId": _hex(f"{full_name}\n{result.config_key}"),
            "testCaseId": _hex(full_name),
            "name": name,
            "fullName": full_name,
            "status": _ALLURE_STATUS[result.outcome],
            "stage": "finished",
            "start": start,
            "stop": stop,
            "labels": labels,
            "parameters": parameters,
            "links": links,
            "attachments": attachments,
            "steps": [],
        }
        if result.outcome != "pass":
            data["statusDetails"] = {"message": _message(result)}
            excerpt = output_excerpt(result)
            if excerpt:
                data["statusDetails"]["trace"] = excerpt
        out.append((ident, data, files))
    return out


def to_allure(results: ResultRows, directory: str | os.PathLike[str], *,
              environment: Mapping[str, str] | None = None,
              snapshot_url: str | None = None) -> Path:
    """Write an ``allure-results`` directory: ``<uuid>-result.json`` per result, the config
    (and metrics) attachments, ``environment.properties`` and ``categories.json``.

    Existing files in the directory are left alone (same results overwrite the same files).
    ``environment`` adds entries to ``environment.properties``.  Returns the directory.
    """
    rows = _results(results)
    target = Path(directory)
    for ident, data, files in allure_results(rows, snapshot_url=snapshot_url):
        _write(target / f"{ident}-result.json", json.dumps(data, indent=2, ensure_ascii=False))
        for name, text in files.items():
            _write(target / name, text)
    env = {
        "configlab.version": __version__,
        "configlab.results": str(len(rows)),
        "configlab.run_ids": ",".join(sorted({r.run_id for r in rows if r.run_id})),
    }
    env.update({str(k): str(v) for k, v in (environment or {}).items()})
    _write(target / "environment.properties",
           "".join(f"{_prop_escape(k, True)}={_prop_escape(v, False)}\n"
                   for k, v in sorted(env.items())))
    categories = [
        {"name": "Failing configurations", "matchedStatuses": ["failed"]},
        {"name": "Broken configurations (errors, crashes, timeouts)",
         "matchedStatuses": ["broken"]},
        {"name": "Skipped configurations", "matchedStatuses": ["skipped"]},
    ]
    _write(target / "categories.json", json.dumps(categories, indent=2) + "\n")
    return target


def _prop_escape(text: str, key: bool) -> str:
    out = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    if key:
        out = out.replace("=", "\\=").replace(":", "\\:").replace(" ", "\\ ")
    return out


# --------------------------------------------------------------------------- CTRF


def ctrf_report(results: ResultRows, *, tool_name: str = "configlab") -> dict[str, Any]:
    """A CTRF document (``reportFormat`` CTRF, ``specVersion`` :data:`CTRF_SPEC_VERSION`).

    Each test: name, status (pass -> passed, fail -> failed, error -> other, skip -> skipped),
    ``rawStatus`` (the configlab outcome), duration in ms, start/stop (epoch ms, when the
    result has a timestamp), suite (the test id's
    class part), ``parameters`` (the flattened config), ``labels`` (the snapshot id) and
    ``extra.configlab`` (config, snapshot_id, test_id, run_id, metrics, timestamp and the exact
    duration in seconds), ``stdout`` / ``stderr`` (the kept tails, as lines with their line
    ends) and, for a failure, ``trace`` (the end of the output), which
    :func:`configlab.integrations.ingest.from_ctrf` reads back exactly.
    """
    rows = _results(results)
    spans = _timeline(rows)
    tests = []
    for index, (result, (start, stop)) in enumerate(zip(rows, spans, strict=True)):
        classname, name = split_test_id(result)
        own: dict[str, Any] = {"config": _tree.deep_copy(dict(result.config)),
                               "test_id": result.test_id, "duration": result.duration}
        for key in ("snapshot_id", "run_id", "timestamp"):
            value = getattr(result, key)
            if value:
                own[key] = value
        if result.metrics:
            own["metrics"] = dict(result.metrics)
        test: dict[str, Any] = {
            "id": _uuid(index, result),
            "name": name,
            "status": _CTRF_STATUS[result.outcome],
            "rawStatus": result.outcome,
            "duration": _duration_ms(result),
            "suite": classname.split("::"),
            "parameters": _flat_config(result),
            "extra": {"configlab": own},
        }
        if result.timestamp:  # only real times (the summary uses the synthetic timeline)
            test["start"], test["stop"] = start, stop
        if result.snapshot_id:
            test["labels"] = {SNAPSHOT_KEY: result.snapshot_id}
        if result.outcome in ("fail", "error"):
            test["message"] = _message(result)
            excerpt = output_excerpt(result)
            if excerpt:
                test["trace"] = excerpt
        for stream in ("stdout", "stderr"):
            text = getattr(result, stream)
            if text:  # lines with their ends: joined they are the exact text again
                test[stream] = text.splitlines(keepends=True)
        tests.append(test)
    count = {status: sum(t["status"] == status for t in tests)
             for status in ("passed", "failed", "skipped", "other")}
    summary = {
        "tests": len(tests),
        "passed": count["passed"],
        "failed": count["failed"],
        "skipped": count["skipped"],
        "pending": 0,
        "other": count["other"],
        "suites": len({tuple(t["suite"]) for t in tests}),
        "start": min((s for s, _ in spans), default=0),
        "stop": max((s for _, s in spans), default=0),
    }
    summary["duration"] = summary["stop"] - summary["start"]
    report_id = uuid.uuid5(UUID_NAMESPACE, canonical_json(tests))
    return {
        "reportFormat": "CTRF",
        "specVersion": CTRF_SPEC_VERSION,
        "reportId": str(report_id),
        "generatedBy": f"configlab {__version__}",
        "results": {
            "tool": {"name": tool_name, "version": __version__},
            "summary": summary,
            "tests": tests,
        },
    }


def to_ctrf(results: ResultRows, path: str | os.PathLike[str], *, tool_name: str = "configlab"
            ) -> Path:
    """Write :func:`ctrf_report` as JSON to ``path``; returns the path."""
    text = json.dumps(ctrf_report(results, tool_name=tool_name), indent=2, ensure_ascii=False)
    return _write(Path(path), text + "\n")


# --------------------------------------------------------------------------- Markdown


def _cell(text: str, limit: int = 120) -> str:
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|").replace("`", "'").replace("\n", " ")


def _config_text(result: Result, parameters: Sequence[str] | None = None) -> str:
    flat = _flat_config(result)
    if parameters is not None:
        # a config built on a large base file (a whole redis.conf) would otherwise show only
        # the base's first keys in the cell; the varied parameters are what tells runs apart
        flat = {path: flat[path] for path in parameters if path in flat}
    return ", ".join(f"{k}={encode_value(v)}" for k, v in flat.items()) or "(empty)"


def markdown_summary(results: ResultRows, *, coverage: CoverageReport | None = None,
                     analysis: AnalysisReport | None = None, max_failures: int = 20,
                     title: str = "configlab results",
                     parameters: Sequence[str] | None = None) -> str:
    """A Markdown summary: outcome counts, the failing results (test, snapshot id, config,
    the last line of their output, replay command; ordered by test id then config, so the
    order in which results were recorded does not change the summary), and the coverage
    levels and top suspects when given.

    ``parameters`` (e.g. a space's paths): the config cell shows only these, in this order,
    instead of every key of the config.  Meant for ``$GITHUB_STEP_SUMMARY`` or a
    merge-request comment.
    """
    rows = _results(results)
    counts = {o: sum(r.outcome == o for r in rows) for o in ("pass", "fail", "error", "skip")}
    ran = len(rows) - counts["skip"]
    rate = f"{counts['pass'] / ran:.1%}" if ran else "n/a"
    icon = "✅" if counts["fail"] == counts["error"] == 0 else "❌"
    out = [f"## {icon} {title}", ""]
    out.append(
        f"**{len(rows)} results: {counts['pass']} passed, {counts['fail']} failed, "
        f"{counts['error']} errors, {counts['skip']} skipped** (pass rate {rate})"
    )
    out.append("")
    # by test id, then config: a parallel run records results in completion order, and the
    # same results must give the same summary (stable sort: reruns keep their recorded order)
    failing = sorted((r for r in rows if r.outcome in ("fail", "error")),
                     key=lambda r: (r.test_id or "", _config_text(r, parameters)))
    if failing:
        out += [f"### Failures ({len(failing)})", "",
                "| test | outcome | snapshot | config | output | replay |",
                "|---|---|---|---|---|---|"]
        for result in failing[:max_failures]:
            snap = f"`{result.snapshot_id[:12]}`" if result.snapshot_id else ""
            replay = replay_command(result)
            last = output_excerpt(result).rsplit("\n", 1)[-1].strip()
            out.append(
                f"| `{_cell(result.test_id or split_test_id(result)[1])}` | {result.outcome} | "
                f"{snap} | `{_cell(_config_text(result, parameters))}` | "
                f"{f'`{_cell(last)}`' if last else ''} | "
                f"{f'`{_cell(replay, 200)}`' if replay else ''} |"
            )
        if len(failing) > max_failures:
            out.append(f"| … and {len(failing) - max_failures} more | | | | | |")
        out.append("")
    if coverage is not None:
        out += [f"### Coverage (strength {coverage.strength}, {coverage.n_rows} runs)", "",
                "| t | covered / valid | coverage | simple t-way |",
                "|---:|---:|---:|---:|"]
        for level in coverage.levels:
            out.append(f"| {level.t} | {level.covered} / {level.valid} | {level.ratio:.1%} | "
                       f"{level.simple:.1%} |")
        out.append("")
    if analysis is not None:
        out += ["### Top suspects", "", f"{_cell(analysis.summary.headline, 300)}", ""]
        if analysis.patterns:
            out += ["| # | condition | failing runs | confidence | lift |",
                    "|---:|---|---:|---:|---:|"]
            for pattern in analysis.patterns[:5]:
                out.append(f"| {pattern.rank} | `{_cell(pattern.condition)}` | "
                           f"{pattern.support} / {pattern.coverage} | "
                           f"{pattern.confidence:.1%} | {pattern.lift:.2f} |")
        else:
            out += ["| parameter | p (BH) | Cramér's V | riskiest class |",
                    "|---|---:|---:|---|"]
            for impact in analysis.impact[:5]:
                f = impact.failure
                out.append(f"| `{_cell(impact.param)}` | {f.p_adjusted:.2e} | "
                           f"{f.cramers_v:.3f} | {_cell(f.risk_class or '')} |")
        out.append("")
    return "\n".join(out)


def to_markdown(results: ResultRows, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write :func:`markdown_summary` (same keyword options) to ``path``; returns the path."""
    return _write(Path(path), markdown_summary(results, **options))


# --------------------------------------------------------------------------- tables


def to_csv(results: ResultRows, path: str | os.PathLike[str]) -> Path:
    """Write the results table as CSV (:meth:`ResultSet.to_csv` layout); returns the path.

    Like Parquet, a table of configs, outcomes and metrics: the output tails are left out
    (JSON lines, JUnit, CTRF and Allure keep them)."""
    rows = _results(results)
    location = Path(path)
    try:
        location.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise IntegrationError(f"{location}: cannot write: {error.strerror or error}") from None

    try:
        return rows.to_csv(location)
    except ResultsError as error:
        raise IntegrationError(str(error)) from None


def _column_type(values: list[Any]) -> str | None:
    """The Arrow type of a config column when every present value has one plain type."""
    kinds = {type(v) for v in values}
    if len(kinds) != 1:
        return None
    kind = next(iter(kinds))
    if kind is bool:
        return "bool"
    if kind is int:
        return "int64" if all(-(2**63) <= v < 2**63 for v in values) else None
    if kind is float:
        return "float64"
    if kind is str:
        return "string"
    return None


def parquet_table(results: ResultRows) -> Any:
    """The results table of :func:`to_parquet` as a ``pyarrow.Table`` (needs pyarrow).

    Columns as in the CSV form (no output tails).  A config column whose present values all
    share one plain type (bool, int64, float64, string) is typed, a missing cell meaning the
    path is absent; any other config column (mixed types, explicit nulls, lists, objects)
    holds canonical text and is listed in the ``configlab.text_columns`` schema metadata.
    """
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is installed with the test extra
        raise IntegrationError(
            "Parquet export needs pyarrow: pip install pyarrow"
        ) from None
    rows = _results(results)
    flats = [_flat_config(r) for r in rows]
    config_columns: dict[str, None] = {}
    for flat in flats:
        for key in flat:
            config_columns.setdefault(key, None)
    metric_names = sorted({name for r in rows for name in r.metrics})
    arrays: dict[str, Any] = {}
    for column in RESERVED_COLUMNS:
        values = [getattr(r, column) or None if column != "duration" else r.duration
                  for r in rows]
        arrays[column] = pa.array(values, pa.float64() if column == "duration" else pa.string())
    for name in metric_names:
        arrays[METRIC_PREFIX + name] = pa.array([r.metrics.get(name) for r in rows],
                                                pa.float64())
    text_columns = []
    missing = object()
    for column in config_columns:
        cells = [flat.get(column, missing) for flat in flats]
        present = [c for c in cells if c is not missing]
        kind = _column_type(present)
        if kind is None:
            text_columns.append(column)
            arrays[column] = pa.array(
                [None if c is missing else encode_value(c) for c in cells], pa.string())
        else:
            arrow_type = {"bool": pa.bool_(), "int64": pa.int64(), "float64": pa.float64(),
                          "string": pa.string()}[kind]
            arrays[column] = pa.array([None if c is missing else c for c in cells], arrow_type)
    metadata = {"configlab.text_columns": json.dumps(text_columns),
                "configlab.version": __version__}
    return pa.table(arrays).replace_schema_metadata(metadata)


def to_parquet(results: ResultRows, path: str | os.PathLike[str]) -> Path:
    """Write the results table as Parquet (needs pyarrow); returns the path.

    Columns as in :func:`parquet_table`.  Reads back with
    :func:`configlab.ingest.from_parquet` (and :func:`configlab.ingest.load_results`).
    """
    import pyarrow.parquet as pq

    table = parquet_table(results)
    location = Path(path)
    try:
        location.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, location)
    except OSError as error:
        raise IntegrationError(f"{location}: cannot write Parquet: {error}") from None
    return location


# --------------------------------------------------------------------------- dispatch


def export(results: ResultRows, fmt: str, out: str | os.PathLike[str], *,
           coverage: CoverageReport | None = None,
           analysis: AnalysisReport | None = None,
           parameters: Sequence[str] | None = None) -> Path:
    """Write ``results`` in format ``fmt`` (one of :data:`EXPORT_FORMATS`) to ``out``.

    ``coverage``, ``analysis`` and ``parameters`` are used by the Markdown summary only.
    """
    writers: dict[str, Callable[[], Path]] = {
        "junit": lambda: to_junit(results, out),
        "allure": lambda: to_allure(results, out),
        "ctrf": lambda: to_ctrf(results, out),
        "markdown": lambda: to_markdown(results, out, coverage=coverage, analysis=analysis,
                                        parameters=parameters),
        "csv": lambda: to_csv(results, out),
        "parquet": lambda: to_parquet(results, out),
        "jsonl": lambda: _jsonl(results, out),
    }
    writer = writers.get(fmt)
    if writer is None:
        raise IntegrationError(
            f"unknown export format {fmt!r} (use one of {', '.join(EXPORT_FORMATS)})"
        )
    return writer()


def _jsonl(results: ResultRows, out: str | os.PathLike[str]) -> Path:
    rows = _results(results)
    text = "".join(canonical_json(r.to_dict()) + "\n" for r in rows)
    return _write(Path(out), text)


__all__ = [
    "CTRF_SPEC_VERSION",
    "EXPORT_FORMATS",
    "allure_results",
    "config_properties",
    "ctrf_report",
    "export",
    "junit_xml",
    "markdown_summary",
    "output_excerpt",
    "parquet_table",
    "replay_command",
    "split_test_id",
    "to_allure",
    "to_csv",
    "to_ctrf",
    "to_junit",
    "to_markdown",
    "to_parquet",
]
