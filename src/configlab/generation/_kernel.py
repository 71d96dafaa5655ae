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

Scoring a candidate does not rescan the subsets of the changed cells (as TCA and CAmpactor,
it reads cached scores): ``brk[r, p]`` counts the required tuples row ``r`` alone covers
in the column subsets of ``p`` (and ``brk_w`` their weight), which is exactly what
changing ``row[p]`` loses; what it gains are the uncovered tuples that the changed row
would hold, found in the (short) uncovered list.  The caches are kept by the moves
themselves: when a tuple's count goes 0 <-> 1 or 1 <-> 2 the row that holds it alone
gains or loses it.

Everything the search needs is in flat arrays (coverage counts, weights, the uncovered
list with positions and subsets, the cached scores, a 32-bit xorshift state), so running
it in chunks of steps gives the same result as one long run: the caller checks its
wall-clock deadline between chunks and the result depends only on the seed and the step
budget.  Every function also runs as plain Python (``py_func``), which is how the tests
measure its line coverage and check that the compiled and interpreted runs agree.
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
def _pindex(row: Arr, i: int, bp: Arr) -> int:
    """Index of the tuple ``row`` holds in the ``i``-th (parameter, subset) entry, without
    the parameter's own term: ``bp[i]`` is the subset's base, its other members, their
    multipliers and the subset's id (one contiguous int32 row per entry: a one-cell change
    streams through memory instead of gathering from several tables)."""
    h = (bp.shape[1] - 2) // 2
    x = np.int64(bp[i, 0])
    for j in range(h):
        x += row[bp[i, 1 + j]] * np.int64(bp[i, 1 + h + j])
    return int(x)


@njit(cache=True)
def _unc_add(x: int, s: int, unc: Arr, unc_s: Arr, pos: Arr, state: Arr) -> None:
    n = state[N_UNC]
    unc[n] = x
    unc_s[n] = s
    pos[x] = n
    state[N_UNC] = n + 1


@njit(cache=True)
def _unc_remove(x: int, unc: Arr, unc_s: Arr, pos: Arr, state: Arr) -> None:
    n = state[N_UNC] - 1
    i = pos[x]
    last = unc[n]
    unc[i] = last
    unc_s[i] = unc_s[n]
    pos[last] = i
    pos[x] = -1
    state[N_UNC] = n


@njit(cache=True)
def _holder(mat: Arr, n: int, skip: int, cols: Arr, vals: Arr) -> int:
    """A row other than ``skip`` among the first ``n`` holding ``vals`` at ``cols``, or -1."""
    for r in range(n):
        if r == skip:
            continue
        ok = True
        for j in range(len(cols)):
            if mat[r, cols[j]] != vals[j]:
                ok = False
                break
        if ok:
            return r
    return -1


@njit(cache=True)
def _credit(brk_c: Arr, brk_w: Arr, r: int, cols: Arr, sign: int, w: int) -> None:
    """Row ``r`` starts (sign 1) or stops (-1) being the only holder of a tuple on ``cols``."""
    for j in range(len(cols)):
        brk_c[r, cols[j]] += sign
        brk_w[r, cols[j]] += sign * w


@njit(cache=True)
def _cell_apply(
    mat: Arr, r: int, p: int, v: int, bp_ptr: Arr, bp: Arr, bp_pmult: Arr,
    required: Arr, cover: Arr, weights: Arr, unc: Arr, unc_s: Arr, pos: Arr,
    brk_c: Arr, brk_w: Arr, state: Arr,
) -> None:
    """Set ``mat[r, p] = v``: coverage counts, the uncovered list and the cached scores."""
    row = mat[r]
    a = row[p]
    n = state[N_ROWS]
    h = (bp.shape[1] - 2) // 2
    cols = np.empty(h + 1, dtype=np.int64)
    vals = np.empty(h + 1, dtype=np.int64)
    cols[0] = p
    for i in range(bp_ptr[p], bp_ptr[p + 1]):
        base = _pindex(row, i, bp)
        old = base + a * bp_pmult[i]
        new = base + v * bp_pmult[i]
        c = cover[old] - 1
        cover[old] = c
        if c <= 1 and required[old]:  # (count first: most tuples are held many times)
            for j in range(h):
                cols[1 + j] = bp[i, 1 + j]
                vals[1 + j] = row[cols[1 + j]]
            if c == 0:
                _unc_add(old, bp[i, 2 * h + 1], unc, unc_s, pos, state)
                _credit(brk_c, brk_w, r, cols, -1, weights[old])
            else:
                vals[0] = a
                r2 = _holder(mat, n, r, cols, vals)
                if r2 >= 0:
                    _credit(brk_c, brk_w, r2, cols, 1, weights[old])
        c = cover[new] + 1
        cover[new] = c
        if c <= 2 and required[new]:
            for j in range(h):
                cols[1 + j] = bp[i, 1 + j]
                vals[1 + j] = row[cols[1 + j]]
            if c == 1:
                _unc_remove(new, unc, unc_s, pos, state)
                _credit(brk_c, brk_w, r, cols, 1, weights[new])
            else:
                vals[0] = v
                r2 = _holder(mat, n, r, cols, vals)
                if r2 >= 0:
                    _credit(brk_c, brk_w, r2, cols, -1, weights[new])
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
def _lost(
    row: Arr, r: int, changed: Arr, nc: int, flag: Arr, bp_ptr: Arr, bp: Arr,
    bp_pmult: Arr, required: Arr, cover: Arr, weights: Arr, brk_c: Arr, brk_w: Arr,
) -> tuple[int, int]:
    """(count, weight) of the required tuples only row ``r`` holds in the column subsets of
    ``changed[:nc]``: the cached score for one cell, a scan of the subsets (each counted
    once) for several."""
    if nc == 1:
        return int(brk_c[r, changed[0]]), int(brk_w[r, changed[0]])
    h = (bp.shape[1] - 2) // 2
    cnt = 0
    w = 0
    for c in range(nc):
        p = changed[c]
        for i in range(bp_ptr[p], bp_ptr[p + 1]):
            seen = False
            for j in range(h):
                if flag[bp[i, 1 + j]] < c:  # the subset holds an earlier changed cell
                    seen = True
            if seen:
                continue
            x = _pindex(row, i, bp) + row[p] * bp_pmult[i]
            if cover[x] == 1 and required[x]:
                cnt += 1
                w += weights[x]
        flag[p] = c
    return cnt, w


@njit(cache=True)
def _gained(new: Arr, lp: Arr, lv: Arr, lw: Arr, nl: int) -> tuple[int, int]:
    """(count, weight) of the listed uncovered tuples the row ``new`` holds."""
    cnt = 0
    w = 0
    for a in range(nl):
        ok = True
        for j in range(lp.shape[1]):
            if new[lp[a, j]] != lv[a, j]:
                ok = False
                break
        if ok:
            cnt += 1
            w += lw[a]
    return cnt, w


@njit(cache=True)
def _decode(
    unc: Arr, unc_s: Arr, i: int, subsets: Arr, mult: Arr, base: Arr, sizes: Arr,
    out_p: Arr, out_v: Arr, a: int,
) -> None:
    """The parameters and codes of the ``i``-th uncovered tuple into row ``a`` of the outs."""
    s = unc_s[i]
    rem = unc[i] - base[s]
    for j in range(subsets.shape[1]):
        q = subsets[s, j]
        out_p[a, j] = q
        out_v[a, j] = (rem // mult[s, j]) % sizes[q]


@njit(cache=True)
def row_delta(
    r: int, new: Arr, mat: Arr, bp_ptr: Arr, bp: Arr, bp_pmult: Arr,
    required: Arr, cover: Arr, weights: Arr, unc: Arr, unc_s: Arr, pos: Arr,
    brk_c: Arr, brk_w: Arr, state: Arr, subsets: Arr, mult: Arr, base: Arr, sizes: Arr,
) -> tuple[int, int]:
    """(count, weighted) coverage change of replacing row ``r`` by ``new`` (read only)."""
    k = mat.shape[1]
    changed = np.empty(k, dtype=np.int64)
    flag = np.full(k, k, dtype=np.int64)
    nc = 0
    for p in range(k):
        if mat[r, p] != new[p]:
            changed[nc] = p
            nc += 1
    lc, lw_ = _lost(
        mat[r], r, changed, nc, flag, bp_ptr, bp, bp_pmult, required, cover, weights,
        brk_c, brk_w,
    )
    n_unc = state[N_UNC]
    t = subsets.shape[1]
    lp = np.empty((n_unc, t), dtype=np.int64)
    lv = np.empty((n_unc, t), dtype=np.int64)
    lw = np.empty(n_unc, dtype=np.int64)
    for i in range(n_unc):
        _decode(unc, unc_s, i, subsets, mult, base, sizes, lp, lv, i)
        lw[i] = weights[unc[i]]
    gc, gw = _gained(new, lp, lv, lw, n_unc)
    return gc - lc, gw - lw_


@njit(cache=True)
def apply_move(
    r: int, new: Arr, score: int, mat: Arr, tabu: Arr, weights: Arr,
    bp_ptr: Arr, bp: Arr, bp_pmult: Arr,
    required: Arr, cover: Arr, unc: Arr, unc_s: Arr, pos: Arr,
    brk_c: Arr, brk_w: Arr, state: Arr,
) -> None:
    """Replace row ``r`` by the valid row ``new`` (``score``: its count delta), cell by cell,
    making the changed cells tabu and, at a local optimum, the missing tuples heavier."""
    for p in range(mat.shape[1]):
        if mat[r, p] != new[p]:
            tabu[r, p] = state[STEP] + 2 + bp.shape[1] // 2  # tenure 2 + t
            _cell_apply(
                mat, r, p, new[p], bp_ptr, bp, bp_pmult, required, cover, weights,
                unc, unc_s, pos, brk_c, brk_w, state,
            )
    if score <= 0:  # local optimum: make the tuples still missing heavier
        for i in range(state[N_UNC]):
            weights[unc[i]] += 1
    state[LOW] = min(state[LOW], state[N_UNC])


@njit(cache=True)
def init_scores(
    mat: Arr, n: int, subsets: Arr, mult: Arr, base: Arr, required: Arr, cover: Arr,
    weights: Arr, brk_c: Arr, brk_w: Arr,
) -> None:
    """Fill the cached scores of the first ``n`` rows from the coverage counts."""
    brk_c[:] = 0
    brk_w[:] = 0
    for s in range(subsets.shape[0]):  # subset-major: the counts read stay in cache
        for r in range(n):
            x = _tindex(mat[r], s, subsets, mult, base)
            if cover[x] == 1 and required[x]:
                _credit(brk_c, brk_w, r, subsets[s], 1, weights[x])


@njit(cache=True)
def _remove_weakest(
    mat: Arr, tabu: Arr, subsets: Arr, mult: Arr, base: Arr, required: Arr, cover: Arr,
    weights: Arr, unc: Arr, unc_s: Arr, pos: Arr, brk_c: Arr, brk_w: Arr, state: Arr,
) -> None:
    """Drop the row with the fewest uniquely covered required tuples (the sum of its cached
    scores is t times that number): the last row takes its place."""
    n = state[N_ROWS]
    best_r = 0
    best_u = -1
    for r in range(n):
        u = 0
        for p in range(mat.shape[1]):
            u += brk_c[r, p]
        if best_u < 0 or u < best_u:
            best_r, best_u = r, u
    row = mat[best_r]
    vals = np.empty(subsets.shape[1], dtype=np.int64)
    for s in range(subsets.shape[0]):
        x = _tindex(row, s, subsets, mult, base)
        c = cover[x] - 1
        cover[x] = c
        if required[x]:
            if c == 0:
                _unc_add(x, s, unc, unc_s, pos, state)
            elif c == 1:
                for j in range(subsets.shape[1]):
                    vals[j] = row[subsets[s, j]]
                r2 = _holder(mat, n, best_r, subsets[s], vals)
                if r2 >= 0:
                    _credit(brk_c, brk_w, r2, subsets[s], 1, weights[x])
    mat[best_r] = mat[n - 1]
    brk_c[best_r] = brk_c[n - 1]
    brk_w[best_r] = brk_w[n - 1]
    state[N_ROWS] = n - 1
    tabu[:] = -1


@njit(cache=True)
def search(
    mat: Arr, best: Arr, tabu: Arr, weights: Arr,
    cover: Arr, unc: Arr, unc_s: Arr, pos: Arr, brk_c: Arr, brk_w: Arr, state: Arr,
    required: Arr, sizes: Arr,
    subsets: Arr, mult: Arr, base: Arr,
    bp_ptr: Arr, bp: Arr, bp_pmult: Arr,
    pc_ptr: Arr, pc_idx: Arr, c_ptr: Arr, c_scope: Arr,
    c_mult: Arr, c_off: Arr, c_bad: Arr,
    until: int, max_steps: int, patience: int, lower_bound: int, max_cand: int,
    repair_odds: int,
) -> None:
    """Run the search until step ``until`` (or the end: step budget, lower bound, patience)
    or until a tuple needs a SAT repair; ``state[STATUS]`` says which."""
    t = subsets.shape[1]
    k = mat.shape[1]
    tp = np.empty((1, t), dtype=np.int64)
    tv = np.empty((1, t), dtype=np.int64)
    agree = np.empty(mat.shape[0], dtype=np.int64)
    tier = np.empty(mat.shape[0], dtype=np.int64)
    changed = np.empty(t, dtype=np.int64)
    flag = np.full(k, k, dtype=np.int64)
    tmp = np.empty(k, dtype=np.int64)
    lp = np.empty((0, t), dtype=np.int64)  # grown (doubled) as the uncovered list grows
    lv = np.empty((0, t), dtype=np.int64)
    lw = np.empty(0, dtype=np.int64)
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
                mat, tabu, subsets, mult, base, required, cover, weights, unc, unc_s, pos,
                brk_c, brk_w, state,
            )
            state[LOW] = state[N_UNC]
            continue
        state[SINCE] += 1
        if state[SINCE] > patience:
            state[STATUS] = PATIENCE
            return
        state[STEP] = step + 1
        n_unc = state[N_UNC]
        slot = _rand(state, n_unc)
        tau = unc[slot]
        _decode(unc, unc_s, slot, subsets, mult, base, sizes, tp, tv, 0)
        # the uncovered tuples holding one of tau's values: what a move toward tau can gain
        if lp.shape[0] < n_unc:
            lp = np.empty((2 * n_unc, t), dtype=np.int64)
            lv = np.empty((2 * n_unc, t), dtype=np.int64)
            lw = np.empty(2 * n_unc, dtype=np.int64)
        nl = 0
        for i in range(n_unc):
            _decode(unc, unc_s, i, subsets, mult, base, sizes, lp, lv, nl)
            hit = False
            for j in range(t):
                for jj in range(t):
                    if lp[nl, j] == tp[0, jj] and lv[nl, j] == tv[0, jj]:
                        hit = True
            if hit:
                lw[nl] = weights[unc[i]]
                nl += 1
        top = 0
        for r in range(n):
            a = 0
            for j in range(t):
                if mat[r, tp[0, j]] == tv[0, j]:
                    a += 1
            agree[r] = a
            top = max(top, a)
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
                    if mat[r, tp[0, j]] != tv[0, j]:
                        changed[nc] = tp[0, j]
                        nc += 1
                        if tabu[r, tp[0, j]] > step:
                            is_tabu = True
                tmp[:] = mat[r]
                for j in range(t):
                    tmp[tp[0, j]] = tv[0, j]
                if not _row_valid(
                    tmp, changed, nc, pc_ptr, pc_idx, c_ptr, c_scope, c_mult, c_off, c_bad
                ):
                    if blocked < 0 and not is_tabu:
                        blocked = r
                    continue
                lc, lw_ = _lost(
                    mat[r], r, changed, nc, flag, bp_ptr, bp, bp_pmult, required, cover,
                    weights, brk_c, brk_w,
                )
                for c in range(nc):
                    flag[changed[c]] = k
                gc, gw = _gained(tmp, lp, lv, lw, nl)
                score = gc - lc
                wscore = gw - lw_
                if is_tabu and n_unc - score >= state[LOW]:
                    continue
                key = _rand(state, 1 << 30)
                if pick < 0 or wscore > pick_w or (wscore == pick_w and key < pick_key):
                    pick, pick_score, pick_w, pick_key = r, score, wscore, key
            level -= 1
        if blocked >= 0 and (pick < 0 or (pick_w <= 0 and _rand(state, repair_odds) == 0)):
            # a row the constraints stop from taking tau: the caller asks SAT for a valid
            # row around tau and keeps it if it beats the best plain move (PICK, PICK_W);
            # when a plain move exists, only one time in ``repair_odds`` (SAT is slow)
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
                tmp[tp[0, j]] = tv[0, j]
            apply_move(
                pick, tmp, pick_score, mat, tabu, weights, bp_ptr, bp, bp_pmult, required,
                cover, unc, unc_s, pos, brk_c, brk_w, state,
            )
    state[STATUS] = RUNNING
