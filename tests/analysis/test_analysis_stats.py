"""The statistics behind the correlation engine, checked against SciPy and hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from scipy import stats as sps

from configlab.analysis import _stats as st


def test_bh_matches_scipy_and_handles_nan_and_empty() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.2, 0.5, 0.001])
    np.testing.assert_allclose(st.bh_adjust(p), sps.false_discovery_control(p, method="bh"))
    assert st.bh_adjust([]).size == 0
    assert st.bh_adjust([np.nan, 0.01])[0] == 1.0


def test_holm_by_hand() -> None:
    p = np.array([0.01, 0.04, 0.03])
    # sorted 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> running max 0.03, 0.06, 0.06
    np.testing.assert_allclose(st.holm_adjust(p), [0.03, 0.06, 0.06])
    assert st.holm_adjust([]).size == 0
    assert st.holm_adjust([0.9, 0.8])[0] == 1.0


@given(
    hs.integers(2, 300).flatmap(
        lambda total: hs.tuples(
            hs.just(total),
            hs.integers(1, total),
            hs.integers(1, total),
        )
    ),
    hs.integers(0, 300),
)
@settings(max_examples=150, deadline=None)
def test_hypergeom_bound_brackets_exact_tail(
    params: tuple[int, int, int], k_raw: int
) -> None:
    total, fails, draws = params
    lo = max(0, draws - (total - fails))
    hi = min(draws, fails)
    k = lo + k_raw % (hi - lo + 1)
    bound = float(st.hypergeom_log_sf_bound(k, total, fails, draws))
    exact = float(sps.hypergeom.logsf(k - 1, total, fails, draws)) if k >= 1 else 0.0
    assert bound <= 1e-9
    assert bound >= exact - 1e-6  # an upper bound on the p-value
    mode = (draws + 1) * (fails + 1) / (total + 2)
    if k >= 1 and k > mode + 1:
        assert bound - exact <= math.log(20.0)  # tight: within the geometric factor


def test_hypergeom_sf_equals_one_sided_fisher() -> None:
    total, fails, draws, k = 200, 30, 25, 12
    table = [[k, draws - k], [fails - k, total - fails - draws + k]]
    expected = sps.fisher_exact(table, alternative="greater").pvalue
    assert st.hypergeom_sf(k, total, fails, draws) == pytest.approx(expected, rel=1e-9)
    assert st.hypergeom_sf(0, total, fails, draws) == 1.0


def test_chi2_kx2_matches_scipy_and_degenerate_rows() -> None:
    rng = np.random.default_rng(1)
    counts = rng.integers(10, 60, size=(5, 4)).astype(float)
    counts[2, 3] = 0.0  # a class never seen
    fails = np.floor(counts * rng.random((5, 4)))
    stat, dof, p, min_exp = st.chi2_kx2(counts, fails)
    for j in range(5):
        present = counts[j] > 0
        table = np.stack([fails[j, present], counts[j, present] - fails[j, present]], axis=1)
        ref = sps.chi2_contingency(table, correction=False)
        assert stat[j] == pytest.approx(ref.statistic)
        assert dof[j] == ref.dof
        assert p[j] == pytest.approx(ref.pvalue)
        assert min_exp[j] == pytest.approx(ref.expected_freq.min())
    v = math.sqrt(stat[0] / counts[0].sum())
    table0 = np.stack([fails[0], counts[0] - fails[0]], axis=1).astype(int)
    assert v == pytest.approx(sps.contingency.association(table0, method="cramer"))
    deg_counts = np.array([[10.0, 0.0], [5.0, 5.0], [4.0, 6.0]])
    deg_fails = np.array([[3.0, 0.0], [0.0, 0.0], [4.0, 6.0]])
    stat, dof, p, _ = st.chi2_kx2(deg_counts, deg_fails)
    assert list(dof) == [0, 0, 0] and list(p) == [1.0, 1.0, 1.0] and list(stat) == [0, 0, 0]


def test_mutual_information_by_entropies() -> None:
    counts = np.array([[40.0, 60.0, 0.0]])
    fails = np.array([[30.0, 6.0, 0.0]])
    n = counts.sum()
    f = fails.sum()
    h_y = sps.entropy([f / n, 1 - f / n], base=2)
    h_y_x = sum(
        counts[0, c] / n * sps.entropy([fails[0, c] / counts[0, c], 1 - fails[0, c] / counts[0, c]],
                                       base=2)
        for c in range(2)
    )
    assert st.mutual_information_kx2(counts, fails)[0] == pytest.approx(h_y - h_y_x)


def test_risk_difference_by_hand() -> None:
    counts = np.array([[10.0, 30.0, 0.0], [5.0, 0.0, 0.0]])
    fails = np.array([[8.0, 3.0, 0.0], [1.0, 0.0, 0.0]])
    rd, cls = st.risk_difference(counts, fails)
    assert rd[0] == pytest.approx(0.8 - 3.0 / 30.0)
    assert cls[0] == 0
    assert rd[1] == 0.0 and cls[1] == -1  # a single class has no "rest"
    empty_rd, empty_cls = st.risk_difference(np.zeros((2, 0)), np.zeros((2, 0)))
    assert list(empty_rd) == [0.0, 0.0] and list(empty_cls) == [-1, -1]


def test_fisher_kx2() -> None:
    counts = np.array([6.0, 8.0])
    fails = np.array([5.0, 1.0])
    expected = sps.fisher_exact([[5, 1], [1, 7]]).pvalue
    assert st.fisher_kx2(counts, fails) == pytest.approx(expected)
    counts3 = np.array([6.0, 8.0, 7.0])
    fails3 = np.array([5.0, 1.0, 1.0])
    per_class = [
        sps.fisher_exact([[5, 1], [2, 13]]).pvalue,
        sps.fisher_exact([[1, 7], [6, 7]]).pvalue,
        sps.fisher_exact([[1, 6], [6, 8]]).pvalue,
    ]
    assert st.fisher_kx2(counts3, fails3) == pytest.approx(min(1.0, 3 * min(per_class)))
    assert st.fisher_kx2(np.array([5.0, 0.0]), np.array([1.0, 0.0])) == 1.0


def test_fisher_two_sided_is_scipys_value_exactly() -> None:
    """The other tail's edge is searched with log-space values where they are far from the
    target and Boost's pmf where close: every comparison, hence the p-value, is scipy's, on
    large tables and on symmetric ones (ties between the two tails)."""
    rng = np.random.default_rng(7)
    tables = [[[a, m - a], [m - a, a]] for m in (1, 2, 7, 30) for a in range(m + 1)]
    for total in (20, 2_000, 100_000):
        for _ in range(40):
            n1, n = (int(v) for v in rng.integers(1, total, size=2))
            a = int(rng.integers(max(0, n - (total - n1)), min(n1, n) + 1))
            tables.append([[a, n1 - a], [n - a, total - n1 - n + a]])
    for table in tables:
        assert st.fisher_exact_two_sided(table) == sps.fisher_exact(table).pvalue, table


def test_anova_and_kruskal_match_scipy() -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 3, size=(120, 2)).astype(np.int64)
    y = codes[:, 0] * 1.5 + rng.normal(size=120)
    y = np.round(y, 1)  # create ties for the Kruskal tie correction
    offsets = np.array([0, 3], dtype=np.int64)
    counts = st.grouped_sums(codes, offsets, 6, None).reshape(2, 3)
    centred = y - y.mean()
    sums = st.grouped_sums(codes, offsets, 6, centred).reshape(2, 3)
    total_ss = float(centred @ centred)
    eta, p = st.anova_from_sums(counts, sums, total_ss, 120)
    ranks = sps.rankdata(y)
    rank_sums = st.grouped_sums(codes, offsets, 6, ranks).reshape(2, 3)
    kp = st.kruskal_from_rank_sums(counts, rank_sums, 120, float(sps.tiecorrect(ranks)))
    for j in range(2):
        groups = [y[codes[:, j] == c] for c in range(3)]
        assert p[j] == pytest.approx(sps.f_oneway(*groups).pvalue)
        assert kp[j] == pytest.approx(sps.kruskal(*groups).pvalue)
        between = sum(g.size * (g.mean() - y.mean()) ** 2 for g in groups)
        assert eta[j] == pytest.approx(between / total_ss)
    zero_eta, zero_p = st.anova_from_sums(counts, sums, 0.0, 120)
    assert list(zero_eta) == [0.0, 0.0] and list(zero_p) == [1.0, 1.0]
    assert list(st.kruskal_from_rank_sums(counts, rank_sums, 120, 0.0)) == [1.0, 1.0]
    # a perfectly separating factor: zero within-group variance
    exact_counts = np.array([[2.0, 2.0]])
    exact_sums = np.array([[-2.0, 2.0]])
    eta1, p1 = st.anova_from_sums(exact_counts, exact_sums, 4.0, 4)
    assert eta1[0] == pytest.approx(1.0) and p1[0] == 0.0


def test_sequential_ss_matches_nested_least_squares() -> None:
    rng = np.random.default_rng(5)
    n = 300
    a = rng.integers(0, 3, size=n)
    b = np.where(rng.random(n) < 0.7, a % 2, rng.integers(0, 2, size=n))  # correlated with a
    y = 2.0 * (a == 1) + 1.0 * b + rng.normal(size=n)
    cols = [np.ones(n)] + [(a == c).astype(float) for c in range(3)]
    cols += [(b == c).astype(float) for c in range(2)]
    x = np.stack(cols, axis=1)
    groups = np.array([-1, 0, 0, 0, 1, 1])
    ss = st.sequential_ss(x.T @ x, x.T @ y, groups, 2)

    def rss(design: np.ndarray) -> float:
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        r = y - design @ coef
        return float(r @ r)

    r0 = rss(x[:, :1])
    r1 = rss(x[:, :4])
    r2 = rss(x)
    assert ss[0] == pytest.approx(r0 - r1)
    assert ss[1] == pytest.approx(r1 - r2)
    # a column of zeros and a duplicated group contribute nothing
    x2 = np.concatenate([x, np.zeros((n, 1)), x[:, 1:4]], axis=1)
    g2 = np.array([-1, 0, 0, 0, 1, 1, 2, 2, 2, 2])
    ss2 = st.sequential_ss(x2.T @ x2, x2.T @ y, g2, 3)
    assert ss2[2] == pytest.approx(0.0, abs=1e-8)


# ------------------------------------------------- distributions without importing scipy.stats


def _hypergeom_cases() -> list[tuple[int, int, int, int]]:
    """(k, total, successes, draws) over small, edge and 100,000-row parameters, with k at and
    beyond both ends of the support."""
    rng = np.random.default_rng(11)
    cases = []
    shapes = [(total, successes, draws)
              for total in (1, 2, 5, 13, 40, 200, 3000)
              for successes in sorted({0, 1, total // 3, total - 1, total})
              for draws in sorted({0, 1, total // 4, total})]
    shapes += [(100_000, 50_000, 30_287), (90_690, 45_664, 11_333), (2000, 60, 17)]
    for total, successes, draws in shapes:
        lo, hi = max(draws - (total - successes), 0), min(successes, draws)
        inside = rng.integers(lo, hi + 1, 3).tolist()
        for k in sorted({lo - 1, lo, (lo + hi) // 2, hi - 1, hi, hi + 1, *inside}):
            cases.append((k, total, successes, draws))
    return cases


def test_hypergeom_functions_equal_scipy_stats() -> None:
    """pmf, cdf, sf and the log tails give scipy.stats.hypergeom's values bit for bit (the same
    kernels and support handling), including underflow territory for the log tails."""
    functions = [(st.hypergeom_pmf, sps.hypergeom.pmf), (st.hypergeom_cdf, sps.hypergeom.cdf),
                 (st.hypergeom_upper, sps.hypergeom.sf),
                 (st.hypergeom_logsf, sps.hypergeom.logsf),
                 (st.hypergeom_logcdf, sps.hypergeom.logcdf)]
    cases = _hypergeom_cases()
    assert len(cases) > 300
    for k, total, successes, draws in cases:
        for mine, theirs in functions:
            assert mine(k, total, successes, draws) == float(theirs(k, total, successes, draws)), (
                mine.__name__, k, total, successes, draws)
    # the log tail keeps going where the tail itself underflows to 0
    assert st.hypergeom_upper(29_999, 100_000, 50_000, 30_287) == 0.0
    assert -30_000 < st.hypergeom_logsf(29_999, 100_000, 50_000, 30_287) < -15_000
    # not a distribution: NaN, as scipy.stats says
    for mine in (st.hypergeom_pmf, st.hypergeom_cdf, st.hypergeom_upper, st.hypergeom_logsf,
                 st.hypergeom_logcdf):
        assert math.isnan(mine(1, 5, 6, 2)) and math.isnan(mine(0, 0, 0, 0))


def test_fisher_two_sided_equals_scipy() -> None:
    rng = np.random.default_rng(5)
    tables = [[[0, 0], [3, 4]], [[5, 1], [1, 7]], [[3, 3], [3, 3]], [[0, 9], [9, 0]],
              [[1200, 31], [2800, 900]]]
    for _ in range(1500):
        top = 30 if rng.random() < 0.8 else 3000
        a, b, c, d = rng.integers(0, top, size=4).tolist()
        tables.append([[a, b], [c, d]])
    for table in tables:
        assert st.fisher_exact_two_sided(table) == float(sps.fisher_exact(table).pvalue), table


def test_continuous_tails_quantiles_and_ranks_equal_scipy() -> None:
    rng = np.random.default_rng(9)
    x = np.concatenate([rng.exponential(5.0, 300), [0.0, np.inf, 1e-300, 800.0]])
    dfn = rng.integers(1, 40, x.size)
    dfd = rng.integers(1, 5000, x.size)
    np.testing.assert_array_equal(st.chi2_sf(x, dfn), sps.chi2.sf(x, dfn))
    np.testing.assert_array_equal(st.f_sf(x, dfn, dfd), sps.f.sf(x, dfn, dfd))
    for q in (0.025, 0.975):
        for a in (1, 3, 50, 30_000):
            for b in (1, 2, 77, 9000):
                assert st.beta_ppf(q, a, b) == float(sps.beta.ppf(q, a, b))
    for values in (rng.integers(0, 20, 500).astype(float), rng.normal(size=300),
                   np.array([1.0]), np.array([2.0, 2.0]), np.zeros(0)):
        ranks = st.rankdata(values)
        np.testing.assert_array_equal(ranks, sps.rankdata(values))
        if values.size:
            assert st.tiecorrect(ranks) == float(sps.tiecorrect(ranks))
    assert st.tiecorrect(np.zeros(0)) == 1.0


def test_analysis_does_not_import_scipy_stats() -> None:
    """The in-memory engine stays off scipy.stats (its import is ~0.5 s of CPU)."""
    import subprocess
    import sys

    code = ("import sys; import configlab.analysis as a; a.analyze_encoded; "
            "import configlab.analysis._suggest; "
            "print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
