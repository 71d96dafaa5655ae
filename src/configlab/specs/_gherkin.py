"""Gherkin ``.feature`` files mapped onto the behaviour-spec rule model.

Parsing uses the official ``gherkin-official`` parser; this module only interprets its AST with a
small, documented step vocabulary (see ``docs/specs.md``) and returns plain rule dictionaries in
the same shape as a YAML spec's ``rules`` (plus each rule's source line), so that both formats go
through one validation path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from configlab.constraints import parse as parse_constraint
from configlab.errors import ConstraintError, SpecError

_HAS = re.compile(r"the config has (?P<path>\S+)\s*(?P<op>==|=)\s*(?P<value>.+)")
_SATISFIES = re.compile(r'the config satisfies "(?P<expr>.*)"')
_RUNS = re.compile(r"the application runs")
_EXIT = re.compile(r"the exit code is (?P<code>-?\d+)")
_TEST = re.compile(r"the test (?P<verb>passes|fails|errors)")
_OUTPUT = re.compile(
    r"the (?P<stream>output|error output) (?P<how>contains|matches) \"(?P<text>.*)\""
)
_RAISES = re.compile(r"it raises (?P<name>[A-Za-z_][\w.]*)")
_PREDICATE = re.compile(r'the predicate "(?P<ref>[^"]+)" holds')
_PLACEHOLDER = re.compile(r"<([^<>]+)>")
_BOOLEAN_OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "and", "or", "not", "->", "<->")
_VERB_OUTCOME = {"passes": "pass", "fails": "fail", "errors": "error"}


@dataclass(frozen=True)
class FeatureSpec:
    """What a feature file declares: name, optional space/version tags and rule dicts."""

    name: str
    description: str
    version: str | None
    space: str | None
    rules: tuple[dict[str, Any], ...]
    lines: tuple[int, ...]


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text.strip().lower()).strip("-")
    return slug or "scenario"


def _literal(text: str) -> str:
    """The constraint-language literal for a Given value (bare words become strings)."""
    text = text.strip()
    try:
        node = parse_constraint(text).root
    except ConstraintError:
        node = None
    if node is not None and (node.op == "lit" or (node.op == "list")):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class _Context:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, line: int, message: str) -> SpecError:
        return SpecError(f"{self.source}:{line}: {message}")


def _steps_to_rule(
    ctx: _Context, steps: Sequence[Mapping[str, Any]], substitute: Mapping[str, str]
) -> tuple[list[str], list[dict[str, Any]]]:
    conditions: list[str] = []
    expect: list[dict[str, Any]] = []
    kind = "Context"
    for step in steps:
        line = int(step["location"]["line"])
        keyword_type = step.get("keywordType", "Unknown")
        if keyword_type in ("Context", "Action", "Outcome"):
            kind = keyword_type
        text = step["text"].strip()
        for key, value in substitute.items():
            text = text.replace(f"<{key}>", value)
        if step.get("dataTable") is not None or step.get("docString") is not None:
            raise ctx.fail(line, f"step {text!r}: data tables and doc strings are not supported")
        leftover = _PLACEHOLDER.search(text)
        if leftover is not None and substitute:
            raise ctx.fail(line, f"placeholder <{leftover.group(1)}> has no Examples column")
        if kind == "Context":
            if (m := _HAS.fullmatch(text)) is not None:
                conditions.append(f"{m['path']} == {_literal(m['value'])}")
                continue
            if (m := _SATISFIES.fullmatch(text)) is not None:
                conditions.append(f"({m['expr']})")
                continue
        elif kind == "Action":
            if _RUNS.fullmatch(text) is not None:
                continue
        else:
            found = _then(text)
            if found is not None:
                expect.append(found)
                continue
        raise ctx.fail(
            line,
            f"unknown step {step['keyword'].strip()} {text!r} (see docs/specs.md for the "
            "step vocabulary)",
        )
    return conditions, expect


def _then(text: str) -> dict[str, Any] | None:
    if (m := _EXIT.fullmatch(text)) is not None:
        return {"exit_code": int(m["code"])}
    if (m := _TEST.fullmatch(text)) is not None:
        return {"outcome": _VERB_OUTCOME[m["verb"]]}
    if (m := _OUTPUT.fullmatch(text)) is not None:
        stream = "stdout" if m["stream"] == "output" else "stderr"
        return {f"{stream}_{m['how']}": m["text"]}
    if (m := _RAISES.fullmatch(text)) is not None:
        return {"raises": m["name"]}
    if (m := _PREDICATE.fullmatch(text)) is not None:
        return {"predicate": m["ref"]}
    try:
        root = parse_constraint(text).root
    except ConstraintError:
        return None
    if root.op in _BOOLEAN_OPS:
        return {"metric": text}
    return None


def _tag_value(tags: Sequence[Mapping[str, Any]], key: str) -> str | None:
    for tag in tags:
        name = str(tag.get("name", ""))
        for sep in (":", "="):
            prefix = f"@{key}{sep}"
            if name.startswith(prefix):
                return name[len(prefix) :]
    return None


def _scenarios(children: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], list[Any]]]:
    """(scenario, background steps) pairs, descending into ``Rule:`` blocks."""
    found: list[tuple[Mapping[str, Any], list[Any]]] = []
    background: list[Any] = []
    for child in children:
        if "background" in child:
            background = list(child["background"]["steps"])
        elif "scenario" in child:
            found.append((child["scenario"], background))
        elif "rule" in child:
            for scenario, inner in _scenarios(child["rule"].get("children", [])):
                found.append((scenario, background + inner))
    return found


def parse_feature(text: str, source: str) -> FeatureSpec:
    """Parse feature ``text`` (from ``source``, used in messages) into rule dictionaries."""
    from gherkin.errors import CompositeParserException, ParserError, ParserException
    from gherkin.parser import Parser
    from gherkin.token_scanner import TokenScanner

    ctx = _Context(source)
    try:
        document = Parser().parse(TokenScanner(text))
    except (CompositeParserException, ParserException, ParserError) as error:
        first = getattr(error, "errors", None) or [error]
        location = getattr(first[0], "location", None) or {}
        line = location.get("line") if isinstance(location, dict) else None
        where = f"{source}:{line}" if line else source
        message = str(first[0]).strip()
        raise SpecError(f"{where}: invalid Gherkin: {message}") from None
    feature = document.get("feature")
    if not feature:
        raise SpecError(f"{source}: no Feature in file")
    rules: list[dict[str, Any]] = []
    lines: list[int] = []
    for scenario, background in _scenarios(feature.get("children", [])):
        line = int(scenario["location"]["line"])
        steps = [*background, *scenario["steps"]]
        base_id = _slug(_PLACEHOLDER.sub("", scenario["name"]))
        examples = scenario.get("examples") or []
        if "Outline" in scenario["keyword"] or examples:
            if not examples:
                raise ctx.fail(line, f"Scenario Outline {scenario['name']!r} has no Examples")
            row_number = 0
            for block in examples:
                header = block.get("tableHeader")
                if header is None:
                    raise ctx.fail(int(block["location"]["line"]), "Examples without a table")
                keys = [cell["value"] for cell in header["cells"]]
                for row in block.get("tableBody", []):
                    row_number += 1
                    values = {k: cell["value"] for k, cell in zip(keys, row["cells"], strict=True)}
                    conditions, expect = _steps_to_rule(ctx, steps, values)
                    name = scenario["name"]
                    for key, value in values.items():
                        name = name.replace(f"<{key}>", value)
                    rules.append(_rule(f"{base_id}#{row_number}", name, conditions, expect))
                    lines.append(int(row["location"]["line"]))
        else:
            conditions, expect = _steps_to_rule(ctx, steps, {})
            rules.append(_rule(base_id, scenario["name"], conditions, expect))
            lines.append(line)
        if not rules[-1]["expect"]:
            raise ctx.fail(line, f"scenario {scenario['name']!r} has no Then step")
    return FeatureSpec(
        name=str(feature["name"]).strip() or _slug(source),
        description=str(feature.get("description") or "").strip(),
        version=_tag_value(feature.get("tags", []), "version"),
        space=_tag_value(feature.get("tags", []), "space"),
        rules=tuple(rules),
        lines=tuple(lines),
    )


def _rule(
    rule_id: str, name: str, conditions: list[str], expect: list[dict[str, Any]]
) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": rule_id, "description": name.strip()}
    rule["when"] = " and ".join(conditions) if conditions else "true"
    rule["expect"] = expect
    return rule
