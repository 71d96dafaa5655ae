"""Combinatorial coverage of the configuration space by a set of tests (NIST CCM definitions).

Terminology (Kuhn, Kacker, Lei — *Combinatorial Coverage Measurement*):

* a *t-way combination* is a set of ``t`` parameters; a *variable-value configuration*
  (a *t-tuple*) assigns one value class to each of them;
* a t-tuple is *valid* when some configuration satisfying every constraint contains it, and
  *invalid* (constraint-excluded) otherwise — invalid tuples are never counted as gaps;
* a test set *covers* a tuple when one of its rows contains it.

Measures, for t = 1..strength:

* **total variable-value configuration coverage** (:attr:`LevelCoverage.ratio`): covered valid
  t-tuples / valid t-tuples;
* **simple t-way combination coverage** (:attr:`LevelCoverage.simple`): the fraction of t-way
  combinations all of whose valid tuples are covered;
* the **(t, v) curve** (:attr:`LevelCoverage.curve`): for each v in [0, 1], the fraction of
  t-way combinations whose value-combination coverage is at least v.

Coverage is counted on the value classes of :class:`~configlab.space.Space`.  Each combination
is measured with numpy: the codes of its parameters become one mixed-radix integer per row,
counted with ``np.bincount``; validity of tuples comes from the SAT model of the space's
constraints (cached per group of constrained parameters).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from configlab._internal.finite import ModelSolver
from configlab._internal.spacemodel import space_model
from configlab._internal.validity import TupleValidity
from configlab.errors import AnalysisError, ResultsError
from configlab.generation import build_covering_suite
from configlab.results import Result, ResultSet, encode_results
from configlab.results.encoded import ERROR, FAIL, PASS, SKIP, EncodedResults
from configlab.space import Space

if TYPE_CHECKING:
    from configlab.execution import Progress

#: Strengths handled by :func:`measure` (clamped to the number of parameters).
MAX_STRENGTH = 4
#: Points of the v axis of the (t, v) curve.
CURVE_POINTS = 21

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
#: Outcome code -> counting group: 0 passing, 1 failing (fail/error), 2 skipped.
_GROUP_OF_OUTCOME = np.array([0, 1, 1, 2], dtype=np.int64)
_N_GROUPS = 3
assert (PASS, FAIL, ERROR, SKIP) == (0, 1, 2, 3)

CoverageInput = ResultSet | EncodedResults | Sequence[Result] | Sequence[Mapping[str, Any]]


# --------------------------------------------------------------------------- report objects


@dataclass(frozen=True)
class TupleRef:
    """One t-tuple: parameters, value-class codes and their labels."""

    params: tuple[str, ...]
    codes: tuple[int, ...]
    labels: tuple[str, ...]

    def to_dict(self) -> dict[str, str]:
        """``{path: value-class label}``."""
        return dict(zip(self.params, self.labels, strict=True))

    def __str__(self) -> str:
        return ", ".join(f"{p}={label}" for p, label in zip(self.params, self.labels, strict=True))


@dataclass(frozen=True)
class CombinationCoverage:
    """Coverage of one t-way parameter combination."""

    params: tuple[str, ...]
    covered: int
    valid: int
    invalid: int

    @property
    def ratio(self) -> float:
        """Covered / valid value combinations (1.0 when nothing is valid)."""
        return self.covered / self.valid if self.valid else 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {"params": list(self.params), "covered": self.covered, "valid": self.valid,
                "invalid": self.invalid, "ratio": self.ratio}


@dataclass(frozen=True)
class LevelCoverage:
    """CCM measures at one strength t."""

    t: int
    covered: int
    valid: int
    invalid: int
    #: Fraction of t-way combinations whose valid tuples are all covered.
    simple: float
    #: ``(v, fraction of combinations with coverage >= v)`` for v = 0, 0.05, ..., 1.
    curve: tuple[tuple[float, float], ...]
    #: Per combination (lexicographic order of parameter indices).
    combinations: tuple[CombinationCoverage, ...]

    @property
    def ratio(self) -> float:
        """Total variable-value configuration coverage: covered / valid t-tuples."""
        return self.covered / self.valid if self.valid else 1.0

    def at_least(self, v: float) -> float:
        """Fraction of t-way combinations whose coverage is at least ``v``."""
        hits = sum(1 for c in self.combinations if c.ratio >= v - 1e-12)
        return hits / len(self.combinations) if self.combinations else 1.0

    def to_dict(self, *, detail: bool = True) -> dict[str, Any]:
        """JSON-serialisable form (``detail=False`` leaves out the per-combination list)."""
        data: dict[str, Any] = {
            "t": self.t, "covered": self.covered, "valid": self.valid, "invalid": self.invalid,
            "ratio": self.ratio, "simple": self.simple, "n_combinations": len(self.combinations),
            "curve": [list(point) for point in self.curve],
        }
        if detail:
            data["combinations"] = [c.to_dict() for c in self.combinations]
        return data


@dataclass(frozen=True)
class OutcomeCoverage:
    """Which covered tuples were only ever seen in failing runs, or only in passing runs."""

    #: Tuples covered by a fail/error run and by no passing run (ranked by failing-run count).
    only_failing: tuple[TupleRef, ...]
    #: Number of failing runs containing each tuple of :attr:`only_failing`.
    only_failing_runs: tuple[int, ...]
    #: Number of tuples covered by passing runs and by no failing run.
    only_passing: int
    #: Number of tuples covered by both.
    both: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "only_failing": [
                {"tuple": ref.to_dict(), "failing_runs": runs}
                for ref, runs in zip(self.only_failing, self.only_failing_runs, strict=True)
            ],
            "only_passing": self.only_passing,
            "both": self.both,
        }


@dataclass(frozen=True)
class CoverageReport:
    """Result of :func:`measure`: CCM measures for t = 1..strength plus per-combination detail."""

    strength: int
    params: tuple[str, ...]
    #: Rows that counted (skipped runs are left out unless asked for).
    n_rows: int
    levels: tuple[LevelCoverage, ...]
    #: Outcome breakdown at ``strength`` (None when the input had no outcomes, e.g. plain configs).
    outcome: OutcomeCoverage | None
    #: Cells whose value fits no value class of the space (code -1).
    unclassified_cells: int
    #: Row occurrences of t-tuples that involve an unclassifiable value (ignored).
    ignored_tuples: int
    warnings: tuple[str, ...] = ()

    def level(self, t: int) -> LevelCoverage:
        """The measures at strength ``t``."""
        for level in self.levels:
            if level.t == t:
                return level
        raise AnalysisError(f"strength {t} was not measured (measured: "
                            f"{', '.join(str(lv.t) for lv in self.levels)})")

    @property
    def main(self) -> LevelCoverage:
        """The measures at :attr:`strength`."""
        return self.level(self.strength)

    @property
    def covered(self) -> int:
        """Covered valid t-tuples at :attr:`strength`."""
        return self.main.covered

    @property
    def valid(self) -> int:
        """Valid t-tuples at :attr:`strength`."""
        return self.main.valid

    @property
    def invalid(self) -> int:
        """Constraint-excluded t-tuples at :attr:`strength`."""
        return self.main.invalid

    @property
    def ratio(self) -> float:
        """Covered / valid t-tuples at :attr:`strength` (CCM total variable-value coverage)."""
        return self.main.ratio

    @property
    def combinations(self) -> dict[tuple[str, ...], CombinationCoverage]:
        """Parameter combination -> its coverage, at :attr:`strength`."""
        return {c.params: c for c in self.main.combinations}

    @property
    def per_parameter(self) -> dict[str, CombinationCoverage]:
        """Parameter -> coverage of its value classes (t = 1)."""
        return {c.params[0]: c for c in self.level(1).combinations}

    @property
    def per_pair(self) -> dict[tuple[str, str], CombinationCoverage]:
        """Parameter pair -> coverage of its value pairs (empty when strength < 2)."""
        if self.strength < 2:
            return {}
        return {(c.params[0], c.params[1]): c for c in self.level(2).combinations}

    def to_dict(self, *, detail: bool = True) -> dict[str, Any]:
        """JSON-serialisable form (``detail=False``: no per-combination lists)."""
        return {
            "strength": self.strength,
            "n_rows": self.n_rows,
            "params": list(self.params),
            "covered": self.covered,
            "valid": self.valid,
            "invalid": self.invalid,
            "ratio": self.ratio,
            "levels": [level.to_dict(detail=detail) for level in self.levels],
            "outcome": None if self.outcome is None else self.outcome.to_dict(),
            "unclassified_cells": self.unclassified_cells,
            "ignored_tuples": self.ignored_tuples,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Gap:
    """Missing valid t-tuples of one parameter combination, with a ranking score."""

    params: tuple[str, ...]
    #: The missing tuples, best first.
    missing: tuple[TupleRef, ...]
    #: Score of each missing tuple (aligned with :attr:`missing`).
    scores: tuple[float, ...]
    covered: int
    valid: int

    @property
    def score(self) -> float:
        """The best score of the missing tuples."""
        return max(self.scores) if self.scores else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "params": list(self.params),
            "covered": self.covered,
            "valid": self.valid,
            "score": self.score,
            "missing": [
                {"values": ref.to_dict(), "score": score}
                for ref, score in zip(self.missing, self.scores, strict=True)
            ],
        }


# --------------------------------------------------------------------------- input handling


@dataclass(frozen=True)
class _Input:
    enc: EncodedResults
    has_outcomes: bool


def _as_encoded(results: CoverageInput, space: Space, what: str = "results") -> _Input:
    if not isinstance(space, Space):
        raise AnalysisError(f"expected a Space, got {type(space).__name__}")
    if isinstance(results, EncodedResults):
        expected = tuple(tuple(c.label for c in p.value_classes) for p in space.parameters)
        if results.params != space.paths or results.class_labels != expected:
            raise ResultsError(f"{what} were encoded for a different space")
        return _Input(results, True)
    if isinstance(results, ResultSet):
        return _Input(results.encode(space), True)
    if isinstance(results, Sequence) and not isinstance(results, str | bytes):
        items: list[object] = list(results)
        rows = [item for item in items if isinstance(item, Result)]
        if len(rows) == len(items):
            return _Input(encode_results(rows, space), True)
        maps = [item for item in items if isinstance(item, Mapping)]
        if len(maps) == len(items):
            configs = [Result(config=item, outcome="pass") for item in maps]
            return _Input(encode_results(configs, space), False)
    raise ResultsError(
        f"{what}: expected a ResultSet, EncodedResults, or a list of Results or configs, "
        f"got {type(results).__name__}"
    )


def _check_strength(strength: Any, n_params: int) -> int:
    if not isinstance(strength, int) or isinstance(strength, bool):
        raise AnalysisError(f"strength must be an integer 1..{MAX_STRENGTH}, got {strength!r}")
    if not 1 <= strength <= MAX_STRENGTH:
        raise AnalysisError(f"strength must be between 1 and {MAX_STRENGTH}, got {strength}")
    return min(strength, n_params)


# --------------------------------------------------------------------------- validity


def _validity(space: Space) -> TupleValidity:
    """The space's t-tuple validity (no SAT model at all when nothing is constrained)."""
    sizes = [len(p.value_classes) for p in space.parameters]
    if not space.finite_constraints():
        return TupleValidity(sizes)

    solver = ModelSolver(space_model(space).model)
    solver.check_satisfiable()
    return TupleValidity(sizes, solver)


# --------------------------------------------------------------------------- the scan


@dataclass(frozen=True)
class _Combo:
    """Counts of one parameter combination."""

    params: tuple[int, ...]
    #: (N, 3) occurrences per value combination (mixed radix) and outcome group.
    counts: IntArray
    #: (N,) validity (None = all valid).
    valid: BoolArray | None
    #: Row occurrences involving an unclassifiable value.
    ignored: int


class _Scanner:
    """Counts t-tuple occurrences of an encoded result set, one combination at a time."""

    def __init__(self, enc: EncodedResults, validity: TupleValidity, include_skipped: bool,
                 rows: npt.NDArray[np.bool_] | None = None) -> None:
        codes = enc.codes
        outcomes = enc.outcomes
        if rows is not None:
            codes, outcomes = codes[rows], outcomes[rows]
        self.validity = validity
        self.include_skipped = include_skipped
        self.sizes = list(validity.sizes)
        self.n_rows = int(codes.shape[0])
        negative = codes < 0
        self.unclassified = int(np.count_nonzero(negative))
        k = len(self.sizes)
        # radix per column: size (+1 when the column has unclassifiable cells, code -1 -> size)
        self.has_neg = [bool(negative[:, j].any()) for j in range(k)] if self.unclassified else [
            False] * k
        self.radix = [s + 1 if neg else s for s, neg in zip(self.sizes, self.has_neg, strict=True)]
        self.last = max(self.radix, default=1) * _N_GROUPS
        dtype = np.int64 if self._worst_product() >= 2**31 else np.int32
        self.dtype = dtype
        #: column-major copy (fast contiguous column access); code -1 becomes the column's size
        # Always a copy: the unclassifiable codes are rewritten below, and the caller's
        # EncodedResults must stay untouched (ascontiguousarray does not copy a single row).
        self.columns: npt.NDArray[Any] = np.array(codes.T, dtype=dtype, order="C", copy=True)
        if self.unclassified:
            for j in range(k):
                if self.has_neg[j]:
                    column = self.columns[j]
                    column[column < 0] = self.sizes[j]
        group: npt.NDArray[Any] = _GROUP_OF_OUTCOME[outcomes.astype(np.int64)].astype(dtype)
        #: per column: code * 3 + outcome group (the last digit of every tuple key)
        self.tails: npt.NDArray[Any] = self.columns * _N_GROUPS
        self.tails += group[None, :]

    def _worst_product(self) -> int:
        top = sorted(self.radix, reverse=True)[: MAX_STRENGTH - 1]
        return math.prod(top) * self.last

    def scan(self, t: int) -> Iterator[_Combo]:
        """Every t-way combination in lexicographic order with its counts."""
        k = len(self.sizes)
        if t == 1:
            for j in range(k):
                yield self._finish((j,), self.tails[j], 1)
            return
        for prefix in itertools.combinations(range(k - 1), t - 1):
            key = self.columns[prefix[0]]
            span = self.radix[prefix[0]]
            for p in prefix[1:]:
                key = key * self.radix[p] + self.columns[p]
                span *= self.radix[p]
            base = key * self.last
            for j in range(prefix[-1] + 1, k):
                yield self._finish((*prefix, j), base + self.tails[j], span)

    def _finish(self, combo: tuple[int, ...], key: npt.NDArray[Any], span: int) -> _Combo:
        counts = np.bincount(key, minlength=span * self.last)
        shape = [self.radix[p] for p in combo[:-1]]
        counts = counts.reshape(*shape, self.last // _N_GROUPS, _N_GROUPS)
        real = counts[tuple(slice(0, self.sizes[p]) for p in combo)]
        real = real.reshape(-1, _N_GROUPS)
        ignored = 0
        if any(self.has_neg[p] for p in combo):
            ignored = self.n_rows - int(real.sum())
        return _Combo(combo, real.astype(np.int64, copy=False), self.validity.mask(combo), ignored)

    def covered(self, combo: _Combo) -> BoolArray:
        """Which value combinations the counted rows cover."""
        seen = combo.counts[:, 0] + combo.counts[:, 1]
        if self.include_skipped:
            seen = seen + combo.counts[:, 2]
        result: BoolArray = seen > 0
        return result


def _decode_index(index: int, sizes: Sequence[int]) -> tuple[int, ...]:
    codes = []
    for size in reversed(sizes):
        codes.append(index % size)
        index //= size
    return tuple(reversed(codes))


def _curve(ratios: Sequence[float]) -> tuple[tuple[float, float], ...]:
    if not ratios:
        return tuple((v / (CURVE_POINTS - 1), 1.0) for v in range(CURVE_POINTS))
    values = np.asarray(ratios)
    points = []
    for step in range(CURVE_POINTS):
        v = step / (CURVE_POINTS - 1)
        points.append((v, float(np.count_nonzero(values >= v - 1e-12)) / len(values)))
    return tuple(points)


def _ref(space: Space, combo: tuple[int, ...], codes: tuple[int, ...]) -> TupleRef:
    params = tuple(space.parameters[p].path for p in combo)
    labels = tuple(space.parameters[p].value_classes[c].label
                   for p, c in zip(combo, codes, strict=True))
    return TupleRef(params, codes, labels)


def _scanner(results: CoverageInput, space: Space, include_skipped: bool
             ) -> tuple[_Scanner, _Input]:
    data = _as_encoded(results, space)
    rows = None
    if not include_skipped:
        skipped = data.enc.outcomes == SKIP
        if skipped.any():
            rows = ~skipped
    return _Scanner(data.enc, _validity(space), include_skipped, rows), data


# --------------------------------------------------------------------------- measure


def scan_count(space: Space, strength: int, *, levels: str = "all") -> int:
    """How many parameter combinations :func:`measure` (``levels="all"``: t = 1..strength) or
    :func:`gaps` (``levels="top"``: t = strength only) scans: the total for a progress bar."""
    k = len(space.parameters)
    top = min(max(strength, 1), k)
    low = 1 if levels == "all" else top
    return sum(math.comb(k, t) for t in range(low, top + 1))


def measure(results: CoverageInput, space: Space, strength: int = 2, *,
            include_skipped: bool = False, max_only_failing: int = 1000,
            progress: Progress | None = None) -> CoverageReport:
    """Measure t-way coverage of ``space`` by ``results`` for t = 1..strength (CCM).

    Args:
        results: a :class:`ResultSet`, :class:`EncodedResults`, or a list of Results or configs.
        space: the configuration space whose value classes are counted.
        strength: the highest t (1..4, clamped to the number of parameters).
        include_skipped: count skipped runs as covering (by default a skipped test exercised
            nothing).
        max_only_failing: at most this many tuples are listed in ``outcome.only_failing``.
        progress: advanced once per parameter combination scanned (:func:`scan_count` of
            them), for ``configlab coverage`` on large spaces.

    Raises:
        ResultsError: unusable input (EncodedResults of another space, wrong types).
        AnalysisError: bad strength.
        UnsatisfiableSpaceError: the space's constraints admit no configuration.
    """
    scanner, data = _scanner(results, space, include_skipped)
    t_max = _check_strength(strength, len(space.parameters))
    levels = []
    ignored = 0
    only_failing: list[tuple[int, int, TupleRef]] = []
    only_passing = both = 0
    for t in range(1, t_max + 1):
        details = []
        for combo in scanner.scan(t):
            if progress is not None:
                progress.advance()
            covered = scanner.covered(combo)
            valid = combo.valid
            n_valid = int(covered.size if valid is None else np.count_nonzero(valid))
            hit = covered if valid is None else covered & valid
            details.append(CombinationCoverage(
                tuple(space.parameters[p].path for p in combo.params),
                int(np.count_nonzero(hit)), n_valid, int(covered.size - n_valid),
            ))
            if t == t_max:
                ignored += combo.ignored
                if data.has_outcomes:
                    passing = combo.counts[:, 0] > 0
                    failing = combo.counts[:, 1] > 0
                    if valid is not None:
                        passing, failing = passing & valid, failing & valid
                    only_passing += int(np.count_nonzero(passing & ~failing))
                    both += int(np.count_nonzero(passing & failing))
                    sizes = [len(space.parameters[p].value_classes) for p in combo.params]
                    for index in np.flatnonzero(failing & ~passing).tolist():
                        runs = int(combo.counts[index, 1])
                        ref = _ref(space, combo.params, _decode_index(index, sizes))
                        only_failing.append((-runs, len(only_failing), ref))
        ratios = [d.ratio for d in details]
        levels.append(LevelCoverage(
            t=t,
            covered=sum(d.covered for d in details),
            valid=sum(d.valid for d in details),
            invalid=sum(d.invalid for d in details),
            simple=(sum(1 for r in ratios if r >= 1.0) / len(ratios)) if ratios else 1.0,
            curve=_curve(ratios),
            combinations=tuple(details),
        ))
    warnings = []
    if scanner.unclassified:
        warnings.append(
            f"{scanner.unclassified} value(s) fit no value class of the space; "
            f"{ignored} {t_max}-tuple occurrence(s) involving them were ignored"
        )
    if t_max < strength:
        warnings.append(f"strength {strength} clamped to {t_max} (the number of parameters)")
    outcome = None
    if data.has_outcomes:
        only_failing.sort(key=lambda item: (item[0], item[1]))
        kept = only_failing[:max_only_failing]
        outcome = OutcomeCoverage(
            only_failing=tuple(item[2] for item in kept),
            only_failing_runs=tuple(-item[0] for item in kept),
            only_passing=only_passing,
            both=both,
        )
    return CoverageReport(
        strength=t_max,
        params=space.paths,
        n_rows=scanner.n_rows,
        levels=tuple(levels),
        outcome=outcome,
        unclassified_cells=scanner.unclassified,
        ignored_tuples=ignored,
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------- gaps


def _weight_table(space: Space, weights: Mapping[str, float] | None
                  ) -> list[npt.NDArray[np.float64]]:
    """Per parameter, a float array of value weights (1.0 by default)."""
    tables = [np.ones(len(p.value_classes)) for p in space.parameters]
    if not weights:
        return tables
    if not isinstance(weights, Mapping):
        raise AnalysisError(f"weights must be a mapping, got {type(weights).__name__}")
    index = {p.path: i for i, p in enumerate(space.parameters)}
    for key in sorted(weights, key=lambda k: ("=" in str(k), str(k))):
        value = weights[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise AnalysisError(f"weight {key!r} must be a non-negative number, got {value!r}")
        path, sep, label = str(key).partition("=")
        if path not in index:
            raise AnalysisError(f"weight {key!r}: unknown parameter {path!r}")
        p = index[path]
        if not sep:
            tables[p][:] = float(value)
            continue
        labels = [c.label for c in space.parameters[p].value_classes]
        if label not in labels:
            raise AnalysisError(
                f"weight {key!r}: {path} has no value class {label!r} (classes: {labels})"
            )
        tables[p][labels.index(label)] = float(value)
    return tables


def _history_table(space: Space, history: Any) -> list[npt.NDArray[np.float64]]:
    """Per parameter, the failure rate of each value class in ``history`` (0 when never run)."""
    data = _as_encoded(history, space, "history")
    enc = data.enc
    failing = (enc.outcomes == FAIL) | (enc.outcomes == ERROR)
    tables = []
    for j, p in enumerate(space.parameters):
        size = len(p.value_classes)
        column: IntArray = np.asarray(enc.codes[:, j], dtype=np.int64)
        ok = column >= 0
        runs = np.bincount(column[ok], minlength=size)[:size]
        fails = np.bincount(column[ok & failing], minlength=size)[:size]
        tables.append(np.divide(fails, runs, out=np.zeros(size), where=runs > 0))
    return tables


def gaps(results: CoverageInput, space: Space, strength: int = 2, *,
         weights: Mapping[str, float] | None = None, history: Any = None,
         include_skipped: bool = False, progress: Progress | None = None) -> list[Gap]:
    """Missing valid t-tuples, grouped by parameter combination, most important first.

    Each missing tuple gets a score: the product of its values' weights (``weights`` maps a
    parameter path, or ``"path=label"`` for one value class, to a non-negative weight;
    default 1) times ``1 + `` the sum of its values' failure rates in ``history`` (past
    results, when given).  Gaps are ranked by their best tuple's score, then by combination
    order; tuples within a gap by score, then value order.  Without weights or history the
    order is simply combination then value order.  Constraint-excluded tuples are never gaps.
    ``progress`` is advanced once per combination scanned.
    """
    scanner, _ = _scanner(results, space, include_skipped)
    t = _check_strength(strength, len(space.parameters))
    weight = _weight_table(space, weights)
    risk = _history_table(space, history) if history is not None else None
    found: list[tuple[float, int, Gap]] = []
    for order, combo in enumerate(scanner.scan(t)):
        if progress is not None:
            progress.advance()
        covered = scanner.covered(combo)
        missing = ~covered if combo.valid is None else ~covered & combo.valid
        if not missing.any():
            continue
        sizes = [len(space.parameters[p].value_classes) for p in combo.params]
        grid = np.indices(sizes).reshape(len(sizes), -1)
        score = np.ones(grid.shape[1])
        bonus = np.zeros(grid.shape[1])
        for pos, p in enumerate(combo.params):
            score = score * weight[p][grid[pos]]
            if risk is not None:
                bonus = bonus + risk[p][grid[pos]]
        score = score * (1.0 + bonus)
        indices = np.flatnonzero(missing)
        ranked = sorted(indices.tolist(), key=lambda i: (-score[i], i))
        refs = tuple(_ref(space, combo.params, _decode_index(i, sizes)) for i in ranked)
        valid_count = int(covered.size if combo.valid is None else combo.valid.sum())
        gap = Gap(
            params=tuple(space.parameters[p].path for p in combo.params),
            missing=refs,
            scores=tuple(float(score[i]) for i in ranked),
            covered=valid_count - len(ranked),
            valid=valid_count,
        )
        found.append((-gap.score, order, gap))
    found.sort(key=lambda item: (item[0], item[1]))
    return [item[2] for item in found]


# --------------------------------------------------------------------------- suggest


def suggest(results: CoverageInput, space: Space, strength: int = 2, *,
            budget: int | None = None, seed: int = 0,
            include_skipped: bool = False) -> list[dict[str, Any]]:
    """A small set of new valid configs that covers the gaps (all of them when budget is None).

    Uses the covering-array engine with the already covered rows as seed rows.  With a
    ``budget``, the suite is ordered greedily by how many missing tuples each config adds and
    the first ``budget`` configs are returned.  Deterministic for a given ``seed``.
    """
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int)
                               or budget < 0):
        raise AnalysisError(f"budget must be a non-negative integer, got {budget!r}")
    data = _as_encoded(results, space)
    t = _check_strength(strength, len(space.parameters))
    enc = data.enc
    keep = np.ones(enc.n_rows, dtype=bool)
    if not include_skipped:
        keep &= enc.outcomes != SKIP
    keep &= (enc.codes >= 0).all(axis=1)
    seeds = enc.codes[keep]
    if len(seeds):
        seeds = np.unique(seeds, axis=0)
    model = space_model(space)
    rows = build_covering_suite(model.model, t, seed, seed_rows=[tuple(int(v) for v in r)
                                                              for r in seeds.tolist()])
    if budget is not None and len(rows) > budget:
        rows = _greedy_order(rows, seeds, t)[:budget]
    return [model.decode(row) for row in rows]


def _greedy_order(rows: list[tuple[int, ...]], seeds: npt.NDArray[np.int32],
                  t: int) -> list[tuple[int, ...]]:
    """Reorder ``rows`` so each next row adds the most t-tuples not covered so far."""
    k = len(rows[0]) if rows else 0
    combos = list(itertools.combinations(range(k), t))
    covered: set[tuple[int, tuple[int, ...]]] = set()
    for seed_row in seeds.tolist():
        covered.update((c, tuple(seed_row[p] for p in combo)) for c, combo in enumerate(combos))

    def new(row: tuple[int, ...]) -> set[tuple[int, tuple[int, ...]]]:
        return {(c, tuple(row[p] for p in combo)) for c, combo in enumerate(combos)} - covered

    remaining = list(range(len(rows)))
    ordered = []
    while remaining:
        gains = [(len(new(rows[i])), -i) for i in remaining]
        best = -max(gains)[1]
        ordered.append(rows[best])
        covered.update(new(rows[best]))
        remaining.remove(best)
    return ordered


# --------------------------------------------------------------------------- chart data

VEGA_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


def _pct(covered: int, valid: int) -> float:
    return round(100.0 * covered / valid, 4) if valid else 100.0


def _growth(scanner: _Scanner, t: int, max_points: int) -> tuple[list[int], list[float]]:
    """Coverage ratio after the first n counted rows (result order), downsampled."""
    n = scanner.n_rows
    first_hits = np.zeros(n + 1, dtype=np.int64)
    total_valid = 0
    for first, valid in _first_occurrence_scan(scanner, t):
        total_valid += int(first.size if valid is None else np.count_nonzero(valid))
        usable = first if valid is None else first[valid]
        first_hits += np.bincount(usable, minlength=n + 1)
    cumulative = np.cumsum(first_hits[:n])
    if n <= max_points:
        xs = list(range(1, n + 1))
    else:
        xs = sorted({round(1 + i * (n - 1) / (max_points - 1)) for i in range(max_points)})
    ys = [round(float(cumulative[x - 1]) / total_valid, 6) if total_valid else 1.0 for x in xs]
    return xs, ys


def _first_occurrence_scan(scanner: _Scanner, t: int
                           ) -> Iterator[tuple[IntArray, BoolArray | None]]:
    """Per combination: the index of the first counted row covering each tuple (n if none)."""
    n = scanner.n_rows
    for combo in itertools.combinations(range(len(scanner.sizes)), t):
        key = np.zeros(n, dtype=np.int64)
        for p in combo:
            key = key * scanner.radix[p] + scanner.columns[p]
        span = math.prod(scanner.radix[p] for p in combo)
        first = np.full(span, n, dtype=np.int64)
        values, where = np.unique(key, return_index=True)
        first[values] = where
        first = first.reshape([scanner.radix[p] for p in combo])
        real = first[tuple(slice(0, scanner.sizes[p]) for p in combo)].reshape(-1)
        yield real, scanner.validity.mask(combo)


def chart_data(results: CoverageInput, space: Space, strength: int = 2,
               pair: tuple[str, str] | None = None, *, include_skipped: bool = False,
               max_points: int = 200) -> dict[str, Any]:
    """JSON-serialisable data for coverage charts, each with a Vega-Lite v5 spec.

    Keys: ``summary``; ``pairwise`` (parameter x parameter pair coverage %, the diagonal is
    per-parameter coverage); ``values`` (value-class grid of one pair: ``pair`` or the least
    covered pair); ``growth`` (coverage at ``strength`` after the first n tests, in result
    order); ``tv_curve`` (CCM (t, v) curves for t = 1..strength); ``vega_lite`` (one spec per
    chart, data inline).
    """
    report = measure(results, space, max(2, strength) if len(space.parameters) > 1 else 1,
                     include_skipped=include_skipped)
    scanner, _ = _scanner(results, space, include_skipped)
    t = _check_strength(strength, len(space.parameters))
    paths = list(space.paths)
    per_param = report.per_parameter
    per_pair = report.per_pair
    matrix: list[list[float | None]] = []
    for a in paths:
        row: list[float | None] = []
        for b in paths:
            c = per_param[a] if a == b else per_pair.get((a, b)) or per_pair[(b, a)]
            row.append(_pct(c.covered, c.valid))
        matrix.append(row)
    values = _value_grid(scanner, space, report, pair) if len(paths) > 1 else None
    xs, ys = _growth(scanner, t, max_points)
    curves = [{"t": level.t, "points": [list(point) for point in level.curve]}
              for level in report.levels if level.t <= t]
    data: dict[str, Any] = {
        "strength": t,
        "summary": {
            "n_rows": report.n_rows,
            "levels": [{"t": lv.t, "covered": lv.covered, "valid": lv.valid,
                        "invalid": lv.invalid, "ratio": lv.ratio, "simple": lv.simple}
                       for lv in report.levels if lv.t <= t],
        },
        "pairwise": {"params": paths, "matrix": matrix},
        "values": values,
        "growth": {"t": t, "n_tests": xs, "coverage": ys},
        "tv_curve": curves,
    }
    data["vega_lite"] = _vega_specs(data)
    return data


def _value_grid(scanner: _Scanner, space: Space, report: CoverageReport,
                pair: tuple[str, str] | None) -> dict[str, Any]:
    index = {path: i for i, path in enumerate(space.paths)}
    if pair is None:
        worst = min(report.level(2).combinations, key=lambda c: (c.ratio, 0))
        chosen = worst.params
    else:
        if (not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2
                or pair[0] == pair[1]):
            raise AnalysisError(f"pair must be two different parameter paths, got {pair!r}")
        for path in pair:
            if path not in index:
                raise AnalysisError(f"pair: unknown parameter {path!r}")
        chosen = (pair[0], pair[1])
    a, b = index[chosen[0]], index[chosen[1]]
    combo = next(c for c in scanner.scan(2) if c.params == (min(a, b), max(a, b)))
    seen = combo.counts[:, 0] + combo.counts[:, 1]
    if scanner.include_skipped:
        seen = seen + combo.counts[:, 2]
    sizes = [len(space.parameters[p].value_classes) for p in combo.params]
    cells = []
    for i in range(sizes[0] * sizes[1]):
        ca, cb = _decode_index(i, sizes)
        valid = combo.valid is None or bool(combo.valid[i])
        state = "invalid" if not valid else ("covered" if seen[i] > 0 else "missing")
        x, y = (ca, cb) if a < b else (cb, ca)
        cells.append({"x": space.parameters[a].value_classes[x].label,
                      "y": space.parameters[b].value_classes[y].label,
                      "count": int(seen[i]), "failing": int(combo.counts[i, 1]),
                      "state": state})
    return {
        "pair": [chosen[0], chosen[1]],
        "x_labels": [c.label for c in space.parameters[a].value_classes],
        "y_labels": [c.label for c in space.parameters[b].value_classes],
        "cells": cells,
    }


def _vega_specs(data: Mapping[str, Any]) -> dict[str, Any]:
    pairwise = data["pairwise"]
    heat = [
        {"a": a, "b": b, "coverage": value}
        for a, row in zip(pairwise["params"], pairwise["matrix"], strict=True)
        for b, value in zip(pairwise["params"], row, strict=True)
    ]
    specs: dict[str, Any] = {
        "pairwise": {
            "$schema": VEGA_SCHEMA,
            "title": "Pairwise coverage (%)",
            "data": {"values": heat},
            "mark": "rect",
            "encoding": {
                "x": {"field": "a", "type": "nominal", "sort": pairwise["params"],
                      "title": None},
                "y": {"field": "b", "type": "nominal", "sort": pairwise["params"],
                      "title": None},
                "color": {"field": "coverage", "type": "quantitative",
                          "scale": {"domain": [0, 100], "scheme": "redyellowgreen"}},
                "tooltip": [{"field": "a"}, {"field": "b"},
                            {"field": "coverage", "type": "quantitative"}],
            },
        },
        "growth": {
            "$schema": VEGA_SCHEMA,
            "title": f"{data['growth']['t']}-way coverage vs number of tests",
            "data": {"values": [{"tests": x, "coverage": y} for x, y in
                                zip(data["growth"]["n_tests"], data["growth"]["coverage"],
                                    strict=True)]},
            "mark": {"type": "line", "interpolate": "step-after"},
            "encoding": {
                "x": {"field": "tests", "type": "quantitative", "title": "tests run"},
                "y": {"field": "coverage", "type": "quantitative",
                      "scale": {"domain": [0, 1]}, "title": "coverage"},
            },
        },
        "tv_curve": {
            "$schema": VEGA_SCHEMA,
            "title": "Combinations with coverage >= v",
            "data": {"values": [{"t": f"t={curve['t']}", "v": v, "fraction": f}
                                for curve in data["tv_curve"] for v, f in curve["points"]]},
            "mark": {"type": "line", "interpolate": "step-before", "point": True},
            "encoding": {
                "x": {"field": "v", "type": "quantitative", "title": "coverage v"},
                "y": {"field": "fraction", "type": "quantitative",
                      "title": "fraction of t-way combinations", "scale": {"domain": [0, 1]}},
                "color": {"field": "t", "type": "nominal"},
            },
        },
    }
    values = data.get("values")
    if values is not None:
        specs["values"] = {
            "$schema": VEGA_SCHEMA,
            "title": f"{values['pair'][0]} x {values['pair'][1]}",
            "data": {"values": values["cells"]},
            "mark": "rect",
            "encoding": {
                "x": {"field": "x", "type": "nominal", "sort": values["x_labels"],
                      "title": values["pair"][0]},
                "y": {"field": "y", "type": "nominal", "sort": values["y_labels"],
                      "title": values["pair"][1]},
                "color": {"field": "state", "type": "nominal",
                          "scale": {"domain": ["covered", "missing", "invalid"],
                                    "range": ["#4caf50", "#e53935", "#9e9e9e"]}},
                "tooltip": [{"field": "x"}, {"field": "y"}, {"field": "count"},
                            {"field": "failing"}, {"field": "state"}],
            },
        }
    return specs


__all__ = [
    "CombinationCoverage",
    "CoverageReport",
    "Gap",
    "LevelCoverage",
    "OutcomeCoverage",
    "TupleRef",
    "chart_data",
    "gaps",
    "measure",
    "scan_count",
    "suggest",
]
