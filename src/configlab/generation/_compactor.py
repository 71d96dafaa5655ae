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
#: t >= 3 (compiled kernel): rows sampled per agreement tier of a step
MAX_CANDIDATES = 64
#: t >= 3: counts are kept in one byte each while rows + seed rows stay below this
BYTE_COUNTS = 255
#: t >= 3: a constraint-blocked row is repaired by SAT when no plain move gains, one time in
#: this many (always when no plain move exists)
REPAIR_ODDS = 16


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
        self.n_seeds = len(seed_rows)
        for r in seed_rows:
            self.cover[index.row_indices(r)] += 1
        # lower bound: each row covers one tuple per column subset
        left = required & (self.cover == 0)
        self.lower_bound = int(np.add.reduceat(left, index.base).max()) if index.total else 0
        self.mat = np.stack(rows) if rows else np.zeros((0, index.k), dtype=np.int64)
        empty = np.zeros(0, dtype=np.int64)
        self._moved: tuple[IntArray, IntArray] = (empty, empty)
        #: t >= 3, after a search: its cached scores per (row, parameter) (count and weight
        #: of the required tuples only that row holds in the subsets of that parameter) and
        #: the tuple weights (tests check them against a recount)
        self.scores: tuple[npt.NDArray[np.int32], IntArray, npt.NDArray[np.int32]] | None = None
        #: per row, the index of the tuple it holds in every column subset (when it fits in
        #: CUR_LIMIT elements): a step then reads old indices instead of recomputing them
        self.cur: npt.NDArray[np.int32] | None = None
        if index.t <= 2 and len(self.mat) * len(index.subsets) <= CUR_LIMIT:
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

    def _repair(self, row: IntArray, tparams: IntArray, tvals: IntArray) -> IntArray | None:
        """A valid row containing tau, as close to ``row`` as the SAT phases make it."""
        solver = self.solver
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

    def _refresh(self, unc: IntArray, old_idx: IntArray, new_idx: IntArray) -> IntArray:
        """The sorted uncovered required tuples after a move that uncovered some of
        ``old_idx`` and covered some of ``new_idx`` (only those can have changed)."""
        gone = old_idx[(self.cover[old_idx] == 0) & self.required[old_idx]]
        came = new_idx[self.cover[new_idx] == 1]
        return np.union1d(np.setdiff1d(unc, came, assume_unique=True), gone)

    def _candidate_rows(self, tparams: IntArray, tvals: IntArray, touched: int) -> IntArray:
        """Rows whose move to hold tau is evaluated: every row (the tuned pairwise search),
        or at most ``limit`` of them on big models: the most agreeing ones, ties broken at
        random."""
        n = len(self.mat)
        limit = max(4, WORK_LIMIT // max(1, touched * self.index.t))
        if n <= limit:
            return np.arange(n)
        agree = (self.mat[:, tparams] == tvals).sum(axis=1)
        order = np.lexsort((self.np_rng.random(n), -agree))
        return np.sort(order[:limit])

    def run(self, max_steps: int, patience: int, deadline: float | None) -> list[IntArray]:
        """The smallest complete suite found within the step budget, the patience (steps
        without a complete suite) and the wall-clock ``deadline``."""
        if self.index.t >= 3:
            return self._run_compiled(max_steps, patience, deadline)
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
            old_idx, new_idx = self._step_indices(mat, sel, touched, cols, tparams, tvals)
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
                    repaired = self._repair(self.mat[rb], tparams, tvals)
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
                    self.cur[int(sel[r]), touched] = new_idx[r]
                tabu[int(sel[r]), tparams] = step + tenure
                unc = self._refresh(unc, old_idx[r][d], new_idx[r][d])
                if score[r] <= 0:  # local optimum: make the tuples still missing heavier
                    weights[unc] += 1
                low = min(low, len(unc))
        return list(best)

    def _run_compiled(
        self, max_steps: int, patience: int, deadline: float | None
    ) -> list[IntArray]:
        """:meth:`run` at t >= 3: the compiled kernel (:mod:`._kernel`), in chunks of steps
        between which the deadline is read and SAT repairs are made (same result as one
        long run: the kernel's whole state lives in these arrays)."""
        from configlab.generation import _kernel as kern  # numba: imported only at t >= 3

        idx = self.index
        mat = self.mat.copy()
        best = mat.copy()
        tabu = np.full(mat.shape, -1, dtype=np.int64)
        weights = np.ones(idx.total, dtype=np.int32)
        missing = self.uncovered()
        cap = max(1, int(np.count_nonzero(self.required)))
        unc = np.zeros(cap, dtype=np.int32)
        unc[: len(missing)] = missing
        unc_s = np.zeros(cap, dtype=np.int32)  # the column subset of each uncovered tuple
        unc_s[: len(missing)] = np.searchsorted(idx.base, missing, side="right") - 1
        pos = np.full(idx.total, -1, dtype=np.int32)
        pos[missing] = np.arange(len(missing), dtype=np.int32)
        state = np.zeros(kern.STATE_SIZE, dtype=np.int64)
        state[kern.N_ROWS] = state[kern.BEST_N] = len(mat)
        state[kern.N_UNC] = state[kern.LOW] = len(missing)
        state[kern.RNG] = self.rng.getrandbits(32) | 1  # xorshift: never 0
        by_param = _by_param(idx)
        tables = _constraint_tables(self.solver, idx.k)
        arrays = (idx.subsets, idx.mult, idx.base)
        # cached scores: per (row, parameter) the required tuples only that row holds
        brk_c = np.zeros(mat.shape, dtype=np.int32)
        brk_w = np.zeros(mat.shape, dtype=np.int64)
        # one byte per count when no count can pass 255 (the rows only get fewer): a quarter
        # of the memory traffic of the search's random reads (gcc: 10 MB instead of 42 MB)
        small = len(mat) + self.n_seeds < BYTE_COUNTS
        cover = self.cover.astype(np.uint8) if small else self.cover
        kern.init_scores(mat, len(mat), *arrays, self.required, cover, weights, brk_c, brk_w)
        counts = (self.required, cover)
        listed = (unc, unc_s, pos, brk_c, brk_w, state)
        chunk = 8
        while True:
            began = time.monotonic()
            kern.search(
                mat, best, tabu, weights, cover, *listed, self.required,
                idx.sizes, *arrays, *by_param, *tables,
                int(state[kern.STEP]) + chunk, max_steps, patience, self.lower_bound,
                MAX_CANDIDATES, REPAIR_ODDS,
            )
            status = int(state[kern.STATUS])
            if status == kern.REPAIR:
                tp, tv = idx.decode(np.array([state[kern.TAU]], dtype=np.int64))
                r, pick = int(state[kern.ROW]), int(state[kern.PICK])
                move: tuple[int, IntArray, int] | None = None
                repaired = self._repair(mat[r], tp[0], tv[0])
                if repaired is not None:
                    score, wscore = kern.row_delta(
                        r, repaired, mat, *by_param, *counts, weights, *listed, *arrays,
                        idx.sizes,
                    )
                    if pick < 0 or wscore > state[kern.PICK_W]:
                        move = (r, repaired, score)
                if move is None and pick >= 0:  # the best plain move wins
                    plain = mat[pick].copy()
                    plain[tp[0]] = tv[0]
                    move = (pick, plain, int(state[kern.PICK_S]))
                if move is not None:
                    kern.apply_move(
                        *move, mat, tabu, weights, *by_param, *counts, *listed,
                    )
            elif status != kern.RUNNING:
                break
            now = time.monotonic()
            if deadline is not None and now > deadline:
                break
            if now - began < 0.02:  # chunks of ~20 ms: the deadline is read that often
                chunk = min(chunk * 2, 1 << 20)
        self.cover[:] = cover
        n = int(state[kern.N_ROWS])
        self.scores = (brk_c[:n], brk_w[:n], weights)
        self.mat = mat[: int(state[kern.N_ROWS])]  # the search's last state (tests read it)
        return list(best[: int(state[kern.BEST_N])])


def _by_param(idx: TupleIndex) -> tuple[IntArray, npt.NDArray[np.int32], IntArray]:
    """What the kernel reads for a one-cell change of parameter ``p``: pointers (k + 1)
    into one entry per subset of ``p`` (in ``by_param`` order), each entry the subset's
    base, its other members, their multipliers and the subset's id (int32, one contiguous
    row), and ``p``'s multiplier in that subset."""
    ptr = np.concatenate(([0], np.cumsum([len(s) for s in idx.by_param]))).astype(np.int64)
    t = idx.t
    entries = np.empty((int(ptr[-1]), 2 * t), dtype=np.int32)
    for p, sids in enumerate(idx.by_param):  # per parameter: no int64 temporaries of it all
        part = entries[ptr[p] : ptr[p + 1]]
        part[:, 0] = idx.base[sids]
        part[:, 1:t] = idx.others[p]
        part[:, t : 2 * t - 1] = idx.o_mult[p]
        part[:, 2 * t - 1] = sids
    pmult = np.concatenate(idx.p_mult).astype(np.int64)
    return ptr, entries, pmult


def _constraint_tables(
    solver: ModelSolver, k: int
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray, IntArray, BoolArray]:
    """The constraints' forbidden combinations as flat lookup tables for the kernel: per
    parameter the tables reading it (ptr, ids); per table its scope (ptr, params,
    multipliers) and the offset of its flags in one boolean array."""
    sizes = solver.model.domain_sizes
    scopes: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
    for c, bad in zip(solver.model.constraints, solver.forbidden, strict=True):
        if bad:
            scopes.setdefault(tuple(c.scope), []).extend(bad)
    of_param: list[list[int]] = [[] for _ in range(k)]
    c_ptr, c_off = [0], []
    c_scope: list[int] = []
    c_mult: list[int] = []
    flags: list[BoolArray] = []
    offset = 0
    for n, (scope, combos) in enumerate(scopes.items()):
        dims = [sizes[p] for p in scope]
        mult = [int(np.prod(dims[j + 1 :])) for j in range(len(scope))]
        table = np.zeros(int(np.prod(dims)), dtype=bool)
        table[np.array(combos, dtype=np.int64).reshape(-1, len(scope)) @ mult] = True
        for p in scope:
            of_param[p].append(n)
        c_scope.extend(scope)
        c_mult.extend(mult)
        c_ptr.append(len(c_scope))
        c_off.append(offset)
        flags.append(table)
        offset += len(table)
    pc_ptr, pc_idx = _flat(of_param)
    return (
        pc_ptr, pc_idx, np.asarray(c_ptr, dtype=np.int64),
        np.asarray(c_scope, dtype=np.int64), np.asarray(c_mult, dtype=np.int64),
        np.asarray(c_off, dtype=np.int64),
        np.concatenate(flags) if flags else np.zeros(1, dtype=bool),
    )


def _flat(lists: list[list[int]]) -> tuple[IntArray, IntArray]:
    """Lists of ints as (pointers, concatenation)."""
    ptr = np.concatenate(([0], np.cumsum([len(x) for x in lists]))).astype(np.int64)
    flat = np.asarray([v for x in lists for v in x], dtype=np.int64)
    return ptr, flat
