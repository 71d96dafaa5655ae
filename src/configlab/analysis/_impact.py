"""Analysed rows (skips and flaky configs set aside) and per-parameter failure impact."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from configlab.analysis import _stats as st
from configlab.analysis._report import FailureImpact, FlakyGroup, FlakyPolicy
from configlab.results.encoded import ERROR, FAIL, SKIP, EncodedResults

_F = npt.NDArray[np.float64]
_I = npt.NDArray[np.int64]
_B = npt.NDArray[np.bool_]
_CHUNK = 8192

# =========================================================================== preparation


@dataclass(frozen=True)
class _Prepared:
    not_skip: _B
    #: failure flag of each row as analysed (a flaky config's kept run has its majority outcome)
    fail: _B
    used_idx: _I
    flaky_rows: _B
    flaky_groups: tuple[FlakyGroup, ...]
    #: what each run actually did (metrics are measured on the runs that really passed)
    run_fail: _B


def _prepare(enc: EncodedResults, policy: FlakyPolicy) -> _Prepared:
    outcomes = np.asarray(enc.outcomes, dtype=np.int64)
    not_skip = outcomes != SKIP
    fail = (outcomes == FAIL) | (outcomes == ERROR)
    n = enc.n_rows
    flaky_rows = np.zeros(n, dtype=np.bool_)
    groups: list[FlakyGroup] = []
    if enc.config_keys or enc.config_hashes is not None:
        gid, first = _groups(enc)
        runs = np.bincount(gid[not_skip], minlength=first.size)
        fails = np.bincount(gid[not_skip & fail], minlength=first.size)
        flaky_gid = (fails > 0) & (fails < runs)
        flaky_rows = flaky_gid[gid] & not_skip
        for g in np.flatnonzero(flaky_gid):
            row = int(first[g])
            test = str(enc.test_ids[row]) if enc.test_ids else ""
            key = (str(enc.config_keys[row]) if enc.config_keys
                   else str(enc.config_hashes[row]))  # type: ignore[index]
            groups.append(FlakyGroup(key, test, int(runs[g]), int(fails[g])))
        if policy == "weight" and groups:
            # each flaky config counts as one run (not one per rerun), with its majority
            # outcome; a tie says nothing either way and is set aside
            flaky_g = np.flatnonzero(flaky_gid)
            order = np.flatnonzero(flaky_rows)
            lowest = np.full(first.size, -1, dtype=np.int64)
            lowest[gid[order[::-1]]] = order[::-1]  # lowest analysed row of each group
            decided = flaky_g[fails[flaky_g] * 2 != runs[flaky_g]]
            rep = lowest[decided]
            voted = fail.copy()
            voted[rep] = fails[decided] * 2 > runs[decided]
            used = not_skip & ~flaky_rows
            used[rep] = True
            return _Prepared(not_skip, voted, np.flatnonzero(used).astype(np.int64), flaky_rows,
                             tuple(groups), fail)
    used = not_skip & ~flaky_rows if policy == "exclude" else not_skip
    return _Prepared(
        not_skip=not_skip,
        fail=fail,
        used_idx=np.flatnonzero(used).astype(np.int64),
        flaky_rows=flaky_rows,
        flaky_groups=tuple(groups),
        run_fail=fail,
    )


def _groups(enc: EncodedResults) -> tuple[_I, _I]:
    """Group id of each row by (config key, test id), numbered in first-seen order, and the
    first row of each group (one vectorised pass; a dict per row cost ~0.5 s per 100k rows)."""
    keys = (np.asarray([str(k) for k in enc.config_keys]) if enc.config_keys
            else np.asarray(enc.config_hashes))
    inverse = np.unique(keys, return_inverse=True)[1]
    combined = inverse.astype(np.int64).ravel()
    if enc.test_ids:
        tests = np.unique(np.asarray([str(t) for t in enc.test_ids]), return_inverse=True)[1]
        tests = tests.astype(np.int64).ravel()
        combined = combined * (int(tests.max()) + 1) + tests
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[inverse.ravel()].astype(np.int64), first[order].astype(np.int64)


@dataclass(frozen=True)
class _Layout:
    """Flat (parameter, class) indexing."""

    sizes: _I
    offsets: _I
    total: int
    width: int

    def pad(self, flat: _F) -> _F:
        out = np.zeros((self.sizes.size, self.width), dtype=np.float64)
        for j in range(self.sizes.size):
            size = int(self.sizes[j])
            out[j, :size] = flat[self.offsets[j] : self.offsets[j] + size]
        return out


def _layout(enc: EncodedResults) -> _Layout:
    sizes = np.array([len(labels) for labels in enc.class_labels], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if sizes.size else sizes
    return _Layout(sizes, offsets, int(sizes.sum()), int(sizes.max(initial=0)))


def _class_counts(
    enc: EncodedResults, lay: _Layout, rows: _I, weights: Sequence[_F | None]
) -> list[_F]:
    """Per (parameter, class) row counts (weight None) or sums of each weight vector."""
    if lay.total == 0:
        return [np.zeros((len(enc.params), 0)) for _ in weights]
    flats = [np.zeros(lay.total, dtype=np.float64) for _ in weights]
    step = _CHUNK * 4
    for start in range(0, rows.size, step):
        codes = np.asarray(enc.codes[rows[start : start + step]], dtype=np.int64)
        flat = (codes + lay.offsets[None, :]).ravel()
        for out, w in zip(flats, weights, strict=True):
            if w is None:
                out += np.bincount(flat, minlength=lay.total)
            else:
                tiled = np.broadcast_to(w[start : start + step, None], codes.shape).ravel()
                out += np.bincount(flat, weights=tiled, minlength=lay.total)
    return [lay.pad(f) for f in flats]


# =========================================================================== impact


def _failure_impact(
    counts: _F, fails: _F, enc: EncodedResults, alpha: float
) -> list[FailureImpact]:
    n_params = counts.shape[0]
    if n_params == 0:
        return []
    stat, dof, p, min_exp = st.chi2_kx2(counts, fails)
    tests = ["chi2" if d > 0 else "none" for d in dof]
    p = p.copy()
    for j in range(n_params):
        if dof[j] > 0 and min_exp[j] < 5.0:
            p[j] = st.fisher_kx2(counts[j], fails[j])
            tests[j] = "fisher"
    n = counts.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(n > 0, np.sqrt(stat / np.where(n > 0, n, 1.0)), 0.0)
    mi = st.mutual_information_kx2(counts, fails)
    rd, rd_class = st.risk_difference(counts, fails)
    p_bh = st.bh_adjust(p)
    p_holm = st.holm_adjust(p)
    out = []
    for j in range(n_params):
        cls = int(rd_class[j])
        out.append(
            FailureImpact(
                test=tests[j],
                statistic=float(stat[j]),
                dof=int(dof[j]),
                p_value=float(p[j]),
                p_adjusted=float(p_bh[j]),
                p_holm=float(p_holm[j]),
                cramers_v=float(min(1.0, v[j])),
                mutual_information=float(mi[j]),
                risk_difference=float(rd[j]),
                risk_class=enc.class_labels[j][cls] if cls >= 0 and dof[j] > 0 else None,
                significant=bool(p_bh[j] <= alpha and dof[j] > 0),
            )
        )
    return out


@dataclass(frozen=True)
class _MetricData:
    name: str
    rows: _I
    values: _F  # centred
    total_ss: float
    counts: _F  # (P, C)
    sums: _F  # (P, C) of centred values
    eta: _F
    anova_p: _F
    kruskal_p: _F


def _metric_data(enc: EncodedResults, lay: _Layout, prep: _Prepared, name: str) -> _MetricData:
    raw = np.asarray(enc.metrics[name], dtype=np.float64)
    finite = prep.not_skip & np.isfinite(raw)
    # durations and metrics of failing runs measure the failure (a crash is fast, a timeout
    # slow): they are analysed on passing runs, unless fewer than two passed
    passing = finite & ~prep.run_fail
    rows = np.flatnonzero(passing if passing.sum() >= 2 else finite).astype(np.int64)
    values = raw[rows]
    n = int(rows.size)
    centred = values - values.mean() if n else values
    total_ss = float(centred @ centred) if n else 0.0
    if total_ss <= 1e-300:
        # treat numerically constant metrics as constant
        total_ss = 0.0
    n_params = len(enc.params)
    if n_params == 0 or n < 2 or total_ss == 0.0:
        counts, sums = _class_counts(enc, lay, rows, [None, centred])
        ones = np.ones(n_params)
        return _MetricData(
            name, rows, centred, total_ss, counts, sums, np.zeros(n_params), ones, ones.copy()
        )
    ranks = st.rankdata(values)
    tie = st.tiecorrect(ranks)
    counts, sums, rank_sums = _class_counts(enc, lay, rows, [None, centred, ranks])
    eta, anova_p = st.anova_from_sums(counts, sums, total_ss, n)
    kruskal_p = st.kruskal_from_rank_sums(counts, rank_sums, n, tie)
    return _MetricData(name, rows, centred, total_ss, counts, sums, eta, anova_p, kruskal_p)

