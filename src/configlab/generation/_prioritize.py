"""Order a suite of configs so that every prefix keeps the most valuable ones.

``prioritize(configs, space, strength=2, weights=None, history=None)`` repeatedly picks the
config that adds the largest weight of not-yet-covered valid t-tuples (value-class
combinations of ``t`` parameters), ties broken by the original order, so that truncating the
result after ``k`` configs keeps the ``k`` configs a greedy tester would run first.

Weight of a t-tuple = (product of its parameters' risk weights, default 1) x
(1 + sum over its value classes of their failure rate in ``history``), where a value class's
failure rate is (failing history configs having it) / (history configs having it).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from configlab._internal.finite import ModelSolver
from configlab._internal.spacemodel import space_model
from configlab.errors import GenerationError
from configlab.generation._covering import tuples_to_cover
from configlab.generation._tuple_index import TupleIndex
from configlab.space import SpaceSource, load_space

Config = dict[str, Any]

#: Outcomes (case-insensitive strings) counted as failures in ``history``; ``False`` also is.
FAILING_OUTCOMES: Final = frozenset(
    {"fail", "failed", "failure", "error", "errored", "broken", "crash", "crashed", "timeout"}
)


@dataclass(frozen=True)
class PrioritizedSuite:
    """A suite in priority order.

    Attributes:
        configs: the configs, most valuable first.
        order: ``order[i]`` is the original index of ``configs[i]``.
        coverage_curve: after ``i + 1`` configs, the fraction of the space's valid t-tuples
            covered (non-decreasing; the last value is the whole suite's coverage).
        gains: weighted value each config added when it was picked (non-increasing).
        strength: t.
        total_tuples: number of valid t-tuples of the space.
    """

    configs: tuple[Config, ...]
    order: tuple[int, ...]
    coverage_curve: tuple[float, ...]
    gains: tuple[float, ...]
    strength: int
    total_tuples: int

    def __len__(self) -> int:
        return len(self.configs)

    def __iter__(self) -> Iterator[Config]:
        return iter(self.configs)

    def head(self, k: int) -> PrioritizedSuite:
        """The first ``k`` configs (the most valuable ones) as a suite."""
        if not isinstance(k, int) or isinstance(k, bool) or k < 0:
            raise GenerationError(f"k must be a non-negative integer, got {k!r}")
        return PrioritizedSuite(
            self.configs[:k], self.order[:k], self.coverage_curve[:k], self.gains[:k],
            self.strength, self.total_tuples,
        )


def is_failure(outcome: Any) -> bool:
    """Whether a history outcome counts as a failure (``False`` or a failing word)."""
    if isinstance(outcome, bool):
        return not outcome
    return isinstance(outcome, str) and outcome.strip().lower() in FAILING_OUTCOMES


def _history_pairs(history: Iterable[Any]) -> Iterator[tuple[Mapping[str, Any], Any]]:
    for n, item in enumerate(history):
        if hasattr(item, "config") and hasattr(item, "outcome"):
            config, outcome = item.config, item.outcome
        elif isinstance(item, tuple | list) and len(item) == 2:
            config, outcome = item
        else:
            raise GenerationError(
                f"history entry {n}: expected (config, outcome) or an object with "
                f".config and .outcome, got {type(item).__name__}"
            )
        if not isinstance(config, Mapping):
            raise GenerationError(f"history entry {n}: the config must be a mapping")
        yield config, outcome


def prioritize(
    configs: Iterable[Mapping[str, Any]],
    space: SpaceSource,
    strength: int = 2,
    weights: Mapping[str, float] | None = None,
    history: Iterable[Any] | None = None,
) -> PrioritizedSuite:
    """Order ``configs`` by greedy weighted t-tuple coverage (see the module docstring).

    Args:
        configs: the suite (nested-dict configs).
        space: a :class:`Space` or anything :func:`configlab.space._model.load_space` accepts.
        strength: t, 1..4 (clamped to the number of parameters).
        weights: ``{parameter path: risk weight > 0}``; missing parameters weigh 1.
        history: past runs, as ``(config, outcome)`` pairs or objects with ``.config`` and
            ``.outcome``; see :func:`is_failure`.

    Raises:
        GenerationError: bad strength, weights, configs or history.
        UnsatisfiableSpaceError: the space has no valid configuration.
    """
    import numpy as np

    if not isinstance(strength, int) or isinstance(strength, bool) or not 1 <= strength <= 4:
        raise GenerationError(f"strength must be an integer between 1 and 4, got {strength!r}")
    resolved = load_space(space)
    suite = list(configs)
    for n, config in enumerate(suite):
        if not isinstance(config, Mapping):
            raise GenerationError(f"config {n}: expected a mapping, got {type(config).__name__}")
    sm = space_model(resolved)
    model = sm.model
    k = len(model.domain_sizes)
    t = min(strength, k)
    param_weight = np.ones(k, dtype=np.float64)
    for path, weight in (weights or {}).items():
        if path not in resolved:
            raise GenerationError(f"weights: unknown parameter {path!r}")
        if not isinstance(weight, int | float) or isinstance(weight, bool) or not (
            math.isfinite(weight) and weight > 0
        ):
            raise GenerationError(f"weights: {path}: expected a positive number, got {weight!r}")
        param_weight[resolved.paths.index(path)] = float(weight)

    solver = ModelSolver(model)
    index = TupleIndex(model.domain_sizes, t)
    valid = np.zeros(index.total, dtype=bool)
    rank = {tuple(int(p) for p in sub): sid for sid, sub in enumerate(index.subsets)}
    for tup in tuples_to_cover(model, t, solver):
        sid = rank[tuple(p for p, _ in tup)]
        valid[int(index.base[sid]) + sum(c * int(m) for (_, c), m in
                                         zip(tup, index.mult[sid], strict=True))] = True
    total_valid = int(np.count_nonzero(valid))

    rate = np.zeros(index.num_values, dtype=np.float64)
    if history is not None:
        seen = np.zeros(index.num_values, dtype=np.float64)
        failed = np.zeros(index.num_values, dtype=np.float64)
        for config, outcome in _history_pairs(history):
            codes = np.asarray(resolved.encode(config), dtype=np.int64)
            known = codes >= 0
            g = index.glob_offset[known] + codes[known]
            seen[g] += 1
            if is_failure(outcome):
                failed[g] += 1
        np.divide(failed, seen, out=rate, where=seen > 0)

    subset_weight = param_weight[index.subsets].prod(axis=1)
    tuple_ids: list[Any] = []
    tuple_weights: list[Any] = []
    for config in suite:
        codes = np.asarray(resolved.encode(config), dtype=np.int64)
        ok = (codes[index.subsets] >= 0).all(axis=1)
        ids = index.row_indices(np.where(codes >= 0, codes, 0))
        ok &= valid[ids]
        g = index.glob_offset[index.subsets] + codes[index.subsets]
        boost = 1.0 + np.where(ok[:, None], rate[np.where(ok[:, None], g, 0)], 0.0).sum(axis=1)
        tuple_ids.append(ids[ok])
        tuple_weights.append((subset_weight * boost)[ok])

    covered = np.zeros(index.total, dtype=bool)

    def gain(i: int) -> float:
        fresh = ~covered[tuple_ids[i]]
        return float(tuple_weights[i][fresh].sum())

    heap = [(-gain(i), i) for i in range(len(suite))]
    heapq.heapify(heap)
    order: list[int] = []
    gains: list[float] = []
    curve: list[float] = []
    count = 0
    while heap:
        stale, i = heapq.heappop(heap)
        current = gain(i)
        if -stale != current:
            heapq.heappush(heap, (-current, i))
            continue
        ids = tuple_ids[i]
        count += int(np.count_nonzero(~covered[ids]))
        covered[ids] = True
        order.append(i)
        gains.append(current)
        curve.append(count / total_valid if total_valid else 1.0)
    return PrioritizedSuite(
        configs=tuple(dict(suite[i]) for i in order),
        order=tuple(order),
        coverage_curve=tuple(curve),
        gains=tuple(gains),
        strength=t,
        total_tuples=total_valid,
    )



__all__ = ["FAILING_OUTCOMES", "PrioritizedSuite", "is_failure", "prioritize"]
