"""Tests for configlab._internal.finite: the finite model and its SAT reasoning."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from configlab._internal import finite
from configlab._internal.finite import FiniteConstraint, FiniteModel, ModelSolver
from configlab.errors import GenerationError, UnsatisfiableSpaceError


def forbid(name: str, scope: tuple[int, ...], bad: set[tuple[int, ...]]) -> FiniteConstraint:
    """A constraint forbidding exactly the combinations in ``bad``."""
    frozen = frozenset(bad)
    return FiniteConstraint(name, scope, lambda codes: codes not in frozen)


@st.composite
def models(draw: st.DrawFn, max_params: int = 6) -> FiniteModel:
    """Random small models: domains 2-4, 3..max_params params, random forbidden combinations."""
    k = draw(st.integers(3, max_params))
    sizes = tuple(draw(st.lists(st.integers(2, 4), min_size=k, max_size=k)))
    cons = []
    for j in range(draw(st.integers(0, 5))):
        scope = tuple(sorted(draw(st.sets(st.integers(0, k - 1), min_size=1, max_size=3))))
        combos = list(itertools.product(*(range(sizes[p]) for p in scope)))
        bad = draw(st.sets(st.sampled_from(combos), max_size=max(1, len(combos) // 2)))
        cons.append(forbid(f"c{j}", scope, bad))
    return FiniteModel(tuple(f"p{i}" for i in range(k)), sizes, tuple(cons))


def brute_valid_rows(model: FiniteModel) -> list[tuple[int, ...]]:
    """Every full assignment satisfying every constraint (independent of the solver)."""
    return [
        row
        for row in itertools.product(*(range(s) for s in model.domain_sizes))
        if all(c.allows(tuple(row[p] for p in c.scope)) for c in model.constraints)
    ]


def sub_model(model: FiniteModel, keep: set[str]) -> FiniteModel:
    cons = tuple(c for c in model.constraints if c.name in keep)
    return FiniteModel(model.names, model.domain_sizes, cons)


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(models())
def test_satisfiability_dead_values_and_partials_match_brute_force(model: FiniteModel) -> None:
    solver = ModelSolver(model)
    valid = brute_valid_rows(model)
    assert solver.is_satisfiable() == bool(valid)
    alive = {(i, v) for row in valid for i, v in enumerate(row)}
    expected_dead = sorted(
        (i, v) for i, s in enumerate(model.domain_sizes) for v in range(s) if (i, v) not in alive
    )
    assert solver.dead_values() == expected_dead
    assert solver.dead_values() == expected_dead  # cached path
    rng = random.Random(1)
    for _ in range(10):
        params = rng.sample(range(len(model.domain_sizes)), rng.randint(1, 3))
        partial = {p: rng.randrange(model.domain_sizes[p]) for p in params}
        expected = any(all(row[p] == v for p, v in partial.items()) for row in valid)
        assert solver.is_valid_partial(partial) == expected
        assert solver.is_valid_partial(dict(partial)) == expected  # cached
        done = solver.complete(partial, rng)
        if expected:
            assert done is not None and done in valid
            assert all(done[p] == v for p, v in partial.items())
            assert not solver.violates(done)
            assert not solver.violates(dict(enumerate(done)))
        else:
            assert done is None
    solver.close()


@SETTINGS
@given(models())
def test_minimal_conflict_is_minimal(model: FiniteModel) -> None:
    solver = ModelSolver(model)
    names = solver.minimal_conflict()
    if solver.is_satisfiable():
        assert names == ()
        solver.check_satisfiable()
        return
    assert names
    assert not brute_valid_rows(sub_model(model, set(names)))
    for drop in names:
        assert brute_valid_rows(sub_model(model, set(names) - {drop}))
    with pytest.raises(UnsatisfiableSpaceError) as info:
        solver.check_satisfiable()
    assert info.value.conflicting == names
    for n in names:
        assert repr(n) in str(info.value)


def test_unsatisfiable_model_names_the_conflict_and_kills_every_value() -> None:
    model = FiniteModel(
        ("a", "b", "c"),
        (2, 2, 2),
        (
            FiniteConstraint("a == 1", (0,), lambda c: c[0] == 1),
            FiniteConstraint("c is free", (2,), lambda c: True),
            FiniteConstraint("a == 1 -> b == 1", (0, 1), lambda c: c[0] == 0 or c[1] == 1),
            FiniteConstraint("b == 0", (1,), lambda c: c[1 - 1] == 0),
        ),
    )
    solver = ModelSolver(model)
    assert not solver.is_satisfiable()
    assert solver.minimal_conflict() == ("a == 1", "a == 1 -> b == 1", "b == 0")
    with pytest.raises(UnsatisfiableSpaceError, match="b == 0"):
        solver.check_satisfiable()
    assert len(solver.dead_values()) == 6


def test_empty_scope_constraint() -> None:
    never = FiniteConstraint("false", (), lambda c: False)
    always = FiniteConstraint("true", (), lambda c: True)
    assert ModelSolver(FiniteModel(("a",), (2,), (always,))).is_satisfiable()
    solver = ModelSolver(FiniteModel(("a",), (2,), (always, never)))
    assert solver.minimal_conflict() == ("false",)


def test_violates_only_evaluates_fully_assigned_scopes() -> None:
    model = FiniteModel(("a", "b", "c"), (2, 2, 2), (forbid("not a=1,b=1", (0, 1), {(1, 1)}),))
    solver = ModelSolver(model)
    assert not solver.violates({0: 1})
    assert solver.violates({0: 1, 1: 1})
    assert solver.violates((1, 1, 0))
    assert not solver.violates((1, 0, 0))
    assert solver.row_violates([1, 1, 0], [0, 1])
    assert not solver.row_violates([1, 1, 0], [2])
    assert not solver.row_violates([0, 1, 0], [0, 1])
    assert solver.is_constrained(0) and not solver.is_constrained(2)
    assert solver.lit(1, 1) == 4
    assert solver.components[0] == solver.components[1] != solver.components[2]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (FiniteModel(("a",), (2, 3)), "names but"),
        (FiniteModel(("a",), (0,)), "no values"),
        (FiniteModel(("a", "b"), (2, 2), (forbid("x", (1, 0), set()),)), "not sorted"),
        (FiniteModel(("a", "b"), (2, 2), (forbid("x", (0, 0), set()),)), "not sorted"),
        (FiniteModel(("a", "b"), (2, 2), (forbid("x", (0, 2), set()),)), "out of range"),
    ],
)
def test_malformed_models_raise(model: FiniteModel, message: str) -> None:
    with pytest.raises(GenerationError, match=message):
        ModelSolver(model)


def test_scope_too_large_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(finite, "MAX_SCOPE_COMBINATIONS", 100)
    model = FiniteModel(("a", "b", "c"), (5, 5, 5), (forbid("big", (0, 1, 2), set()),))
    with pytest.raises(GenerationError, match="'big' reads 3 parameters with 125"):
        ModelSolver(model)


def test_failing_predicate_raises_generation_error() -> None:
    def boom(codes: tuple[int, ...]) -> bool:
        raise TypeError("bad compare")

    model = FiniteModel(("a",), (2,), (FiniteConstraint("a < 'x'", (0,), boom),))
    with pytest.raises(GenerationError, match=r"a < 'x'.*bad compare"):
        ModelSolver(model)


def test_partial_outside_domain_raises() -> None:
    solver = ModelSolver(FiniteModel(("a", "b"), (2, 2)))
    with pytest.raises(GenerationError, match="outside"):
        solver.is_valid_partial({0: 2})
    with pytest.raises(GenerationError, match="outside"):
        solver.complete({5: 0}, random.Random(0))
    assert solver.dead_values() == []
