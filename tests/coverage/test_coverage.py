"""Coverage metrics (NIST CCM), gaps, gap-filling suggestions and chart data."""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from configlab import coverage
from configlab.errors import AnalysisError, ResultsError, UnsatisfiableSpaceError
from configlab.results import Result, ResultSet
from configlab.results.encoded import EncodedResults
from configlab.space import Space

# --------------------------------------------------------------------------- helpers

BOOLS4 = Space.from_dict({"parameters": {"a": "bool", "b": "bool", "c": "bool", "d": "bool"}})
#: The example test set of the NIST CCM tutorial (four binary variables, four tests).
NIST_ROWS = ["0000", "0110", "1001", "0111"]


def _bool_results(rows: list[str], outcomes: list[str] | None = None) -> ResultSet:
    outcomes = outcomes or ["pass"] * len(rows)
    return ResultSet(
        Result({k: v == "1" for k, v in zip("abcd", row, strict=True)}, outcome)
        for row, outcome in zip(rows, outcomes, strict=True)
    )


def _choice_space(sizes: list[int], constraints: list[str] | None = None) -> Space:
    return Space.from_dict({
        "parameters": {f"p{i}": {"type": "choice", "values": list(range(n))}
                       for i, n in enumerate(sizes)},
        "constraints": constraints or [],
    })


def _brute(space: Space, rows: list[tuple[int, ...]], t: int) -> dict[str, Any]:
    """Reference CCM figures by exhaustive enumeration."""
    sizes = [len(p.value_classes) for p in space.parameters]
    valid_rows = [codes for codes in itertools.product(*(range(s) for s in sizes))
                  if space.is_valid(space.decode(codes))]
    combos = list(itertools.combinations(range(len(sizes)), t))
    per: list[tuple[int, int, int]] = []
    for combo in combos:
        valid = {tuple(r[p] for p in combo) for r in valid_rows}
        seen = {tuple(r[p] for p in combo) for r in rows}
        total = int(np.prod([sizes[p] for p in combo]))
        per.append((len(seen & valid), len(valid), total - len(valid)))
    covered = sum(c for c, _, _ in per)
    valid = sum(v for _, v, _ in per)
    ratios = [c / v if v else 1.0 for c, v, _ in per]
    return {
        "covered": covered, "valid": valid, "invalid": sum(i for _, _, i in per),
        "simple": sum(1 for r in ratios if r >= 1.0) / len(ratios),
        "per": per, "ratios": ratios,
    }


# --------------------------------------------------------------------------- hand-computed


def test_nist_tutorial_example() -> None:
    """Kuhn et al.: 19 of 24 pairs covered (79 %), 2 of 6 combinations complete (33 %)."""
    report = coverage.measure(_bool_results(NIST_ROWS), BOOLS4, 2)
    assert (report.covered, report.valid, report.invalid) == (19, 24, 0)
    assert report.ratio == pytest.approx(19 / 24)
    assert report.main.simple == pytest.approx(2 / 6)
    per_pair = {k: v.ratio for k, v in report.per_pair.items()}
    assert per_pair == {("a", "b"): 0.75, ("a", "c"): 0.75, ("a", "d"): 0.75,
                        ("b", "c"): 0.5, ("b", "d"): 1.0, ("c", "d"): 1.0}
    assert report.combinations[("b", "c")].covered == 2
    curve = dict(report.main.curve)
    assert curve[0.0] == 1.0 and curve[0.5] == 1.0
    assert curve[0.75] == pytest.approx(5 / 6)
    assert curve[1.0] == pytest.approx(2 / 6)
    assert report.main.at_least(0.8) == pytest.approx(2 / 6)
    assert report.level(1).ratio == 1.0
    assert report.per_parameter["a"].covered == 2
    gap_list = coverage.gaps(_bool_results(NIST_ROWS), BOOLS4, 2)
    missing = [str(ref) for gap in gap_list for ref in gap.missing]
    assert missing == ["a=true, b=true", "a=true, c=true", "a=true, d=false",
                       "b=false, c=true", "b=true, c=false"]


def test_three_way_and_to_dict_json() -> None:
    report = coverage.measure(_bool_results(NIST_ROWS), BOOLS4, 3)
    brute = _brute(BOOLS4, [tuple(int(c) for c in r) for r in NIST_ROWS], 3)
    assert (report.covered, report.valid) == (brute["covered"], brute["valid"])
    assert [lv.t for lv in report.levels] == [1, 2, 3]
    data = json.loads(json.dumps(report.to_dict()))
    assert data["strength"] == 3 and data["levels"][2]["covered"] == brute["covered"]
    assert "combinations" not in report.to_dict(detail=False)["levels"][0]
    with pytest.raises(AnalysisError):
        report.level(4)


def test_constraint_excluded_tuples_are_not_gaps() -> None:
    space = Space.from_dict({
        "parameters": {"db": ["sqlite", "postgres"], "pool": {"type": "int", "min": 1, "max": 4}},
        "constraints": ["db == 'sqlite' -> pool == 1"],
    })
    pool_classes = [c.label for c in space.param("pool").value_classes]
    configs = [{"db": "postgres", "pool": c.value} for c in space.param("pool").value_classes]
    configs.append({"db": "sqlite", "pool": 1})
    report = coverage.measure(configs, space, 2)
    assert report.invalid == len(pool_classes) - 1
    assert report.ratio == 1.0 and report.valid == len(pool_classes) + 1
    assert coverage.gaps(configs, space, 2) == []
    assert report.outcome is None  # plain configs carry no outcomes


def test_invalid_rows_do_not_count_invalid_tuples() -> None:
    space = _choice_space([2, 2], ["p0 != p1"])
    configs = [{"p0": 0, "p1": 0}]  # violates the constraint
    report = coverage.measure(configs, space, 2)
    assert (report.covered, report.valid, report.invalid) == (0, 2, 2)


def test_dead_values_and_unsatisfiable_space() -> None:
    space = _choice_space([3, 2, 2], ["p0 != 2"])
    report = coverage.measure([{"p0": 0, "p1": 0, "p2": 0}], space, 2)
    brute = _brute(space, [(0, 0, 0)], 2)
    assert (report.covered, report.valid, report.invalid) == (
        brute["covered"], brute["valid"], brute["invalid"])
    assert report.level(1).invalid == 1
    unsat = _choice_space([2], ["p0 == 5"])
    with pytest.raises(UnsatisfiableSpaceError):
        coverage.measure([{"p0": 0}], unsat, 1)


@st.composite
def _cases(draw: st.DrawFn) -> tuple[Space, list[tuple[int, ...]], int]:
    k = draw(st.integers(2, 4))
    sizes = draw(st.lists(st.integers(1, 3), min_size=k, max_size=k))
    pool = ["p0 != p1", "p0 == 0 -> p1 == 0", "p1 >= p0"]
    if k >= 3:
        pool += ["p0 + p2 <= 2", "p2 == 1 -> p1 != 1"]
    constraints = draw(st.lists(st.sampled_from(pool), max_size=2, unique=True))
    space = _choice_space(sizes, constraints)
    rows = draw(st.lists(
        st.tuples(*(st.integers(0, s - 1) for s in sizes)), max_size=8))
    t = draw(st.integers(1, min(3, k)))
    return space, rows, t


@given(_cases())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_measure_matches_brute_force(case: tuple[Space, list[tuple[int, ...]], int]) -> None:
    space, rows, t = case
    sizes = [len(p.value_classes) for p in space.parameters]
    try:
        brute = _brute(space, rows, t)
    except ZeroDivisionError:  # pragma: no cover - the generator never makes empty domains
        return
    satisfiable = brute["valid"] > 0 or any(
        space.is_valid(space.decode(c))
        for c in itertools.product(*(range(s) for s in sizes)))
    configs = [space.decode(r) for r in rows]
    if not satisfiable:
        with pytest.raises(UnsatisfiableSpaceError):
            coverage.measure(configs, space, t)
        return
    report = coverage.measure(configs, space, t)
    assert (report.covered, report.valid, report.invalid) == (
        brute["covered"], brute["valid"], brute["invalid"])
    assert report.main.simple == pytest.approx(brute["simple"])
    got = [(c.covered, c.valid, c.invalid) for c in report.main.combinations]
    assert got == brute["per"]
    missing = sum(len(g.missing) for g in coverage.gaps(configs, space, t))
    assert missing == brute["valid"] - brute["covered"]


@given(_cases(), st.integers(0, 3))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_suggest_closes_every_gap(case: tuple[Space, list[tuple[int, ...]], int],
                                  seed: int) -> None:
    space, rows, t = case
    configs = [space.decode(r) for r in rows]
    try:
        suggested = coverage.suggest(configs, space, t, seed=seed)
    except UnsatisfiableSpaceError:
        return
    assert all(space.is_valid(config) for config in suggested)
    assert coverage.measure(configs + suggested, space, t).ratio == 1.0
    assert coverage.suggest(configs, space, t, seed=seed) == suggested  # deterministic


# --------------------------------------------------------------------------- larger / encoded input


def _random_encoded(n: int, sizes: list[int], seed: int = 0) -> EncodedResults:
    rng = np.random.default_rng(seed)
    codes = np.stack([rng.integers(0, s, n) for s in sizes], axis=1).astype(np.int32)
    return EncodedResults(
        params=tuple(f"p{i}" for i in range(len(sizes))),
        class_labels=tuple(tuple(str(v) for v in range(s)) for s in sizes),
        codes=codes,
        outcomes=rng.integers(0, 2, n).astype(np.int8),
    )


def test_encoded_input_and_suggest_with_results() -> None:
    sizes = [3, 4, 2, 3, 5]
    space = _choice_space(sizes, ["p0 == 2 -> p1 != 3"])
    enc = _random_encoded(12, sizes)
    report = coverage.measure(enc, space, 2)
    brute = _brute(space, [tuple(r) for r in enc.codes.tolist()], 2)
    assert (report.covered, report.valid) == (brute["covered"], brute["valid"])
    suggested = coverage.suggest(enc, space, 2)
    results = ResultSet(Result(space.decode(r), "pass") for r in enc.codes.tolist())
    results.extend(Result(c, "pass") for c in suggested)
    assert coverage.measure(results, space, 2).ratio == 1.0
    other = _choice_space([2, 2])
    with pytest.raises(ResultsError):
        coverage.measure(enc, other, 2)


def test_suggest_budget_is_greedy_prefix() -> None:
    space = _choice_space([3, 3, 3, 3])
    full = coverage.suggest([], space, 2)
    assert coverage.measure(full, space, 2).ratio == 1.0
    top = coverage.suggest([], space, 2, budget=2)
    assert len(top) == 2
    assert coverage.measure(top, space, 2).covered == 12  # two disjoint rows cover 6 pairs each
    assert coverage.suggest([], space, 2, budget=0) == []
    for bad in (-1, 1.5, True):
        with pytest.raises(AnalysisError):
            coverage.suggest([], space, 2, budget=bad)  # type: ignore[arg-type]
    covered = coverage.suggest(full, space, 2, budget=3)
    assert covered == []


def test_skipped_runs_unclassified_values_and_outcomes() -> None:
    space = _choice_space([2, 2])
    results = ResultSet([
        Result({"p0": 0, "p1": 0}, "pass"),
        Result({"p0": 1, "p1": 1}, "fail"),
        Result({"p0": 1, "p1": 1}, "error"),
        Result({"p0": 0, "p1": 1}, "skip"),
        Result({"p0": 7, "p1": 0}, "pass"),  # 7 fits no class
    ])
    report = coverage.measure(results, space, 2)
    assert report.n_rows == 4 and report.covered == 2
    assert report.unclassified_cells == 1 and report.ignored_tuples == 1
    assert report.warnings and "fit no value class" in report.warnings[0]
    assert report.outcome is not None
    assert [str(r) for r in report.outcome.only_failing] == ["p0=1, p1=1"]
    assert report.outcome.only_failing_runs == (2,)
    assert report.outcome.only_passing == 1 and report.outcome.both == 0
    with_skipped = coverage.measure(results, space, 2, include_skipped=True)
    assert with_skipped.covered == 3 and with_skipped.n_rows == 5
    limited = coverage.measure(results, space, 2, max_only_failing=0)
    assert limited.outcome is not None and limited.outcome.only_failing == ()
    data = report.to_dict()
    assert data["outcome"]["only_failing"] == [
        {"tuple": {"p0": "1", "p1": "1"}, "failing_runs": 2}]


def test_strength_validation_and_clamping() -> None:
    space = _choice_space([2, 2])
    for bad in (0, 5, "2", True):
        with pytest.raises(AnalysisError):
            coverage.measure([], space, bad)  # type: ignore[arg-type]
    report = coverage.measure([{"p0": 0, "p1": 0}], space, 3)
    assert report.strength == 2 and any("clamped" in w for w in report.warnings)
    single = coverage.measure([], _choice_space([3]), 1)
    assert single.per_pair == {} and single.ratio == 0.0
    with pytest.raises(ResultsError):
        coverage.measure("nope", space)  # type: ignore[arg-type]
    with pytest.raises(ResultsError):
        coverage.measure([1, 2], space)  # type: ignore[list-item]
    with pytest.raises(AnalysisError):
        coverage.measure([], "space")  # type: ignore[arg-type]
    empty = coverage.measure([], space, 2)
    assert empty.covered == 0 and empty.valid == 4 and empty.main.curve[0] == (0.0, 1.0)


# --------------------------------------------------------------------------- gaps ranking


def test_gaps_ranked_by_weights_and_history() -> None:
    space = _choice_space([2, 2, 2])
    configs = [{"p0": 0, "p1": 0, "p2": 0}]
    plain = coverage.gaps(configs, space, 2)
    assert [g.params for g in plain] == [("p0", "p1"), ("p0", "p2"), ("p1", "p2")]
    assert [str(r) for r in plain[0].missing] == ["p0=0, p1=1", "p0=1, p1=0", "p0=1, p1=1"]
    assert plain[0].covered == 1 and plain[0].valid == 4
    weighted = coverage.gaps(configs, space, 2, weights={"p2": 5.0, "p1=1": 3.0})
    assert weighted[0].params == ("p1", "p2")
    assert [str(r) for r in weighted[0].missing][:2] == ["p1=1, p2=0", "p1=1, p2=1"]
    assert weighted[0].scores[:2] == (15.0, 15.0) and weighted[0].score == 15.0
    history = ResultSet([Result({"p0": 1, "p1": 0, "p2": 0}, "fail"),
                         Result({"p0": 0, "p1": 0, "p2": 0}, "pass")])
    ranked = coverage.gaps(configs, space, 2, history=history)
    assert ranked[0].params == ("p0", "p1")
    assert str(ranked[0].missing[0]) == "p0=1, p1=0"
    assert ranked[0].to_dict()["missing"][0] == {"values": {"p0": "1", "p1": "0"}, "score": 2.5}
    for bad in ({"zz": 1.0}, {"p0=nope": 1.0}, {"p0": -1}, {"p0": "x"}):
        with pytest.raises(AnalysisError):
            coverage.gaps(configs, space, 2, weights=bad)  # type: ignore[arg-type]
    with pytest.raises(AnalysisError):
        coverage.gaps(configs, space, 2, weights=[1.0])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- chart data


def test_chart_data_shapes_and_vega_specs() -> None:
    results = _bool_results(NIST_ROWS, ["pass", "fail", "pass", "pass"])
    data = coverage.chart_data(results, BOOLS4, 2)
    json.dumps(data)  # JSON-serialisable
    assert data["pairwise"]["params"] == ["a", "b", "c", "d"]
    matrix = data["pairwise"]["matrix"]
    assert len(matrix) == 4 and all(len(row) == 4 for row in matrix)
    assert matrix[1][2] == matrix[2][1] == 50.0 and matrix[0][0] == 100.0
    values = data["values"]
    assert values["pair"] == ["b", "c"]  # least covered pair
    assert len(values["cells"]) == 4
    assert sorted(c["state"] for c in values["cells"]) == ["covered", "covered", "missing",
                                                           "missing"]
    assert data["growth"]["n_tests"] == [1, 2, 3, 4]
    assert data["growth"]["coverage"] == [round(6 / 24, 6), round(11 / 24, 6),
                                          round(16 / 24, 6), round(19 / 24, 6)]
    assert [c["t"] for c in data["tv_curve"]] == [1, 2]
    for name in ("pairwise", "values", "growth", "tv_curve"):
        spec = data["vega_lite"][name]
        assert spec["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json"
        assert isinstance(spec["data"]["values"], list) and spec["data"]["values"]
    chosen = coverage.chart_data(results, BOOLS4, 2, pair=("d", "a"))
    cells = {(c["x"], c["y"]): c for c in chosen["values"]["cells"]}
    assert chosen["values"]["pair"] == ["d", "a"]
    assert cells[("false", "true")]["state"] == "missing"  # a=1, d=0 never tested
    assert cells[("true", "true")]["count"] == 1
    for bad in (("a",), ("a", "a"), ("a", "zz"), "ab"):
        with pytest.raises(AnalysisError):
            coverage.chart_data(results, BOOLS4, 2, pair=bad)  # type: ignore[arg-type]


def test_chart_data_downsamples_growth_and_marks_invalid() -> None:
    space = _choice_space([2, 2, 2], ["p0 != p1"])
    configs = [space.decode(r) for r in itertools.product([0, 1], [1, 0], [0, 1])
               if r[0] != r[1]] * 40
    data = coverage.chart_data(configs, space, 3, max_points=10)
    assert len(data["growth"]["n_tests"]) == 10
    assert data["growth"]["n_tests"][0] == 1 and data["growth"]["n_tests"][-1] == len(configs)
    assert data["growth"]["coverage"][-1] == 1.0
    states = [c["state"] for c in data["values"]["cells"]]
    assert "invalid" in states
    skipped = ResultSet([Result({"p0": 0, "p1": 1, "p2": 0}, "skip")])
    assert sum(c["count"] for c in coverage.chart_data(
        skipped, space, 2, include_skipped=True)["values"]["cells"]) == 1
    assert coverage.chart_data(skipped, space, 2)["growth"]["n_tests"] == []
    one = coverage.chart_data([{"p0": 0}], _choice_space([2]), 1)
    assert one["values"] is None and "values" not in one["vega_lite"]


def test_measure_leaves_the_callers_encoded_results_untouched() -> None:
    from configlab.results import Result, ResultSet
    from configlab.space import Space

    sp = Space.from_dict({"parameters": {"a": "bool", "b": "bool"}})
    enc = ResultSet([Result({"a": True}, "pass")]).encode(sp)
    before = enc.codes.copy()
    coverage.measure(enc, sp, 2)
    assert (enc.codes == before).all()
    assert coverage.gaps(enc, sp, 2)  # runs on the same object without error
