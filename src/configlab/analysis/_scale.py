"""Failure analysis of Parquet results at scale: counts pushed down to DuckDB.

:func:`analyze_dataset` answers "which values fail?" on results that do not fit the in-memory
engine (10 million rows x 50 parameters in partitioned Parquet, local or on S3) without loading
them: every number comes from a DuckDB ``GROUP BY`` over the selected rows
(:class:`configlab.results._dataset.ResultDataset`), and Python only sees the small count tables.

1. **Failure rate of every value of every parameter**: one ``GROUP BY`` per parameter.  A
   numeric column with more than ``max_values`` distinct values (judged on the first 200,000
   selected rows) is cut at its deciles, so its groups are intervals (``0.9 < f04``).
2. **Single causes**: values (or intervals) whose failure rate is above the rest's, by an exact
   one-sided hypergeometric (Fisher) test, Bonferroni-corrected over every value tested, with at
   least ``min_support`` failures; ranked by the Ochiai coefficient (failures in the value /
   sqrt(all failures x runs of the value)).
3. **Pair causes** on a candidate subset: the ``pair_candidates`` parameters with the strongest
   association with failure (Cramér's V of their value x outcome table) are grouped two by two.
   A pair of values is a cause when it fails more than the rest *and* more than each of its two
   values without the other (both conditional tests significant), so a single cause plus an
   unrelated value is not reported as a pair; a single value whose excess disappears outside an
   accepted pair is reported only as part of the pair.

What it does not do (the in-memory :func:`configlab.analysis.analyze` does, on up to a few
million rows): 3-way patterns, interaction-only causes (a pair whose values have flat marginal
failure rates is not among the candidates), explain-away of masked causes, flaky-config
detection (flaky rows are counted as they are) and metric sensitivity.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from configlab import tree as _tree
from configlab.analysis._report import ClassStat
from configlab.constraints import ABSENT
from configlab.errors import AnalysisError
from configlab.results import GroupCounts, GroupKey, ResultDataset, Selection

#: Numeric columns with more distinct values than this are cut into deciles.
MAX_VALUES = 32


@dataclass(frozen=True)
class ValueRates:
    """Runs and failures of every value (or interval) of one parameter."""

    param: str
    #: "values" (each distinct value) or "intervals" (a numeric column cut at ``edges``).
    grouping: str
    classes: tuple[ClassStat, ...]
    edges: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"param": self.param, "grouping": self.grouping,
                "edges": list(self.edges), "classes": [c.to_dict() for c in self.classes]}


@dataclass(frozen=True)
class DatasetCause:
    """A value, interval or pair of them that fails more than the rest.

    ``condition`` is written in the constraint language, so it can be passed back to
    ``--where`` to look at those runs.
    """

    condition: str
    params: tuple[str, ...]
    runs: int
    failures: int
    #: Share of all failures this condition covers.
    coverage: float
    ochiai: float
    #: One-sided hypergeometric p-value (a tight upper bound, before the Bonferroni correction).
    p_value: float
    #: 95 % Wilson interval of the failure rate.
    rate_interval: tuple[float, float]

    @property
    def failure_rate(self) -> float:
        """Failures / runs."""
        return self.failures / self.runs if self.runs else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"condition": self.condition, "params": list(self.params), "runs": self.runs,
                "failures": self.failures, "failure_rate": self.failure_rate,
                "rate_interval": list(self.rate_interval), "coverage": self.coverage,
                "ochiai": self.ochiai, "p_value": self.p_value}


@dataclass(frozen=True)
class DatasetReport:
    """What :func:`analyze_dataset` found (see the module docstring for the method)."""

    source: str
    files: int
    results: int
    runs: int
    failures: int
    parameters: tuple[ValueRates, ...]
    causes: tuple[DatasetCause, ...]
    #: Parameters whose pairs were counted.
    pair_params: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def failure_rate(self) -> float:
        """Failures / runs of the selected results."""
        return self.failures / self.runs if self.runs else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "source": self.source, "engine": "duckdb", "files": self.files,
            "results": self.results, "runs": self.runs, "failures": self.failures,
            "failure_rate": self.failure_rate,
            "causes": [c.to_dict() for c in self.causes],
            "pair_params": list(self.pair_params),
            "parameters": [p.to_dict() for p in self.parameters],
            "notes": list(self.notes),
        }

    def _headline(self) -> str:
        text = (f"{self.failures:,} of {self.runs:,} runs failed ({self.failure_rate:.1%}); "
                f"{self.results:,} results from {self.files} Parquet file(s) in {self.source},"
                " counted by DuckDB")
        return text

    def to_text(self) -> str:
        """Plain-text report: causes, then the failure rate of every value."""
        lines = [self._headline(), ""]
        lines.append("Likely causes (single values, and pairs among "
                     f"{', '.join(self.pair_params) or 'no parameters'}):")
        if not self.causes:
            lines.append("  none significant")
        for rank, cause in enumerate(self.causes, start=1):
            lines.append(
                f"  {rank}. {cause.condition}: {cause.failures:,} of {cause.runs:,} runs failed"
                f" ({cause.failure_rate:.1%}), {cause.coverage:.1%} of all failures,"
                f" Ochiai {cause.ochiai:.3f}")
        lines += ["", "Failure rate by value:"]
        for rates in self.parameters:
            cells = ", ".join(f"{c.label} {c.failure_rate:.1%} ({c.count:,})"
                              for c in rates.classes)
            lines.append(f"  {rates.param}: {cells}")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        """Markdown report (the same content as :meth:`to_text`, as tables)."""
        lines = ["# Failure analysis (DuckDB)", "", self._headline() + ".", "",
                 "## Likely causes", "", "| # | condition | runs | failures | failure rate |"
                 " share of failures | Ochiai |", "|---|---|---|---|---|---|---|"]
        for rank, cause in enumerate(self.causes, start=1):
            condition = cause.condition.replace("|", "\\|")
            lines.append(f"| {rank} | `{condition}` | {cause.runs:,} | {cause.failures:,} | "
                         f"{cause.failure_rate:.1%} | {cause.coverage:.1%} |"
                         f" {cause.ochiai:.3f} |")
        if not self.causes:
            lines.append("| | none significant | | | | | |")
        lines += ["", "## Failure rate by value", "", "| parameter | value | runs | failures |"
                  " failure rate |", "|---|---|---|---|---|"]
        for rates in self.parameters:
            for c in rates.classes:
                label = c.label.replace("|", "\\|")
                lines.append(f"| {rates.param} | {label} | {c.count:,} | {c.failures:,} | "
                             f"{c.failure_rate:.1%} |")
        lines += ["", *(f"Note: {note}" for note in self.notes)]
        return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- conditions


def _number(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(value)


def _literal(value: Any) -> str | None:
    """``value`` in the constraint language (None when it has no literal form)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return None


def _path(param: str) -> str:
    """A parameter path as the constraint language reads it (backticks around odd segments)."""

    segments = _tree.split_path(param)
    return ".".join(s if s.isidentifier() else "`" + s.replace("`", "") + "`" for s in segments)


def _atom(key: GroupKey, value: Any) -> tuple[str, str]:
    """(label, condition) of one group of ``key``."""
    name = _path(key.param)
    if value is ABSENT:
        return "(absent)", f"{name} == null"
    if key.edges:
        index = int(value)
        low = key.edges[index - 1] if index > 0 else None
        high = key.edges[index] if index < len(key.edges) else None
        if low is None:
            return f"<= {_number(high)}", f"{name} <= {_number(high)}"  # type: ignore[arg-type]
        if high is None:
            return f"> {_number(low)}", f"{name} > {_number(low)}"
        return (f"({_number(low)}, {_number(high)}]",
                f"{name} > {_number(low)} and {name} <= {_number(high)}")
    literal = _literal(value)
    label = (value or '""') if isinstance(value, str) else (
        literal or json.dumps(value, sort_keys=True))
    if literal is None:
        literal = json.dumps(json.dumps(value, sort_keys=True))
    return str(label), f"{name} == {literal}"


# --------------------------------------------------------------------------- the analysis


def _keys(dataset: ResultDataset, params: Sequence[str], max_values: int) -> list[GroupKey]:
    numeric = [p for p in params if dataset.is_numeric(p)]
    sample = dataset.sample(numeric)
    keys = []
    for param in params:
        distinct, edges = sample.get(param, (0, ()))
        if distinct > max_values and edges:
            rounded = tuple(sorted({float(f"{e:.6g}") for e in edges}))
            keys.append(GroupKey(param, rounded))
        else:
            keys.append(GroupKey(param))
    return keys


_RANGE = object()  # the value of a candidate that spans several groups


@dataclass(frozen=True)
class _Candidate:
    """A single-parameter condition: one group of a key, or a range of a numeric key's groups."""

    param: str
    condition: str
    runs: int
    failures: int
    span: frozenset[int]
    value: Any = _RANGE  # the group's (hashable) value for one group
    #: (runs, failures) of the first and last group of a range
    ends: tuple[tuple[int, int], ...] = ()


def _candidates(key: GroupKey, table: list[GroupCounts]) -> list[_Candidate]:
    """Every group of ``key``, plus every contiguous range of two or more (not all) of its
    numeric groups: ``x <= 3``, ``x >= 8``, ``x >= 1 and x <= 1048576`` (counts are sums of
    the groups' counts: no query)."""
    out = [_Candidate(key.param, _atom(key, c.value)[1], c.runs, c.failures, frozenset({i}),
                      _hashable(c.value)) for i, c in enumerate(table) if c.runs > 0]
    ordered = [(i, c) for i, c in enumerate(table) if (key.edges and c.value is not ABSENT)
               or (isinstance(c.value, int | float) and not isinstance(c.value, bool))]
    name = _path(key.param)
    for a in range(len(ordered)):
        for b in range(a + 1, len(ordered)):
            if a == 0 and b == len(ordered) - 1:
                continue
            group = ordered[a:b + 1]
            runs = sum(c.runs for _, c in group)
            fails = sum(c.failures for _, c in group)
            low, high = _bounds(key, group[0][1].value, group[-1][1].value)
            parts = ([low] if a > 0 else []) + ([high] if b < len(ordered) - 1 else [])
            condition = " and ".join(f"{name} {part}" for part in parts)
            ends = tuple((c.runs, c.failures) for c in (group[0][1], group[-1][1]))
            out.append(_Candidate(key.param, condition, runs, fails,
                                  frozenset(i for i, _ in group), ends=ends))
    return out


def _ends_fail(cand: _Candidate, runs: int, failures: int, alpha: float) -> bool:
    """A range is stretched no further than the failures go: each of its end groups fails
    more than the rows outside the range (``databases <= 3``, not ``databases <= 8`` because
    4 and 8 fail no more than 16 and 64 do)."""
    outside_runs, outside_fail = runs - cand.runs, failures - cand.failures
    return all(_p(f, outside_runs + n, outside_fail + f, n) < alpha for n, f in cand.ends)


def _bounds(key: GroupKey, first: Any, last: Any) -> tuple[str, str]:
    """(lower, upper) bound texts of a range from group ``first`` to group ``last``."""
    if key.edges:
        low = f"> {_number(key.edges[int(first) - 1])}" if int(first) > 0 else ""
        high = f"<= {_number(key.edges[int(last)])}" if int(last) < len(key.edges) else ""
        return low, high
    return f">= {_number(first)}", f"<= {_number(last)}"


def _disjoint(accepted: list[tuple[_Candidate, DatasetCause]]
              ) -> list[tuple[_Candidate, DatasetCause]]:
    """The best (Ochiai) conditions of each parameter that share no group with a better one:
    ``databases <= 3`` keeps ``databases == 2`` out."""
    kept: list[tuple[_Candidate, DatasetCause]] = []
    for cand, cause in sorted(accepted, key=lambda item: (-item[1].ochiai, item[1].condition)):
        if all(other.param != cand.param or not (other.span & cand.span) for other, _ in kept):
            kept.append((cand, cause))
    return kept


def _hashable(value: Any) -> Any:
    """A dictionary key for a value (lists and objects of text columns by their JSON)."""
    return ("json", json.dumps(value, sort_keys=True)) if isinstance(value, list | dict) else value


def _rate(failures: int, runs: int) -> float:
    return failures / runs if runs > 0 else 0.0


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _p(k: int, total: int, successes: int, draws: int) -> float:
    """Upper bound on the one-sided Fisher p-value ``P(X >= k)``, ``X ~ Hypergeom(total,
    successes, draws)``: ``pmf(k) / (1 - r)`` with ``r`` the ratio of successive terms (the bound
    of :func:`configlab.analysis._stats.hypergeom_log_sf_bound`, scalar and without scipy, whose
    import costs seconds on a loaded machine and this path needs nothing else from it)."""
    rest = total - successes - draws + k
    if k <= 0 or k > draws or k > successes or rest < 0 or draws > total:
        return 1.0
    ratio = (successes - k) * (draws - k) / ((k + 1.0) * (rest + 1.0))
    if ratio >= 1.0:
        return 1.0  # k is not above the mode: p-value near or above one half
    log_pmf = (_log_comb(successes, k) + _log_comb(total - successes, draws - k)
               - _log_comb(total, draws))
    return min(1.0, math.exp(log_pmf - math.log1p(-ratio)))


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """95 % Wilson score interval of ``k / n`` (close to the exact one at these sample sizes)."""
    if n <= 0:
        return 0.0, 1.0
    rate = k / n
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _cause(condition: str, params: tuple[str, ...], runs: int, failures: int, total_fail: int,
           p_value: float) -> DatasetCause:
    ochiai = failures / math.sqrt(total_fail * runs) if total_fail and runs else 0.0
    return DatasetCause(condition, params, runs, failures,
                        failures / total_fail if total_fail else 0.0, ochiai, p_value,
                        _wilson(failures, runs))


def analyze_dataset(
    source: str | os.PathLike[str] | ResultDataset,
    *,
    selection: Selection | None = None,
    params: Sequence[str] | None = None,
    pair_candidates: int = 6,
    max_causes: int = 10,
    alpha: float = 0.05,
    min_support: int = 2,
    max_values: int = MAX_VALUES,
    min_lift: float = 1.5,
) -> DatasetReport:
    """Failure rates of every value and the likeliest single and pair causes of Parquet results
    (a directory, glob, file or ``s3://`` URL, or an open :class:`ResultDataset`).

    Args:
        selection: which results to count (ignored when ``source`` is a ResultDataset, which
            has its own).
        params: only these parameters (default: every config column).
        pair_candidates: how many parameters (the most associated with failure) are grouped
            two by two for pair causes (0: no pairs).
        max_causes: most causes reported.
        alpha: significance level (Bonferroni over every value and every pair tested).
        min_support: fewest failures a cause must cover.
        max_values: numeric columns with more distinct values are cut into deciles.
        min_lift: a pair's failure rate must be at least this many times the failure rate of
            each of its values without the other.

    Raises:
        ResultsError: unreadable Parquet, an unknown parameter, a malformed selection.
        AnalysisError: invalid settings or no selected runs.
    """
    if pair_candidates < 0 or max_causes < 0 or min_support < 1 or not 0 < alpha < 1 \
            or min_lift < 1 or max_values < 1:
        raise AnalysisError("analyze_dataset(): pair_candidates and max_causes must be >= 0, "
                            "min_support and max_values >= 1, min_lift >= 1, 0 < alpha < 1")
    settings = (pair_candidates, max_causes, alpha, min_support, max_values, min_lift)
    if isinstance(source, ResultDataset):
        return _analyze(source, params, *settings)
    with ResultDataset(source, selection) as dataset:
        return _analyze(dataset, params, *settings)


def _analyze(dataset: ResultDataset, params: Sequence[str] | None, pair_candidates: int,
             max_causes: int, alpha: float, min_support: int, max_values: int,
             min_lift: float) -> DatasetReport:
    chosen = list(dataset.params if params is None else params)
    keys = _keys(dataset, chosen, max_values)
    tables: dict[str, list[GroupCounts]] = {k.param: dataset.value_counts(k) for k in keys}
    if keys:  # every table counts every selected row: no separate scan for the totals
        first = tables[keys[0].param]
        runs, failures = sum(c.runs for c in first), sum(c.failures for c in first)
        results = sum(c.results for c in first)
    else:
        results, runs, failures = dataset.totals()
    if runs == 0:
        raise AnalysisError(f"{dataset.source}: no runs to analyse ({results} selected results,"
                            " all skipped)" if results else f"{dataset.source}: no results "
                            "selected")
    rates = tuple(_rates(key, tables[key.param]) for key in keys)
    candidates = [cand for key in keys for cand in _candidates(key, tables[key.param])]
    tested = max(1, len(candidates))
    accepted: list[tuple[_Candidate, DatasetCause]] = []
    for cand in candidates:
        if cand.failures < min_support or cand.failures * runs <= failures * cand.runs:
            continue
        p_value = _p(cand.failures, runs, failures, cand.runs)
        if p_value * tested < alpha and _ends_fail(cand, runs, failures, alpha):
            accepted.append((cand, _cause(cand.condition, (cand.param,), cand.runs,
                                          cand.failures, failures, p_value)))
    singles = _disjoint(accepted)
    pair_keys = _pair_keys(keys, tables, pair_candidates)
    pairs, shadows = _pairs(dataset, pair_keys, tables, runs, failures, alpha, min_support,
                            min_lift)
    kept = [c for cand, c in singles if cand.value is _RANGE or (cand.param, cand.value)
            not in shadows]
    causes = sorted(kept + pairs, key=lambda c: (-c.ochiai, c.condition))[:max_causes]
    notes = []
    binned = [k.param for k in keys if k.edges]
    if binned:
        notes.append(f"cut into intervals at their deciles: {', '.join(binned)}")
    return DatasetReport(dataset.source, len(dataset.files), results, runs, failures, rates,
                         tuple(causes), tuple(k.param for k in pair_keys), tuple(notes))


def _rates(key: GroupKey, counts: list[GroupCounts]) -> ValueRates:
    classes = tuple(ClassStat(_atom(key, c.value)[0], c.runs, c.failures) for c in counts)
    return ValueRates(key.param, "intervals" if key.edges else "values", classes, key.edges)


def _cramers_v(runs: Sequence[int], fails: Sequence[int]) -> float:
    """Cramér's V of a value x (fail, pass) table (0 when it has no variation)."""
    n = np.asarray(runs, dtype=np.float64)
    f = np.asarray(fails, dtype=np.float64)
    total, failed = float(n.sum()), float(f.sum())
    if total <= 0 or failed <= 0 or failed >= total or np.count_nonzero(n) < 2:
        return 0.0
    expected_f = n * failed / total
    expected_p = n - expected_f
    present = n > 0
    terms = ((f - expected_f) ** 2 / np.where(present, expected_f, 1.0)
             + (n - f - expected_p) ** 2 / np.where(present, expected_p, 1.0))
    stat = float(terms[present].sum())
    return math.sqrt(stat / total)


def _pair_keys(keys: list[GroupKey], tables: dict[str, list[GroupCounts]],
               count: int) -> list[GroupKey]:
    """The ``count`` parameters most associated with failure (Cramér's V), strongest first."""
    if count < 2 or len(keys) < 2:
        return []
    scores = []
    for key in keys:
        table = tables[key.param]
        scores.append((_cramers_v([c.runs for c in table], [c.failures for c in table]),
                       key.param, key))
    ranked = sorted((s for s in scores if s[0] > 0), key=lambda s: (-s[0], s[1]))
    return [key for _, _, key in ranked[:count]]


def _pairs(dataset: ResultDataset, keys: list[GroupKey], tables: dict[str, list[GroupCounts]],
           runs: int, failures: int, alpha: float, min_support: int, min_lift: float
           ) -> tuple[list[DatasetCause], set[tuple[str, Any]]]:
    """Pair causes among ``keys`` and the single values that are only shadows of one."""
    margins = {(k.param, _hashable(c.value)): (c.runs, c.failures)
               for k in keys for c in tables[k.param]}
    combos = [(a, b) for i, a in enumerate(keys) for b in keys[i + 1:]]
    counted = {(a.param, b.param): dataset.pair_counts(a, b) for a, b in combos}
    tested = max(1, sum(len(rows) for rows in counted.values()))
    found: list[DatasetCause] = []
    shadows: set[tuple[str, Any]] = set()
    for a, b in combos:
        for va, vb, n, f in counted[(a.param, b.param)]:
            if f < min_support or f * runs <= failures * n:
                continue
            p_all = _p(f, runs, failures, n)
            if p_all * tested >= alpha:
                continue
            na, fa = margins[(a.param, _hashable(va))]
            nb, fb = margins[(b.param, _hashable(vb))]
            # the pair must fail more than each of its values without the other
            p_given_a = _p(f, na, fa, n)
            p_given_b = _p(f, nb, fb, n)
            if max(p_given_a, p_given_b) * tested >= alpha:
                continue
            # ... by a margin: with millions of rows, two independent causes overlapping
            # also fail "significantly" more together than apart
            alone = max(_rate(fa - f, na - n), _rate(fb - f, nb - n))
            if f < min_lift * alone * n:
                continue
            label = " and ".join(_atom(k, v)[1] for k, v in ((a, va), (b, vb)))
            found.append(_cause(label, (a.param, b.param), n, f, failures, p_all))
            for (param, value), (nx, fx) in (((a.param, _hashable(va)), (na, fa)),
                                             ((b.param, _hashable(vb)), (nb, fb))):
                # outside the pair, does the value still fail more than the rest?
                rest_runs, rest_fail = runs - n, failures - f
                if _p(fx - f, rest_runs, rest_fail, nx - n) * tested >= alpha \
                        or (fx - f) * rest_runs <= rest_fail * (nx - n):
                    shadows.add((param, value))
    return found, shadows


__all__ = ["DatasetCause", "DatasetReport", "ValueRates", "analyze_dataset"]
