"""Dense integer indexing of every t-tuple of a model's parameters.

A t-tuple assigns codes to ``t`` distinct parameters.  Every one gets an integer index: the
column subsets in lexicographic order, each followed by its value combinations in mixed
radix, so coverage state is one flat numpy array.  Shared by the covering builder, its
compactor and prioritisation (a module of its own so that none of them imports another
only for this class).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from configlab.errors import GenerationError

IntArray = npt.NDArray[np.int64]

#: Upper bound on the number of t-tuples handled (memory guard).
MAX_TUPLES = 30_000_000


def _refuse_too_many_tuples(sizes: Sequence[int], t: int) -> None:
    """GenerationError when the t-tuples of ``sizes`` exceed MAX_TUPLES, in O(k t) time.

    The count is the elementary symmetric polynomial e_t(sizes), so 10,000 parameters are
    refused at once instead of after building 50 million column subsets.
    """
    sums = [1] + [0] * t
    for size in sizes:
        for j in range(t, 0, -1):
            sums[j] += sums[j - 1] * int(size)
    if sums[t] > MAX_TUPLES:
        raise GenerationError(
            f"{sums[t]} {t}-tuples to cover exceed the limit of {MAX_TUPLES}; "
            "lower the strength or reduce the value classes"
        )


class TupleIndex:
    """Dense integer indexing of all t-tuples of a model's parameters."""

    def __init__(
        self, sizes: Sequence[int], strength: int, subsets: IntArray | None = None
    ) -> None:
        k = len(sizes)
        t = strength
        self.k, self.t = k, t
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self._rank: dict[tuple[int, ...], int] | None = None
        if subsets is None:
            _refuse_too_many_tuples(sizes, t)  # before enumerating C(k, t) subsets
            n_sub = _binom(k, t)
            subsets = np.fromiter(
                itertools.chain.from_iterable(itertools.combinations(range(k), t)),
                dtype=np.int64,
                count=n_sub * t,
            ).reshape(n_sub, t)
        else:
            # explicit column subsets (mixed strength, fault suites): rank by lookup
            subsets = np.asarray(subsets, dtype=np.int64).reshape(-1, t)
            self._rank = {tuple(int(p) for p in s): n for n, s in enumerate(subsets)}
        sz = self.sizes[subsets]
        mult = np.ones_like(sz)
        for j in range(t - 2, -1, -1):
            mult[:, j] = mult[:, j + 1] * sz[:, j + 1]
        n_sub = len(subsets)
        counts = np.prod(sz, axis=1) if t else np.ones(n_sub, dtype=np.int64)
        total = int(counts.sum())
        if total > MAX_TUPLES:
            raise GenerationError(
                f"{total} {t}-tuples to cover exceed the limit of {MAX_TUPLES}; "
                "lower the strength or reduce the value classes"
            )
        self.subsets, self.mult, self.sub_sizes = subsets, mult, sz
        self.base = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        self.total = total
        glob = np.concatenate(([0], np.cumsum(self.sizes)[:-1])).astype(np.int64)
        self.glob_offset = glob
        self.num_values = int(self.sizes.sum())
        # per parameter: the subsets containing it, p's multiplier there, the other
        # parameters of those subsets and their multipliers
        flat = subsets.ravel()
        order = np.argsort(flat, kind="stable")
        bounds = np.searchsorted(flat[order], np.arange(k + 1))
        self.by_param: list[IntArray] = []
        self.p_mult: list[IntArray] = []
        self.others: list[IntArray] = []
        self.o_mult: list[IntArray] = []
        for p in range(k):
            pos = order[bounds[p] : bounds[p + 1]]
            sids, col = pos // max(t, 1), pos % max(t, 1)
            self.by_param.append(sids)
            self.p_mult.append(mult[sids, col])
            keep = subsets[sids] != p
            self.others.append(subsets[sids][keep].reshape(len(sids), t - 1))
            self.o_mult.append(mult[sids][keep].reshape(len(sids), t - 1))

    def row_indices(self, row: IntArray) -> IntArray:
        """Indices of the tuples a full row covers (one per column subset)."""
        out: IntArray = self.base + (row[self.subsets] * self.mult).sum(axis=1)
        return out

    def decode(self, idx: IntArray) -> tuple[IntArray, IntArray]:
        """Tuple indices -> (params (n, t), codes (n, t))."""
        sid = np.searchsorted(self.base, idx, side="right") - 1
        rem = idx - self.base[sid]
        vals = (rem[:, None] // self.mult[sid]) % self.sub_sizes[sid]
        return self.subsets[sid], vals

    def encode(self, params: Sequence[int], codes: Sequence[int]) -> int:
        """Index of the tuple with sorted ``params`` taking ``codes``."""
        sub = tuple(int(p) for p in params)
        sid = _subset_rank(sub, self.k) if self._rank is None else self._rank[sub]
        return int(
            self.base[sid]
            + sum(int(c) * int(m) for c, m in zip(codes, self.mult[sid], strict=True))
        )


def _binom(n: int, r: int) -> int:
    from math import comb

    return comb(n, r)


def _subset_rank(sub: tuple[int, ...], k: int) -> int:
    """Lexicographic rank of a sorted subset among the ``len(sub)``-subsets of ``range(k)``."""
    from math import comb

    t = len(sub)
    rank = 0
    prev = -1
    for j, s in enumerate(sub):
        for x in range(prev + 1, s):
            rank += comb(k - x - 1, t - j - 1)
        prev = s
    return rank
