"""Counting kernels of the cause search: every 1- and 2-way cell in one matrix product.

The cause search (:mod:`configlab.analysis._causes`) keeps row and failure counts of every
value class of every parameter and of every pair of them.  Counting pairs one ``bincount``
per pair walks rows x pairs elements several times (gather, combine, count); here the rows are
turned into a one-hot matrix ``X`` (rows x cells of all columns, float32) and ``X.T @ X`` gives
every single count (its diagonal) and every pair count (its off-diagonal blocks) at once, in
BLAS.  Counts are sums of 0/1 in float32, exact while a chunk has fewer than 2**24 rows (the
chunks here are far smaller) and summed into float64: the same integers as the bincounts, so
the search finds the same causes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

_F = npt.NDArray[np.float64]
_I = npt.NDArray[np.int64]

#: most one-hot matrix elements built at once (float32: 4 bytes each)
_ONE_HOT_ELEMENTS = 8_000_000


class Scratch:
    """Work buffers reused by every count of one search.

    On a machine whose freed memory goes back to the system, a fresh buffer per count is paid
    again in page faults (system time), which cost more than the counting itself (measured:
    0.6 s of 1.2 s of CPU for the counts of 100,000 x 50 results)."""

    def __init__(self) -> None:
        self._held: dict[str, npt.NDArray[Any]] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: Any, *, zeroed: bool = False
            ) -> npt.NDArray[Any]:
        """A ``shape`` array of ``dtype`` (uninitialised, or all zero with ``zeroed``: the
        caller then leaves it all zero again) held under ``name``."""
        size = math.prod(shape)
        held = self._held.get(name)
        if held is None or held.size < size or held.dtype != np.dtype(dtype):
            held = np.zeros(size, dtype=dtype) if zeroed else np.empty(size, dtype=dtype)
            self._held[name] = held
        return held[:size].reshape(shape)


def one_hot_gram(index: _I, width: int) -> _F:
    """``X.T @ X`` where row r of ``X`` (width columns) has a 1 at each ``index[r, :]``: the
    co-occurrence counts of ``width`` indicators whose positions per row are given.  Built in
    float32 by row chunks (exact: a chunk has far fewer than 2**24 rows) and summed in
    float64."""
    n_rows = int(index.shape[0])
    out = np.zeros((width, width), dtype=np.float64)
    if n_rows == 0 or width == 0:
        return out
    scratch = Scratch()
    chunk = _chunk(n_rows, width)
    for start in range(0, n_rows, chunk):
        part = index[start : start + chunk]
        _add_block(out, part + _row_starts(part.shape[0], width), width, scratch)
    return out


def _chunk(n_rows: int, width: int) -> int:
    return max(1, min(n_rows, _ONE_HOT_ELEMENTS // width))


def _row_starts(rows: int, width: int) -> _I:
    # flat position of each row of a (rows, width) matrix
    return (np.arange(rows, dtype=np.int64) * width)[:, None]


def _add_block(out: _F, where: _I, width: int, scratch: Scratch) -> None:
    """``out += X.T @ X`` for the one-hot matrix ``X`` (rows x width) with ones at the flat
    positions ``where`` (rows x k), built in a zeroed buffer whose ones are cleared again by
    position (no fresh matrix per block)."""
    rows = int(where.shape[0])
    x = scratch.get("one_hot", (rows, width), np.float32, zeroed=True)
    flat = x.reshape(-1)
    flat[where] = 1.0
    try:
        out += x.T @ x
    finally:
        flat[where] = 0.0


def cell_gram(matrix: npt.NDArray[np.int32], rows: _I, starts: _I, width: int,
              scratch: Scratch | None = None) -> _F:
    """``X.T @ X`` of the one-hot codes of ``matrix[:, rows]`` (columns x rows of codes; column
    ``j``'s codes sit from ``starts[j]``), gathered and multiplied by row chunks in
    ``scratch`` buffers."""
    n_rows = int(rows.size)
    out = np.zeros((width, width), dtype=np.float64)
    n_cols = int(matrix.shape[0])
    if n_rows == 0 or width == 0:
        return out
    scratch = Scratch() if scratch is None else scratch
    chunk = _chunk(n_rows, width)
    for start in range(0, n_rows, chunk):
        part = rows[start : start + chunk]
        taken = scratch.get("taken", (n_cols, part.size), np.int32)
        np.take(matrix, part, axis=1, out=taken)
        where = scratch.get("index", (part.size, n_cols), np.int64)
        np.add(taken.T, starts[None, :n_cols], out=where)
        where += _row_starts(part.size, width)
        _add_block(out, where, width, scratch)
    return out


class PairGram:
    """Where each 1- and 2-way cell of a list of combos sits in the Gram matrix of one-hot codes.

    ``ks`` are the enumeration sizes of the columns; ``combos`` the column tuples (size 1 or 2)
    whose cells are laid out one after the other from ``offsets[i]``: a pair (a, b) has its
    cell (code_a, code_b) at ``code_a + k_a * code_b`` (the first member varies fastest).
    """

    def __init__(self, ks: Sequence[int], combos: Sequence[tuple[int, ...]],
                 offsets: Sequence[int]) -> None:
        self.ks = np.asarray(ks, dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.ks)]).astype(np.int64)
        self.width = int(self.starts[-1])
        self.source = self.dest = np.zeros(0, dtype=np.int64)
        if not combos:
            return
        # one vectorised pass over every cell of every combo (a loop per combo cost ~0.4 s
        # for the 19,900 pairs of 200 parameters)
        first = np.array([c[0] for c in combos], dtype=np.int64)
        second = np.array([c[-1] for c in combos], dtype=np.int64)
        single = np.array([len(c) == 1 for c in combos], dtype=np.bool_)
        ka = self.ks[first]
        sizes = np.where(single, ka, ka * self.ks[second])
        combo = np.repeat(np.arange(len(combos), dtype=np.int64), sizes)
        starts = np.asarray(offsets, dtype=np.int64)
        local = np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(
            np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64), sizes)
        # flat cell code_a + ka * code_b <- G[start_a + code_a, start_b + code_b]; a single
        # cell code_a <- G[start_a + code_a, start_a + code_a] (the diagonal)
        code_b, code_a = np.divmod(local, ka[combo])
        code_b = np.where(single[combo], code_a, code_b)
        row = self.starts[first[combo]] + code_a
        col = self.starts[second[combo]] + code_b
        self.source = (row * self.width + col).astype(np.int64)
        self.dest = (starts[combo] + local).astype(np.int64)

    def gram(self, cells: npt.NDArray[np.int32]) -> _F:
        """``X.T @ X`` of the one-hot codes of ``cells`` (columns x rows, as the search keeps
        them), summed over row chunks in float64."""
        n_cols = cells.shape[0]
        return one_hot_gram(cells.T.astype(np.int64) + self.starts[None, :n_cols], self.width)

    def add(self, cells: npt.NDArray[np.int32], target: _F, sign: float) -> None:
        """Add (``sign=1``) or subtract (``sign=-1``) the 1- and 2-way counts of ``cells``."""
        if self.dest.size == 0:
            return
        g = self.gram(cells).ravel()
        target[self.dest] += sign * g[self.source]

    def add_rows(self, matrix: npt.NDArray[np.int32], rows: _I,
                 failing: npt.NDArray[np.bool_], rows_target: _F, fails_target: _F,
                 sign: float, scratch: Scratch) -> None:
        """:meth:`add` of the codes ``matrix[:, rows]`` to ``rows_target`` and of the
        ``failing`` ones among them to ``fails_target``, from one product over the failing
        rows and one over the others (each row is multiplied once, not once for the rows and
        again for the failures)."""
        if self.dest.size == 0:
            return
        fails = cell_gram(matrix, rows[failing], self.starts, self.width, scratch).ravel()
        passes = cell_gram(matrix, rows[~failing], self.starts, self.width, scratch).ravel()
        rows_target[self.dest] += sign * (passes[self.source] + fails[self.source])
        fails_target[self.dest] += sign * fails[self.source]


def pair_scores(gram: _F, fail_gram: _F, ks: Sequence[int], pairs: Sequence[tuple[int, int]],
                total: float, fails: float, score: Callable[[_F, _F, float, float], _F]) -> _F:
    """Best cell score of each pair, from the Gram matrices of all rows and of the failing rows
    (``score(n, f, total, fails)`` is the search's cell score, vectorised)."""
    starts = np.concatenate([[0], np.cumsum(np.asarray(ks, dtype=np.int64))])[:-1]
    if not pairs:
        return np.zeros(0, dtype=np.float64)
    cell = score(gram.ravel(), fail_gram.ravel(), total, fails).reshape(gram.shape)
    best = np.maximum.reduceat(np.maximum.reduceat(cell, starts, axis=0), starts, axis=1)
    a, b = np.array(pairs, dtype=np.int64).T
    return np.asarray(best[a, b], dtype=np.float64)


__all__ = ["PairGram", "Scratch", "cell_gram", "one_hot_gram", "pair_scores"]
