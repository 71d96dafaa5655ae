"""Compiled (numba) kernel of the covering optimiser at t >= 3.

At strength 3 a one-cell change of a row touches C(k-1, 2) column subsets (19,503 on gcc's
199 parameters), and the numpy search of :mod:`configlab.generation._compactor` pays
~20-50 ms of array work per step there, so 60 s bought ~1,500 steps.  The same search
written as scalar loops and compiled with numba costs a few microseconds per touched
subset and needs no temporary arrays: two orders of magnitude more steps in the same time.

The search is the compactor's (row elimination + weighted tabu search, in the spirit of
CASA, TCA and CAmpactor): while every required tuple is covered, record the suite and
drop the row holding the fewest uniquely covered tuples; otherwise pick an uncovered tuple
tau at random and write it into the candidate row where that loses the least (weighted)
coverage, keeping every row valid with the constraints' forbidden-combination tables.
Candidates are the rows that already agree most with tau (fewest cells to change), a
random sample of at most ``max_cand`` of them, then the next agreement tier if none of
them may take tau.  When no row can take tau without breaking a constraint, the kernel
stops and asks the caller for a SAT repair of a row around tau (status ``REPAIR``).

Everything the search needs is in flat arrays (coverage counts, weights, the uncovered
list with positions, a 32-bit xorshift state), so running it in chunks of steps gives the
same result as one long run: the caller checks its wall-clock deadline between chunks and
the result depends only on the seed and the step budget.  Every function also runs as
plain Python (``py_func``), which is how the tests measure its line coverage and check
that the compiled and interpreted runs agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

#: any numeric array: coverage state is int32 (memory), indices int64
Arr = npt.NDArray[Any]

#: ``state`` slots (one int64 array holds the scalar state between chunks)
STEP, N_ROWS, N_UNC, LOW, SINCE, STATUS, RNG, TAU, ROW, BEST_N, PICK, PICK_W, PICK_S = range(13)
STATE_SIZE = 13
#: statuses
RUNNING, BUDGET, LOWER_BOUND, PATIENCE, REPAIR = range(5)
_MASK = 0xFFFFFFFF


@njit(cache=True)
def _rand(state: Arr, n: int) -> int:
    """Next xorshift32 draw in ``0..n-1`` (int64 arithmetic: same in numba and Python)."""
    x = state[RNG]
    x ^= (x << 13) & _MASK
    x ^= x >> 17
    x ^= (x << 5) & _MASK
    state[RNG] = x
    return int(x % n)


@njit(cache=True)
def _tindex(row: Arr, s: int, subsets: Arr, mult: Arr, base: Arr) -> int:
    """Index of the tuple ``row`` holds in column subset ``s``."""
    x = base[s]
    for j in range(subsets.shape[1]):
        x += row[subsets[s, j]] * mult[s, j]
    return int(x)


@njit(cache=True)
def _unc_add(x: int, unc: Arr, pos: Arr, state: Arr) -> None:
    n = state[N_UNC]
    unc[n] = x
    pos[x] = n
    state[N_UNC] = n + 1


@njit(cache=True)
def _unc_remove(x: int, unc: Arr, pos: Arr, state: Arr) -> None:
    n = state[N_UNC] - 1
    i = pos[x]
    last = unc[n]
    unc[i] = last
    pos[last] = i
    pos[x] = -1
    state[N_UNC] = n


@njit(cache=True)
def _cell_delta(
    row: Arr, p: int, v: int, subsets: Arr, mult: Arr, base: Arr,
    bp_ptr: Arr, bp_sid: Arr, bp_pmult: Arr,
    required: Arr, cover: Arr, weights: Arr,
) -> tuple[int, int]:
    """(count, weighted) coverage change of setting ``row[p] = v``."""
    d = v - row[p]
    cnt = 0
    w = 0
    for i in range(bp_ptr[p], bp_ptr[p + 1]):
        old = _tindex(row, bp_sid[i], subsets, mult, base)
        new = old + d * bp_pmult[i]
        if required[old] and cover[old] == 1:
            cnt -= 1
            w -= weights[old]
        if required[new] and cover[new] == 0:
            cnt += 1
            w += weights[new]
    return cnt, w


@njit(cache=True)
def _cell_apply(
    row: Arr, p: int, v: int, subsets: Arr, mult: Arr, base: Arr,
    bp_ptr: Arr, bp_sid: Arr, bp_pmult: Arr,
    required: Arr, cover: Arr, unc: Arr, pos: Arr,
    state: Arr,
) -> None:
    """Set ``row[p] = v`` and update coverage counts and the uncovered list."""
    d = v - row[p]
    for i in range(bp_ptr[p], bp_ptr[p + 1]):
        old = _tindex(row, bp_sid[i], subsets, mult, base)
        new = old + d * bp_pmult[i]
        cover[old] -= 1
        if cover[old] == 0 and required[old]:
            _unc_add(old, unc, pos, state)
        cover[new] += 1
        if cover[new] == 1 and required[new]:
            _unc_remove(new, unc, pos, state)
    row[p] = v


@njit(cache=True)
def _row_valid(
    row: Arr, params: Arr, n_params: int, pc_ptr: Arr, pc_idx: Arr,
    c_ptr: Arr, c_scope: Arr, c_mult: Arr, c_off: Arr,
    c_bad: Arr,
) -> bool:
    """Whether ``row`` breaks no constraint table reading one of ``params[:n_params]``."""
    for a in range(n_params):
        p = params[a]
        for i in range(pc_ptr[p], pc_ptr[p + 1]):
            c = pc_idx[i]
            x = c_off[c]
            for j in range(c_ptr[c], c_ptr[c + 1]):
                x += row[c_scope[j]] * c_mult[j]
            if c_bad[x]:
                return False
    return True


@njit(cache=True)
def row_delta(
    r: int, new: Arr, mat: Arr, subsets: Arr, mult: Arr, base: Arr,
    bp_ptr: Arr, bp_sid: Arr, bp_pmult: Arr,
    required: Arr, cover: Arr, weights: Arr, unc: Arr,
    pos: Arr, state: Arr,
) -> tuple[int, int]:
    """(count, weighted) coverage change of replacing row ``r`` by ``new``: applied cell by
    cell (exact when cells share column subsets), then undone."""
    row = mat[r]
    old = row.copy()
    score = 0
    wscore = 0
    for p in range(mat.shape[1]):
        if row[p] != new[p]:
            cs, cw = _cell_delta(
                row, p, new[p], subsets, mult, base, bp_ptr, bp_sid, bp_pmult, required,
                cover, weights,
            )
            score += cs
            wscore += cw
            _cell_apply(
                row, p, new[p], subsets, mult, base, bp_ptr, bp_sid, bp_pmult, required,
                cover, unc, pos, state,
            )
    for p in range(mat.shape[1] - 1, -1, -1):
        if row[p] != old[p]:
            _cell_apply(
                row, p, old[p], subsets, mult, base, bp_ptr, bp_sid, bp_pmult, required,
                cover, unc, pos, state,
            )
    return score, wscore


@njit(cache=True)
def apply_move(
    r: int, new: Arr, score: int, mat: Arr, tabu: Arr, weights: Arr,
    subsets: Arr, mult: Arr, base: Arr,
    bp_ptr: Arr, bp_sid: Arr, bp_pmult: Arr,
    required: Arr, cover: Arr, unc: Arr, pos: Arr,
    state: Arr,
) -> None:
    """Replace row ``r`` by the valid row ``new`` (``score``: its count delta), cell by cell,
    making the changed cells tabu and, at a local optimum, the missing tuples heavier."""
    row = mat[r]
    for p in range(mat.shape[1]):
        if row[p] != new[p]:
            tabu[r, p] = state[STEP] + 2 + subsets.shape[1]
            _cell_apply(
                row, p, new[p], subsets, mult, base, bp_ptr, bp_sid, bp_pmult, required,
                cover, unc, pos, state,
            )
    if score <= 0:  # local optimum: make the tuples still missing heavier
        for i in range(state[N_UNC]):
            weights[unc[i]] += 1
    state[LOW] = min(state[LOW], state[N_UNC])


@njit(cache=True)
def _remove_weakest(
    mat: Arr, tabu: Arr, sample: int, subsets: Arr, mult: Arr,
    base: Arr, required: Arr, cover: Arr, unc: Arr,
    pos: Arr, state: Arr,
) -> None:
    """Drop the row (among ``sample`` random ones when there are more) with the fewest
    uniquely covered required tuples: its last row takes its place."""
    n = state[N_ROWS]
    best_r = -1
    best_u = -1
    for a in range(min(n, sample)):
        r = a if n <= sample else _rand(state, n)
        u = 0
        for s in range(subsets.shape[0]):
            x = _tindex(mat[r], s, subsets, mult, base)
            if cover[x] == 1 and required[x]:
                u += 1
        if best_r < 0 or u < best_u:
            best_r, best_u = r, u
    for s in range(subsets.shape[0]):
        x = _tindex(mat[best_r], s, subsets, mult, base)
        cover[x] -= 1
        if cover[x] == 0 and required[x]:
            _unc_add(x, unc, pos, state)
    mat[best_r] = mat[n - 1]
    state[N_ROWS] = n - 1
    tabu[:] = -1


@njit(cache=True)
def search(
    mat: Arr, best: Arr, tabu: Arr, weights: Arr,
    cover: Arr, unc: Arr, pos: Arr, state: Arr,
    required: Arr, sizes: Arr,
    subsets: Arr, mult: Arr, base: Arr,
    bp_ptr: Arr, bp_sid: Arr, bp_pmult: Arr,
    pc_ptr: Arr, pc_idx: Arr, c_ptr: Arr, c_scope: Arr,
    c_mult: Arr, c_off: Arr, c_bad: Arr,
    until: int, max_steps: int, patience: int, lower_bound: int, max_cand: int,
    sample: int,
) -> None:
    """Run the search until step ``until`` (or the end: step budget, lower bound, patience)
    or until a tuple needs a SAT repair; ``state[STATUS]`` says which."""
    t = subsets.shape[1]
    k = mat.shape[1]
    tp = np.empty(t, dtype=np.int64)
    tv = np.empty(t, dtype=np.int64)
    agree = np.empty(mat.shape[0], dtype=np.int64)
    tier = np.empty(mat.shape[0], dtype=np.int64)
    changed = np.empty(t, dtype=np.int64)
    tmp = np.empty(k, dtype=np.int64)
    keep = np.empty(t, dtype=np.int64)
    state[STATUS] = RUNNING
    while state[STEP] < until:
        if state[STEP] >= max_steps:
            state[STATUS] = BUDGET
            return
        step = state[STEP]
        n = state[N_ROWS]
        if state[N_UNC] == 0:
            best[:n] = mat[:n]
            state[BEST_N] = n
            state[SINCE] = 0
            if n <= lower_bound:
                state[STATUS] = LOWER_BOUND
                return
            _remove_weakest(
                mat, tabu, sample, subsets, mult, base, required, cover, unc, pos, state
            )
            state[LOW] = state[N_UNC]
            continue
        state[SINCE] += 1
        if state[SINCE] > patience:
            state[STATUS] = PATIENCE
            return
        state[STEP] = step + 1
        tau = unc[_rand(state, state[N_UNC])]
        lo, hi = 0, subsets.shape[0] - 1
        while lo < hi:  # the subset of tau: last base <= tau
            mid = (lo + hi + 1) // 2
            if base[mid] <= tau:
                lo = mid
            else:
                hi = mid - 1
        rem = tau - base[lo]
        top = 0
        for j in range(t):
            tp[j] = subsets[lo, j]
            tv[j] = (rem // mult[lo, j]) % sizes[tp[j]]
        for r in range(n):
            a = 0
            for j in range(t):
                if mat[r, tp[j]] == tv[j]:
                    a += 1
            agree[r] = a
            top = max(top, a)
        n_unc = state[N_UNC]
        pick = -1
        pick_score = 0
        pick_w = 0
        pick_key = 0
        blocked = -1
        level = top
        while level >= 0 and pick < 0:
            m = 0
            for r in range(n):
                if agree[r] == level:
                    tier[m] = r
                    m += 1
            for a in range(min(m, max_cand)):  # a random sample of the tier
                b = a + _rand(state, m - a)
                r = tier[b]
                tier[b] = tier[a]
                tier[a] = r
                nc = 0
                is_tabu = False
                for j in range(t):
                    if mat[r, tp[j]] != tv[j]:
                        changed[nc] = tp[j]
                        nc += 1
                        if tabu[r, tp[j]] > step:
                            is_tabu = True
                tmp[:] = mat[r]
                for j in range(t):
                    tmp[tp[j]] = tv[j]
                if not _row_valid(
                    tmp, changed, nc, pc_ptr, pc_idx, c_ptr, c_scope, c_mult, c_off, c_bad
                ):
                    if blocked < 0 and not is_tabu:
                        blocked = r
                    continue
                score = 0
                wscore = 0
                row = mat[r]
                for c in range(nc):  # apply cell by cell, then undo: exact joint delta
                    p = changed[c]
                    keep[c] = row[p]
                    cs, cw = _cell_delta(
                        row, p, tmp[p], subsets, mult, base, bp_ptr, bp_sid, bp_pmult,
                        required, cover, weights,
                    )
                    score += cs
                    wscore += cw
                    if c < nc - 1:
                        _cell_apply(
                            row, p, tmp[p], subsets, mult, base, bp_ptr, bp_sid, bp_pmult,
                            required, cover, unc, pos, state,
                        )
                for c in range(nc - 2, -1, -1):
                    _cell_apply(
                        row, changed[c], keep[c], subsets, mult, base, bp_ptr, bp_sid,
                        bp_pmult, required, cover, unc, pos, state,
                    )
                if is_tabu and n_unc - score >= state[LOW]:
                    continue
                key = _rand(state, 1 << 30)
                if pick < 0 or wscore > pick_w or (wscore == pick_w and key < pick_key):
                    pick, pick_score, pick_w, pick_key = r, score, wscore, key
            level -= 1
        if blocked >= 0 and (pick < 0 or pick_w <= 0):
            # a row the constraints stop from taking tau: the caller asks SAT for a valid
            # row around tau and keeps it if it beats the best plain move (PICK, PICK_W)
            state[TAU] = tau
            state[ROW] = blocked
            state[PICK] = pick
            state[PICK_W] = pick_w
            state[PICK_S] = pick_score
            state[STATUS] = REPAIR
            return
        if pick >= 0:  # (else every candidate was tabu: the step is spent)
            tmp[:] = mat[pick]
            for j in range(t):
                tmp[tp[j]] = tv[j]
            apply_move(
                pick, tmp, pick_score, mat, tabu, weights, subsets, mult, base, bp_ptr,
                bp_sid, bp_pmult, required, cover, unc, pos, state,
            )
    state[STATUS] = RUNNING
