"""The compiled optimiser kernel at t >= 3 (``configlab.generation._kernel``).

Every kernel function also runs as plain Python (numba's ``py_func``): the interpreted run
measures the kernel's line coverage and must give the very suite the compiled run gives
(same arithmetic, same random draws).  Suites are checked by the brute-force checker of
``test_covering_v2`` (enumerates every full assignment), not by the engine's bookkeeping.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import numpy as np
import pytest

import configlab.generation._compactor as compactor
from configlab._internal.finite import FiniteConstraint, FiniteModel, ModelSolver
from configlab.generation import _kernel
from configlab.generation._covering import build_covering, tuples_to_cover
from configlab.generation._tuple_index import TupleIndex
from tests.generation.test_covering_v2 import _missing, _model, _subsets


@pytest.fixture
def interpreted(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run every compiled kernel function as the Python function it was compiled from."""
    for name, obj in list(vars(_kernel).items()):
        py_func = getattr(obj, "py_func", None)
        if py_func is not None:
            monkeypatch.setattr(_kernel, name, py_func)
    yield


def test_interpreted_kernel_gives_the_compiled_suite(
    interpreted: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _model()
    rows = build_covering(model, 3, 5, max_steps=400).rows
    assert _missing(model, rows, _subsets(7, 3)) == set()
    monkeypatch.undo()
    assert build_covering(model, 3, 5, max_steps=400).rows == rows
    # a longer search is never worse, and stops at the step budget deterministically
    longer = build_covering(model, 3, 5, max_steps=3000).rows
    assert len(longer) <= len(rows)
    assert build_covering(model, 3, 5, max_steps=3000).rows == longer
    assert _missing(model, longer, _subsets(7, 3)) == set()


def test_interpreted_kernel_ends_at_the_step_budget(interpreted: None) -> None:
    # with a time budget the patience is the whole step budget: the budget ends the search
    model = _model()
    rows = build_covering(model, 3, 7, max_steps=300, time_budget=600).rows
    assert _missing(model, rows, _subsets(7, 3)) == set()


def test_kernel_stops_at_the_lower_bound_and_at_patience(interpreted: None) -> None:
    # 2^4 at t=3: 8 rows are the lower bound (one subset has 8 triples), reached quickly
    free = FiniteModel(names=("a", "b", "c", "d"), domain_sizes=(2, 2, 2, 2))
    rows = build_covering(free, 3, 1, max_steps=5000).rows
    assert len(rows) == 8
    assert _missing(free, rows, _subsets(4, 3)) == set()
    # without a time budget the patience (steps without a complete suite) ends the search
    model = _model()
    quick = build_covering(model, 3, 2, max_steps=100_000, effort=0.001).rows
    assert _missing(model, quick, _subsets(7, 3)) == set()


def _coupled() -> FiniteModel:
    """a == b: writing a = 1 alone into a row with a = b = 0 always breaks the constraint."""
    return FiniteModel(
        names=("a", "b", "c", "d"),
        domain_sizes=(2, 2, 2, 2),
        constraints=(FiniteConstraint("a == b", (0, 1), lambda v: v[0] == v[1]),),
    )


@pytest.mark.parametrize("mode", ["interpreted", "compiled"])
def test_kernel_asks_sat_to_repair_rows_it_cannot_change(
    mode: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if mode == "interpreted":
        request.getfixturevalue("interpreted")
    model = _coupled()
    solver = ModelSolver(model)
    index = TupleIndex(model.domain_sizes, 3)
    required = np.ones(index.total, dtype=bool)
    for n, (ps, vs) in enumerate(zip(*index.decode(np.arange(index.total)), strict=True)):
        row = dict(zip(ps.tolist(), vs.tolist(), strict=True))
        required[n] = row.get(0, row.get(1)) == row.get(1, row.get(0))
    # an incomplete start: a = b = 0 everywhere, so every tuple with a = 1 (and not b)
    # can only be placed by changing b too, which the kernel's moves never do
    rows = [np.array([0, 0, c, d], dtype=np.int64) for c in (0, 1) for d in (0, 1)] * 2
    repairs = []
    original = compactor.Compactor._repair

    def counting(self: compactor.Compactor, *args: np.ndarray) -> np.ndarray | None:
        repairs.append(args)
        return original(self, *args)

    monkeypatch.setattr(compactor.Compactor, "_repair", counting)
    comp = compactor.Compactor(solver, index, required, rows, [], random.Random(3))
    best = comp.run(2000, 2000, None)
    assert repairs
    assert _missing(model, [tuple(int(v) for v in r) for r in best], _subsets(4, 3)) == set()
    assert len(best) == 8  # the lower bound: 2 x 2 x 2 triples of (a, c, d)
    _assert_counts_match(comp)


def _assert_counts_match(comp: compactor.Compactor, seeds: int = 0) -> None:
    """The kernel's incremental coverage counts and cached scores equal a recount of its
    final rows (the cover also holds ``seeds`` seed rows)."""
    expect = np.zeros(comp.index.total, dtype=np.int32)
    for row in comp.mat:
        expect[comp.index.row_indices(row)] += 1
    assert (comp.cover - expect >= 0).all()
    assert int((comp.cover - expect).sum()) == seeds * len(comp.index.subsets)
    # cached scores: the required tuples only row r holds (no seed row either) in the
    # subsets of p, counted and weighted
    assert comp.scores is not None
    brk_c, brk_w, weights = comp.scores
    assert brk_c.shape == comp.mat.shape
    want_c = np.zeros(comp.mat.shape, dtype=np.int64)
    want_w = np.zeros(comp.mat.shape, dtype=np.int64)
    for r, row in enumerate(comp.mat):
        held = comp.index.row_indices(row)
        for s in np.flatnonzero((comp.cover[held] == 1) & comp.required[held]):
            want_c[r, comp.index.subsets[s]] += 1
            want_w[r, comp.index.subsets[s]] += weights[held[s]]
    assert (brk_c == want_c).all()
    assert (brk_w == want_w).all()
    assert weights.max() > 1  # the search met local optima: the weights are exercised


@pytest.mark.parametrize(
    ("mode", "seeds", "byte_counts"),
    [("interpreted", 0, 255), ("interpreted", 2, 255), ("compiled", 0, 255),
     ("compiled", 2, 255), ("compiled", 2, 0)],
)
def test_kernel_counts_stay_exact_mid_search(
    mode: str, seeds: int, byte_counts: int, request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # stopped by the step budget while tuples are still missing: every count and cached
    # score must still match the rows (an off-by-one in the index arithmetic or a missed
    # 1 <-> 2 transition shows up here at once); seed rows hold tuples too but never move;
    # counts are one byte each on small suites, int32 otherwise (byte_counts=0)
    if mode == "interpreted":
        request.getfixturevalue("interpreted")
    monkeypatch.setattr(compactor, "BYTE_COUNTS", byte_counts)
    model = _model()
    solver = ModelSolver(model)
    index = TupleIndex(model.domain_sizes, 3)
    rows = build_covering(model, 3, 4, solver=solver, max_steps=0).rows
    required = np.zeros(index.total, dtype=bool)
    for tup in tuples_to_cover(model, 3):
        required[index.encode([p for p, _ in tup], [c for _, c in tup])] = True
    mine = [np.asarray(r, dtype=np.int64) for r in rows]
    comp = compactor.Compactor(
        solver, index, required, mine[seeds:], mine[:seeds], random.Random(9)
    )
    comp.run(150, 150, None)
    assert comp.index.t == 3 and len(comp.mat) < len(rows) - seeds
    _assert_counts_match(comp, seeds)


@pytest.mark.parametrize("strength", [2, 3])
def test_search_reads_the_deadline(strength: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # t=3: between chunks of compiled steps; t=2: at every numpy step
    model = _model()

    class Clock:
        """Each reading is an hour after the previous one."""

        now = time.monotonic()

        def monotonic(self) -> float:
            self.now += 3600.0
            return self.now

    monkeypatch.setattr(compactor, "time", Clock())
    rows = build_covering(model, strength, 5, max_steps=10**9, time_budget=60).rows
    # the search stopped at once, with the complete greedy-or-better suite
    assert _missing(model, rows, _subsets(7, strength)) == set()
