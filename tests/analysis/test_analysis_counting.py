"""The one-hot Gram kernel counts exactly what one bincount per cell combination counts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from configlab.analysis import _causes
from configlab.analysis._counting import PairGram, pair_scores


def _reference(cells: np.ndarray, ks: list[int], combos: list[tuple[int, ...]]) -> np.ndarray:
    out = []
    for combo in combos:
        code = np.zeros(cells.shape[1], dtype=np.int64)
        stride = 1
        for pos in combo:
            code += cells[pos] * stride
            stride *= ks[pos]
        out.append(np.bincount(code, minlength=math.prod(ks[p] for p in combo)))
    return np.concatenate(out).astype(np.float64)


def test_gram_counts_equal_bincounts_and_subtract_exactly() -> None:
    rng = np.random.default_rng(7)
    ks = [2, 5, 3, 7, 4]
    n = 3000
    cells = np.stack([rng.integers(0, k, n) for k in ks]).astype(np.int32)
    combos = [(i,) for i in range(len(ks))] + [
        (i, j) for i in range(len(ks)) for j in range(i + 1, len(ks))
    ]
    sizes = [math.prod(ks[p] for p in c) for c in combos]
    offsets = np.concatenate([[0], np.cumsum(sizes)])[:-1].tolist()
    gram = PairGram(ks, combos, offsets)
    target = np.zeros(sum(sizes))
    gram.add(cells, target, 1.0)
    assert np.array_equal(target, _reference(cells, ks, combos))
    # removing rows leaves exactly the counts of the others (the explain-away update)
    gram.add(cells[:, :1000], target, -1.0)
    assert np.array_equal(target, _reference(cells[:, 1000:], ks, combos))


def test_gram_chunks_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    import configlab.analysis._counting as counting

    rng = np.random.default_rng(3)
    ks = [3, 4]
    cells = np.stack([rng.integers(0, k, 500) for k in ks]).astype(np.int32)
    whole = PairGram(ks, [(0, 1)], [0]).gram(cells)
    monkeypatch.setattr(counting, "_ONE_HOT_ELEMENTS", 7)  # many chunks of one row or two
    chunked = PairGram(ks, [(0, 1)], [0]).gram(cells)
    assert np.array_equal(whole, chunked)
    assert PairGram(ks, [], []).gram(cells[:, :0]).sum() == 0


def test_cells_counts_match_the_per_combo_bincount() -> None:
    """_Cells (singles and pairs through the Gram kernel, triples by bincount)."""
    rng = np.random.default_rng(11)
    n, m = 2000, 6
    codes = rng.integers(0, 4, (n, m))
    fail = rng.random(n) < 0.2
    cols = _causes._columns(codes, [4] * m, {})
    ks = [c.k for c in cols]
    combos = [(i,) for i in range(m)] + [(0, 1), (2, 5), (0, 1, 2), (1, 3, 4)]
    cells = _causes._Cells(cols, combos)
    cells.add(np.arange(n, dtype=np.int64), fail, 1.0)
    stacked = np.stack([c.cell for c in cols])
    assert np.array_equal(cells.n, _reference(stacked, ks, combos))
    assert np.array_equal(cells.f, _reference(stacked[:, fail], ks, combos))
    rest = np.arange(500, n, dtype=np.int64)
    cells.add(np.arange(500, dtype=np.int64), fail, -1.0)
    assert np.array_equal(cells.n, _reference(stacked[:, rest], ks, combos))


def test_pair_scores_take_the_best_cell_of_each_pair() -> None:
    ks = [2, 3]
    gram = np.zeros((5, 5))
    gram[:2, 2:] = [[4.0, 3.0, 3.0], [0.0, 1.0, 4.0]]
    fail_gram = np.zeros((5, 5))
    fail_gram[:2, 2:] = [[4.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    scores = pair_scores(gram, fail_gram, ks, [(0, 1)], 15.0, 5.0, _causes._g_score)
    expected = _causes._g_score(gram[:2, 2:].ravel(), fail_gram[:2, 2:].ravel(), 15.0, 5.0).max()
    assert scores.tolist() == [expected]
    assert pair_scores(gram, fail_gram, ks, [], 15.0, 5.0, _causes._g_score).size == 0


def test_capped_pairs_are_chosen_by_screening_score_not_column_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for 5 of 66 pairs, a pure interaction (XOR: flat 1-way marginals) of the
    last two columns is still counted and found; column order kept (0, 1) ... (0, 5)."""
    rng = np.random.default_rng(5)
    n, m = 3000, 12
    codes = rng.integers(0, 2, (n, m))
    fail = (codes[:, 10] != codes[:, 11]) & (rng.random(n) < 0.9)
    cols = _causes._columns(codes, [2] * m, {})
    monkeypatch.setattr(_causes, "_PAIR_BUDGET", 5 * n)
    combos, capped = _causes._combos(cols, n, fail)
    pairs = [c for c in combos if len(c) == 2]
    assert capped and len(pairs) == 5 and (10, 11) in pairs
    assert pairs == sorted(pairs)
    assert _causes._combos(cols, n)[0][m:] == [(0, j) for j in range(1, 6)]
    found, *_ = _causes.find_causes(codes, [2] * m, {}, fail, max_order=2)
    assert any({r.param for r in f.regions} == {10, 11} for f in found)
