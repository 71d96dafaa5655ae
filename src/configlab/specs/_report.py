"""Rendering of verification reports: JUnit XML and Markdown."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from configlab.tree import flatten

if TYPE_CHECKING:
    from configlab.specs._specs import Check, VerificationReport

_MAX_TEXT = 4000


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _clean(text: str) -> str:
    """Drop characters XML 1.0 cannot carry."""
    return "".join(
        ch
        for ch in text
        if ch in "\t\n\r"
        or 0x20 <= ord(ch) <= 0xD7FF
        or 0xE000 <= ord(ch) <= 0xFFFD
        or 0x10000 <= ord(ch) <= 0x10FFFF
    )


def _property(parent: ET.Element, name: str, value: Any) -> None:
    ET.SubElement(parent, "property", name=name, value=_clean(_value(value)))


def _duration(check: Check) -> float:
    return float(check.outcome.duration_s or 0.0)


def junit_xml(report: VerificationReport) -> str:
    """One ``<testsuite>`` per rule, one ``<testcase>`` per rule x config."""
    root = ET.Element("testsuites", name=f"{report.spec_name}@{report.spec_version}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for rule in report.rules:
        suite = ET.SubElement(root, "testsuite", name=f"{report.spec_name}.{rule.rule_id}")
        properties = ET.SubElement(suite, "properties")
        _property(properties, "spec.name", report.spec_name)
        _property(properties, "spec.version", report.spec_version)
        _property(properties, "spec.hash", report.spec_hash)
        if report.spec_snapshot:
            _property(properties, "spec.snapshot", report.spec_snapshot)
        _property(properties, "rule.when", rule.when)
        if rule.note:
            _property(properties, "rule.note", rule.note)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        suite_time = 0.0
        for check in rule.checks:
            counts["tests"] += 1
            suite_time += _duration(check)
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{report.spec_name}.{rule.rule_id}",
                name=f"{rule.rule_id}[{check.config_index}]",
                time=f"{_duration(check):.3f}",
            )
            props = ET.SubElement(case, "properties")
            if check.snapshot_id:
                _property(props, "snapshot_id", check.snapshot_id)
            _property(props, "spec.hash", report.spec_hash)
            _property(props, "spec.version", report.spec_version)
            for path, value in sorted(flatten(dict(check.config)).items()):
                _property(props, f"config.{path}", value)
            where = f" (snapshot {check.snapshot_id[:12]})" if check.snapshot_id else ""
            if check.verdict == "violated":
                counts["failures"] += 1
                failure = ET.SubElement(
                    case,
                    "failure",
                    type="violation",
                    message=_clean("; ".join(check.failures) + where),
                )
                failure.text = _clean("\n".join(check.failures))
            elif check.verdict == "errored":
                counts["errors"] += 1
                kind = "timeout" if (check.error or "").startswith("timeout") else "error"
                error = ET.SubElement(
                    case, "error", type=kind, message=_clean((check.error or "") + where)
                )
                error.text = _clean(check.outcome.stderr[-_MAX_TEXT:])
            if check.outcome.stdout:
                ET.SubElement(case, "system-out").text = _clean(check.outcome.stdout[-_MAX_TEXT:])
            if check.outcome.stderr and check.verdict != "errored":
                ET.SubElement(case, "system-err").text = _clean(check.outcome.stderr[-_MAX_TEXT:])
        if not rule.checks:
            counts["tests"] += 1
            counts["skipped"] += 1
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{report.spec_name}.{rule.rule_id}",
                name=rule.rule_id,
                time="0.000",
            )
            ET.SubElement(case, "skipped", message=rule.note or "no config satisfied 'when'")
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{suite_time:.3f}")
        total_time += suite_time
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(totals[key]))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def output_tail(check: Check, lines: int = 12, chars: int = 2000) -> str:
    """The last ``lines`` lines (at most ``chars`` characters) the application wrote to
    stderr, or to stdout when stderr is empty."""
    text = (check.outcome.stderr.strip() or check.outcome.stdout.strip())[-chars:]
    return "\n".join(text.splitlines()[-lines:])


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(report: VerificationReport) -> str:
    """A Markdown summary: totals, a table per rule, then violations and errors in detail."""
    totals = report.totals()
    status = "all rules held" if report.ok else "FAILED"
    lines = [
        f"# Spec `{report.spec_name}` version {report.spec_version}: {status}",
        "",
        f"- spec hash: `{report.spec_hash}`",
    ]
    if report.spec_snapshot:
        lines.append(f"- spec snapshot: `{report.spec_snapshot}`")
    lines += [
        f"- runner: `{report.runner}`, configs: {report.strategy} (seed {report.seed})",
        f"- {totals['rules']} rules, {totals['checks']} checks: {totals['held']} held, "
        f"{totals['violated']} violated, {totals['errored']} errored, "
        f"{totals['untested']} rules untested",
        "",
        "| rule | status | tried | held | violated | errored | when |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for rule in report.rules:
        lines.append(
            f"| {_cell(rule.rule_id)} | {rule.status} | {rule.tried} | {rule.held} | "
            f"{rule.violated} | {rule.errored} | `{_cell(rule.when)}` |"
        )
    for title, checks in (("Violations", report.violations), ("Errors", report.errors)):
        if not checks:
            continue
        lines += ["", f"## {title}", ""]
        for check in checks:
            snapshot = f"snapshot `{check.snapshot_id}`" if check.snapshot_id else "no snapshot"
            lines.append(f"- **{check.rule_id}** on config #{check.config_index} ({snapshot})")
            for failure in check.failures:
                lines.append(f"  - {_cell(failure)}")
            if check.error:
                lines.append(f"  - {_cell(check.error)}")
            lines.append(f"  - config: `{_cell(json.dumps(check.config, sort_keys=True))}`")
            tail = output_tail(check)
            if tail:
                # the last lines the application wrote tell "OOM" from "index out of range"
                fence = "~~~~" if "```" in tail else "```"
                lines += ["", f"  {fence}text", *(f"  {line}" for line in tail.splitlines()),
                          f"  {fence}"]
    notes = [r for r in report.rules if r.note]
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {r.rule_id}: {r.note}" for r in notes]
    return "\n".join(lines) + "\n"
