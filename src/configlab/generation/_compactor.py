"""Post-optimisation of a complete covering suite: row elimination + tabu local search.

Split from :mod:`configlab.generation._covering` (which builds the greedy suite and calls
:class:`Compactor`); the algorithm is described there and in ``docs/covering.md``.
"""

from __future__ import annotations

import random
import time

import numpy as np
import numpy.typing as npt

from configlab._internal.finite import ModelSolver
from configlab.generation._tuple_index import TupleIndex

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Largest rows x column-subsets matrix of held tuple indices the optimiser keeps (int32).
CUR_LIMIT = 32_000_000
#: Array elements one optimisation step may touch; bigger models evaluate sampled rows.
WORK_LIMIT = 2_000_000


class Compactor:
    """Row elimination + tabu local search on a complete suite."""

    def __init__(
        self,
        solver: ModelSolver,
        index: TupleIndex,
        required: BoolArray,
        rows: list[IntArray],
        seed_rows: list[IntArray],
        rng: random.Random,
    ) -> None:
        self.solver, self.index, self.rng = solver, index, rng
        self.np_rng = np.random.Generator(np.random.PCG64(rng.getrandbits(64)))
        self.required = required
        self.cover = np.zeros(index.total, dtype=np.int32)
        for r in seed_rows:
            self.cover[index.row_indices(r)] += 1
        # lower bound: each row covers one tuple per column subset
        left = required & (self.cover == 0)
        self.lower_bound = int(np.add.reduceat(left, index.base).max()) if index.total else 0
        self.mat = np.stack(rows) if rows else np.zeros((0, index.k), dtype=np.int64)
        empty = np.zeros(0, dtype=np.int64)
        self._moved: tuple[IntArray, IntArray] = (empty, empty)
        #: per row, the index of the tuple it holds in every column subset (when it fits in
        #: CUR_LIMIT elements): a step then reads old indices instead of recomputing them
        self.cur: npt.NDArray[np.int32] | None = None
        if len(self.mat) * len(index.subsets) <= CUR_LIMIT:
            self.cur = np.empty((len(self.mat), len(index.subsets)), dtype=np.int32)
        for n, r in enumerate(self.mat):
            held = index.row_indices(r)
            self.cover[held] += 1
            if self.cur is not None:
                self.cur[n] = held

    def uncovered(self) -> IntArray:
        return np.flatnonzero(self.required & (self.cover == 0))

    def remove_weakest(self) -> None:
        """Drop the row with the fewest uniquely covered tuples (among a sample on big models)."""
        idx = self.index
        n = len(self.mat)
        sample = max(2, WORK_LIMIT // max(1, len(idx.subsets)))
        rows = np.arange(n)
        if n > sample:
            rows = np.sort(self.np_rng.choice(n, sample, replace=False))
        unique = [
            int(np.count_nonzero(self.cover[idx.row_indices(self.mat[r])] == 1)) for r in rows
        ]
        r = int(rows[int(np.argmin(unique))])
        self.cover[idx.row_indices(self.mat[r])] -= 1
        self.mat = np.delete(self.mat, r, axis=0)
        if self.cur is not None:
            self.cur = np.delete(self.cur, r, axis=0)

    def _repair(self, r: int, tparams: IntArray, tvals: IntArray) -> IntArray | None:
        """A valid row containing tau, as close to row ``r`` as the SAT phases make it."""
        solver = self.solver
        row = self.mat[r]
        solver.prefer([int(v) for v in row])
        done = solver.complete_preferred(
            {int(p): int(v) for p, v in zip(tparams, tvals, strict=True)}
        )
        return None if done is None else np.asarray(done, dtype=np.int64)

    def _change(
        self, r: int, new: IntArray, changed: IntArray, weights: IntArray, *, apply: bool
    ) -> tuple[int, int]:
        """Coverage delta (count, weighted) of replacing row ``r`` by ``new``; applied if asked."""
        idx = self.index
        touched = np.unique(np.concatenate([idx.by_param[int(p)] for p in changed]))
        cols, base, mult = idx.subsets[touched], idx.base[touched], idx.mult[touched]
        old_idx = base + (self.mat[r][cols] * mult).sum(axis=1)
        new_idx = base + (new[cols] * mult).sum(axis=1)
        if apply and self.cur is not None:
            self.cur[r, touched] = new_idx
        d = old_idx != new_idx
        old_idx, new_idx = old_idx[d], new_idx[d]
        if apply:
            self.cover[old_idx] -= 1
            self.cover[new_idx] += 1
            self.mat[r] = new
            self._moved = (old_idx, new_idx)
            return 0, 0
        lost = self.cover[old_idx] == 1
        won = (self.cover[new_idx] == 0) & self.required[new_idx]
        return (
            int(np.count_nonzero(won)) - int(np.count_nonzero(lost)),
            int(weights[new_idx][won].sum()) - int(weights[old_idx][lost].sum()),
        )

    def _step_indices(
        self, mat: IntArray, sel: IntArray, touched: IntArray, cols: IntArray,
        tparams: IntArray, tvals: IntArray,
    ) -> tuple[IntArray, IntArray]:
        """Tuple indices (rows ``sel`` x subsets ``touched``) before and after writing tau."""
        idx = self.index
        mult = idx.mult[touched]
        if self.cur is not None:
            # new = old + sum over tau's params of (code change) x (its multiplier there)
            old_idx: IntArray = self.cur[np.ix_(sel, touched)].astype(np.int64)
            new_idx = old_idx.copy()
            for p, v in zip(tparams, tvals, strict=True):
                pm = np.where(cols == p, mult, 0).sum(axis=1)
                new_idx += (v - mat[:, int(p)])[:, None] * pm[None, :]
            return old_idx, new_idx
        base = idx.base[touched]
        old_vals = mat[:, cols]  # (n, m, t)
        new_vals = old_vals.copy()
        for p, v in zip(tparams, tvals, strict=True):
            new_vals[:, cols == p] = v
        return base + (old_vals * mult).sum(axis=2), base + (new_vals * mult).sum(axis=2)

    def _single_change(
        self, mat: IntArray, sel: IntArray, tparams: IntArray, tvals: IntArray
    ) -> tuple[IntArray, IntArray, IntArray] | None:
        """Step indices when every candidate row differs from tau in exactly one parameter
        (the usual case at t >= 3, see :meth:`_candidate_rows`): per row only the subsets of
        that parameter can change, a third of the union of tau's subsets at t=3.  Returns
        (old, new, subset ids) per row, or None when the shortcut does not apply (rows
        differing in several parameters; subsets of unequal count per parameter, as with
        mixed strength)."""
        idx = self.index
        differ = mat[:, tparams] != tvals
        if idx.t < 3 or not (differ.sum(axis=1) == 1).all():
            return None
        widths = {len(idx.by_param[int(p)]) for p in tparams}
        if len(widths) != 1:
            return None
        which = np.argmax(differ, axis=1)
        old_idx = np.empty((len(sel), widths.pop()), dtype=np.int64)
        new_idx = np.empty_like(old_idx)
        held = np.empty_like(old_idx)
        for j in np.unique(which).tolist():
            rows = np.flatnonzero(which == j)
            p, v = int(tparams[j]), int(tvals[j])
            sids = idx.by_param[p]
            held[rows] = sids
            if self.cur is not None:
                old = self.cur[np.ix_(sel[rows], sids)].astype(np.int64)
            else:
                cols = idx.subsets[sids]
                old = idx.base[sids] + (mat[rows][:, cols] * idx.mult[sids]).sum(axis=2)
            old_idx[rows] = old
            new_idx[rows] = old + (v - mat[rows, p])[:, None] * idx.p_mult[p][None, :]
        return old_idx, new_idx, held

    def _refresh(self, unc: IntArray, old_idx: IntArray, new_idx: IntArray) -> IntArray:
        """The sorted uncovered required tuples after a move that uncovered some of
        ``old_idx`` and covered some of ``new_idx`` (only those can have changed)."""
        gone = old_idx[(self.cover[old_idx] == 0) & self.required[old_idx]]
        came = new_idx[self.cover[new_idx] == 1]
        return np.union1d(np.setdiff1d(unc, came, assume_unique=True), gone)

    def _candidate_rows(self, tparams: IntArray, tvals: IntArray, touched: int) -> IntArray:
        """Rows whose move to hold tau is evaluated.

        At t >= 3 only the rows already agreeing most with tau (fewest cells to change):
        on spinv that reaches a given size in about a third of the CPU time of evaluating
        every row, because a step costs rows x touched subsets and the far rows rarely win.
        At t <= 2 every row (the tuned pairwise search).  At most ``limit`` rows either way
        (big models): the most agreeing ones, ties broken at random."""
        n = len(self.mat)
        limit = max(4, WORK_LIMIT // max(1, touched * self.index.t))
        agree = (self.mat[:, tparams] == tvals).sum(axis=1)
        if self.index.t >= 3:
            near = np.flatnonzero(agree == agree.max())
            if len(near) <= limit:
                return near
        elif n <= limit:
            return np.arange(n)
        order = np.lexsort((self.np_rng.random(n), -agree))
        return np.sort(order[:limit])

    def run(self, max_steps: int, patience: int, deadline: float | None) -> list[IntArray]:
        idx, solver, rng = self.index, self.solver, self.rng
        best = self.mat.copy()
        tenure = 2 + idx.t
        tabu = np.full(self.mat.shape, -1, dtype=np.int64)
        weights = np.ones(idx.total, dtype=np.int64)
        since = 0
        low = 0
        unc = self.uncovered()
        for step in range(max_steps):
            if deadline is not None and time.monotonic() > deadline:
                break
            if len(unc) == 0:
                best = self.mat.copy()
                since = 0
                if len(self.mat) <= self.lower_bound:
                    break
                self.remove_weakest()
                tabu = np.full(self.mat.shape, -1, dtype=np.int64)
                unc = self.uncovered()
                low = len(unc)
                if len(unc) == 0:
                    continue
            since += 1
            if since > patience:
                break
            tau = int(unc[rng.randrange(len(unc))])
            tp, tv = idx.decode(np.array([tau], dtype=np.int64))
            tparams, tvals = tp[0], tv[0]
            touched = np.unique(np.concatenate([idx.by_param[int(p)] for p in tparams]))
            cols = idx.subsets[touched]  # (m, t)
            sel = self._candidate_rows(tparams, tvals, len(touched))
            mat = self.mat[sel]
            single = self._single_change(mat, sel, tparams, tvals)
            if single is None:
                old_idx, new_idx = self._step_indices(mat, sel, touched, cols, tparams, tvals)
                held_sids: IntArray = np.broadcast_to(touched, old_idx.shape)
            else:
                old_idx, new_idx, held_sids = single
            diff = old_idx != new_idx
            lost = (self.cover[old_idx] == 1) & diff
            won = (self.cover[new_idx] == 0) & self.required[new_idx] & diff
            score = np.count_nonzero(won, axis=1) - np.count_nonzero(lost, axis=1)
            wscore = (weights[new_idx] * won).sum(axis=1) - (weights[old_idx] * lost).sum(axis=1)
            cand = mat.copy()
            cand[:, tparams] = tvals
            valid = ~solver.rows_violating(cand, tparams.tolist())
            aspirated = len(unc) - score < low
            not_tabu = (tabu[sel][:, tparams] <= step).all(axis=1)
            allowed = valid & (not_tabu | aspirated)
            tie = self.np_rng.random(len(score))
            r = int(np.lexsort((tie, -wscore, ~allowed))[0])
            blocked = ~valid & not_tabu
            if blocked.any() and (not allowed[r] or wscore[r] <= 0):
                # the best moves break a constraint: let SAT repair the row around tau
                b = int(np.lexsort((tie, -wscore, ~blocked))[0])
                if not allowed[r] or wscore[b] > wscore[r]:
                    rb = int(sel[b])
                    repaired = self._repair(rb, tparams, tvals)
                    if repaired is not None:
                        changed = np.flatnonzero(repaired != self.mat[rb])
                        delta, wdelta = self._change(rb, repaired, changed, weights, apply=False)
                        if not allowed[r] or wdelta > wscore[r]:
                            self._change(rb, repaired, changed, weights, apply=True)
                            tabu[rb, changed] = step + tenure
                            unc = self._refresh(unc, *self._moved)
                            if delta <= 0:
                                weights[unc] += 1
                            low = min(low, len(unc))
                            continue
            if allowed[r]:
                d = diff[r]
                self.cover[old_idx[r][d]] -= 1
                self.cover[new_idx[r][d]] += 1
                self.mat[int(sel[r]), tparams] = tvals
                if self.cur is not None:
                    self.cur[int(sel[r]), held_sids[r]] = new_idx[r]
                tabu[int(sel[r]), tparams] = step + tenure
                unc = self._refresh(unc, old_idx[r][d], new_idx[r][d])
                if score[r] <= 0:  # local optimum: make the tuples still missing heavier
                    weights[unc] += 1
                low = min(low, len(unc))
        return list(best)
