"""Spec lint: contradictory rule pairs and dead rules, found with the SAT model of the space."""

from __future__ import annotations

import builtins
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from configlab.constraints import Node
from configlab.errors import ConfiglabError, ContradictorySpecError, SpecError
from configlab.space import Space
from configlab.specs._load import as_spec
from configlab.specs._model import Expectation, Spec, config_json, resolve_space
from configlab.specs._rulemodel import RuleModel


@dataclass(frozen=True)
class Contradiction:
    """Two rules (or one rule with itself) whose ``when`` can hold on ``witness`` while their
    expectations cannot all hold."""

    rule_a: str
    rule_b: str
    reason: str
    witness: Mapping[str, Any]

    def __str__(self) -> str:
        pair = (
            f"rule {self.rule_a!r}"
            if self.rule_a == self.rule_b
            else (f"rules {self.rule_a!r} and {self.rule_b!r}")
        )
        return f"{pair} contradict ({self.reason}); witness config: {config_json(self.witness)}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"rules": [self.rule_a, self.rule_b], "reason": self.reason, "witness": self.witness}


@dataclass(frozen=True)
class DeadRule:
    """A rule whose ``when`` no valid config of the space satisfies."""

    rule_id: str
    when: str
    reason: str

    def __str__(self) -> str:
        return f"rule {self.rule_id!r} is dead: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"rule": self.rule_id, "when": self.when, "reason": self.reason}


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check` found: contradictions (with witness configs) and dead rules."""

    spec_name: str
    spec_version: str
    contradictions: tuple[Contradiction, ...] = ()
    dead: tuple[DeadRule, ...] = ()

    @property
    def ok(self) -> bool:
        """No contradiction and no dead rule."""
        return not self.contradictions and not self.dead

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "spec": {"name": self.spec_name, "version": self.spec_version},
            "ok": self.ok,
            "contradictions": [c.to_dict() for c in self.contradictions],
            "dead": [d.to_dict() for d in self.dead],
        }

    def to_text(self) -> str:
        """One line per finding (``ok`` when none)."""
        lines = [str(c) for c in self.contradictions] + [str(d) for d in self.dead]
        return "\n".join(lines) if lines else f"{self.spec_name}@{self.spec_version}: ok"


@dataclass(frozen=True)
class Interval:
    """A numeric interval with open/closed ends (``lo``/``hi`` may be infinite)."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_closed: bool = False
    hi_closed: bool = False

    @property
    def empty(self) -> bool:
        """Whether no number lies in the interval."""
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_closed and self.hi_closed))

    def intersect(self, other: Interval) -> Interval:
        """The intersection of two intervals."""
        if self.lo > other.lo or (self.lo == other.lo and not self.lo_closed):
            lo, lo_closed = self.lo, self.lo_closed
        else:
            lo, lo_closed = other.lo, other.lo_closed
        if self.hi < other.hi or (self.hi == other.hi and not self.hi_closed):
            hi, hi_closed = self.hi, self.hi_closed
        else:
            hi, hi_closed = other.hi, other.hi_closed
        return Interval(lo, hi, lo_closed, hi_closed)

    @classmethod
    def of(cls, op: str, number: float) -> Interval:
        """The values ``x`` with ``x op number``."""
        return {
            "<": cls(hi=number),
            "<=": cls(hi=number, hi_closed=True),
            ">": cls(lo=number),
            ">=": cls(lo=number, lo_closed=True),
            "==": cls(number, number, True, True),
        }[op]


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "=="}


def comparison_atoms(root: Node) -> list[tuple[str, str, float]]:
    """``(path, op, number)`` for each ``path op number`` conjunct of ``root`` (top-level ands)."""
    if root.op == "and":
        return [a for arg in root.args for a in comparison_atoms(arg)]
    if root.op in _FLIP:
        left, right = root.args
        for path_node, number_node, op in ((left, right, root.op), (right, left, _FLIP[root.op])):
            if path_node.op == "path" and number_node.op == "lit":
                number = number_node.args[0]
                if isinstance(number, int | float) and not isinstance(number, bool):
                    return [(path_node.args[0], op, float(number))]
    return []


def _builtin_exception(name: str) -> type[BaseException] | None:
    found = getattr(builtins, name.rsplit(".", 1)[-1], None)
    if isinstance(found, type) and issubclass(found, BaseException):
        return found
    return None


def expectation_conflict(items: Sequence[tuple[str, Expectation]]) -> str | None:
    """Why ``(rule_id, expectation)`` items cannot all hold on one run (None if they can).

    Recognised: different exit codes; different outcomes (``raises`` implies ``error``);
    unrelated built-in exception types; and numeric comparisons ``<path> <op> <number>``
    (``exit_code`` expectations included) whose intervals do not intersect.
    """
    first: dict[str, tuple[str, str, Any]] = {}
    for rule_id, e in items:
        if e.kind == "exit_code":
            key, shown = "exit_code", e.value
        elif e.kind == "outcome":
            key, shown = "outcome", e.value
        elif e.kind == "raises":
            key, shown = "outcome", "error"
        else:
            continue
        if key in first and first[key][2] != shown:
            other_rule, other_text, _ = first[key]
            return f"{other_text} ({other_rule}) vs {e} ({rule_id})"
        first.setdefault(key, (rule_id, str(e), shown))
    raised = [(rule_id, e) for rule_id, e in items if e.kind == "raises"]
    for (ra, a), (rb, b) in ((x, y) for i, x in enumerate(raised) for y in raised[i + 1 :]):
        ta, tb = _builtin_exception(a.value), _builtin_exception(b.value)
        if ta is not None and tb is not None and not (issubclass(ta, tb) or issubclass(tb, ta)):
            return f"{a} ({ra}) vs {b} ({rb})"
    atoms: list[tuple[str, Interval, str]] = []
    for rule_id, e in items:
        if e.kind == "exit_code":
            atoms.append(("exit_code", Interval.of("==", e.value), f"{e} ({rule_id})"))
        elif e.kind == "metric" and e.constraint is not None:
            for path, op, number in comparison_atoms(e.constraint.root):
                atoms.append((path, Interval.of(op, number), f"{path} {op} {number:g} ({rule_id})"))
    paths = sorted({path for path, _, _ in atoms})
    for path in paths:
        mine = [(interval, label) for p, interval, label in atoms if p == path]
        for i, (a_int, a_label) in enumerate(mine):
            for b_int, b_label in mine[i + 1 :]:
                if a_int.intersect(b_int).empty:
                    return f"{a_label} vs {b_label}"
        # intervals on a line that meet pairwise all meet (Helly), so pairs are enough
    return None


def check(
    spec: Spec | str | os.PathLike[str],
    space: Space | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    *,
    raise_on_contradiction: bool = True,
    seed: int = 0,
) -> CheckReport:
    """Find contradictory rule pairs and dead rules with the SAT model of the space.

    Two rules contradict when a valid config satisfies both ``when`` s (the witness, found by
    the SAT solver) while their expectations cannot both hold (see
    :func:`expectation_conflict`); a single rule whose own expectations conflict counts too.  A
    rule is dead when no valid config satisfies its ``when`` (searched among the value classes
    of the space and the values the rule conditions name).  Raises
    :class:`ContradictorySpecError` on a contradiction unless ``raise_on_contradiction=False``.
    """
    the_spec = as_spec(spec)
    the_space = (
        resolve_space(space, None, the_spec.source or "spec")
        if space is not None
        else (the_spec.space)
    )
    if the_space is None:
        raise SpecError(f"spec {the_spec.label} has no space to check against")
    if space is not None:
        for rule in the_spec.rules:
            unknown = [p for p in rule.condition.params if p not in the_space]
            if unknown:
                raise SpecError(f"{rule.where}: when reads {unknown[0]!r}, not in the space")
    rules = the_spec.rules
    try:
        model = RuleModel(the_space, [r.condition for r in rules])
    except ConfiglabError as error:
        raise SpecError(f"{the_spec.label}: cannot build the finite model: {error}") from None
    try:
        witnesses = [model.witness([i], seed) for i in range(len(rules))]
        dead = tuple(
            DeadRule(r.id, r.when, "no valid config satisfies its 'when'")
            for r, w in zip(rules, witnesses, strict=True)
            if w is None
        )
        found: list[Contradiction] = []
        for i, rule in enumerate(rules):
            witness = witnesses[i]
            if witness is None:
                continue
            reason = expectation_conflict([(rule.id, e) for e in rule.expect])
            if reason is not None:
                found.append(Contradiction(rule.id, rule.id, reason, witness))
                continue
            for j in range(i + 1, len(rules)):
                other = rules[j]
                if witnesses[j] is None:
                    continue
                reason = expectation_conflict(
                    [(rule.id, e) for e in rule.expect] + [(other.id, e) for e in other.expect]
                )
                if (
                    reason is None
                    or expectation_conflict([(other.id, e) for e in other.expect]) is not None
                ):
                    continue
                both = model.witness([i, j], seed)
                if both is not None:
                    found.append(Contradiction(rule.id, other.id, reason, both))
    finally:
        model.close()
    report = CheckReport(the_spec.name, the_spec.version, tuple(found), dead)
    if found and raise_on_contradiction:
        listed = "; ".join(str(c) for c in found)
        raise ContradictorySpecError(f"{the_spec.source or the_spec.label}: {listed}")
    return report
