"""Correlation engine v2 on data shaped like the issue's real applications.

* Redis-like: 111 generated redis.conf files; three causes from the server's own errors —
  ``databases < 4``, an out-of-memory interval ``0 < maxmemory <= 1 MB`` (a pattern must bound
  one parameter on both sides) and ``appendonly == no and save == ""`` whose rows mostly also
  run out of memory (masking: found only once the OOM rows stop counting as evidence).
* ruff-like: 73 pyproject configs where ``target-version in {py37, py38, py39}`` fails 28/28
  (a set condition on a choice, significant despite the small sample).

Both go through :func:`configlab.analysis.analyze` on a :class:`ResultSet` with an inferred
space, as a new user would.
"""

from __future__ import annotations

import math
import random
from typing import Any

from configlab.analysis import analyze
from configlab.results import Result, ResultSet

MB = 1024 * 1024


def redis_like(seed: int = 7, n: int = 111) -> tuple[ResultSet, dict[str, int]]:
    rng = random.Random(seed)
    results = []
    causes = {"databases": 0, "oom": 0, "persistence": 0}
    for i in range(n):
        oom = rng.random() < 0.3
        config: dict[str, Any] = {
            "databases": rng.choice([1, 2, 3, 4, 8, 16, 16, 16, 64, 256]),
            "maxmemory": rng.choice([1, 65536, 512 * 1024, MB]) if oom else rng.choice(
                [0, 0, 0, 100 * MB, 512 * MB, 2048 * MB]),
            "appendonly": rng.choice(["yes", "no"]),
            "save": rng.choice(["", "3600 1", "3600 1 300 100 60 10000", "900 1"]),
            "appendfsync": rng.choice(["always", "everysec", "no"]),
            "io-threads": rng.choice([1, 2, 4, 8]),
            "list-max-listpack-size": rng.choice([-1, -2, -5, 128]),
            "maxmemory-policy": rng.choice(["noeviction", "allkeys-lru", "volatile-lfu"]),
            "hz": rng.choice([1, 10, 100, 500]),
            "loglevel": rng.choice(["debug", "verbose", "notice", "warning"]),
            "tcp-keepalive": rng.choice([0, 60, 300]),
            "protected-mode": rng.choice(["yes", "no"]),
        }
        if oom and rng.random() < 0.6:
            # the persistence failure mostly shows up together with out-of-memory
            config["appendonly"], config["save"] = "no", ""
        fail_db = config["databases"] < 4
        fail_oom = 0 < config["maxmemory"] <= MB
        fail_persist = config["appendonly"] == "no" and config["save"] == ""
        causes["databases"] += fail_db
        causes["oom"] += fail_oom
        causes["persistence"] += fail_persist
        outcome = "fail" if (fail_db or fail_oom or fail_persist) else "pass"
        results.append(Result(config=config, outcome=outcome, test_id="redis_starts",
                              run_id=f"r{i}"))
    return ResultSet(results), causes


def test_redis_like_three_causes_with_masking_and_interval() -> None:
    results, causes = redis_like()
    assert min(causes.values()) >= 8  # every cause has enough runs to be learnable
    report = analyze(results)
    found = [p.condition for p in report.patterns]
    assert "databases <= 3" in found
    assert "0 < maxmemory <= 1048576" in found or "maxmemory > 0 and maxmemory <= 1048576" in found
    assert 'appendonly == no and save == ""' in found or "appendonly == no and save == ''" in found
    # the three causes are the top three patterns, each exactly (no extra atom)
    assert len({*found[:3]}) == 3
    assert all(p.p_adjusted <= 0.05 for p in report.patterns[:3])


def ruff_like(seed: int = 3) -> ResultSet:
    rng = random.Random(seed)
    versions = ["py37", "py38", "py39", "py310", "py311", "py312", "py313"]
    results = []
    bad_left = 28
    for i in range(73):
        version = versions[i % len(versions)] if i < 70 else rng.choice(versions[3:])
        config = {
            "target-version": version,
            "line-length": rng.choice([79, 88, 100, 120]),
            "lint.select": rng.choice(["E", "E,F", "ALL", "E,W,F,I"]),
            "lint.preview": rng.choice([True, False]),
            "indent-width": rng.choice([2, 4, 8]),
            "format.quote-style": rng.choice(["double", "single", "preserve"]),
        }
        fails = version in ("py37", "py38", "py39")
        if fails:
            bad_left -= 1
        # two unrelated failures from elsewhere
        fails = fails or i in (5, 41)
        results.append(Result(config=config, outcome="fail" if fails else "pass",
                              test_id="ruff_check"))
    assert bad_left <= 0
    return ResultSet(results)


def test_ruff_like_set_condition_is_significant_and_top() -> None:
    report = analyze(ruff_like())
    top = report.patterns[0]
    # the versions are ordered (py310 after py39): a user writes the bound, not the set
    assert top.condition == "target-version <= py39"
    assert top.atoms[0].to_dict() == {"param": "target-version", "op": "<=", "value": "py39"}
    assert top.support == top.coverage >= 28
    assert top.p_adjusted < 0.01


# ----------------------------------------------------------------- selection, bookkeeping, charts


def test_select_by_test_run_outcome_time_and_where() -> None:
    import pytest

    from configlab.errors import ResultsError

    rows = [
        Result({"db": db, "workers": w}, "fail" if db == "pg" and w > 2 else "pass",
               test_id=f"t.py::{name}[{w}]", run_id=run,
               timestamp=f"2026-01-0{day}T00:00:00Z")
        for day, (db, w, name, run) in enumerate(
            [("pg", 4, "a", "r1"), ("pg", 1, "a", "r1"), ("lite", 4, "b", "r2"),
             ("pg", 3, "b", "r2")], start=1)
    ]
    results = ResultSet(rows)
    assert len(results.select(test_id="t.py::a*")) == 2
    assert len(results.select(run_id=["r2"])) == 2
    assert [r.outcome for r in results.select(outcome="fail")] == ["fail", "fail"]
    assert len(results.select(since="2026-01-02", until="2026-01-03T00:00:00Z")) == 2
    picked = results.select(where="db == 'pg' and workers > 2")
    assert [r.config["workers"] for r in picked] == [4, 3]
    with pytest.raises(ResultsError, match="--outcome"):
        results.select(outcome="boom")
    with pytest.raises(ResultsError, match="--where"):
        results.select(where="db ==")
    with pytest.raises(ResultsError, match="--since"):
        results.select(since="yesterday")


def test_analyze_cli_selection_and_mixed_tests_warning(tmp_path: Any) -> None:
    import json

    from click.testing import CliRunner

    from configlab.cli import cli

    results, _ = redis_like()
    other = [Result({"databases": 16, "maxmemory": 0}, "fail", test_id="other_test")
             for _ in range(5)]
    path = ResultSet([*results, *other]).to_jsonl(tmp_path / "r.jsonl")
    run = CliRunner().invoke(cli, ["analyze", "--results", str(path), "--json"])
    assert run.exit_code == 0, run.output
    codes = [w["code"] for w in json.loads(run.stdout)["warnings"]]
    assert "mixed_tests" in codes
    run = CliRunner().invoke(cli, ["analyze", "--results", str(path), "--json",
                                   "--test-id", "redis_starts", "--where", "databases >= 4"])
    assert run.exit_code == 0, run.output
    report = json.loads(run.stdout)
    assert "mixed_tests" not in [w["code"] for w in report["warnings"]]
    assert report["summary"]["n_rows"] == sum(
        1 for r in results if r.config["databases"] >= 4)
    bad = CliRunner().invoke(cli, ["analyze", "--results", str(path), "--where", "databases >"])
    assert bad.exit_code == 2 and "--where" in bad.output


def test_bookkeeping_metrics_and_metrics_on_passing_runs() -> None:
    rng = random.Random(5)
    rows = []
    for _ in range(300):
        slow = rng.choice([True, False])
        crash = rng.random() < 0.3
        config = {"slow": slow, "level": rng.choice(["a", "b", "c"])}
        duration = (0.01 if crash else (2.0 if slow else 1.0)) + rng.random() * 0.1
        rows.append(Result(config, "fail" if crash else "pass", duration=duration,
                           metrics={"exit_status": 1.0 if crash else 0.0, "wall_s": duration}))
    report = analyze(ResultSet(rows))
    assert report.summary.metrics == ("duration",)
    assert any(w.code == "bookkeeping_metrics" and "exit_status" in w.message
               for w in report.warnings)
    top = report.sensitivity[0]
    assert top.metric == "duration"
    # measured on passing runs only: the crash durations do not dilute the effect
    assert top.n == sum(1 for r in rows if r.outcome == "pass")


def test_impact_bars_sorted_by_plotted_value_and_titled() -> None:
    report = analyze(redis_like()[0])
    title, xlabel, items, values = report.impact_bars()
    assert "failure" in title and "Cramér" in xlabel
    assert values == sorted(values, reverse=True)
    assert len(items) == len(values)


# ----------------------------------------------------------------- statistics against scipy


def test_statistics_match_scipy() -> None:
    import numpy as np
    import pytest
    from scipy import stats

    from configlab.analysis import _causes
    from configlab.analysis import _stats as st

    for k, n in [(0, 10), (3, 10), (10, 10), (28, 28), (1, 1000), (500, 1000)]:
        ci = stats.binomtest(k, n).proportion_ci(method="exact")
        assert st.clopper_pearson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-9)
    assert st.clopper_pearson(0, 0) == (0.0, 1.0)
    # one-sided Fisher exact test of a condition (k failing of its n rows; F of N overall)
    for k, total, fails, n in [(28, 73, 30, 28), (4, 16, 4, 4), (12, 111, 40, 14)]:
        table = [[k, n - k], [fails - k, total - n - (fails - k)]]
        expected = stats.fisher_exact(table, alternative="greater")[1]
        assert st.hypergeom_sf(k, total, fails, n) == pytest.approx(expected, rel=1e-9)
        assert math.exp(_causes._log_fisher(k, total, fails, n)) == pytest.approx(expected,
                                                                                  rel=1e-9)
    # far beyond float underflow the bound keeps candidates ordered
    assert _causes._log_fisher(6000, 20000, 6000, 6000) < _causes._log_fisher(
        5000, 20000, 6000, 5000) < -700
    # the one-sided G statistic of a 2 x 2 table is scipy's log-likelihood-ratio statistic
    n_cell, f_cell, total, fails = 120.0, 90.0, 1000.0, 300.0
    table = np.array([[f_cell, n_cell - f_cell],
                      [fails - f_cell, total - n_cell - (fails - f_cell)]])
    g = stats.chi2_contingency(table, correction=False, lambda_="log-likelihood")[0]
    ours = _causes._g_score(np.array([n_cell]), np.array([f_cell]), total, fails)[0]
    assert ours == pytest.approx(g, rel=1e-9)
    # a cell whose failure rate is not above the rest scores 0
    assert _causes._g_score(np.array([100.0]), np.array([10.0]), total, fails)[0] == 0.0


def test_order_bounds_only_on_version_like_choices() -> None:
    from configlab.analysis._causes import natural_order, order_bound

    labels = ["py310", "py37", "py39", "py38", "py311"]
    assert [labels[c] for c in natural_order(labels) or []] == [
        "py37", "py38", "py39", "py310", "py311"]
    assert natural_order(["1.10", "1.2", "1.9"]) == [1, 2, 0]
    assert natural_order(["fast", "slow", "auto"]) is None  # names: no order
    assert natural_order(["py37", "v38", "py39"]) is None  # mixed prefixes
    assert natural_order(["a1", "a2"]) is None  # too few levels to read an order into
    seen = list(range(5))
    assert order_bound(labels, seen, [1, 3]) == ("<=", "py38")
    assert order_bound(labels, seen, [0, 4]) == (">=", "py310")
    assert order_bound(labels, seen, [1, 2]) is None  # py37, py39: not contiguous, a set
    assert order_bound(labels, seen, [1, 3, 2, 0]) is None  # all but one: reads as !=
    assert order_bound(["x", "y", "z", "w"], [0, 1, 2, 3], [0, 1]) is None


def test_set_condition_on_unordered_choice() -> None:
    rng = random.Random(9)
    rows = []
    for _ in range(400):
        backend = rng.choice(["sqlite", "postgres", "mysql", "oracle", "mssql"])
        fails = backend in ("mysql", "mssql") or rng.random() < 0.02
        rows.append(Result({"backend": backend, "pool": rng.choice([1, 2, 4, 8]),
                            "tls": rng.choice([True, False])}, "fail" if fails else "pass"))
    report = analyze(ResultSet(rows))
    assert report.patterns[0].condition == "backend in {mssql, mysql}"


def test_patterns_carry_confidence_intervals() -> None:
    report = analyze(ruff_like())
    top = report.patterns[0]
    low, high = top.confidence_interval
    assert low > 0.85 and high == 1.0
    assert report.to_dict()["patterns"][0]["confidence_interval"] == [low, high]


def test_confounding_screen_on_large_result_sets() -> None:
    import numpy as np

    from configlab.analysis import analyze_encoded
    from configlab.results.encoded import FAIL, PASS, EncodedResults

    rng = np.random.Generator(np.random.PCG64(11))
    n = 6000
    a = rng.integers(0, 3, size=n)
    other = rng.integers(0, 2, size=n)
    fail = (a == 1) | (rng.random(n) < 0.02)

    def enc(b: Any) -> EncodedResults:
        return EncodedResults(
            ("a", "b", "c"), (("x", "y", "z"), ("x", "y", "z"), ("p", "q")),
            np.stack([a, b, other], axis=1).astype(np.int32),
            np.where(fail, FAIL, PASS).astype(np.int8))

    same = analyze_encoded(enc(a.copy()))  # b always equals a: confounded
    assert [c.params for c in same.confidence.confounded] == [("a", "b")]
    free = analyze_encoded(enc(rng.integers(0, 3, size=n)))
    assert free.confidence.confounded == ()


def test_suggestions_are_valid_configs_of_the_space() -> None:
    from configlab.space import Space

    rng = random.Random(4)
    rows = []
    for _ in range(120):
        on = rng.choice([True, False])
        # appendonly and fsync always changed together: confounded, so runs are suggested
        config = {"appendonly": on, "fsync": on, "level": rng.choice(["a", "b", "c"])}
        rows.append(Result(config, "fail" if on and rng.random() < 0.9 else "pass"))
    space = Space.from_dict({
        "parameters": {"appendonly": "bool", "fsync": "bool", "level": ["a", "b", "c"]},
        "constraints": ["not (appendonly == false and fsync == true)"],
    })
    report = analyze(ResultSet(rows), space)
    suggestions = report.confidence.suggestions
    assert suggestions and all(s.config is not None for s in suggestions)
    for s in suggestions:
        assert space.is_valid(s.config)
        assert s.to_dict()["config"] == s.config
    assert any(w.code == "suggestion_infeasible" for w in report.warnings)
    # without the space, nothing is realised (and nothing dropped)
    bare = analyze_encoded_of(rows)
    assert all(s.config is None for s in bare.confidence.suggestions)


def analyze_encoded_of(rows: list[Result]) -> Any:
    from configlab.analysis import analyze_encoded

    results = ResultSet(rows)
    return analyze_encoded(results.encode(results.infer_space()))


def test_redis_like_through_the_cli(tmp_path: Any) -> None:
    """The Redis-like case as a user runs it: a JSON lines file, ``configlab analyze --json``."""
    import json

    from click.testing import CliRunner

    from configlab.cli import cli

    results, _ = redis_like()
    path = results.to_jsonl(tmp_path / "redis.jsonl")
    run = CliRunner().invoke(cli, ["analyze", "--results", str(path), "--json"])
    assert run.exit_code == 0, run.output
    patterns = json.loads(run.stdout)["patterns"]
    assert [p["condition"] for p in patterns[:3]] == [
        "databases <= 3", "0 < maxmemory <= 1048576", 'appendonly == no and save == ""']
    # the interval bounds one parameter on both sides: two atoms on maxmemory, nothing else
    assert patterns[1]["atoms"] == [{"param": "maxmemory", "op": ">", "value": 0.0},
                                    {"param": "maxmemory", "op": "<=", "value": 1048576.0}]
    assert all(p["p_adjusted"] <= 0.05 for p in patterns[:3])


def test_suggestions_respect_active_if() -> None:
    from configlab.space import Space

    # cache_size exists only when the cache is enabled: in the data the two always change
    # together (confounded), and the naive suggestions "cache_size absent with the cache
    # enabled" / "a size with the cache disabled" name configs the space forbids
    space = Space.from_dict({"parameters": {
        "cache_enabled": "bool",
        "cache_size": {"type": "int", "min": 1, "max": 512, "active_if": "cache_enabled"},
        "level": ["a", "b", "c"],
    }})
    rng = random.Random(6)
    rows = []
    for _ in range(150):
        on = rng.random() < 0.5
        config: dict[str, Any] = {"cache_enabled": on, "level": rng.choice(["a", "b", "c"])}
        if on:
            config["cache_size"] = rng.choice([1, 64, 512])
        rows.append(Result(config, "fail" if on and rng.random() < 0.8 else "pass"))
    report = analyze(ResultSet(rows), space)
    assert report.confidence.confounded  # the pair the data cannot tell apart
    for s in report.confidence.suggestions:
        assert s.config is not None and space.is_valid(s.config), s.text
    assert not space.is_valid({"cache_enabled": True, "level": "a"})  # required when active
    assert not any("cache_size=absent" in s.text and "cache_enabled=true" in s.text
                   for s in report.confidence.suggestions)
    # every "missing combination" of this pair breaks active_if: all four are dropped, said so
    assert report.confidence.suggestions == ()
    assert any(w.code == "suggestion_infeasible" and w.message.startswith("4 suggested")
               for w in report.warnings)


def _small_sample(seed: int) -> tuple[list[Result], int]:
    """200 runs of 12 parameters: a frequent single cause, a rare 2-way cause (few rows, high
    base failure rate) and one passing run of the frequent cause (noise) under ``p1 == z``."""
    rng = random.Random(seed)
    rows = []
    pair = 0
    for i in range(200):
        config: dict[str, Any] = {f"p{j}": rng.choice(["a", "b", "c", "d"]) for j in range(2, 12)}
        config["p0"] = rng.choices(["a", "b", "c"], weights=[6, 3, 1])[0]
        config["p1"] = rng.choice(["t", "u", "v", "w", "x", "y"])
        if i in (7, 8, 9):  # the rare level z: three runs of the cause, one of them passed
            config.update(p0="a", p1="z")
        fail = config["p0"] == "a" or (config["p2"] == "b" and config["p3"] == "c")
        pair += config["p2"] == "b" and config["p3"] == "c"
        if i == 7:  # the noise run: the cause holds, yet it passed
            fail = False
        rows.append(Result(config, "fail" if fail else "pass"))
    return rows, pair


def test_small_samples_no_stand_in_atom_and_a_rare_pair_is_found() -> None:
    # seed 9: 7 of the pair's runs fall outside p0 == a (with 3 or fewer, as in other seeds,
    # no test can tell the pair from chance among the 720 pair cells)
    rows, pair = _small_sample(9)
    assert pair == 20
    found = [p.condition for p in analyze(ResultSet(rows)).patterns]
    # one passing run of the cause does not earn ``p1 != z`` a place in it
    assert found[0] == "p0 == a"
    # the rare pair, most of whose runs also fail through p0 == a, is still found exactly
    assert "p2 == b and p3 == c" in found


def test_parsimony_corrects_for_the_regions_refinement_chose_among() -> None:
    """The issue's typical miss (``p023 != v4 and p029 < 0.036``): a cause whose runs all fail
    but one, and that one sits with two failing runs at a rare level of another parameter.
    Alone, ``p1 != z`` looks significant given ``p0 == a`` (one-sided Fisher p = 4/125 =
    0.032 < 0.05); it was picked as the best of p1's six prefix sets, so corrected it goes."""
    import numpy as np
    import pytest

    from configlab.analysis import _causes
    from configlab.analysis import _stats as st

    p0 = np.array([0] * 125 + [1] * 40 + [2] * 35)
    p1 = np.array([i % 6 for i in range(121)] + [6] * 4 + [i % 7 for i in range(75)])
    fail = np.zeros(200, dtype=np.bool_)
    fail[:124] = True  # every run of p0 == a fails but the last z run
    fail[125:145:2] = True  # background failures elsewhere
    codes = np.stack([p0, p1], axis=1).astype(np.int64)
    cols = _causes._columns(codes, [3, 7], {})
    search = _causes._Search(cols, fail, alpha=0.05, min_support=2)
    rows = np.arange(200, dtype=np.int64)
    a = _causes.Region(0, codes=(0,))
    not_z = _causes.Region(1, codes=(0, 1, 2, 3, 4, 5))
    # uncorrected, the atom would stay: 121 of 121 fail inside, 3 of 4 at z
    assert st.hypergeom_sf(121, 125, 124, 121) == pytest.approx(4 / 125)
    assert search.parsimony([a, not_z], rows) == [a]


def test_bounded_row_caches_change_nothing(monkeypatch: Any) -> None:
    """The search keeps region masks and rows_where answers up to a byte budget; a budget so
    small that both caches are cleared again and again gives the same report."""
    from configlab.analysis import _causes

    results, _ = redis_like()
    expected = analyze(results).to_dict()["patterns"]
    monkeypatch.setattr(_causes, "_MASK_BYTES", 300)  # a couple of 111-row masks at most
    assert analyze(results).to_dict()["patterns"] == expected
