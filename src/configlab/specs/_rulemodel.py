"""Finite SAT model of a space plus rule conditions, for behaviour-spec reasoning.

The value-class representatives of a parameter rarely include the exact values a rule names
(``cache.size == 37``).  This bridge therefore widens each parameter's finite domain with the
literals that the rule conditions compare it against (and, for ``<``/``>``, their neighbours),
keeping only values the parameter accepts.  Each rule condition becomes a constraint guarded by a
two-valued pseudo-parameter: guard code 0 enforces the condition, code 1 relaxes it.  One
:class:`~configlab._internal.finite.ModelSolver` then answers every question lint and verify ask
("can rule A's and rule B's conditions hold together, and for which config?") by fixing guards.

Witnesses are sound (every config returned is valid and satisfies the conditions, checked on the
real space); "no witness" means none exists among the value classes and the named literals.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

from configlab._internal.finite import FiniteConstraint, FiniteModel, ModelSolver
from configlab.constraints import ABSENT, Constraint, Node, values_equal
from configlab.space import Space
from configlab.tree import flatten

_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _neighbours(value: Any) -> list[Any]:
    if isinstance(value, bool) or not _is_number(value):
        return [value]
    if isinstance(value, int):
        return [value - 1, value, value + 1]
    if not math.isfinite(value):
        return [value]
    return [math.nextafter(value, -math.inf), value, math.nextafter(value, math.inf)]


def literals_of(root: Node, out: dict[str, list[Any]]) -> None:
    """Collect ``path -> [literal, ...]`` from comparisons ``path op literal`` in ``root``."""
    op = root.op
    if op in _COMPARISONS or op == "in":
        left, right = root.args
        pairs: list[tuple[Node, Node]] = [(left, right), (right, left)]
        for side, other in pairs:
            if side.op != "path":
                continue
            path = side.args[0]
            if other.op == "lit":
                values = _neighbours(other.args[0]) if op != "==" else [other.args[0]]
            elif other.op == "list" and op == "in":
                values = [item.args[0] for item in other.args if item.op == "lit"]
            else:
                continue
            bucket = out.setdefault(path, [])
            for value in values:
                if not any(
                    values_equal(value, seen) and type(value) is type(seen) for seen in bucket
                ):
                    bucket.append(value)
    for arg in root.args:
        if isinstance(arg, Node):
            literals_of(arg, out)


class RuleModel:
    """A space plus guarded rule conditions, answering witness queries with one SAT solver."""

    def __init__(self, space: Space, conditions: Sequence[Constraint]) -> None:
        self.space = space
        self.conditions = tuple(conditions)
        extra: dict[str, list[Any]] = {}
        for condition in self.conditions:
            literals_of(condition.root, extra)
        self.domains: list[list[Any]] = []
        for param in space.parameters:
            domain = [cls.value for cls in param.value_classes]
            for value in extra.get(param.path, []):
                if param.check_value(value) is not None:
                    continue
                if any(values_equal(value, known) and known is not ABSENT for known in domain):
                    continue
                domain.append(value)
            self.domains.append(domain)
        index = {p.path: i for i, p in enumerate(space.parameters)}
        k = len(space.parameters)
        names = [*space.paths, *(f"<guard {i}>" for i in range(len(self.conditions)))]
        sizes = [len(d) for d in self.domains] + [2] * len(self.conditions)
        constraints: list[FiniteConstraint] = []
        for constraint in space.finite_constraints():
            scope = tuple(sorted(index[p] for p in constraint.params if p in index))
            constraints.append(
                FiniteConstraint(constraint.name, scope, self._allows(constraint, scope, None))
            )
        for g, condition in enumerate(self.conditions):
            scope = tuple(sorted(index[p] for p in condition.params if p in index))
            constraints.append(
                FiniteConstraint(
                    condition.name, (*scope, k + g), self._allows(condition, scope, k + g)
                )
            )
        self._k = k
        self.solver = ModelSolver(FiniteModel(tuple(names), tuple(sizes), tuple(constraints)))

    def _allows(self, constraint: Constraint, scope: tuple[int, ...], guard: int | None) -> Any:
        paths = [self.space.parameters[i].path for i in scope]
        domains = [self.domains[i] for i in scope]

        def allows(codes: tuple[int, ...]) -> bool:
            if guard is not None and codes[-1] == 1:
                return True
            env = {
                path: domain[code]
                for path, domain, code in zip(paths, domains, codes, strict=False)
            }
            return constraint.evaluate(env)

        return allows

    def witness(self, active: Sequence[int], seed: int = 0) -> dict[str, Any] | None:
        """A valid config satisfying the conditions numbered ``active`` (None when none found)."""
        partial = {self._k + g: (0 if g in active else 1) for g in range(len(self.conditions))}
        codes = self.solver.complete(partial, random.Random(seed))
        if codes is None:
            return None
        assignment = {
            p.path: self.domains[i][codes[i]] for i, p in enumerate(self.space.parameters)
        }
        config = self.space.build(assignment)
        env = self.space.extract(config)
        if not self.space.is_valid(config) or not all(
            self.conditions[g].evaluate(env) for g in active
        ):  # pragma: no cover - the model is exact on the values it enumerates
            return None
        return config

    def close(self) -> None:
        """Release the SAT solver."""
        self.solver.close()


def condition_env(space: Space | None, config: Mapping[str, Any]) -> dict[str, Any]:
    """The environment a rule condition is evaluated on for ``config``."""
    if space is not None:
        env = space.extract(config)

        for path, value in flatten(config).items():
            env.setdefault(path, value)
        return env

    return flatten(config)
