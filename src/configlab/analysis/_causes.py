"""Cause search for the correlation engine: which conditions explain the failures.

The search works on the analysed rows only (a value-class code matrix, raw numeric columns and
a failure vector) and returns conditions a user would write: per parameter a *region* — a set
of value classes (``==``, ``!=``, ``in {...}``) or an interval of a numeric parameter
(``lo < x <= hi``, one side optional) — and conjunctions of up to three regions.

It is an explain-away loop:

1. **Enumerate cells.**  Every value class (numeric parameters: quantile bins) of every
   parameter, every pair of parameters and the triples of the most promising parameters (all of
   them when the budget allows, so interaction-only causes with flat 1- and 2-way marginals —
   XOR, parity — are still seen) are counted with one ``bincount`` per chunk of combinations.
   Counts are kept and updated by subtraction when rows are set aside, never recounted.
2. **Refine** the best cells: each region is re-optimised given the others (best prefix of the
   classes ranked by failure rate; best interval on the raw values), so a cell grows into
   ``x in {a, b, c}`` or ``0 < x <= 1048576``.
3. **Parsimony**: a region stays only if, among the rows where the other regions hold, the
   failure rate inside it is significantly higher than outside (one-sided Fisher exact test);
   each bound of an interval is tested the same way.  A sub-condition of a cause therefore
   collapses into the cause itself.
4. **Accept** the most significant refined condition (one-sided Fisher exact test on the rows
   still in play, Bonferroni over every cell counted) and set all its rows aside: they stop
   counting as evidence for the next cause, so a cause hidden behind a more frequent one is
   found once the frequent one is explained.

Scores for ranking candidates are one-sided log-likelihood-ratio (G) statistics, cheap and
vectorised; acceptance uses exact hypergeometric tail probabilities.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from configlab.analysis import _stats as st
from configlab.analysis._counting import PairGram, Scratch, pair_scores

_F = npt.NDArray[np.float64]
_I = npt.NDArray[np.int64]
#: per-row codes (value classes, bins): int32, the results' own code type, so that 100,000
#: rows x 50 parameters are not copied to int64 on the way (page faults cost more than the work)
_Codes = npt.NDArray[np.int32]
_B = npt.NDArray[np.bool_]

#: quantile bins of a numeric parameter for cell enumeration
_BINS = 10
#: most distinct codes kept per parameter for enumeration (rarer ones share one "other" code)
_MAX_CODES = 24
#: budget of (cells x rows) element operations for pairs and for triples
_PAIR_BUDGET = 2.0e8
_TRIPLE_BUDGET = 6.0e7
#: most cells over all triples, and most codes of a column used in triples
_TRIPLE_CELLS = 400_000
_TRIPLE_MAX_K = 8
#: cut points tried per interval bound when refining a numeric region
_CUTS = 96
#: below this many analysed rows, atoms are kept at the family-wise level ``alpha``
_SMALL = 1000


@dataclass(frozen=True)
class Region:
    """One parameter's part of a condition.

    ``codes`` (a set of value-class codes) for a categorical region; ``lo < x <= hi`` on the
    raw values for a numeric one (``lo = -inf`` / ``hi = inf`` when one-sided).
    """

    param: int
    codes: tuple[int, ...] = ()
    lo: float = -math.inf
    hi: float = math.inf

    @property
    def numeric(self) -> bool:
        """True for an interval region."""
        return not self.codes


@dataclass(frozen=True)
class Found:
    """An accepted cause: its regions and statistics on the rows in play when accepted."""

    regions: tuple[Region, ...]
    #: indices (into the analysed rows) of every row where the condition holds
    rows: _I
    #: the failing ones
    failing: _I
    #: rows/fails of the condition among the rows still in play when it was accepted
    n_active: int
    f_active: int
    #: rows/fails in play when accepted
    total: int
    total_fail: int
    p_value: float
    p_adjusted: float
    #: failing rows not explained by an earlier cause
    new_support: int


@dataclass
class _Column:
    """A parameter as seen by the search."""

    index: int
    cell: _Codes  # enumeration code per row (value class or quantile bin; k - 1 = not usable)
    k: int  # number of enumeration codes, the last one meaning "no usable value"
    raw: _F | None = None  # raw numeric values (None: categorical)
    codes: _Codes | None = None  # value-class codes (categorical)
    n_classes: int = 0
    n_distinct: int = 0  # distinct raw values (numeric)
    cell_regions: list[Region | None] = field(default_factory=list)  # code -> region
    order: _I | None = None  # rows by ascending raw value (numeric; computed on first use)


_VERSION = re.compile(r"([A-Za-z_-]*)(\d+(?:\.\d+)*)")


def natural_order(labels: Sequence[str]) -> list[int] | None:
    """Class codes of ``labels`` in their natural order when the labels are ordered like
    versions or levels (``py37, py38, ..., py312``; ``1.2, 1.10``; ``v1, v2``: one shared
    alphabetic prefix then a dotted number), else None.  ``py310`` sorts after ``py39``."""
    keys: list[tuple[int, ...]] = []
    prefix: str | None = None
    for label in labels:
        m = _VERSION.fullmatch(label)
        if m is None or (prefix is not None and m.group(1) != prefix):
            return None
        prefix = m.group(1)
        keys.append(tuple(int(part) for part in m.group(2).split(".")))
    if len(keys) < 3 or len(set(keys)) < len(keys):
        return None
    return sorted(range(len(labels)), key=lambda c: keys[c])


def order_bound(labels: Sequence[str], seen: Sequence[int], inside: Sequence[int]
                ) -> tuple[str, str] | None:
    """``("<=", label)`` / ``(">=", label)`` when the ``inside`` classes are the lowest /
    highest of the ``seen`` ones in natural order (at least two inside and two outside, where
    an order reads better than a set or ``!=``), else None."""
    order = natural_order(labels)
    if order is None or len(inside) < 2 or len(seen) - len(inside) < 2:
        return None
    ranked = [c for c in order if c in set(seen)]
    held = set(inside)
    k = len(held)
    if set(ranked[:k]) == held:
        return "<=", labels[ranked[k - 1]]
    if set(ranked[-k:]) == held:
        return ">=", labels[ranked[-k]]
    return None


def _g_score(n: _F, f: _F, total: float, fails: float) -> _F:
    """One-sided G statistic (2 x 2 log-likelihood ratio) of cells with ``n`` rows, ``f`` of
    them failing, among ``total`` rows with ``fails`` failing; 0 when the cell's failure rate
    is not above the rest's."""
    n = np.asarray(n, dtype=np.float64)
    f = np.asarray(f, dtype=np.float64)
    rest_n = total - n
    rest_f = fails - f
    with np.errstate(divide="ignore", invalid="ignore"):
        p_all = fails / total if total else 0.0

        def term(obs: _F, exp: _F) -> _F:
            out = obs * np.log(obs / exp)
            return np.where(obs > 0, out, 0.0)

        g = 2.0 * (
            term(f, n * p_all)
            + term(n - f, n * (1 - p_all))
            + term(rest_f, rest_n * p_all)
            + term(rest_n - rest_f, rest_n * (1 - p_all))
        )
        higher = f * np.maximum(rest_n, 0) > rest_f * n
    g = np.where(higher & (n > 0) & np.isfinite(g), g, 0.0)
    return np.asarray(g, dtype=np.float64)


def _log_fisher(k: int, total: int, successes: int, draws: int) -> float:
    """log of the one-sided Fisher exact p-value; past float underflow, the tight bound of
    :func:`~configlab.analysis._stats.hypergeom_log_sf_bound` keeps candidates comparable."""
    if draws <= 0 or k <= 0:
        return 0.0
    value = st.hypergeom_logsf(k - 1, total, successes, draws)
    if math.isfinite(value):
        return min(value, 0.0)
    return float(st.hypergeom_log_sf_bound(k, total, successes, draws))


class _Cells:
    """Counts of every enumerated cell (1-, 2- and 3-way), updated by subtraction."""

    def __init__(self, cols: list[_Column], combos: list[tuple[int, ...]],
                 matrix: npt.NDArray[np.int32] | None = None) -> None:
        self.cols = cols
        self.combos = combos
        sizes = [math.prod(cols[c].k for c in combo) for combo in combos]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.n = np.zeros(int(self.offsets[-1]), dtype=np.float64)
        self.f = np.zeros_like(self.n)
        self._gram: PairGram | None = None
        #: (columns, rows) enumeration codes: a subset of rows is then one gather, and a
        #: combo's columns are contiguous rows of it
        self.matrix = _cell_matrix(cols) if matrix is None else matrix
        self.scratch = Scratch()

    def add(self, rows: _I, fail: _B, sign: float) -> None:
        """Add (``sign=1``) or remove (``sign=-1``) ``rows`` from every cell's counts."""
        if rows.size == 0 or not self.combos:
            return
        ks = np.array([c.k for c in self.cols], dtype=np.int32)
        by_size: dict[int, list[int]] = {}
        for i, combo in enumerate(self.combos):
            by_size.setdefault(len(combo), []).append(i)
        low = by_size.pop(1, []) + by_size.pop(2, [])
        if low and self._gram is None:
            self._gram = PairGram(ks.tolist(), [self.combos[i] for i in low],
                                  [int(self.offsets[i]) for i in low])
        failing = fail[rows]
        if self._gram is not None:
            # singles and pairs: one-hot matrix products (see _counting)
            self._gram.add_rows(self.matrix, rows, failing, self.n, self.f, sign, self.scratch)
        for idx_list in by_size.values():
            self._add_triples(idx_list, rows, failing, sign)

    def _add_triples(self, idx_list: list[int], rows: _I, failing: _B, sign: float) -> None:
        """Triples: one ``bincount`` per triple of its cell code with the failure flag as the
        lowest bit (rows and failures in one pass), the code of the first two members
        computed once per pair, in buffers reused from triple to triple."""
        members = sorted({c for i in idx_list for c in self.combos[i]})
        at = {c: j for j, c in enumerate(members)}
        taken = self.scratch.get("triple_codes", (len(members), rows.size), np.int32)
        for j, c in enumerate(members):
            np.take(self.matrix[c], rows, out=taken[j])
        pair = self.scratch.get("pair_code", (rows.size,), np.int64)
        code = self.scratch.get("triple_code", (rows.size,), np.int64)
        last: tuple[int, ...] = ()
        for i in idx_list:
            a, b, c = self.combos[i]
            ka, kb = self.cols[a].k, self.cols[b].k
            if (a, b) != last:
                # 2 * (code_a + k_a * code_b) + failed
                np.multiply(taken[at[b]], 2 * ka, out=pair)
                pair += taken[at[a]]
                pair += taken[at[a]]
                pair += failing
                last = (a, b)
            np.multiply(taken[at[c]], 2 * ka * kb, out=code)
            code += pair
            lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
            both = np.bincount(code, minlength=2 * (hi - lo))
            self.n[lo:hi] += sign * (both[0::2] + both[1::2])
            self.f[lo:hi] += sign * both[1::2]

    def reset(self, rows: _I, fail: _B) -> None:
        """Counts of exactly ``rows`` (cheaper than subtracting when most rows go)."""
        self.n[:] = 0.0
        self.f[:] = 0.0
        self.add(rows, fail, 1.0)

    def cell(self, flat_index: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(parameter positions, enumeration codes) of one flat cell index."""
        c = int(np.searchsorted(self.offsets, flat_index, side="right") - 1)
        combo = self.combos[c]
        rem = flat_index - int(self.offsets[c])
        codes = []
        for pos in combo:
            k = self.cols[pos].k
            codes.append(rem % k)
            rem //= k
        return combo, tuple(codes)


def _cell_matrix(cols: list[_Column]) -> npt.NDArray[np.int32]:
    """The enumeration codes of every column, one row of the matrix per column."""
    if not cols:
        return np.zeros((0, 0), dtype=np.int32)
    # filled row by row: np.stack(...).astype() made two whole copies first
    out = np.empty((len(cols), cols[0].cell.size), dtype=np.int32)
    for i, col in enumerate(cols):
        out[i] = col.cell
    return out


def _columns(
    codes: npt.NDArray[np.integer[Any]], n_classes: Sequence[int], numeric: dict[int, _F],
    bins: int = _BINS,
) -> list[_Column]:
    cols: list[_Column] = []
    # whole columns are contiguous rows of it (no copy when ``codes`` is the transpose of a
    # (parameters, rows) int32 matrix, as the analysis passes it)
    by_param = np.ascontiguousarray(codes.T, dtype=np.int32)
    for j in range(codes.shape[1]):
        if j in numeric:
            raw = numeric[j]
            finite = np.isfinite(raw)
            vals = raw[finite]
            # one sort gives the distinct values, the quantiles' input and refinement's row
            # order (NaN last; see _sorted_values)
            order = np.argsort(raw)
            ordered = raw[order]
            ordered = ordered[np.isfinite(ordered)]
            if ordered.size <= 1:
                continue
            distinct = ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])]
            if distinct.size <= 1:
                continue
            if distinct.size <= bins:
                edges = distinct[:-1]
            else:
                edges = np.unique(np.quantile(ordered, np.linspace(0, 1, bins + 1)[1:-1]))
            cell = np.full(raw.shape, edges.size + 1, dtype=np.int32)
            cell[finite] = np.searchsorted(edges, vals, side="left")
            bounds = np.concatenate([[-math.inf], edges, [math.inf]])
            regions: list[Region | None] = [
                Region(j, lo=float(bounds[b]), hi=float(bounds[b + 1]))
                for b in range(edges.size + 1)
            ]
            regions.append(None)
            cols.append(_Column(j, cell, edges.size + 2, raw=raw, cell_regions=regions,
                                n_distinct=int(distinct.size), order=order.astype(np.int64)))
            continue
        col = by_param[j]
        k = int(n_classes[j])
        if k <= 1:
            continue
        counts = np.bincount(col, minlength=k)
        if np.count_nonzero(counts) <= 1:
            continue
        if k <= _MAX_CODES:
            cell = col
            kk = k
            regions = [Region(j, codes=(c,)) for c in range(k)]
        else:
            order = np.argsort(-counts, kind="stable")[: _MAX_CODES - 1]
            remap = np.full(k, order.size, dtype=np.int32)
            remap[order] = np.arange(order.size)
            cell = remap[col]
            kk = int(order.size) + 1
            regions = [Region(j, codes=(int(c),)) for c in order]
            regions.append(None)
        cols.append(_Column(j, cell, kk, codes=col, n_classes=k, cell_regions=regions))
    return cols


def _mask(col: _Column, region: Region) -> _B:
    """Where ``region`` holds, over every row."""
    if region.numeric:
        assert col.raw is not None
        return np.asarray((col.raw > region.lo) & (col.raw <= region.hi), dtype=np.bool_)
    assert col.codes is not None
    table = np.zeros(col.n_classes, dtype=np.bool_)
    table[list(region.codes)] = True
    return np.asarray(table[col.codes], dtype=np.bool_)


#: bytes of row masks a search keeps (regions recur in every refinement of every round)
_MASK_BYTES = 64_000_000


class _Search:
    def __init__(self, cols: list[_Column], fail: _B, alpha: float, min_support: int) -> None:
        self.cols = cols
        self.by_param = {c.index: c for c in cols}
        self.fail = fail
        self.alpha = alpha
        self.min_support = min_support
        # level of the conditional test that keeps an atom: with many rows a real atom's
        # conditional effect is overwhelming, and a strict level keeps chance improvements
        # (picked among many candidates) out; with few rows it would drop real atoms
        self.atom_alpha = alpha if fail.size < _SMALL else min(alpha, 1e-3)
        self._masks: dict[Region, _B] = {}
        # rows_where's answers for the rows of the current round (see rows_where)
        self._where: dict[frozenset[Region], _I] = {}
        self._where_rows: _I | None = None
        self._where_bytes = 0
        # refinement's answers for the same round (see _best_given and _kept_p)
        self._best: dict[tuple[int, frozenset[Region], float, float], Region | None] = {}
        self._p: dict[tuple[Region, Region | None, frozenset[Region]], float] = {}

    def mask(self, region: Region) -> _B:
        """Where ``region`` holds, over every row (kept: the same regions are tested again
        and again while candidates are refined; a subset is then one gather of booleans)."""
        held = self._masks.get(region)
        if held is None:
            if (len(self._masks) + 1) * max(self.fail.size, 1) > _MASK_BYTES:
                self._masks.clear()
            held = self._masks[region] = _mask(self.by_param[region.param], region)
        return held

    # ------------------------------------------------------------------ refinement
    def best_region(self, col: _Column, base: _I, total: float, fails: float) -> Region | None:
        """Best region of ``col`` among ``base`` rows (None: the whole domain is best)."""
        fail = self.fail[base]
        if col.raw is None:
            assert col.codes is not None
            k = col.n_classes
            n_c = np.bincount(col.codes[base], minlength=k).astype(np.float64)
            f_c = np.bincount(col.codes[base], weights=fail, minlength=k).astype(np.float64)
            seen = np.flatnonzero(n_c > 0)
            if seen.size <= 1:
                return None
            rate = f_c[seen] / n_c[seen]
            order = seen[np.lexsort((-n_c[seen], -rate))]
            cn = np.cumsum(n_c[order])[:-1]
            cf = np.cumsum(f_c[order])[:-1]
            g = _g_score(cn, cf, total, fails)
            best = int(np.argmax(g))
            if g[best] <= 0:
                return None
            return Region(col.index, codes=tuple(sorted(int(c) for c in order[: best + 1])))
        vals, fv = self._sorted_values(col, base)
        if vals.size == 0:
            return None
        # ``vals`` ascend: each distinct value starts where it differs from its predecessor
        # (np.unique's first occurrences, without sorting again)
        first = np.flatnonzero(np.concatenate([[True], vals[1:] != vals[:-1]]))
        distinct = vals[first]
        if distinct.size <= 1:
            return None
        # candidate boundaries: after position i (exclusive prefix lengths), only between
        # distinct values; thinned to _CUTS quantile positions
        # ends[d]: rows with a value <= distinct[d - 1] (ends[0] = 0); an interval (a, b] of
        # distinct indices holds rows ends[a] .. ends[b]
        ends = np.concatenate([[0], first[1:], [vals.size]])
        cf = np.concatenate([[0.0], np.cumsum(fv)])
        n_ends = ends.size
        # coarse pass on at most _CUTS boundaries, then each bound exactly between its
        # neighbouring coarse boundaries
        coarse = np.unique(np.linspace(0, n_ends - 1, min(n_ends, _CUTS)).round().astype(np.int64))
        lo_i, hi_i = np.triu_indices(coarse.size, k=1)
        a_idx, b_idx = coarse[lo_i], coarse[hi_i]
        g = _g_score((ends[b_idx] - ends[a_idx]).astype(np.float64),
                     cf[ends[b_idx]] - cf[ends[a_idx]], total, fails)
        if not g.size or g.max() <= 0:
            return None
        best = int(np.argmax(g))
        a, b = int(a_idx[best]), int(b_idx[best])
        for _ in range(2):
            step = max(1, (n_ends - 1) // max(coarse.size - 1, 1)) + 1
            cand_a = np.arange(max(0, a - step), min(b, a + step + 1))
            ga = _g_score((ends[b] - ends[cand_a]).astype(np.float64),
                          cf[ends[b]] - cf[ends[cand_a]], total, fails)
            a = int(cand_a[int(np.argmax(ga))])
            cand_b = np.arange(max(a + 1, b - step), min(n_ends, b + step + 1))
            gb = _g_score((ends[cand_b] - ends[a]).astype(np.float64),
                          cf[ends[cand_b]] - cf[ends[a]], total, fails)
            b = int(cand_b[int(np.argmax(gb))])
        lo = -math.inf if a == 0 else float(distinct[a - 1])
        hi = math.inf if b == n_ends - 1 else float(distinct[b - 1])
        if lo == -math.inf and hi == math.inf:
            return None
        return Region(col.index, lo=lo, hi=hi)

    def _sorted_values(self, col: _Column, base: _I) -> tuple[_F, _F]:
        """Finite raw values of ``col`` on ``base`` rows in ascending order, and the failure
        flags of those rows in the same order.  The column is sorted once; each call filters
        that order to ``base`` (linear), where sorting every subset cost most of refinement."""
        assert col.raw is not None
        if col.order is None:
            # NaN sorts last.  The order within ties does not matter: refinement reads the
            # failure counts only at boundaries between distinct values, so NumPy's default
            # (SIMD) sort is used, 4-6x faster than a stable one on 100,000 floats
            col.order = np.argsort(col.raw).astype(np.int64)
        member = np.zeros(col.raw.size, dtype=np.bool_)
        member[base] = True
        rows = col.order[member[col.order]]
        vals = col.raw[rows]
        finite = np.isfinite(vals)
        return vals[finite], self.fail[rows[finite]].astype(np.float64)

    def refine(self, regions: list[Region], active: _I, total: float, fails: float
               ) -> list[Region]:
        """Re-optimise each region given the others, then drop the regions (and interval
        bounds) that do not matter given the others."""
        regions = list(regions)
        for _ in range(3):
            changed = False
            for i in range(len(regions)):
                new = self._best_given(regions[i].param, regions[:i] + regions[i + 1 :],
                                       active, total, fails)
                if new is None:
                    if len(regions) > 1:
                        regions.pop(i)
                        changed = True
                        break
                    continue
                if new != regions[i]:
                    regions[i] = new
                    changed = True
            if not changed:
                break
        return self.parsimony(regions, active)

    def parsimony(self, regions: list[Region], active: _I) -> list[Region]:
        """Drop regions and interval bounds whose conditional effect is not significant."""
        while True:
            worst, worst_p, worst_new = -1, 0.0, None
            for i, region in enumerate(regions):
                base = self.rows_where(regions[:i] + regions[i + 1 :], active)
                variants: list[Region | None] = [None]
                if region.numeric and region.lo > -math.inf and region.hi < math.inf:
                    variants = [Region(region.param, lo=-math.inf, hi=region.hi),
                                Region(region.param, lo=region.lo, hi=math.inf)]
                for wider in variants:
                    p = self._kept_p(region, wider, regions[:i] + regions[i + 1 :], base)
                    # the region was chosen as the best of many (every set of classes, every
                    # interval): correct for those choices, or one chance pass row left out by
                    # ``x != v`` looks like a reason to keep the atom
                    p = min(1.0, p * (self.choices(region) if wider is None
                                      else self.bound_choices(region)))
                    if p > self.atom_alpha and p > worst_p and (wider is not None
                                                               or len(regions) > 1):
                        worst, worst_p, worst_new = i, p, wider
            if worst < 0:
                return regions
            if worst_new is None:
                regions.pop(worst)
            else:
                regions[worst] = worst_new

    def _best_given(self, param: int, others: Sequence[Region], active: _I, total: float,
                    fails: float) -> Region | None:
        """:meth:`best_region` of ``param`` on the ``active`` rows where ``others`` hold, kept
        for the round: the candidates of one round share most of their regions (about half
        the refinements of 100,000 x 50 results asked a question already answered)."""
        base = self.rows_where(others, active)
        key = (param, frozenset(others), total, fails)
        if key not in self._best:
            self._best[key] = self.best_region(self.by_param[param], base, total, fails)
        return self._best[key]

    def _kept_p(self, region: Region, wider: Region | None, others: Sequence[Region],
                base: _I) -> float:
        """Tail probability of ``region``'s failures among the ``base`` rows (where ``others``
        hold) within ``wider`` (None: all of them), kept for the round as :meth:`_best_given`."""
        key = (region, wider, frozenset(others))
        held = self._p.get(key)
        if held is None:
            outside = base if wider is None else base[self.mask(wider)[base]]
            inside = self.mask(region)[outside]
            held = self._p[key] = st.hypergeom_sf(
                int(self.fail[outside][inside].sum()), int(outside.size),
                int(self.fail[outside].sum()), int(inside.sum()))
        return held

    def choices(self, region: Region) -> float:
        """How many regions of its parameter the refinement chose this one among."""
        col = self.by_param[region.param]
        if col.raw is None:
            return float(max(col.n_classes - 1, 1))
        distinct = float(col.n_distinct)
        if region.lo > -math.inf and region.hi < math.inf:
            return max(distinct * (distinct - 1) / 2.0, 1.0)
        return max(2.0 * distinct, 1.0)

    def extra_choices(self, region: Region) -> float:
        """Factor by which refinement widens the family of conditions already counted as
        cells.  A categorical parameter's k - 1 prefix sets add at most as many conditions as
        its k single classes (union bound: the k singletons already counted plus the k - 2
        prefixes of two or more classes, a factor of 2 - 2/k, not k - 1, which would count
        every cell once per prefix and miss a small-sample cause; a two-class parameter has no
        wider set, so its factor is 1); an interval is one of far more than the quantile bins
        counted, so it keeps the full count."""
        col = self.by_param[region.param]
        if col.raw is None:
            k = max(col.n_classes, 2)
            return 2.0 - 2.0 / k
        return self.choices(region)

    def bound_choices(self, region: Region) -> float:
        """How many positions one bound of a numeric region was chosen among."""
        return max(float(self.by_param[region.param].n_distinct), 1.0)

    def rows_where(self, regions: Sequence[Region], rows: _I) -> _I:
        """The subset of ``rows`` where every region holds.

        Answers are kept while the same ``rows`` array (a round's rows in play) is asked
        about: refining one candidate after another asks for the same conditions again."""
        if rows is not self._where_rows:
            # a new round (or the final rows of a cause): every answer kept is stale
            self._where.clear()
            self._best.clear()
            self._p.clear()
            self._where_rows, self._where_bytes = rows, 0
        if not regions:
            return rows
        key = frozenset(regions)
        held = self._where.get(key)
        if held is None:
            # from the (kept) answer for all regions but the last: the first filter, over
            # every row in play, is the costly one, and refinement asks for many sets that
            # share all but one region
            held = self.rows_where(regions[:-1], rows) if len(regions) > 1 else rows
            held = held[self.mask(regions[-1])[held]]
            if self._where_bytes + held.nbytes > _MASK_BYTES:
                self._where.clear()
                self._where_bytes = 0
            self._where[key] = held
            self._where_bytes += held.nbytes
        return held


def _combos(cols: list[_Column], n_rows: int, fail: _B | None = None
            ) -> tuple[list[tuple[int, ...]], bool]:
    """Every single and pair of enumeration columns; when the pairs do not all fit the budget,
    the pairs with the best screening score (see :func:`_screen_pairs`) up to the budget.
    Triples come later."""
    m = len(cols)
    singles: list[tuple[int, ...]] = [(i,) for i in range(m)]
    pairs: list[tuple[int, int]] = [(i, j) for i in range(m) for j in range(i + 1, m)]
    max_pairs = int(_PAIR_BUDGET // max(n_rows, 1))
    if len(pairs) <= max_pairs:
        return [*singles, *pairs], False
    if fail is None or max_pairs <= 0:
        return [*singles, *pairs[:max_pairs]], True
    return [*singles, *_screen_pairs(cols, pairs, fail, max_pairs)], True


#: (sampled rows) x (cells of all columns)^2 multiply-adds of the pair screen
_SCREEN_BUDGET = 4.0e9


def _screen_pairs(cols: list[_Column], pairs: list[tuple[int, int]], fail: _B, keep: int
                  ) -> list[tuple[int, int]]:
    """The ``keep`` pairs whose best cell scores highest on evenly spaced rows (all of them
    while the screen's budget allows), in column order.

    Taking the first pairs in column order, as before, dropped every pair of the last columns
    however strong its cell; a pair cell's score needs both members, so an interaction-only
    cause (flat single marginals) still ranks by its own cells.
    """
    ks = [c.k for c in cols]
    width = sum(ks)
    n_rows = int(fail.size)
    budget = max(2000, int(_SCREEN_BUDGET // max(width * width, 1)))
    step = max(1, -(-n_rows // budget))
    rows = np.arange(0, n_rows, step, dtype=np.int64)
    gram = PairGram(ks, [], [])
    cells = np.stack([c.cell[rows] for c in cols])
    sample_fail = fail[rows]
    n = gram.gram(cells)
    f = gram.gram(cells[:, sample_fail])
    scores = pair_scores(n, f, ks, pairs, float(rows.size), float(sample_fail.sum()), _g_score)
    best = np.lexsort((np.arange(len(pairs)), -scores))[:keep]
    return [pairs[int(i)] for i in np.sort(best)]


def _triples(cols: list[_Column], cells: _Cells, n_rows: int, total: float, fails: float,
             top_params: int) -> list[tuple[int, ...]]:
    """Triples of the most promising columns that the budgets allow (all when they can).

    Columns are taken by their best 1- or 2-way cell score (columns with more than
    ``_TRIPLE_MAX_K`` codes are left out) while the number of triples stays within
    ``_TRIPLE_BUDGET / rows`` and their cells within ``_TRIPLE_CELLS``.
    """
    g = _g_score(cells.n, cells.f, total, fails)
    # a column's promise: its best single cell, or the best *synergy* of a pair it is in (the
    # pair cell's score above the best single cell of either member), so that a strong cause
    # does not lift every column it pairs with, while the parts of a 3-way cause (each pair
    # of them better than its members alone) rank high
    single = np.zeros(len(cols))
    for c, combo in enumerate(cells.combos):
        if len(combo) == 1:
            lo, hi = int(cells.offsets[c]), int(cells.offsets[c + 1])
            single[combo[0]] = float(g[lo:hi].max()) if hi > lo else 0.0
    score = single.copy()
    for c, combo in enumerate(cells.combos):
        if len(combo) == 2:
            lo, hi = int(cells.offsets[c]), int(cells.offsets[c + 1])
            best = float(g[lo:hi].max()) if hi > lo else 0.0
            synergy = best - max(single[combo[0]], single[combo[1]])
            for pos in combo:
                score[pos] = max(score[pos], synergy)
    max_triples = int(_TRIPLE_BUDGET // max(n_rows, 1))
    keep: list[int] = []
    s1 = s2 = 0.0  # sum of k and of k^2 over kept columns
    n_cells = 0.0
    for i in np.argsort(-score, kind="stable"):
        k = float(cols[int(i)].k)
        if k > _TRIPLE_MAX_K or len(keep) >= top_params:
            continue
        pairs_k = (s1 * s1 - s2) / 2.0  # sum of k_a * k_b over kept pairs
        if (n_cells + k * pairs_k > _TRIPLE_CELLS
                or math.comb(len(keep) + 1, 3) > max_triples):
            break
        n_cells += k * pairs_k
        keep.append(int(i))
        s1 += k
        s2 += k * k
    keep.sort()
    if len(keep) < 3:
        return []
    return [(a, b, c) for x, a in enumerate(keep) for y, b in enumerate(keep[x + 1 :], x + 1)
            for c in keep[y + 1 :]]


def find_causes(
    codes: npt.NDArray[np.integer[Any]],
    n_classes: Sequence[int],
    numeric: dict[int, _F],
    fail: _B,
    *,
    max_order: int = 3,
    alpha: float = 0.05,
    min_support: int = 2,
    max_causes: int = 10,
    bins: int = _BINS,
    max_cells: int = 2000,
    top_params: int = 24,
) -> tuple[list[Found], int, int, bool]:
    """Explain-away search for the conditions behind ``fail``.

    Args:
        codes: (rows, params) value-class codes of the analysed rows.
        n_classes: number of value classes of each parameter.
        numeric: parameter index -> raw values (NaN where absent) for numeric parameters;
            these get interval regions instead of class sets.
        fail: (rows,) failure flags.
        max_order: most parameters in one condition (1-3).
        alpha: family-wise significance level of an accepted cause (Bonferroni over every
            cell counted).
        min_support: fewest failing rows (among those not yet explained) a cause must explain.
        max_causes: most causes returned.
        bins: quantile bins of a numeric parameter for enumeration (refinement then finds the
            exact interval on the raw values).
        max_cells: most single cells (value classes and bins) enumerated; parameters are kept
            by their best single-cell score until the cap is reached.
        top_params: when every triple does not fit the budget, triples are enumerated among
            at most this many parameters (those with the best 1- and 2-way scores).

    Returns:
        (causes in acceptance order, number of cells counted, number of single cells, whether
        ``max_causes`` cut the search short).
    """
    n_rows = int(codes.shape[0])
    cols = _columns(codes, n_classes, numeric, bins)
    if not cols or n_rows == 0 or not fail.any() or fail.all():
        return [], 0, 0, False
    cols = _cap_cells(cols, fail, max_cells)
    combos, _ = _combos(cols, n_rows, fail)
    if max_order < 2:
        combos = [c for c in combos if len(c) == 1]
    all_rows = np.arange(n_rows, dtype=np.int64)
    cells = _Cells(cols, combos)
    cells.add(all_rows, fail, 1.0)
    total, fails = float(n_rows), float(fail.sum())
    if max_order >= 3:
        triples = _triples(cols, cells, n_rows, total, fails, top_params)
        if triples:
            extra = _Cells(cols, triples, cells.matrix)
            extra.add(all_rows, fail, 1.0)
            cells = _merge(cells, extra)
    n_tests = int(cells.n.size)
    # layered Bonferroni (Webb 2008): a condition on k parameters is corrected for the cells of
    # its own order times the number of orders, not for every cell of every order, so a strong
    # small-sample effect is not drowned by the far more numerous 3-way cells
    per_order = np.zeros(4, dtype=np.int64)
    for c, combo in enumerate(cells.combos):
        per_order[len(combo)] += int(cells.offsets[c + 1] - cells.offsets[c])
    layers = int(np.count_nonzero(per_order))
    search = _Search(cols, fail, alpha, min_support)
    active = np.ones(n_rows, dtype=np.bool_)
    explained = np.zeros(n_rows, dtype=np.bool_)
    found: list[Found] = []
    seen: set[tuple[Region, ...]] = set()
    hit_limit = False
    while True:
        act = np.flatnonzero(active).astype(np.int64)
        total = float(act.size)
        fails = float(fail[act].sum())
        if fails < min_support or fails == total:
            break
        best = _best_candidate(search, cells, act, total, fails, seen)
        if best is None:
            break
        regions, logp = best
        p = math.exp(logp)
        # refinement picked each region among many (every interval of a numeric parameter,
        # every prefix set of classes): count those choices too, or a narrow interval holding
        # a few chance failures would pass
        choices = math.prod(search.extra_choices(r) for r in regions)
        p_adj = min(1.0, p * layers * int(per_order[len(regions)]) * choices)
        rows_act = search.rows_where(regions, act)
        f_act = int(fail[rows_act].sum())
        if p_adj > alpha or f_act < min_support:
            break
        if len(found) >= max_causes:
            hit_limit = True
            break
        rows = search.rows_where(regions, all_rows)
        failing = rows[fail[rows]]
        new = int((~explained[failing]).sum())
        found.append(Found(tuple(regions), rows, failing, int(rows_act.size), f_act,
                           int(total), int(fails), p, p_adj, new))
        seen.add(tuple(regions))
        explained[failing] = True
        active[rows_act] = False
        remaining = np.flatnonzero(active).astype(np.int64)
        if rows_act.size > remaining.size:
            cells.reset(remaining, fail)
        else:
            cells.add(rows_act, fail, -1.0)
    return found, n_tests, int(per_order[1]), hit_limit


def _cap_cells(cols: list[_Column], fail: _B, max_cells: int) -> list[_Column]:
    """Keep the columns with the best single-cell score while their cells fit ``max_cells``."""
    if sum(c.k for c in cols) <= max_cells:
        return cols
    total, fails = float(fail.size), float(fail.sum())
    best = []
    for c in cols:
        n = np.bincount(c.cell, minlength=c.k).astype(np.float64)
        f = np.bincount(c.cell[fail], minlength=c.k).astype(np.float64)
        best.append(float(_g_score(n, f, total, fails).max()))
    kept: list[_Column] = []
    used = 0
    for i in np.argsort(-np.array(best), kind="stable"):
        col = cols[int(i)]
        if kept and used + col.k > max_cells:
            continue
        kept.append(col)
        used += col.k
    return sorted(kept, key=lambda c: c.index)


def _merge(a: _Cells, b: _Cells) -> _Cells:
    out = _Cells(a.cols, a.combos + b.combos, a.matrix)
    out.n = np.concatenate([a.n, b.n])
    out.f = np.concatenate([a.f, b.f])
    return out


def _picked(cells: _Cells, order: _I, quota: dict[int, int]) -> _I:
    """The first ``quota[size]`` cells of ``order`` (flat indices, best first) of each combo
    size whose codes all have a region (not "no usable value"), in ``order``'s order."""
    combo = np.searchsorted(cells.offsets, order, side="right") - 1
    size = np.array([len(c) for c in cells.combos], dtype=np.int64)[combo]
    rem = order - cells.offsets[combo]
    usable = np.ones(order.size, dtype=np.bool_)
    for pos in range(3):
        # the combo's member at ``pos`` (size < pos + 1: none), its code and its "none" code
        member = np.array([c[pos] if len(c) > pos else -1 for c in cells.combos],
                          dtype=np.int64)[combo]
        has = member >= 0
        ks = np.array([c.k for c in cells.cols] + [1], dtype=np.int64)[member]
        none = np.array([c.k - 1 if c.cell_regions[-1] is None else -1 for c in cells.cols]
                        + [-1], dtype=np.int64)[member]
        code = rem % ks
        usable &= ~has | (code != none)
        rem //= ks
    chosen = [np.flatnonzero(usable & (size == k))[:q] for k, q in quota.items()]
    return order[np.sort(np.concatenate(chosen))]


def _best_candidate(search: _Search, cells: _Cells, act: _I, total: float, fails: float,
                    seen: set[tuple[Region, ...]]) -> tuple[list[Region], float] | None:
    live = np.flatnonzero(cells.f * total > cells.n * fails)
    if not live.size:
        return None
    g_live = _g_score(cells.n[live], cells.f[live], total, fails)
    if g_live.max() <= 0:
        return None
    if live.size > 4000:
        top = np.argpartition(-g_live, 4000)[:4000]
        live, g_live = live[top], g_live[top]
    rank = np.lexsort((live, -g_live))
    candidates: list[list[Region]] = []
    for flat in _picked(cells, live[rank][g_live[rank] > 0], {1: 12, 2: 16, 3: 12}):
        combo, codes = cells.cell(int(flat))
        held = [cells.cols[pos].cell_regions[code] for pos, code in zip(combo, codes,
                                                                        strict=True)]
        candidates.append([r for r in held if r is not None])  # all are (see _picked)
    best: tuple[list[Region], float] | None = None
    done: set[tuple[Region, ...]] = set()
    n_fail_total = int(fails)
    for cand in candidates:
        regions = search.refine(cand, act, total, fails)
        key = tuple(sorted(regions, key=lambda r: r.param))
        if key in done or key in seen or not regions:
            continue
        done.add(key)
        rows = search.rows_where(key, act)
        f = int(search.fail[rows].sum())
        logp = _log_fisher(f, int(total), n_fail_total, int(rows.size))
        if best is None or logp < best[1] or (logp == best[1] and len(key) < len(best[0])):
            best = (list(key), logp)
    return best


__all__ = ["Found", "Region", "find_causes", "natural_order", "order_bound"]
