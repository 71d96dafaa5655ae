"""Vectorised statistics for the correlation engine (:mod:`configlab.analysis._analysis`).

Everything here is written once, works on whole arrays (one row per parameter or per candidate
condition) and is checked against SciPy in the tests.  Nothing here raises on degenerate input:
empty groups, zero variance and zero failures give neutral values (p = 1, effect = 0).

The distributions ``configlab analyze`` needs on every run (hypergeometric and binomial tails,
Fisher's exact test, chi-square tails, the beta quantiles of Clopper-Pearson intervals) are
computed here with :mod:`math`: importing :mod:`scipy.special` alone costs 0.1-0.3 s of CPU
(its array-API layer clones NumPy's namespace, loading ``numpy.testing``, ``numpy.f2py`` and
``numpy.ma``), an eighth of the 2 s budget of ``configlab analyze`` on 100,000 results.  The
point probabilities use Loader's saddle-point expansion ("Fast and accurate computation of
binomial probabilities", 2000; the algorithm of R's ``dbinom``/``dhyper``), tails the ratio
series of R's ``phyper`` from that point, so the values agree with SciPy's (Boost's and
Cephes') to about 1e-12 relative, which the tests check.  The F tail and non-integer beta
quantiles, needed only with metrics or by callers outside the search, still come from SciPy
(imported on first use).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def _special() -> Any:
    """:mod:`scipy.special`, imported on first use (see the module note)."""
    # deferred: ~0.2 s of import that the search and the failure tests never need
    from scipy import special

    return special


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


# --------------------------------------------------------------------------- point probabilities

_LN_SQRT_2PI = 0.918938533204672741780329736406  # log(sqrt(2 pi))
_LN_2PI = 1.837877066409345483560659472811  # log(2 pi)
#: ``log(n!) - log(sqrt(2 pi n) (n / e)^n)`` for n = 0..15 (Stirling's error, to 25 digits;
#: 0 at n = 0 by convention: that term is never used there)
_STIRLERR_SMALL = [
    0.0, 0.08106146679532725821967026, 0.04134069595540929409382208,
    0.02767792568499833914878929, 0.02079067210376509311152277, 0.01664469118982119216319487,
    0.01387612882307074799874573, 0.01189670994589177009505572, 0.01041126526197209649747857,
    0.009255462182712732917728637, 0.008330563433362871256469319,
    0.007573675487951840794972024, 0.006942840107209529865664153,
    0.006408994188004207068439631, 0.005951370112758847735624416,
    0.00555473355196280137103869,
]
_S0, _S1, _S2, _S3, _S4 = 1 / 12, 1 / 360, 1 / 1260, 1 / 1680, 1 / 1188


def _stirlerr(n: float) -> float:
    """Stirling's error ``log(n!) - log(sqrt(2 pi n) (n / e)^n)`` (Loader's series)."""
    if n <= 15.0:
        if n == int(n):
            return _STIRLERR_SMALL[int(n)]
        return math.lgamma(n + 1.0) - (n + 0.5) * math.log(n) + n - _LN_SQRT_2PI
    nn = n * n
    if n > 500:
        return (_S0 - _S1 / nn) / n
    if n > 80:
        return (_S0 - (_S1 - _S2 / nn) / nn) / n
    if n > 35:
        return (_S0 - (_S1 - (_S2 - _S3 / nn) / nn) / nn) / n
    return (_S0 - (_S1 - (_S2 - (_S3 - _S4 / nn) / nn) / nn) / nn) / n


def _bd0(x: float, mean: float) -> float:
    """The deviance term ``x log(x / mean) + mean - x``, without its cancellation near
    ``x == mean`` (Loader's series)."""
    if abs(x - mean) < 0.1 * (x + mean):
        v = (x - mean) / (x + mean)
        s = (x - mean) * v
        ej = 2.0 * x * v
        v *= v
        for j in range(1, 1000):  # v^2 < 0.01: ~8 terms reach double precision
            ej *= v
            s1 = s + ej / (2 * j + 1)
            if s1 == s:
                return s1
            s = s1
    return x * math.log(x / mean) + mean - x


def _log_binom_pmf(x: float, n: float, p: float, q: float) -> float:
    """``log P(X == x)`` for ``X ~ Binomial(n, p)``, ``q = 1 - p`` given separately so that
    neither loses digits (Loader's ``dbinom_raw``)."""
    if p == 0.0:
        return 0.0 if x == 0 else -math.inf
    if q == 0.0:
        return 0.0 if x == n else -math.inf
    if x == 0:
        if n == 0:
            return 0.0
        return -_bd0(n, n * q) - n * p if p < 0.1 else n * math.log(q)
    if x == n:
        return -_bd0(n, n * p) - n * q if q < 0.1 else n * math.log(p)
    if x < 0 or x > n:
        return -math.inf
    lc = (_stirlerr(n) - _stirlerr(x) - _stirlerr(n - x)
          - _bd0(x, n * p) - _bd0(n - x, n * q))
    return lc - 0.5 * (_LN_2PI + math.log(x) + math.log1p(-x / n))


def _log_hypergeom_pmf(k: int, total: int, successes: int, draws: int) -> float:
    """``log P(X == k)`` for ``X ~ Hypergeom(total, successes, draws)`` as a ratio of binomial
    probabilities at ``p = draws / total`` (R's ``dhyper``), valid parameters assumed."""
    bad = total - successes
    if k < 0 or draws < k or successes < k or draws - k > bad:
        return -math.inf
    if draws == 0:
        return 0.0 if k == 0 else -math.inf
    p = draws / total
    q = (total - draws) / total
    return (_log_binom_pmf(k, successes, p, q) + _log_binom_pmf(draws - k, bad, p, q)
            - _log_binom_pmf(draws, total, p, q))


#: first chunk of a tail's ratio series (doubled each further chunk)
_FIRST_CHUNK = 32


def _ratio_series(ratio: Callable[[FloatArray], FloatArray], start: int, stop: int,
                  step: int) -> float:
    """``sum_j prod_{i <= j} ratio(i)`` over ``i = start, start + step, ...`` (not reaching
    ``stop``): a tail's probabilities relative to its first one, summed by vectorised chunks
    until a term no longer changes the sum (the loop of R's ``pdhyper``)."""
    total = 0.0
    term = 1.0
    size = _FIRST_CHUNK
    i = start
    while (i - stop) * step < 0:
        end = i + step * size
        if (end - stop) * step > 0:
            end = stop
        idx = np.arange(i, end, step, dtype=np.float64)
        terms = term * np.cumprod(ratio(idx))
        total += float(terms.sum())
        term = float(terms[-1])
        if term < 2.220446049250313e-16 * total or term == 0.0:
            break
        i = end
        size *= 2
    return total


def _hypergeom_log_lower(k: int, total: int, successes: int, draws: int) -> float:
    """``log P(X <= k)`` for ``k`` in the support and at most the mean (R's ``phyper``)."""
    bad = total - successes
    d = _log_hypergeom_pmf(k, total, successes, draws)
    # pmf(i - 1) / pmf(i) = i (bad - draws + i) / ((draws + 1 - i) (successes + 1 - i))
    series = _ratio_series(
        lambda i: i * (bad - draws + i) / ((draws + 1 - i) * (successes + 1 - i)), k, 0, -1)
    return d + math.log1p(series)


def _log_one_minus_exp(x: float) -> float:
    """``log(1 - exp(x))`` for ``x <= 0``, accurate at both ends."""
    if x == 0.0:
        return -math.inf
    return math.log(-math.expm1(x)) if x > -math.log(2.0) else math.log1p(-math.exp(x))


def _hypergeom_log_tail(k: int, total: int, successes: int, draws: int, lower: bool) -> float:
    """``log P(X <= k)`` (``lower``) or ``log P(X > k)``: the tail on the near side of ``k``
    (R's ``phyper``), or, when the other one is asked and is below one half, that one summed
    directly (one minus a probability near 1 would keep only its absolute accuracy)."""
    if k * total > draws * successes:  # k beyond the mean: count the other way round
        successes = total - successes
        k = draws - k - 1
        lower = not lower
    if k < 0 or k < draws - (total - successes):
        return -math.inf if lower else 0.0
    if k >= successes or k >= draws:
        return 0.0 if lower else -math.inf
    value = _hypergeom_log_lower(k, total, successes, draws)
    if lower:
        return value
    if value < -math.log(2.0):
        return _log_one_minus_exp(value)
    bad = total - successes
    # P(X > k) from pmf(k + 1) up: pmf(i + 1) / pmf(i) = (s - i)(d - i) / ((i + 1)(b - d + i + 1))
    series = _ratio_series(
        lambda i: (successes - i) * (draws - i) / ((i + 1.0) * (bad - draws + i + 1.0)),
        k + 1, min(successes, draws), 1)
    return _log_hypergeom_pmf(k + 1, total, successes, draws) + math.log1p(series)


def _lgamma(x: FloatArray) -> FloatArray:
    """``log Gamma(x)`` of positive ``x``, elementwise: :func:`math.lgamma` below 16, Stirling's
    series (error below 1e-16 relative) above."""
    out = np.empty(x.shape, dtype=np.float64)
    small = x < 16.0
    if np.any(small):
        out[small] = [math.lgamma(v) for v in x[small].tolist()]
    big = x[~small]
    inv = 1.0 / big
    inv2 = inv * inv
    series = inv * (_S0 - inv2 * (_S1 - inv2 * (_S2 - inv2 * (_S3 - inv2 * _S4))))
    out[~small] = (big - 0.5) * np.log(big) - big + _LN_SQRT_2PI + series
    return out


# --------------------------------------------------------------------------- hypergeometric


def log_comb(n: npt.ArrayLike, k: npt.ArrayLike) -> FloatArray:
    """Natural log of the binomial coefficient C(n, k) (n, k >= 0, k <= n), elementwise."""
    n_ = np.asarray(n, dtype=np.float64)
    k_ = np.asarray(k, dtype=np.float64)
    n_, k_ = np.broadcast_arrays(n_, k_)
    shape = n_.shape
    n_, k_ = n_.ravel(), k_.ravel()
    gammas = _lgamma(np.concatenate([n_ + 1.0, k_ + 1.0, n_ - k_ + 1.0]))
    size = n_.size
    result = gammas[:size] - gammas[size:2 * size] - gammas[2 * size:]
    return result.reshape(shape)


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


def _support(total: int, successes: int, draws: int) -> tuple[int, int] | None:
    """Lowest and highest value of ``Hypergeom(total, successes, draws)``, or None when the
    parameters are not a distribution (``scipy.stats`` gives NaN there)."""
    if total <= 0 or successes < 0 or draws < 0 or successes > total or draws > total:
        return None
    return max(draws - (total - successes), 0), min(successes, draws)


def hypergeom_pmf(k: int, total: int, successes: int, draws: int) -> float:
    """``P(X == k)`` for ``X ~ Hypergeom(total, successes, draws)`` (``scipy.stats.hypergeom
    .pmf(k, total, successes, draws)``)."""
    support = _support(total, successes, draws)
    if support is None:
        return math.nan
    if not support[0] <= k <= support[1]:
        return 0.0
    return min(1.0, math.exp(_log_hypergeom_pmf(k, total, successes, draws)))


def hypergeom_cdf(k: int, total: int, successes: int, draws: int) -> float:
    """``P(X <= k)`` (``scipy.stats.hypergeom.cdf``)."""
    return _exp(hypergeom_logcdf(k, total, successes, draws))


def hypergeom_upper(k: int, total: int, successes: int, draws: int) -> float:
    """``P(X > k)`` (``scipy.stats.hypergeom.sf``)."""
    return _exp(hypergeom_logsf(k, total, successes, draws))


def _exp(log_value: float) -> float:
    # a probability from its log (NaN, for parameters that are no distribution, stays NaN)
    return log_value if math.isnan(log_value) else min(1.0, math.exp(log_value))


def hypergeom_logsf(k: int, total: int, successes: int, draws: int) -> float:
    """``log P(X > k)`` (``scipy.stats.hypergeom.logsf``), accurate far below where ``P``
    itself underflows."""
    if _support(total, successes, draws) is None:
        return math.nan
    return min(0.0, _hypergeom_log_tail(k, total, successes, draws, lower=False))


def hypergeom_logcdf(k: int, total: int, successes: int, draws: int) -> float:
    """``log P(X <= k)`` (``scipy.stats.hypergeom.logcdf``)."""
    if _support(total, successes, draws) is None:
        return math.nan
    return min(0.0, _hypergeom_log_tail(k, total, successes, draws, lower=True))


def hypergeom_sf(k: int, total: int, successes: int, draws: int) -> float:
    """Exact ``P(X >= k)`` for ``X ~ Hypergeom(total, successes, draws)`` (one-sided Fisher)."""
    if k <= 0:
        return 1.0
    value = hypergeom_upper(k - 1, total, successes, draws)
    return min(1.0, max(0.0, value))


def _binary_search(below: Callable[[int], bool], lo: int, hi: int) -> int:
    # scipy.stats' search for the other tail's edge in a two-sided exact test: the i in
    # [lo, hi] with pmf(i) <= target < pmf(i + 1), ``pmf`` ascending on the range;
    # ``below(i)``: pmf(i) is on the target's low side (its comparisons never tie: equal
    # probabilities within the tolerance count as not more likely)
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if below(mid):
            lo = mid + 1
        else:
            hi = mid - 1
    return lo if below(lo) else lo - 1


#: log-probabilities closer than this are compared exactly (their error is below 1e-11)
_NEAR = 1e-9
#: scipy.stats.fisher_exact's relative tolerance for "no more likely than the observed table"
_TIES = 10**14


def _more_likely(x: int, y: int, total: int, successes: int, draws: int) -> bool:
    """Whether ``pmf(x) > pmf(y) * (1 + 1e-14)`` for ``Hypergeom(total, successes, draws)``:
    from the log-probabilities when they are clearly apart, else exactly, with integers (ties
    between the two tails of a symmetric table must be seen as ties; log-space values carry
    errors of ~|log p| * 2e-16, more than the tolerance)."""
    gap = (_log_hypergeom_pmf(x, total, successes, draws)
           - _log_hypergeom_pmf(y, total, successes, draws))
    if gap > _NEAR:
        return True
    if gap < -_NEAR:
        return False
    if x == y:
        return False
    # pmf(hi) / pmf(lo) = num / den, exactly: the product of the ratios of neighbours
    bad = total - successes
    num = den = 1
    for i in range(min(x, y), max(x, y)):
        num *= (successes - i) * (draws - i)
        den *= (i + 1) * (bad - draws + i + 1)
    px, py = (num, den) if x > y else (den, num)
    return px * _TIES > py * (_TIES + 1)


def fisher_exact_two_sided(table: Sequence[Sequence[int]]) -> float:
    """Two-sided p-value of Fisher's exact test of a 2 x 2 table (``scipy.stats.fisher_exact``,
    the same algorithm: the tail beyond the observed table plus the other tail's tables no
    more likely than it, "no more likely" with scipy's relative tolerance of 1e-14)."""
    (a, b), (c, d) = table
    if 0 in (a + b, c + d, a + c, b + d):
        return 1.0
    n1, n2, n = a + b, c + d, a + c
    total = n1 + n2
    mode = int((n + 1) * (n1 + 1) / (total + 2))

    def above(x: int) -> bool:  # pmf(x) > pmf(a) * (1 + 1e-14)
        return _more_likely(x, a, total, n1, n)

    if not above(mode):  # the observed table is (within the tolerance) the likeliest
        return 1.0
    if a < mode:
        plower = hypergeom_cdf(a, total, n1, n)
        if above(n):
            return min(plower, 1.0)
        guess = _binary_search(above, mode, n)
        return min(plower + hypergeom_upper(guess, total, n1, n), 1.0)
    pupper = hypergeom_upper(a - 1, total, n1, n)
    if above(0):
        return min(pupper, 1.0)
    guess = _binary_search(lambda x: not above(x), 0, mode)
    return min(pupper + hypergeom_cdf(guess, total, n1, n), 1.0)


# --------------------------------------------------------------------------- continuous tails


def _gamma_q(a: float, x: float) -> float:
    """Regularised upper incomplete gamma ``Q(a, x)`` for ``a > 0``, ``0 < x < inf``: the power
    series of ``P`` below ``max(a, 1)``, Lentz's continued fraction of ``Q`` above (Cephes'
    split), with the factor ``x^a e^-x / Gamma(a)`` from Loader's terms (no cancellation of
    large logarithms)."""
    # x^a e^-x / Gamma(a + 1) = e^(-stirlerr(a) - bd0(a, x)) / sqrt(2 pi a)
    front = math.exp(-_stirlerr(a) - _bd0(a, x)) / math.sqrt(2.0 * math.pi * a)
    if x < 1.0 or x < a:
        term = total = 1.0
        n = a
        while term > 1e-17 * total:
            n += 1.0
            term *= x / n
            total += term
        return max(0.0, 1.0 - front * total)
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return front * a * h


def chi2_sf(x: npt.ArrayLike, dof: npt.ArrayLike) -> FloatArray:
    """Chi-square upper tail ``P(X > x)`` (``scipy.stats.chi2.sf(x, dof)``, ``dof > 0``)."""
    x_, dof_ = np.broadcast_arrays(np.asarray(x, dtype=np.float64),
                                   np.asarray(dof, dtype=np.float64))
    out = np.empty(x_.shape, dtype=np.float64)
    flat = out.reshape(-1)
    for i, (value, k) in enumerate(zip(x_.ravel().tolist(), dof_.ravel().tolist(),
                                             strict=True)):
        if math.isnan(value) or math.isnan(k) or k <= 0:
            flat[i] = math.nan
        elif value <= 0:
            flat[i] = 1.0
        elif math.isinf(value):
            flat[i] = 0.0
        else:
            flat[i] = _gamma_q(k / 2.0, value / 2.0)
    return out


def f_sf(x: npt.ArrayLike, dfn: npt.ArrayLike, dfd: npt.ArrayLike) -> FloatArray:
    """F upper tail ``P(X > x)`` (``scipy.stats.f.sf(x, dfn, dfd)``, degrees > 0)."""
    x_ = np.asarray(x, dtype=np.float64)
    out = _special().fdtrc(np.asarray(dfn, dtype=np.float64),
                           np.asarray(dfd, dtype=np.float64), x_)
    return np.asarray(np.where(x_ <= 0, 1.0, np.where(np.isposinf(x_), 0.0, out)),
                      dtype=np.float64)


def _binom_upper(k: int, n: int, p: float) -> float:
    """``P(X >= k)`` for ``X ~ Binomial(n, p)``, ``1 <= k <= n``, ``0 < p < 1``: the tail on
    the far side of the mean summed from its first term, the other one minus that."""
    q = 1.0 - p
    if k > n * p:
        # pmf(i + 1) / pmf(i) = (n - i) p / ((i + 1) q), i = k, k + 1, ...
        series = _ratio_series(lambda i: (n - i) * p / ((i + 1.0) * q), k, n, 1)
        return math.exp(_log_binom_pmf(k, n, p, q) + math.log1p(series))
    # P(X <= k - 1): pmf(i - 1) / pmf(i) = i q / ((n - i + 1) p), i = k - 1, k - 2, ...
    series = _ratio_series(lambda i: i * q / ((n - i + 1.0) * p), k - 1, 0, -1)
    return -math.expm1(_log_binom_pmf(k - 1, n, p, q) + math.log1p(series))


def _beta_ppf_integer(q: float, a: int, b: int) -> float:
    """The ``x`` with ``I_x(a, b) = q`` for integer ``a, b >= 1``: ``I_x(a, b)`` is the binomial
    tail ``P(Binomial(a + b - 1, x) >= a)``, solved by Newton's method (the beta density as
    derivative) kept inside a shrinking bracket."""
    if a == 1:
        return -math.expm1(math.log1p(-q) / b)
    if b == 1:
        return math.exp(math.log(q) / a)
    n = a + b - 1
    lo, hi = 0.0, 1.0
    x = a / (a + b)
    for _ in range(400):
        gap = _binom_upper(a, n, x) - q
        if gap == 0.0:
            return x
        if gap < 0.0:
            lo = x
        else:
            hi = x
        # density of Beta(a, b) at x: (n) * P(Binomial(n - 1, x) == a - 1)
        density = n * math.exp(_log_binom_pmf(a - 1, n - 1, x, 1.0 - x))
        step = gap / density if density > 0.0 else math.inf
        new = x - step
        if not lo < new < hi:
            new = 0.5 * (lo + hi)
        if abs(new - x) <= 4e-16 * new or hi - lo <= 4e-16 * hi:
            return new
        x = new
    return x  # pragma: no cover - Newton inside a bracket converges long before


def beta_ppf(q: float, a: float, b: float) -> float:
    """Quantile of the beta distribution (``scipy.stats.beta.ppf``) for ``0 < q < 1``,
    ``a, b > 0`` (integer ``a, b`` without SciPy: the Clopper-Pearson intervals' case)."""
    if a == int(a) and b == int(b):
        return _beta_ppf_integer(q, int(a), int(b))
    # deferred: SciPy's Boost kernel for the general case (not on the analysis path)
    from scipy.special._ufuncs import _beta_ppf

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
