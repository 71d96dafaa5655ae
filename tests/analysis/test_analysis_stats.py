"""The statistics behind the correlation engine, checked against SciPy and hand computations."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

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


def test_fisher_two_sided_matches_scipy_on_large_and_symmetric_tables() -> None:
    """The other tail's edge is searched with log-space values where they are far from the
    target and exact integer ratios where close: ties between the two tails of symmetric
    tables are seen as ties, as scipy sees them, and large tables give scipy's p-value."""
    rng = np.random.default_rng(7)
    tables = [[[a, m - a], [m - a, a]] for m in (1, 2, 7, 30) for a in range(m + 1)]
    for total in (20, 2_000, 100_000):
        for _ in range(40):
            n1, n = (int(v) for v in rng.integers(1, total, size=2))
            a = int(rng.integers(max(0, n - (total - n1)), min(n1, n) + 1))
            tables.append([[a, n1 - a], [n - a, total - n1 - n + a]])
    for table in tables:
        _fisher_close(table)


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


def _exact_pmf(k: int, total: int, successes: int, draws: int) -> Fraction:
    return Fraction(math.comb(successes, k) * math.comb(total - successes, draws - k),
                    math.comb(total, draws))


def _close(mine: float, theirs: float, rel: float) -> bool:
    if math.isnan(theirs) or math.isinf(theirs):
        return mine == theirs or (math.isnan(mine) and math.isnan(theirs))
    return abs(mine - theirs) <= rel * abs(theirs)


def test_hypergeom_functions_match_exact_values() -> None:
    """pmf, cdf and sf against exact rational arithmetic (``math.comb``) on tables up to 3,000
    rows, with k at and beyond both ends of the support: within 1e-12 relative, also for the
    tails SciPy computes as one minus a probability near 1."""
    for k, total, successes, draws in _hypergeom_cases():
        if total > 3000 or _support_empty(total, successes, draws):
            continue
        lo, hi = max(draws - (total - successes), 0), min(successes, draws)
        pmfs = {i: _exact_pmf(i, total, successes, draws) for i in range(lo, hi + 1)}
        exact_cdf = sum((v for i, v in pmfs.items() if i <= k), Fraction(0))
        exact_sf = 1 - exact_cdf
        case = (k, total, successes, draws)
        assert _close(st.hypergeom_pmf(*case), float(pmfs.get(k, Fraction(0))), 1e-12), case
        assert _close(st.hypergeom_cdf(*case), float(exact_cdf), 1e-12), case
        assert _close(st.hypergeom_upper(*case), float(exact_sf), 1e-12), case
        for mine, tail in ((st.hypergeom_logsf, exact_sf), (st.hypergeom_logcdf, exact_cdf)):
            # logs of the exact fractions: below float range too
            exact = -math.inf if tail == 0 else (
                math.log(tail.numerator) - math.log(tail.denominator) if tail < 0.5
                else math.log1p(-float(1 - tail)))
            assert _close(mine(*case), exact, 1e-12), (mine.__name__, case)
    # P(X > 0) = 1/3000 and P(X <= 0) = 1/3000: one minus 2999/3000 would keep ~1e-13 of it
    assert _close(st.hypergeom_upper(0, 3000, 1, 1), 1 / 3000, 1e-14)
    assert _close(st.hypergeom_cdf(0, 3000, 2999, 1), 1 / 3000, 1e-14)


def _support_empty(total: int, successes: int, draws: int) -> bool:
    return total <= 0 or successes > total or draws > total


def test_hypergeom_functions_match_scipy_stats() -> None:
    """The same functions beside scipy.stats.hypergeom (Boost) on every case, 100,000-row
    tables included: within 1e-11 relative wherever SciPy's value is a normal float (both
    carry rounding errors there, ~|log p| * 2e-16 for ours), logs within 1e-7 (SciPy's log of
    a tail near 1 keeps fewer digits: log P(X > 0) for 2,999 of 3,000 is off by 2e-8)."""
    functions = [(st.hypergeom_pmf, sps.hypergeom.pmf), (st.hypergeom_cdf, sps.hypergeom.cdf),
                 (st.hypergeom_upper, sps.hypergeom.sf)]
    logs = [(st.hypergeom_logsf, sps.hypergeom.logsf),
            (st.hypergeom_logcdf, sps.hypergeom.logcdf)]
    cases = _hypergeom_cases()
    assert len(cases) > 300
    for case in cases:
        for mine, theirs in functions:
            value = float(theirs(*case))
            tolerance = 1e-11 if abs(value) > 1e-300 else 1e-300
            got = mine(*case)
            assert _close(got, value, 1e-11) or abs(got - value) <= tolerance, (
                mine.__name__, case, got, value)
        for mine, theirs in logs:
            assert _close(mine(*case), float(theirs(*case)), 1e-7), (mine.__name__, case)
    # the log tail keeps going where the tail itself underflows to 0
    assert st.hypergeom_upper(29_999, 100_000, 50_000, 30_287) == 0.0
    assert -30_000 < st.hypergeom_logsf(29_999, 100_000, 50_000, 30_287) < -15_000
    assert _close(st.hypergeom_logsf(29_999, 100_000, 50_000, 30_287),
                  float(sps.hypergeom.logsf(29_999, 100_000, 50_000, 30_287)), 1e-12)
    # not a distribution: NaN, as scipy.stats says
    for mine in (st.hypergeom_pmf, st.hypergeom_cdf, st.hypergeom_upper, st.hypergeom_logsf,
                 st.hypergeom_logcdf):
        assert math.isnan(mine(1, 5, 6, 2)) and math.isnan(mine(0, 0, 0, 0))


def _fisher_close(table: list[list[int]]) -> None:
    mine, theirs = st.fisher_exact_two_sided(table), float(sps.fisher_exact(table).pvalue)
    # Boost's pmf loses digits in subnormal territory (below 2.2e-308)
    assert _close(mine, theirs, 1e-11) or (theirs < 1e-300 and mine < 1e-300), (
        table, mine, theirs)


def test_fisher_two_sided_equals_scipy() -> None:
    rng = np.random.default_rng(5)
    tables = [[[0, 0], [3, 4]], [[5, 1], [1, 7]], [[3, 3], [3, 3]], [[0, 9], [9, 0]],
              [[1200, 31], [2800, 900]], [[8, 27], [3, 8]]]
    for _ in range(1500):
        top = 30 if rng.random() < 0.8 else 3000
        a, b, c, d = rng.integers(0, top, size=4).tolist()
        tables.append([[a, b], [c, d]])
    for table in tables:
        _fisher_close(table)
    # pmf(8) == pmf(9) exactly here (ratio 27 * 3 / (9 * 9)): the observed table is the
    # likeliest, p = 1, although the log-space values differ in the 15th digit
    assert st.fisher_exact_two_sided([[8, 27], [3, 8]]) == 1.0


def test_continuous_tails_quantiles_and_ranks_equal_scipy() -> None:
    rng = np.random.default_rng(9)
    x = np.concatenate([rng.exponential(5.0, 300), rng.exponential(300.0, 100),
                        [0.0, np.inf, 1e-300, 800.0, 1e-5]])
    dfn = rng.integers(1, 40, x.size)
    dfd = rng.integers(1, 5000, x.size)
    chi2 = sps.chi2.sf(x, dfn)
    normal = chi2 > 1e-300
    np.testing.assert_allclose(st.chi2_sf(x, dfn)[normal], chi2[normal], rtol=1e-12)
    np.testing.assert_allclose(st.chi2_sf(x, dfn)[~normal], chi2[~normal], atol=1e-300)
    big = rng.integers(40, 400, x.size)
    np.testing.assert_allclose(st.chi2_sf(x * 10, big), sps.chi2.sf(x * 10, big), rtol=1e-11,
                               atol=1e-300)
    np.testing.assert_allclose(st.chi2_sf(2.5, 3.5), sps.chi2.sf(2.5, 3.5), rtol=1e-13)
    assert np.isnan(st.chi2_sf([np.nan, 1.0], [1, 0])).all()
    np.testing.assert_array_equal(st.f_sf(x, dfn, dfd), sps.f.sf(x, dfn, dfd))
    for q in (0.025, 0.975, 1e-6):
        for a in (1, 2, 3, 50, 30_000, 99_999):
            for b in (1, 2, 77, 9000, 99_999):
                assert _close(st.beta_ppf(q, a, b), float(sps.beta.ppf(q, a, b)), 1e-12), (
                    q, a, b)
    assert _close(st.beta_ppf(0.3, 2.5, 0.7), float(sps.beta.ppf(0.3, 2.5, 0.7)), 1e-14)
    for values in (rng.integers(0, 20, 500).astype(float), rng.normal(size=300),
                   np.array([1.0]), np.array([2.0, 2.0]), np.zeros(0)):
        ranks = st.rankdata(values)
        np.testing.assert_array_equal(ranks, sps.rankdata(values))
        if values.size:
            assert st.tiecorrect(ranks) == float(sps.tiecorrect(ranks))
    assert st.tiecorrect(np.zeros(0)) == 1.0


def test_log_comb_matches_exact_values() -> None:
    n = np.array([0, 1, 5, 15, 16, 40, 3000, 100_000])
    k = np.array([0, 1, 2, 7, 8, 13, 1000, 30_000])
    exact = [math.log(math.comb(a, b)) if math.comb(a, b) < 2**1000
             else math.lgamma(a + 1) - math.lgamma(b + 1) - math.lgamma(a - b + 1)
             for a, b in zip(n.tolist(), k.tolist(), strict=True)]
    np.testing.assert_allclose(st.log_comb(n, k), exact, rtol=1e-13, atol=1e-13)
    assert st.log_comb(np.zeros((2, 3)), 0).shape == (2, 3)


def test_analyze_runs_without_importing_scipy_polars_or_pandas(tmp_path: Path) -> None:
    """``configlab analyze`` of a results file (failure tests with chi-square and Fisher,
    cause search, Clopper-Pearson intervals) imports neither scipy.stats (~0.5 s of CPU) nor
    scipy.special (0.1-0.3 s); a plain JSON lines file is encoded from Arrow's table without
    Polars (~0.2 s) or pandas (which pyarrow's ``to_numpy`` would import: 0.15-0.25 s)."""
    import subprocess
    import sys

    rng = np.random.default_rng(3)
    lines = []
    for i in range(400):
        config = {"mode": ["a", "b", "c"][i % 3], "flag": bool(rng.random() < 0.5),
                  "rare": "x" if i == 7 else "y", "size": int(rng.integers(0, 100))}
        failed = (config["mode"] == "b" and config["flag"]) or rng.random() < 0.05
        lines.append(json.dumps({"test_id": "t", "config": config,
                                 "outcome": "fail" if failed else "pass"}))
    path = tmp_path / "results.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code = ("import sys\n"
            "from configlab.cli import main\n"
            f"sys.argv = ['configlab', 'analyze', '--results', {str(path)!r}, '--json', "
            f"{str(tmp_path / 'report.json')!r}, '-q']\n"
            "try:\n    main()\nexcept SystemExit as stop:\n    assert not stop.code, stop.code\n"
            "print(sorted(m for m in sys.modules\n"
            "             if m.split('.')[0] in ('scipy', 'polars', 'pandas')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["patterns"][0]["condition"] == "flag == true and mode == b"
    tests = {entry["failure"]["test"] for entry in report["impact"]}
    assert {"chi2", "fisher"} <= tests


def test_binomial_point_probabilities_match_scipy() -> None:
    """Loader's binomial log-probabilities (the hypergeometric ones are ratios of them) beside
    scipy.stats.binom, support edges and degenerate p included (1e-10: SciPy's own value of
    log P(X = 1) for n = 100,000, p = 1e-9 is off by 8e-11)."""
    for n in (0, 1, 7, 40, 1000, 100_000):
        for p in (0.0, 1e-9, 0.05, 0.5, 0.93, 1.0):
            for x in sorted({-1, 0, 1, n // 3, n - 1, n, n + 1}):
                mine = st._log_binom_pmf(x, n, p, 1.0 - p)
                theirs = float(sps.binom.logpmf(x, n, p))
                assert mine == theirs or abs(mine - theirs) <= 1e-10 * max(1.0, abs(theirs)), (
                    x, n, p, mine, theirs)
    assert st._log_one_minus_exp(0.0) == -math.inf
    assert st._log_one_minus_exp(-1e-20) == pytest.approx(math.log(1e-20))
    assert st._log_one_minus_exp(-50.0) == pytest.approx(-math.exp(-50.0), rel=1e-12)
