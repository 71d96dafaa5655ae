"""Negative (invalid) values: single-fault rows on top of a covering suite.

A *negative* value is one the application must reject (PICT's ``~value``).  The positive
suite never uses one; each negative value then gets its own rows in which it is the only
negative value (so a failure is attributable to it), combined with the positive values of
the other parameters at strength ``t - 1`` (so with ``t = 2`` every positive value of every
other parameter meets it once), under the model's constraints.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict, Unpack

from configlab._internal.finite import FiniteConstraint, FiniteModel, ModelSolver
from configlab.errors import GenerationError
from configlab.generation._covering import CoveringResult, Group, build_covering


class CoveringOptions(TypedDict, total=False):
    """The keyword options of :func:`build_covering` that :func:`build_with_negatives` passes on
    (meanings and defaults there)."""

    seed_rows: Iterable[Sequence[int]]
    required_rows: Iterable[Sequence[int]]
    required_tuples: Iterable[Mapping[int, int]]
    groups: Iterable[Group]
    weights: Sequence[Sequence[float]] | None
    time_budget: float | None
    max_steps: int | None
    candidates: int | None
    effort: float


@dataclass(frozen=True)
class FaultRow:
    """A single-fault row: ``row`` holds the negative code ``code`` of parameter ``param``."""

    row: tuple[int, ...]
    param: int
    code: int


@dataclass(frozen=True)
class FaultSuite:
    """A covering suite without negative values, plus the single-fault rows."""

    positive: CoveringResult
    faults: tuple[FaultRow, ...]

    @property
    def rows(self) -> list[tuple[int, ...]]:
        """Positive rows first, then the fault rows."""
        return self.positive.rows + [f.row for f in self.faults]


def _member(keep: frozenset[int]) -> Callable[[tuple[int, ...]], bool]:
    def allows(codes: tuple[int, ...]) -> bool:
        return codes[0] in keep

    return allows


def _only(model: FiniteModel, allowed: Mapping[int, Collection[int]], why: str) -> FiniteModel:
    """``model`` plus one unary constraint per parameter restricting it to ``allowed``."""
    extra = tuple(
        FiniteConstraint(f"{model.names[p]} {why}", (p,), _member(frozenset(codes)))
        for p, codes in sorted(allowed.items())
    )
    return FiniteModel(model.names, model.domain_sizes, model.constraints + extra)


def check_negatives(model: FiniteModel, negatives: Mapping[int, Collection[int]]) -> None:
    """Raise :class:`GenerationError` unless ``negatives`` maps parameters to some of their
    codes while leaving each at least one positive code."""
    sizes = model.domain_sizes
    for p, codes in negatives.items():
        if not isinstance(p, int) or not 0 <= p < len(sizes):
            raise GenerationError(f"negative values: {p!r} is not a parameter index")
        bad = [c for c in codes if not isinstance(c, int) or not 0 <= c < sizes[p]]
        if bad:
            raise GenerationError(f"negative values of {model.names[p]!r}: {bad!r} not codes")
        if len(set(codes)) >= sizes[p]:
            raise GenerationError(
                f"every value of {model.names[p]!r} is negative: no valid value is left"
            )


def build_with_negatives(
    model: FiniteModel,
    strength: int,
    seed: int,
    negatives: Mapping[int, Collection[int]],
    **options: Unpack[CoveringOptions],
) -> FaultSuite:
    """A covering suite that avoids the ``negatives`` codes, plus single-fault rows.

    Arguments are those of :func:`build_covering`; ``negatives`` maps a parameter index to
    its negative codes.  Each negative code gets rows holding it as the only negative
    value, covering the other parameters' positive values at strength ``strength - 1``
    (one row when ``strength`` is 1).

    Raises:
        GenerationError: bad negatives (or arguments of :func:`build_covering`); a
            negative value that cannot appear with valid values elsewhere.
        UnsatisfiableSpaceError: no valid configuration without negative values exists.
    """
    check_negatives(model, negatives)
    sizes = model.domain_sizes
    positive_codes = {
        p: [c for c in range(sizes[p]) if c not in set(codes)]
        for p, codes in negatives.items() if codes
    }
    positive = build_covering(
        _only(model, positive_codes, "takes no negative value"), strength, seed, **options)
    faults: list[FaultRow] = []
    for p in sorted(positive_codes):
        for code in sorted(set(negatives[p])):
            allowed = {q: codes for q, codes in positive_codes.items() if q != p}
            allowed[p] = [code]
            single = _only(model, allowed, "in this single-fault row")
            solver = ModelSolver(single)
            if not solver.is_satisfiable():
                raise GenerationError(
                    f"negative value {code} of {model.names[p]!r} cannot appear in a "
                    "configuration whose other values are valid"
                )
            if strength <= 1 or len(sizes) <= 1:
                found = solver.extend({})
                assert found is not None
                rows = [found]
            else:
                rows = build_covering(
                    single, strength - 1, seed, solver=solver, weights=options.get("weights"),
                    max_steps=options.get("max_steps"), candidates=options.get("candidates"),
                    effort=options.get("effort", 1.0),
                ).rows
            faults.extend(FaultRow(tuple(r), p, code) for r in rows)
    return FaultSuite(positive, tuple(faults))
