"""Vectorised statistics for the correlation engine (:mod:`configlab.analysis._analysis`).

Everything here is written once, works on whole arrays (one row per parameter or per candidate
condition) and is checked against SciPy in the tests.  Nothing here raises on degenerate input:
empty groups, zero variance and zero failures give neutral values (p = 1, effect = 0).

The distributions (hypergeometric tails, Fisher's exact test, chi-square, F and beta
quantiles, ranks) are computed from :mod:`scipy.special` -- the same kernels ``scipy.stats``
calls, with ``scipy.stats``' own handling of the support edges, so the values are identical --
because importing ``scipy.stats`` costs ~0.5 s of CPU (its whole distribution catalogue), a
quarter of the 2 s budget of ``configlab analyze`` on 100,000 results.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

try:  # the Boost kernels behind scipy.stats.hypergeom and scipy.stats.beta (SciPy >= 1.12)
    from scipy.special._ufuncs import (
        _beta_ppf,
        _hypergeom_cdf,
        _hypergeom_pmf,
        _hypergeom_sf,
    )
except ImportError:  # pragma: no cover - older SciPy: the same values through scipy.stats
    _beta_ppf = _hypergeom_cdf = _hypergeom_pmf = _hypergeom_sf = None

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


# --------------------------------------------------------------------------- multiple testing


def bh_adjust(p_values: npt.ArrayLike) -> FloatArray:
    """Benjamini–Hochberg adjusted p-values (step-up FDR control); NaN counts as 1."""
    p = np.nan_to_num(np.asarray(p_values, dtype=np.float64).ravel(), nan=1.0)
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1, dtype=np.float64)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m, dtype=np.float64)
    out[order] = np.clip(ranked, 0.0, 1.0)
    return out


def holm_adjust(p_values: npt.ArrayLike) -> FloatArray:
    """Holm–Bonferroni adjusted p-values (step-down FWER control); NaN counts as 1."""
    p = np.nan_to_num(np.asarray(p_values, dtype=np.float64).ravel(), nan=1.0)
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * (m - np.arange(m, dtype=np.float64))
    ranked = np.maximum.accumulate(ranked)
    out = np.empty(m, dtype=np.float64)
    out[order] = np.clip(ranked, 0.0, 1.0)
    return out


# --------------------------------------------------------------------------- hypergeometric


def log_comb(n: npt.ArrayLike, k: npt.ArrayLike) -> FloatArray:
    """Natural log of the binomial coefficient C(n, k) (n, k >= 0, k <= n), elementwise."""
    n_ = np.asarray(n, dtype=np.float64)
    k_ = np.asarray(k, dtype=np.float64)
    result: FloatArray = special.gammaln(n_ + 1.0) - special.gammaln(k_ + 1.0)
    result = result - special.gammaln(n_ - k_ + 1.0)
    return result


def hypergeom_log_sf_bound(
    k: npt.ArrayLike, total: npt.ArrayLike, successes: npt.ArrayLike, draws: npt.ArrayLike
) -> FloatArray:
    """Tight upper bound on ``log P(X >= k)`` for ``X ~ Hypergeom(total, successes, draws)``.

    This is the one-sided Fisher exact p-value of "the condition covers ``draws`` rows of which
    ``k`` fail, out of ``total`` rows of which ``successes`` fail".  The tail is bounded by the
    geometric series started at ``pmf(k)`` with the (decreasing) ratio of successive terms, so
    ``log pmf(k) <= result``, and ``result`` is within ``-log(1 - r)`` of the exact value.  Where
    ``k`` is not above the mode the bound is 0 (p-value near or above one half: uninteresting).
    Fully vectorised, used to rank hundreds of thousands of candidate conditions.
    """
    k_ = np.asarray(k, dtype=np.float64)
    big_n = np.asarray(total, dtype=np.float64)
    big_k = np.asarray(successes, dtype=np.float64)
    n_ = np.asarray(draws, dtype=np.float64)
    k_, big_n, big_k, n_ = np.broadcast_arrays(k_, big_n, big_k, n_)
    rest = big_n - big_k - n_ + k_
    valid = (k_ >= 1) & (k_ <= n_) & (k_ <= big_k) & (rest >= 0) & (n_ <= big_n)
    out = np.zeros(k_.shape, dtype=np.float64)
    if not np.any(valid):
        return out
    kv, nv, bk, bn, rv = k_[valid], n_[valid], big_k[valid], big_n[valid], rest[valid]
    log_pmf = log_comb(bk, kv) + log_comb(bn - bk, nv - kv) - log_comb(bn, nv)
    ratio = (bk - kv) * (nv - kv) / ((kv + 1.0) * (rv + 1.0))
    below = ratio < 1.0
    bound = np.where(below, log_pmf - np.log1p(-np.where(below, ratio, 0.0)), 0.0)
    out[valid] = np.minimum(bound, 0.0)
    return out


def _scipy_stats() -> Any:  # pragma: no cover - only with a SciPy older than the kernels
    # deferred: the slow import this module avoids where SciPy offers the kernels
    from scipy import stats

    return stats


def _support(total: int, successes: int, draws: int) -> tuple[int, int] | None:
    """Lowest and highest value of ``Hypergeom(total, successes, draws)``, or None when the
    parameters are not a distribution (``scipy.stats`` gives NaN there)."""
    if total <= 0 or successes < 0 or draws < 0 or successes > total or draws > total:
        return None
    return max(draws - (total - successes), 0), min(successes, draws)


def hypergeom_pmf(k: int, total: int, successes: int, draws: int) -> float:
    """``P(X == k)`` for ``X ~ Hypergeom(total, successes, draws)`` (``scipy.stats.hypergeom
    .pmf(k, total, successes, draws)``)."""
    if _hypergeom_pmf is None:  # pragma: no cover - older SciPy
        return float(_scipy_stats().hypergeom.pmf(k, total, successes, draws))
    support = _support(total, successes, draws)
    if support is None:
        return math.nan
    if not support[0] <= k <= support[1]:
        return 0.0
    return float(np.clip(_hypergeom_pmf(k, successes, draws, total), 0.0, 1.0))


def hypergeom_cdf(k: int, total: int, successes: int, draws: int) -> float:
    """``P(X <= k)`` (``scipy.stats.hypergeom.cdf``)."""
    if _hypergeom_cdf is None:  # pragma: no cover - older SciPy
        return float(_scipy_stats().hypergeom.cdf(k, total, successes, draws))
    support = _support(total, successes, draws)
    if support is None:
        return math.nan
    if k >= support[1]:
        return 1.0
    if k < support[0]:
        return 0.0
    return float(np.clip(_hypergeom_cdf(k, successes, draws, total), 0.0, 1.0))


def hypergeom_upper(k: int, total: int, successes: int, draws: int) -> float:
    """``P(X > k)`` (``scipy.stats.hypergeom.sf``)."""
    if _hypergeom_sf is None:  # pragma: no cover - older SciPy
        return float(_scipy_stats().hypergeom.sf(k, total, successes, draws))
    support = _support(total, successes, draws)
    if support is None:
        return math.nan
    if k < support[0]:
        return 1.0
    if k >= support[1]:
        return 0.0
    return float(np.clip(_hypergeom_sf(k, successes, draws, total), 0.0, 1.0))


def _hypergeom_logpmf(k: Any, total: int, successes: int, draws: int) -> Any:
    # scipy.stats.hypergeom._logpmf, term for term (so the sums below are scipy's)
    bad = total - successes
    return (special.betaln(successes + 1, 1) + special.betaln(bad + 1, 1)
            + special.betaln(total - draws + 1, draws + 1)
            - special.betaln(k + 1, successes - k + 1)
            - special.betaln(draws - k + 1, bad - draws + k + 1)
            - special.betaln(total + 1, 1))


def hypergeom_logsf(k: int, total: int, successes: int, draws: int) -> float:
    """``log P(X > k)`` (``scipy.stats.hypergeom.logsf``, the same algorithm: a log-sum of
    the shorter tail's terms), accurate far below where ``P`` itself underflows."""
    support = _support(total, successes, draws)
    if support is None:
        return math.nan
    if k < support[0]:
        return 0.0
    if k >= support[1]:
        return -math.inf
    if (k + 0.5) * (total + 0.5) < (successes - 0.5) * (draws - 0.5):
        return float(np.log1p(-np.exp(hypergeom_logcdf(k, total, successes, draws))))
    terms = _hypergeom_logpmf(np.arange(k + 1, draws + 1), total, successes, draws)
    return float(special.logsumexp(terms))


def hypergeom_logcdf(k: int, total: int, successes: int, draws: int) -> float:
    """``log P(X <= k)`` (``scipy.stats.hypergeom.logcdf``, the same algorithm)."""
    support = _support(total, successes, draws)
    if support is None:
        return math.nan
    if k >= support[1]:
        return 0.0
    if k < support[0]:
        return -math.inf
    if (k + 0.5) * (total + 0.5) > (successes - 0.5) * (draws - 0.5):
        return float(np.log1p(-np.exp(hypergeom_logsf(k, total, successes, draws))))
    terms = _hypergeom_logpmf(np.arange(0, k + 1), total, successes, draws)
    return float(special.logsumexp(terms))


def hypergeom_sf(k: int, total: int, successes: int, draws: int) -> float:
    """Exact ``P(X >= k)`` for ``X ~ Hypergeom(total, successes, draws)`` (one-sided Fisher)."""
    if k <= 0:
        return 1.0
    value = hypergeom_upper(k - 1, total, successes, draws)
    return min(1.0, max(0.0, value))


def _binary_search(compare: Callable[[int], int], lo: int, hi: int) -> int:
    # scipy.stats' search for the other tail's edge in a two-sided exact test: the i in
    # [lo, hi] with pmf(i) <= target < pmf(i + 1), ``pmf`` ascending on the range;
    # ``compare(i)`` is the sign of pmf(i) - target
    while lo < hi:
        mid = lo + (hi - lo) // 2
        value = compare(mid)
        if value < 0:
            lo = mid + 1
        elif value > 0:
            hi = mid - 1
        else:
            return mid
    return lo if compare(lo) <= 0 else lo - 1


#: relative gap between a probability and the target beyond which the log-space value (Beta
#: functions, ~5 us) decides a comparison; closer ones ask Boost's exact pmf (~150 us at
#: 100,000 rows), so every comparison, hence the p-value, is the one scipy makes
_DECIDED = 1e-7


def _comparer(total: int, successes: int, draws: int, target: float,
              descending: bool) -> Callable[[int], int]:
    """``compare(i)`` for :func:`_binary_search`: the sign of ``pmf(i) - target`` (negated
    when ``descending``), from the log pmf when it is far from the target."""
    log_target = math.log(target) if target > 0 else -math.inf
    sign = -1 if descending else 1

    def compare(x: int) -> int:
        if math.isfinite(log_target):
            gap = float(_hypergeom_logpmf(x, total, successes, draws)) - log_target
            if gap > _DECIDED:
                return sign
            if gap < -_DECIDED:
                return -sign
        value = hypergeom_pmf(x, total, successes, draws)
        return sign * ((value > target) - (value < target))

    return compare


def fisher_exact_two_sided(table: Sequence[Sequence[int]]) -> float:
    """Two-sided p-value of Fisher's exact test of a 2 x 2 table (``scipy.stats.fisher_exact``,
    the same algorithm: the tail beyond the observed table plus the other tail's tables no
    more likely than it)."""
    (a, b), (c, d) = table
    if 0 in (a + b, c + d, a + c, b + d):
        return 1.0
    n1, n2, n = a + b, c + d, a + c
    total = n1 + n2

    def pmf(x: int) -> float:
        return hypergeom_pmf(x, total, n1, n)

    mode = int((n + 1) * (n1 + 1) / (total + 2))
    pexact = np.float64(pmf(a))
    pmode = np.float64(pmf(mode))
    gamma = 1 + 1e-14
    with np.errstate(invalid="ignore"):
        if np.abs(pexact - pmode) / np.maximum(pexact, pmode) <= 1e-14:
            return 1.0
    if a < mode:
        plower = hypergeom_cdf(a, total, n1, n)
        if pmf(n) > pexact * gamma:
            return min(plower, 1.0)
        guess = _binary_search(_comparer(total, n1, n, float(pexact * gamma), True), mode, n)
        return min(plower + hypergeom_upper(guess, total, n1, n), 1.0)
    pupper = hypergeom_upper(a - 1, total, n1, n)
    if pmf(0) > pexact * gamma:
        return min(pupper, 1.0)
    guess = _binary_search(_comparer(total, n1, n, float(pexact * gamma), False), 0, mode)
    return min(pupper + hypergeom_cdf(guess, total, n1, n), 1.0)


# --------------------------------------------------------------------------- continuous tails


def chi2_sf(x: npt.ArrayLike, dof: npt.ArrayLike) -> FloatArray:
    """Chi-square upper tail ``P(X > x)`` (``scipy.stats.chi2.sf(x, dof)``, ``dof > 0``)."""
    x_ = np.asarray(x, dtype=np.float64)
    out = special.chdtrc(np.asarray(dof, dtype=np.float64), x_)
    return np.asarray(np.where(x_ <= 0, 1.0, np.where(np.isposinf(x_), 0.0, out)),
                      dtype=np.float64)


def f_sf(x: npt.ArrayLike, dfn: npt.ArrayLike, dfd: npt.ArrayLike) -> FloatArray:
    """F upper tail ``P(X > x)`` (``scipy.stats.f.sf(x, dfn, dfd)``, degrees > 0)."""
    x_ = np.asarray(x, dtype=np.float64)
    out = special.fdtrc(np.asarray(dfn, dtype=np.float64), np.asarray(dfd, dtype=np.float64),
                        x_)
    return np.asarray(np.where(x_ <= 0, 1.0, np.where(np.isposinf(x_), 0.0, out)),
                      dtype=np.float64)


def beta_ppf(q: float, a: float, b: float) -> float:
    """Quantile of the beta distribution (``scipy.stats.beta.ppf``) for ``0 < q < 1``,
    ``a, b > 0``."""
    if _beta_ppf is None:  # pragma: no cover - older SciPy
        return float(_scipy_stats().beta.ppf(q, a, b))
    return float(_beta_ppf(q, a, b))


def rankdata(values: npt.ArrayLike) -> FloatArray:
    """Ranks from 1, ties getting the mean of their ranks (``scipy.stats.rankdata``, method
    ``average``) of finite values."""
    x = np.asarray(values, dtype=np.float64).ravel()
    order = np.argsort(x, kind="stable")
    ordered = x[order]
    new = np.concatenate([[True], ordered[1:] != ordered[:-1]]) if x.size else np.zeros(0, bool)
    group = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    ends = np.concatenate([starts[1:], [x.size]])
    mean = (starts + ends + 1) / 2.0  # ranks starts+1 .. ends, averaged
    out = np.empty(x.size, dtype=np.float64)
    out[order] = mean[group]
    return out


def tiecorrect(ranks: npt.ArrayLike) -> float:
    """``1 - sum(t^3 - t) / (n^3 - n)`` over groups of tied ``ranks``
    (``scipy.stats.tiecorrect``)."""
    arr = np.sort(np.asarray(ranks, dtype=np.float64).ravel())
    if arr.size < 2:
        return 1.0
    idx = np.flatnonzero(np.concatenate([[True], arr[1:] != arr[:-1], [True]]))
    cnt = np.diff(idx).astype(np.float64)
    size = np.float64(arr.size)
    return float(1.0 - (cnt**3 - cnt).sum() / (size**3 - size))


# --------------------------------------------------------------------------- k x 2 tables


def chi2_kx2(
    counts: FloatArray, fails: FloatArray
) -> tuple[FloatArray, IntArray, FloatArray, FloatArray]:
    """Pearson chi-square test of independence for many k x 2 (class x fail/pass) tables.

    ``counts`` and ``fails`` are (P, C) arrays: rows per class ``c`` of parameter ``p`` and how
    many of them failed; classes with zero rows are ignored.  Returns ``(statistic, dof,
    p_value, min_expected)`` per parameter.  A parameter with fewer than two observed classes,
    or no variation in outcome, gets statistic 0, dof 0, p = 1.
    """
    counts = np.asarray(counts, dtype=np.float64)
    fails = np.asarray(fails, dtype=np.float64)
    n = counts.sum(axis=1)
    f = fails.sum(axis=1)
    present = counts > 0
    k = present.sum(axis=1).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, f / np.where(n > 0, n, 1.0), 0.0)
        exp_f = counts * rate[:, None]
        exp_p = counts - exp_f
        term_f = np.where(exp_f > 0, (fails - exp_f) ** 2 / np.where(exp_f > 0, exp_f, 1.0), 0.0)
        passes = counts - fails
        term_p = np.where(exp_p > 0, (passes - exp_p) ** 2 / np.where(exp_p > 0, exp_p, 1.0), 0.0)
    stat = (term_f + term_p).sum(axis=1)
    degenerate = (k < 2) | (f <= 0) | (f >= n)
    stat = np.where(degenerate, 0.0, stat)
    dof = np.where(degenerate, 0, k - 1).astype(np.int64)
    p = np.where(degenerate, 1.0, chi2_sf(stat, np.maximum(dof, 1)))
    big = np.full_like(exp_f, np.inf)
    min_exp = np.where(present, np.minimum(exp_f, exp_p), big).min(axis=1, initial=np.inf)
    return stat, dof, np.asarray(p, dtype=np.float64), min_exp


def mutual_information_kx2(counts: FloatArray, fails: FloatArray) -> FloatArray:
    """Mutual information (bits) between the class and the fail/pass outcome, per row."""
    counts = np.asarray(counts, dtype=np.float64)
    fails = np.asarray(fails, dtype=np.float64)
    n = counts.sum(axis=1, keepdims=True)
    f = fails.sum(axis=1, keepdims=True)
    cells = np.stack([fails, counts - fails], axis=-1)  # (P, C, 2)
    col = np.concatenate([f, n - f], axis=1)[:, None, :]  # (P, 1, 2)
    row = counts[:, :, None]
    nn = n[:, :, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = cells * nn / (row * col)
        terms = np.where(cells > 0, cells / np.where(nn > 0, nn, 1.0) * np.log2(ratio), 0.0)
    result: FloatArray = np.maximum(terms.sum(axis=(1, 2)), 0.0)
    return result


def risk_difference(counts: FloatArray, fails: FloatArray) -> tuple[FloatArray, IntArray]:
    """Largest ``failure rate(class) - failure rate(all other rows)`` per row, and its class.

    Classes with no rows, or whose complement is empty, are skipped; a row with none gets 0 and
    class index -1.
    """
    counts = np.asarray(counts, dtype=np.float64)
    fails = np.asarray(fails, dtype=np.float64)
    n = counts.sum(axis=1, keepdims=True)
    f = fails.sum(axis=1, keepdims=True)
    rest_n = n - counts
    ok = (counts > 0) & (rest_n > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rd = fails / np.where(ok, counts, 1.0) - (f - fails) / np.where(ok, rest_n, 1.0)
    rd = np.where(ok, rd, -np.inf)
    if rd.shape[1] == 0:
        return np.zeros(rd.shape[0]), np.full(rd.shape[0], -1, dtype=np.int64)
    best = np.argmax(rd, axis=1)
    value = rd[np.arange(rd.shape[0]), best]
    has = np.isfinite(value)
    return np.where(has, value, 0.0), np.where(has, best, -1).astype(np.int64)


def fisher_kx2(counts: FloatArray, fails: FloatArray) -> float:
    """Exact test for one k x 2 table with small counts.

    Two classes: Fisher's exact test (two-sided).  More classes: the smallest class-vs-rest
    two-sided Fisher p-value, Bonferroni-corrected for the number of classes (capped at 1).
    """
    counts = np.asarray(counts, dtype=np.float64)
    fails = np.asarray(fails, dtype=np.float64)
    present = np.flatnonzero(counts > 0)
    n = float(counts.sum())
    f = float(fails.sum())
    if present.size < 2 or f <= 0 or f >= n:
        return 1.0
    tests = present[:1] if present.size == 2 else present
    best = 1.0
    for c in tests:
        a = int(fails[c])
        b = int(counts[c] - fails[c])
        table = [[a, b], [int(f) - a, int(n - f) - b]]
        best = min(best, fisher_exact_two_sided(table))
    factor = 1 if present.size == 2 else present.size
    return min(1.0, best * factor)


# --------------------------------------------------------------------------- numeric outcomes


def grouped_sums(
    codes: npt.NDArray[np.int64], offsets: IntArray, size: int, weights: FloatArray | None
) -> FloatArray:
    """Per (parameter, class) sums of ``weights`` (or counts) in one ``bincount``.

    ``codes`` is (n, P); ``offsets[p]`` is where parameter ``p``'s classes start in the flat
    output of length ``size``.
    """
    flat = (codes + offsets[None, :]).ravel()
    if weights is None:
        return np.bincount(flat, minlength=size).astype(np.float64)
    tiled = np.repeat(weights, codes.shape[1])
    return np.bincount(flat, weights=tiled, minlength=size).astype(np.float64)


def anova_from_sums(
    counts: FloatArray, sums: FloatArray, total_ss: float, n: int
) -> tuple[FloatArray, FloatArray]:
    """Eta-squared and one-way ANOVA p-value per parameter from (P, C) class counts and sums.

    ``total_ss`` is the total sum of squares around the grand mean of the ``n`` values.
    """
    counts = np.asarray(counts, dtype=np.float64)
    sums = np.asarray(sums, dtype=np.float64)
    grand = sums.sum(axis=1, keepdims=True) / max(n, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        means = np.where(counts > 0, sums / np.where(counts > 0, counts, 1.0), 0.0)
    ss_between = (counts * (means - grand) ** 2).sum(axis=1)
    k = (counts > 0).sum(axis=1)
    if total_ss <= 0 or n < 2:
        return np.zeros(counts.shape[0]), np.ones(counts.shape[0])
    eta = np.clip(ss_between / total_ss, 0.0, 1.0)
    ss_within = np.maximum(total_ss - ss_between, 0.0)
    df1 = k - 1
    df2 = n - k
    ok = (df1 >= 1) & (df2 >= 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_stat = (ss_between / np.maximum(df1, 1)) / (ss_within / np.maximum(df2, 1))
    f_stat = np.where(ss_within > 0, f_stat, np.inf)
    p = np.where(ok, f_sf(f_stat, np.maximum(df1, 1), np.maximum(df2, 1)), 1.0)
    eta = np.where(k >= 2, eta, 0.0)
    return eta, np.nan_to_num(np.asarray(p, dtype=np.float64), nan=1.0)


def kruskal_from_rank_sums(
    counts: FloatArray, rank_sums: FloatArray, n: int, tie_correction: float
) -> FloatArray:
    """Kruskal–Wallis p-value per parameter from class counts and sums of (average) ranks.

    ``tie_correction`` is ``1 - sum(t^3 - t) / (n^3 - n)`` over tie groups (``scipy``'s
    ``tiecorrect``); with every value tied the test is undefined and p = 1.
    """
    counts = np.asarray(counts, dtype=np.float64)
    k = (counts > 0).sum(axis=1)
    if n < 2 or tie_correction <= 0:
        return np.ones(counts.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(counts > 0, rank_sums**2 / np.where(counts > 0, counts, 1.0), 0.0)
    h = 12.0 / (n * (n + 1.0)) * terms.sum(axis=1) - 3.0 * (n + 1.0)
    h = np.maximum(h / tie_correction, 0.0)
    p = np.where(k >= 2, chi2_sf(h, np.maximum(k - 1, 1)), 1.0)
    return np.asarray(p, dtype=np.float64)


def sequential_ss(
    gram: FloatArray, xty: FloatArray, groups: IntArray, n_groups: int, tol: float = 1e-9
) -> FloatArray:
    """Type-I (sequential) sums of squares of column groups of a least-squares fit.

    ``gram = X'X`` and ``xty = X'y`` for a design whose columns are taken in order; columns
    that are (numerically) linear combinations of earlier ones are skipped, so a group entirely
    confounded with earlier groups gets 0.  ``groups[c]`` is the group of column ``c`` (-1 for
    columns whose sum of squares is not reported, such as the intercept).  The result sums to
    the model's explained sum of squares (at most ``y'y``).
    """
    # deferred: only the metrics' variance decomposition needs scipy.linalg
    from scipy import linalg

    d = gram.shape[0]
    out = np.zeros(n_groups, dtype=np.float64)
    basis: list[int] = []
    chol = np.zeros((d, d), dtype=np.float64)  # rows: accepted columns' Cholesky rows (L')
    z = np.zeros(d, dtype=np.float64)
    count = 0
    for c in range(d):
        diag = float(gram[c, c])
        if diag <= 0:
            continue
        if count:
            v = linalg.solve_triangular(chol[:count, :count], gram[basis, c], trans="T")
            resid = diag - float(v @ v)
        else:
            v = np.zeros(0)
            resid = diag
        if resid <= tol * diag:
            continue
        root = float(np.sqrt(resid))
        chol[:count, count] = v
        chol[count, count] = root
        zc = (float(xty[c]) - float(v @ z[:count])) / root
        z[count] = zc
        basis.append(c)
        count += 1
        if groups[c] >= 0:
            out[groups[c]] += zc * zc
    return out


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) confidence interval of a proportion ``k / n``; ``(0, 1)`` when
    ``n`` is 0."""
    if n <= 0:
        return 0.0, 1.0
    tail = (1.0 - level) / 2.0
    low = 0.0 if k <= 0 else beta_ppf(tail, k, n - k + 1)
    high = 1.0 if k >= n else beta_ppf(1.0 - tail, k + 1, n - k)
    return low, high
