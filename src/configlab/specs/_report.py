"""Verification reports: per-config checks, per-rule reports, and their JUnit XML / Markdown."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configlab._internal.safeio import write_output
from configlab.errors import SpecError
from configlab.execution import DEFAULT_TAIL_BYTES
from configlab.results import Result, ResultSet
from configlab.specs._model import Outcome
from configlab.tree import flatten


@dataclass(frozen=True)
class Check:
    """The verdict of one rule on one config (``held``, ``violated`` or ``errored``)."""

    rule_id: str
    config_index: int
    config: Mapping[str, Any]
    verdict: str
    outcome: Outcome
    snapshot_id: str | None = None
    failures: tuple[str, ...] = ()
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "rule": self.rule_id,
            "config_index": self.config_index,
            "snapshot_id": self.snapshot_id,
            "verdict": self.verdict,
            "failures": list(self.failures),
            "error": self.error,
            "config": self.config,
            "outcome": self.outcome.to_dict(),
        }


@dataclass(frozen=True)
class RuleReport:
    """What happened to one rule: configs tried, held, violated and errored."""

    rule_id: str
    description: str
    when: str
    checks: tuple[Check, ...]
    note: str = ""

    @property
    def tried(self) -> int:
        """Configs the rule was judged on."""
        return len(self.checks)

    @property
    def held(self) -> int:
        """Configs on which every expectation held."""
        return sum(c.verdict == "held" for c in self.checks)

    @property
    def violated(self) -> int:
        """Configs on which an expectation did not hold."""
        return sum(c.verdict == "violated" for c in self.checks)

    @property
    def errored(self) -> int:
        """Configs whose run could not be judged (timeout, crash, runner failure)."""
        return sum(c.verdict == "errored" for c in self.checks)

    @property
    def status(self) -> str:
        """``violated``, ``errored``, ``held`` or ``untested`` (no config satisfied ``when``)."""
        if self.violated:
            return "violated"
        if self.errored:
            return "errored"
        return "held" if self.checks else "untested"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "rule": self.rule_id,
            "description": self.description,
            "when": self.when,
            "status": self.status,
            "tried": self.tried,
            "held": self.held,
            "violated": self.violated,
            "errored": self.errored,
            "note": self.note,
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass(frozen=True)
class VerificationReport:
    """The result of :func:`verify`: per-rule verdicts tied to the exact spec and configs."""

    spec_name: str
    spec_version: str
    spec_hash: str
    rules: tuple[RuleReport, ...]
    spec_snapshot: str | None = None
    runner: str = ""
    strategy: str = ""
    seed: int = 0

    @property
    def ok(self) -> bool:
        """True when no rule was violated or errored."""
        return all(r.violated == 0 and r.errored == 0 for r in self.rules)

    @property
    def checks(self) -> tuple[Check, ...]:
        """Every check, rule by rule."""
        return tuple(c for r in self.rules for c in r.checks)

    @property
    def violations(self) -> tuple[Check, ...]:
        """The violated checks (each names its config's snapshot id)."""
        return tuple(c for c in self.checks if c.verdict == "violated")

    @property
    def errors(self) -> tuple[Check, ...]:
        """The errored checks."""
        return tuple(c for c in self.checks if c.verdict == "errored")

    def rule(self, rule_id: str) -> RuleReport:
        """The report of one rule."""
        for report in self.rules:
            if report.rule_id == rule_id:
                return report
        raise SpecError(f"the report has no rule {rule_id!r}")

    def totals(self) -> dict[str, int]:
        """Counts over all rules: rules, checks, held, violated, errored, untested."""
        return {
            "rules": len(self.rules),
            "checks": sum(r.tried for r in self.rules),
            "held": sum(r.held for r in self.rules),
            "violated": sum(r.violated for r in self.rules),
            "errored": sum(r.errored for r in self.rules),
            "untested": sum(r.status == "untested" for r in self.rules),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (every check records the spec hash and version through the header)."""
        return {
            "spec": {
                "name": self.spec_name,
                "version": self.spec_version,
                "hash": self.spec_hash,
                "snapshot": self.spec_snapshot,
            },
            "runner": self.runner,
            "strategy": self.strategy,
            "seed": self.seed,
            "ok": self.ok,
            "totals": self.totals(),
            "rules": [r.to_dict() for r in self.rules],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False, default=repr)

    @property
    def run_id(self) -> str:
        """``spec:<name>@<version>:<spec hash>``: the run id of :meth:`to_results` records."""
        return f"spec:{self.spec_name}@{self.spec_version}:{self.spec_hash}"

    def to_results(self, run_id: str | None = None) -> ResultSet:
        """Every check as a :class:`configlab.results._model.Result` (held=pass, violated=fail,
        errored=error), ``test_id`` ``spec:<name>@<version>::<rule>``, the config's snapshot id,
        ``run_id`` (default :attr:`run_id`, which carries the spec hash and version) and the
        output tails the runner kept."""

        def tail(text: str) -> str | None:
            return text[-DEFAULT_TAIL_BYTES:] or None

        verdict_outcome = {"held": "pass", "violated": "fail", "errored": "error"}
        results = [
            Result(
                config=check.config,
                outcome=verdict_outcome[check.verdict],
                duration=check.outcome.duration_s,
                metrics=dict(check.outcome.metrics),
                test_id=f"spec:{self.spec_name}@{self.spec_version}::{check.rule_id}",
                snapshot_id=check.snapshot_id,
                run_id=run_id or self.run_id,
                stdout=tail(check.outcome.stdout), stderr=tail(check.outcome.stderr),
            )
            for check in self.checks
        ]
        return ResultSet(results)

    def to_junit_xml(self) -> str:
        """JUnit XML: one testcase per rule x config; config as properties; failure/error."""
        return junit_xml(self)

    def to_markdown(self) -> str:
        """A Markdown summary (table per rule, violations with snapshot ids)."""
        return markdown(self)

    def write(self, path: str | os.PathLike[str], fmt: str | None = None) -> Path:
        """Write the report as ``json``, ``junit`` or ``md`` (from the extension when not given)."""
        target = Path(path)
        kind = fmt or {".json": "json", ".xml": "junit", ".md": "md"}.get(target.suffix.lower())
        if kind == "json":
            text = self.to_json()
        elif kind == "junit":
            text = self.to_junit_xml()
        elif kind in ("md", "markdown"):
            text = self.to_markdown()
        else:
            raise SpecError(f"{target}: cannot tell the report format; use json, junit or md")
        write_output(target, text, what="report", error=SpecError)
        return target


# --------------------------------------------------------------------------- rendering

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
