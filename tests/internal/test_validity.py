"""Tests for configlab._internal.validity: the one t-tuple validity kernel, against brute force."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given

from configlab._internal.finite import FiniteModel, ModelSolver
from configlab._internal.validity import TupleValidity
from tests.internal.test_finite import SETTINGS, brute_valid_rows, forbid, models


def brute_tuple_valid(valid_rows: list[tuple[int, ...]], params: tuple[int, ...],
                      codes: tuple[int, ...]) -> bool:
    """Whether some valid full row takes ``codes`` on ``params`` (no solver involved)."""
    return any(all(row[p] == c for p, c in zip(params, codes, strict=True)) for row in valid_rows)


@SETTINGS
@given(models(max_params=5))
def test_tuple_valid_and_mask_match_brute_force(model: FiniteModel) -> None:
    solver = ModelSolver(model)
    valid_rows = brute_valid_rows(model)
    if not valid_rows:  # callers check satisfiability first
        return
    kernel = TupleValidity(model.domain_sizes, solver)
    sizes = model.domain_sizes
    for t in (1, 2, 3):
        for combo in itertools.combinations(range(len(sizes)), t):
            expected = [brute_tuple_valid(valid_rows, combo, codes)
                        for codes in itertools.product(*(range(sizes[p]) for p in combo))]
            got = [kernel.tuple_valid(combo, codes)
                   for codes in itertools.product(*(range(sizes[p]) for p in combo))]
            assert got == expected, (combo, got, expected)
            mask = kernel.mask(combo)
            assert (np.ones(len(expected), dtype=bool) if mask is None else mask).tolist() \
                == expected


def test_without_a_solver_every_tuple_is_valid_and_no_mask_is_built() -> None:
    kernel = TupleValidity([2, 3, 4])
    assert kernel.tuple_valid((0, 2), (1, 3))
    assert kernel.mask((0, 1, 2)) is None
    assert not any(d.any() for d in kernel.dead)


def test_dead_values_and_component_tables() -> None:
    # p0 == 1 is dead (forbidden alone); p1 and p2 may not both be 0 (one component)
    model = FiniteModel(("p0", "p1", "p2", "p3"), (2, 2, 2, 2), (
        forbid("dead", (0,), {(1,)}),
        forbid("pair", (1, 2), {(0, 0)}),
    ))
    kernel = TupleValidity(model.domain_sizes, ModelSolver(model))
    assert not kernel.tuple_valid((0, 3), (1, 0))  # dead value
    assert not kernel.tuple_valid((1, 2), (0, 0))  # forbidden pair
    assert kernel.tuple_valid((1, 2, 3), (0, 1, 1))
    assert kernel.mask((1, 2)).tolist() == [False, True, True, True]  # type: ignore[union-attr]
    assert kernel.mask((0, 3)).tolist() == [True, True, False, False]  # type: ignore[union-attr]
    assert kernel.mask((3,)) is None
    assert kernel.mask((1, 2)) is not None and (1, 2) in kernel._tables  # cached
