"""Tests for configlab.generation: greedy t-tuple ordering, weights, history, coverage curve."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import configlab
from configlab.errors import GenerationError, UnsatisfiableSpaceError
from configlab.generation import PrioritizedSuite, is_failure, prioritize
from configlab.space import Space

ABC = Space.from_dict({"parameters": {"a": "bool", "b": "bool", "c": "bool"}})


def cfg(a: bool, b: bool, c: bool) -> dict[str, Any]:
    return {"a": a, "b": b, "c": c}


F, T = False, True


def test_pairwise_order_and_curve_hand_computed() -> None:
    suite = [cfg(F, F, F), cfg(F, F, T), cfg(T, T, T), cfg(F, F, F)]
    result = prioritize(suite, ABC, strength=2)
    # gains: all 3 -> pick #0; then #1 adds 2, #2 adds 3 -> #2; then #1 (2), then #3 (0)
    assert result.order == (0, 2, 1, 3)
    assert result.total_tuples == 12
    assert result.coverage_curve == (3 / 12, 6 / 12, 8 / 12, 8 / 12)
    assert result.gains == (3.0, 3.0, 2.0, 0.0)
    assert result.configs == tuple(suite[i] for i in result.order)
    assert len(result) == 4 and list(result) == list(result.configs)
    assert result.strength == 2


def test_weights_change_the_order() -> None:
    suite = [cfg(F, F, F), cfg(T, T, F), cfg(T, F, T)]
    assert prioritize(suite, ABC, strength=1).order == (0, 1, 2)
    weighted = prioritize(suite, ABC, strength=1, weights={"c": 5})
    # after #0: #1 adds a=T (1) + b=T (1) = 2, #2 adds a=T (1) + c=T (5) = 6
    assert weighted.order == (0, 2, 1)
    assert weighted.gains == (7.0, 6.0, 1.0)
    # pairs weigh the product of their parameters' weights
    pair = prioritize([cfg(F, F, F), cfg(T, T, F)], ABC, strength=2, weights={"a": 2, "b": 3})
    assert pair.gains[0] == 2 * 3 + 2 * 1 + 3 * 1


def test_history_failures_raise_weights() -> None:
    suite = [cfg(F, F, F), cfg(T, T, F), cfg(T, F, T)]
    history = [(cfg(T, T, F), "fail"), (cfg(F, F, F), "passed")]
    result = prioritize(suite, ABC, strength=1, history=history)
    # failure rates: a=T 1, b=T 1, c=F 1/2; tuple weight = 1 + rate
    assert result.order == (1, 0, 2)
    assert result.gains == (5.5, 2.0, 1.0)  # then #2 only adds c=T (rate 0)

    @dataclass
    class Record:
        config: dict[str, Any]
        outcome: Any

    objects = [Record(cfg(T, T, F), False), Record(cfg(F, F, F), True)]
    assert prioritize(suite, ABC, strength=1, history=objects).order == (1, 0, 2)


def test_outcomes() -> None:
    assert is_failure("FAILED") and is_failure(" error ") and is_failure(False)
    assert not is_failure("pass") and not is_failure(True) and not is_failure(None)


def test_invalid_tuples_and_unknown_values_are_not_counted() -> None:
    space = Space.from_dict({"parameters": {"a": "bool", "b": "bool", "c": "bool"},
                             "constraints": ["a -> b"]})
    suite = [cfg(T, F, F), {"a": "x", "b": True, "c": True}]
    result = prioritize(suite, space, strength=2)
    assert result.total_tuples == 11
    # #0 violates a -> b: its (a=T, b=F) tuple is invalid; #1's a fits no class
    assert result.gains == (2.0, 1.0)
    assert result.coverage_curve == (2 / 11, 3 / 11)


def test_head_truncates() -> None:
    result = prioritize([cfg(F, F, F), cfg(T, T, T)], ABC)
    head = result.head(1)
    assert isinstance(head, PrioritizedSuite)
    assert head.order == (0,) and head.coverage_curve == (3 / 12,)
    with pytest.raises(GenerationError):
        result.head(-1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strength": 0}, "strength must be an integer between 1 and 4"),
        ({"strength": "2"}, "strength"),
        ({"weights": {"zz": 1}}, "unknown parameter 'zz'"),
        ({"weights": {"a": -1}}, "positive number"),
        ({"weights": {"a": float("inf")}}, "positive number"),
        ({"weights": {"a": True}}, "positive number"),
        ({"history": [42]}, "history entry 0"),
        ({"history": [(5, "fail")]}, "must be a mapping"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(GenerationError, match=message):
        prioritize([cfg(F, F, F)], ABC, **kwargs)


def test_bad_configs_and_unsatisfiable_space() -> None:
    with pytest.raises(GenerationError, match="config 1: expected a mapping"):
        prioritize([cfg(F, F, F), [1]], ABC)  # type: ignore[list-item]
    bad = Space.from_dict({"parameters": {"a": "bool"}, "constraints": ["a", "not a"]})
    with pytest.raises(UnsatisfiableSpaceError):
        prioritize([{"a": True}], bad)


def test_callable_module() -> None:
    result = configlab.prioritize([cfg(F, F, F)], ABC, strength=1)
    assert result.order == (0,)


def covered_by(space: Space, configs: list[dict[str, Any]], t: int) -> set[Any]:
    """Brute force: valid t-tuples contained in valid configs."""
    out = set()
    for config in configs:
        if not space.is_valid(config):
            continue
        codes = space.encode(config)
        for subset in itertools.combinations(range(len(codes)), t):
            out.add(tuple((p, codes[p]) for p in subset))
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), min_size=1, max_size=8),
    st.integers(1, 3),
    st.floats(0.1, 10),
)
def test_curve_is_monotone_and_ends_at_suite_coverage(
    rows: list[tuple[bool, bool, bool]], t: int, weight: float
) -> None:
    suite = [cfg(*row) for row in rows]
    result = prioritize(suite, ABC, strength=t, weights={"b": weight})
    curve = result.coverage_curve
    assert sorted(result.order) == list(range(len(suite)))
    assert all(x <= y for x, y in itertools.pairwise(curve))
    assert all(x >= y for x, y in itertools.pairwise(result.gains))
    assert curve[-1] == len(covered_by(ABC, suite, t)) / result.total_tuples
    # unweighted: the first pick covers the most tuples, ties to the lowest index
    plain = prioritize(suite, ABC, strength=t)
    first_best = max(range(len(suite)), key=lambda i: (len(covered_by(ABC, [suite[i]], t)), -i))
    assert plain.order[0] == first_best
