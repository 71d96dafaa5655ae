"""Tests for configlab.generation._covering: t-way covering suites under constraints."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from configlab._internal.finite import FiniteConstraint, FiniteModel, ModelSolver
from configlab.errors import GenerationError, UnsatisfiableSpaceError
from configlab.generation import _covering as covering
from configlab.generation import _tuple_index
from configlab.generation._covering import (
    CoveringBudgetWarning,
    TupleIndex,
    build_covering_suite,
    tuples_to_cover,
    uncovered_tuples,
)
from tests.internal.test_finite import brute_valid_rows, forbid, models
from tests.paths import SRC_DIR

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def brute_tuples(model: FiniteModel, t: int) -> set[tuple[tuple[int, int], ...]]:
    """Valid t-tuples by enumeration: projections of valid full assignments."""
    t = min(t, len(model.domain_sizes))
    out = set()
    for row in brute_valid_rows(model):
        for cols in itertools.combinations(range(len(row)), t):
            out.add(tuple((c, row[c]) for c in cols))
    return out


def covered(rows: list[tuple[int, ...]], t: int) -> set[tuple[tuple[int, int], ...]]:
    out = set()
    for row in rows:
        for cols in itertools.combinations(range(len(row)), t):
            out.add(tuple((c, row[c]) for c in cols))
    return out


@SETTINGS
@given(models(max_params=6), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_suite_is_valid_and_covers_every_valid_tuple(model: FiniteModel, t: int, seed: int) -> None:
    valid_rows = set(brute_valid_rows(model))
    if not valid_rows:
        with pytest.raises(UnsatisfiableSpaceError):
            build_covering_suite(model, t, seed)
        return
    solver = ModelSolver(model)
    suite = build_covering_suite(model, t, seed, solver=solver, max_steps=150)
    assert all(row in valid_rows for row in suite)
    expected = brute_tuples(model, t)
    assert expected <= covered(suite, min(t, len(model.domain_sizes)))
    assert set(tuples_to_cover(model, t, solver)) == expected
    assert uncovered_tuples(model, suite, t, solver) == []
    # the suite never contains redundant rows beyond what the greedy phase needs
    assert len(suite) <= len(valid_rows)


@SETTINGS
@given(models(max_params=5), st.integers(0, 1000))
def test_seed_rows_count_as_covering(model: FiniteModel, seed: int) -> None:
    valid = brute_valid_rows(model)
    if not valid:
        return
    seeds = valid[: len(valid) // 2 + 1 : 2]
    suite = build_covering_suite(model, 2, seed, seed_rows=seeds, max_steps=200)
    expected = brute_tuples(model, 2)
    assert expected <= covered(suite + seeds, 2)
    assert all(row in set(valid) for row in suite)
    assert build_covering_suite(model, 2, seed, seed_rows=valid) == []


def test_invalid_tuples_are_not_demanded() -> None:
    # a=1 -> b=1 and b=1 -> c=0 imply that (a=1, c=1) is invalid without a direct constraint
    model = FiniteModel(
        ("a", "b", "c", "d"),
        (2, 2, 2, 3),
        (
            forbid("a=1 -> b=1", (0, 1), {(1, 0)}),
            forbid("b=1 -> c=0", (1, 2), {(1, 1)}),
            forbid("d != 2", (3,), {(2,)}),
        ),
    )
    needed = set(tuples_to_cover(model, 2))
    assert ((0, 1), (2, 1)) not in needed
    assert ((0, 1), (1, 0)) not in needed
    assert ((0, 0), (3, 2)) not in needed
    assert ((0, 1), (2, 0)) in needed
    suite = build_covering_suite(model, 2, 0, max_steps=300)
    assert needed <= covered(suite, 2)
    missing = uncovered_tuples(model, suite[:1], 2)
    assert missing and set(missing) <= needed


def test_unconstrained_classics_reach_known_sizes() -> None:
    three4 = FiniteModel(tuple("abcd"), (3, 3, 3, 3))
    assert len(build_covering_suite(three4, 2, 0)) == 9
    binary = FiniteModel(tuple(f"p{i}" for i in range(10)), (2,) * 10)
    assert len(build_covering_suite(binary, 1, 0)) == 2
    assert len(build_covering_suite(binary, 2, 0, max_steps=1500)) == 6


def test_strength_four_and_clamping() -> None:
    model = FiniteModel(
        tuple("abcde"), (2, 2, 2, 2, 2), (forbid("not all ones", (0, 1), {(1, 1)}),)
    )
    suite = build_covering_suite(model, 4, 3, max_steps=200)
    assert brute_tuples(model, 4) <= covered(suite, 4)
    small = FiniteModel(("a", "b"), (2, 3))
    full = build_covering_suite(small, 4, 0)
    assert sorted(full) == [(a, b) for a in range(2) for b in range(3)]


def test_deterministic_within_and_across_processes() -> None:
    model_code = (
        "from configlab._internal.finite import FiniteConstraint, FiniteModel\n"
        "sizes = (2, 3, 4, 2, 3, 2, 2, 3)\n"
        "model = FiniteModel(tuple(f'p{i}' for i in range(8)), sizes, (\n"
        "    FiniteConstraint('c0', (0, 2), lambda c: not (c[0] == 1 and c[1] == 3)),\n"
        "    FiniteConstraint('c1', (1, 4, 6), lambda c: c[0] + c[1] != c[2] + 3),\n"
        "))\n"
    )
    namespace: dict[str, object] = {}
    exec(model_code, namespace)
    model = namespace["model"]
    assert isinstance(model, FiniteModel)
    first = build_covering_suite(model, 2, 42, max_steps=500)
    assert first == build_covering_suite(model, 2, 42, max_steps=500)
    script = (
        model_code
        + "import json\nfrom configlab.generation._covering import build_covering_suite\n"
        + "print(json.dumps(build_covering_suite(model, 2, 42, max_steps=500)))\n"
    )
    src = str(SRC_DIR)
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": src, "PYTHONHASHSEED": "123", "PATH": "/usr/bin:/bin"},
    )
    assert [tuple(r) for r in json.loads(out.stdout)] == first


def test_unsatisfiable_model_raises_with_conflict() -> None:
    model = FiniteModel(
        ("a", "b"),
        (2, 2),
        (forbid("a != 0", (0,), {(0,)}), forbid("a != 1", (0,), {(1,)}), forbid("x", (1,), set())),
    )
    with pytest.raises(UnsatisfiableSpaceError) as info:
        build_covering_suite(model, 2, 0)
    assert info.value.conflicting == ("a != 0", "a != 1")


@pytest.mark.parametrize("strength", [0, 5, "2", True, 2.0])
def test_bad_strength(strength: object) -> None:
    model = FiniteModel(("a",), (2,))
    with pytest.raises(GenerationError, match="strength"):
        build_covering_suite(model, strength, 0)  # type: ignore[arg-type]


def test_bad_inputs() -> None:
    model = FiniteModel(("a", "b"), (2, 2))
    other = FiniteModel(("a", "b"), (2, 3))
    with pytest.raises(GenerationError, match="different model"):
        build_covering_suite(model, 2, 0, solver=ModelSolver(other))
    with pytest.raises(GenerationError, match="seed row 0"):
        build_covering_suite(model, 2, 0, seed_rows=[(0, 2)])
    with pytest.raises(GenerationError, match="row 1"):
        uncovered_tuples(model, [(0, 0), (0,)], 2)
    with pytest.raises(GenerationError, match="seed row 0"):
        build_covering_suite(model, 2, 0, seed_rows=[("0", 1)])  # type: ignore[list-item]


def test_empty_model() -> None:
    empty = FiniteModel((), ())
    assert build_covering_suite(empty, 2, 0) == [()]
    assert build_covering_suite(empty, 2, 0, seed_rows=[()]) == []
    assert tuples_to_cover(empty, 2) == [()]
    assert uncovered_tuples(empty, [()], 2) == []


def test_budgets_still_give_complete_suites() -> None:
    model = FiniteModel(tuple(f"p{i}" for i in range(6)), (3,) * 6)
    no_opt = build_covering_suite(model, 2, 1, max_steps=0)
    with pytest.warns(CoveringBudgetWarning):  # no time at all: completed, not optimised
        capped = build_covering_suite(model, 2, 1, time_budget=0.0)
    optimised = build_covering_suite(model, 2, 1, max_steps=400)
    for suite in (no_opt, capped, optimised):
        assert brute_tuples(model, 2) <= covered(suite, 2)
    assert len(optimised) <= len(no_opt)


def test_dead_values_are_excluded_from_requirements() -> None:
    model = FiniteModel(
        ("a", "b", "c"), (3, 2, 2), (forbid("a != 2", (0,), {(2,)}), forbid("x", (1, 2), {(1, 1)}))
    )
    needed = tuples_to_cover(model, 2)
    assert all((0, 2) not in tup for tup in needed)
    suite = build_covering_suite(model, 2, 5, max_steps=300)
    assert all(row[0] != 2 for row in suite)
    assert set(needed) <= covered(suite, 2)


def test_validity_rejects_dead_values_directly() -> None:
    model = FiniteModel(("a", "b"), (2, 2), (forbid("a != 1", (0,), {(1,)}),))
    solver = ModelSolver(model)
    validity = covering._Validity(solver, TupleIndex(model.domain_sizes, 2))
    assert not validity.tuple_valid([0, 1], [1, 0])
    assert validity.tuple_valid([0, 1], [0, 1])


def test_tuple_index_roundtrip_and_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = (2, 3, 4, 2, 5)
    for t in (1, 2, 3, 4):
        index = TupleIndex(sizes, t)
        expected = sum(
            int(np.prod([sizes[c] for c in cols])) for cols in itertools.combinations(range(5), t)
        )
        assert index.total == expected
        idx = np.arange(index.total, dtype=np.int64)
        params, vals = index.decode(idx)
        for n in range(0, index.total, 7):
            assert index.encode(params[n].tolist(), vals[n].tolist()) == n
        row = np.array([1, 2, 3, 0, 4], dtype=np.int64)
        got = index.row_indices(row)
        p2, v2 = index.decode(got)
        assert (v2 == row[p2]).all()
    monkeypatch.setattr(_tuple_index, "MAX_TUPLES", 10)
    with pytest.raises(GenerationError, match="exceed the limit"):
        TupleIndex(sizes, 2)


def test_larger_model_with_components() -> None:
    # 40 binary parameters, constraints in small components: exercises the vectorised paths
    pairs = [forbid(f"c{i}", (i, i + 1), {(1, 1)}) for i in range(0, 20, 2)]
    cons = (*pairs, FiniteConstraint("three", (30, 31, 32), lambda c: sum(c) != 3))
    model = FiniteModel(tuple(f"p{i}" for i in range(40)), (2,) * 40, cons)
    solver = ModelSolver(model)
    suite = build_covering_suite(model, 2, 7, solver=solver, max_steps=2000)
    assert all(not solver.violates(r) for r in suite)
    assert uncovered_tuples(model, suite, 2, solver) == []
    assert len(suite) <= 10
