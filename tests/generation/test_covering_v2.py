"""Covering engine v2: seeds, extension, mixed strength, weights, negative values, effort.

Every suite is checked by an independent brute-force checker (enumerates all full
assignments of a small model), not by the engine's own bookkeeping.
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Iterable, Sequence

import pytest

from configlab._internal.finite import FiniteConstraint, FiniteModel, ModelSolver
from configlab.errors import GenerationError
from configlab.generation import covering_suite, generate, parse_group
from configlab.generation._covering import (
    CoveringBudgetWarning,
    build_covering,
    tuples_to_cover,
    uncovered_tuples,
)
from configlab.generation._faults import build_with_negatives
from configlab.space import Space
from tests.paths import DATA_DIR

Row = tuple[int, ...]


def _model() -> FiniteModel:
    """7 parameters, two constraints (one implication chain), sizes 2..4."""
    return FiniteModel(
        names=("os", "db", "cache", "tls", "mode", "log", "pool"),
        domain_sizes=(3, 4, 2, 2, 3, 2, 3),
        constraints=(
            FiniteConstraint("os=2 -> db!=0", (0, 1), lambda c: c[0] != 2 or c[1] != 0),
            FiniteConstraint("tls=1 -> mode!=2", (3, 4), lambda c: c[0] != 1 or c[1] != 2),
        ),
    )


def _valid_rows(model: FiniteModel) -> list[Row]:
    return [
        row for row in itertools.product(*(range(s) for s in model.domain_sizes))
        if all(c.allows(tuple(row[p] for p in c.scope)) for c in model.constraints)
    ]


def _subsets(
    k: int, t: int, groups: Iterable[tuple[Sequence[int], int]] = ()
) -> set[tuple[int, ...]]:
    subs = set(itertools.combinations(range(k), t))
    for params, tg in groups:
        subs |= set(itertools.combinations(sorted(params), min(tg, len(params))))
    return subs


def _without(model: FiniteModel, *banned: tuple[int, int]) -> FiniteModel:
    """``model`` where parameter ``p`` never takes code ``c`` for each ``(p, c)``."""
    extra = tuple(
        FiniteConstraint(f"{p}!={c}", (p,), lambda v, c=c: v[0] != c) for p, c in banned
    )
    return FiniteModel(model.names, model.domain_sizes, (*model.constraints, *extra))


def _missing(
    model: FiniteModel, suite: Sequence[Row], subsets: set[tuple[int, ...]]
) -> set[object]:
    """Independent check: valid tuples (on the given column subsets) no suite row holds."""
    valid = _valid_rows(model)
    for row in suite:
        assert tuple(row) in set(valid), f"invalid row {row}"
    need = {(s, tuple(r[p] for p in s)) for r in valid for s in subsets}
    have = {(s, tuple(r[p] for p in s)) for r in suite for s in subsets}
    return need - have


# --------------------------------------------------------------------------- engine level


@pytest.mark.parametrize("seed", [0, 3])
def test_mixed_strength_group_covers_triples_inside_and_pairs_everywhere(seed: int) -> None:
    model = _model()
    groups = [([0, 1, 4, 6], 3)]
    result = build_covering(model, 2, seed, groups=groups, max_steps=300)
    assert _missing(model, result.rows, _subsets(7, 2, groups)) == set()
    assert len(result.rows) < len(_valid_rows(model))
    # the engine's own tuple list agrees with the brute force count
    expected = {
        (s, tuple(r[p] for p in s)) for r in _valid_rows(model) for s in _subsets(7, 2, groups)
    }
    assert result.valid_tuples == len(expected)
    assert len(tuples_to_cover(model, 2, groups=groups)) == len(expected)
    assert uncovered_tuples(model, result.rows, 2, groups=groups) == []
    # a group at or below the base strength adds nothing; groups of several sizes pad
    low = build_covering(model, 2, seed, groups=[([0, 1], 2)], max_steps=0)
    assert _missing(model, low.rows, _subsets(7, 2)) == set()
    mixed = build_covering(model, 1, seed, groups=[([0, 1, 4], 3), ([2, 3], 2)], max_steps=50)
    assert _missing(model, mixed.rows, _subsets(7, 1, [([0, 1, 4], 3), ([2, 3], 2)])) == set()


def test_required_rows_and_combinations_lead_and_report_their_coverage() -> None:
    model = _model()
    required = [(2, 1, 0, 1, 1, 0, 2), (0, 0, 1, 0, 2, 1, 0)]
    combos = [{0: 2, 6: 1}, {1: 3, 5: 1}, {0: 2, 3: 1}]
    result = build_covering(
        model, 2, 5, required_rows=required, required_tuples=combos, max_steps=200
    )
    assert result.rows[:2] == required
    # compatible combinations share a row: all three fit in one valid row
    assert result.fixed == 3
    for combo in combos:
        assert all(result.rows[2][p] == v for p, v in combo.items())
    assert _missing(model, result.rows, _subsets(7, 2)) == set()
    # report: the tuples the four fixed rows hold, counted independently
    held = {(s, tuple(r[p] for p in s)) for r in result.rows[:3] for s in _subsets(7, 2)}
    assert result.seed_covered == len(held)
    assert {tuple(t) for t in result.seed_tuples()} == {
        tuple(zip(s, v, strict=True)) for s, v in held
    }


def test_seed_rows_extend_an_old_suite_after_a_parameter_was_added() -> None:
    old_model = FiniteModel(("a", "b", "c"), (3, 3, 2))
    old = build_covering(old_model, 2, 0).rows
    # the space grew: c has a third value and d is new (old rows take d=0)
    new_model = FiniteModel(("a", "b", "c", "d"), (3, 3, 3, 2))
    seeds = [(*row, 0) for row in old]
    more = build_covering(new_model, 2, 0, seed_rows=seeds, max_steps=200).rows
    assert _missing(new_model, seeds + more, _subsets(4, 2)) == set()
    assert set(more).isdisjoint(seeds)
    assert len(more) < len(build_covering(new_model, 2, 0).rows)


def test_weights_prefer_heavier_values_when_coverage_ties() -> None:
    model = FiniteModel(("a", "b"), (4, 2))
    heavy_one = build_covering(model, 1, 0, weights=[[1, 1, 1, 1], [1, 50]], max_steps=0).rows
    heavy_zero = build_covering(model, 1, 0, weights=[[1, 1, 1, 1], [50, 1]], max_steps=0).rows
    for rows in (heavy_one, heavy_zero):
        assert _missing(model, rows, _subsets(2, 1)) == set()
    assert sum(r[1] == 1 for r in heavy_one) >= 3
    assert sum(r[1] == 0 for r in heavy_zero) >= 3


def test_negative_values_only_in_single_fault_rows() -> None:
    model = _model()
    negatives = {1: [3], 4: [0]}
    suite = build_with_negatives(model, 2, 1, negatives, max_steps=200)
    positive = suite.positive.rows
    assert all(r[1] != 3 and r[4] != 0 for r in positive)
    restricted = _without(model, (1, 3), (4, 0))
    assert _missing(restricted, positive, _subsets(7, 2)) == set()
    valid = set(_valid_rows(model))
    assert {(f.param, f.code) for f in suite.faults} == {(1, 3), (4, 0)}
    for fault in suite.faults:
        row = fault.row
        assert row in valid
        assert row[fault.param] == fault.code
        others = [(p, c) for p, codes in negatives.items() for c in codes if p != fault.param]
        assert all(row[p] != c for p, c in others)  # exactly one negative value per row
    # every valid value of every other parameter meets each negative value once (t=2)
    for p, codes in negatives.items():
        for code in codes:
            rows = [f.row for f in suite.faults if (f.param, f.code) == (p, code)]
            for q in range(7):
                if q == p:
                    continue
                possible = {
                    r[q] for r in valid
                    if r[p] == code and all(r[x] != c for x, cs in negatives.items()
                                            if x != p for c in cs)
                }
                assert possible == {r[q] for r in rows}
    assert suite.rows == positive + [f.row for f in suite.faults]
    one = build_with_negatives(model, 1, 1, {2: [1]})
    assert [f.row[2] for f in one.faults] == [1]


def test_bad_inputs_raise_generation_errors() -> None:
    model = _model()
    cases = [
        ({"groups": [([], 3)]}, "strength group 0"),
        ({"groups": [([0, 1], 9)]}, "strength must be"),
        ({"required_rows": [(2, 0, 0, 0, 0, 0, 0)]}, "violates constraint 'os=2 -> db!=0'"),
        ({"required_tuples": [{0: 2, 1: 0}]}, "not part of any valid configuration"),
        ({"required_tuples": [{0: 9}]}, "is not a set of codes"),
        ({"weights": [[1]]}, "expected 7 parameters"),
        ({"weights": [[1, 1, 1], [1, 1, 1, 0], [1, 1], [1, 1], [1, 1, 1], [1, 1], [1, 1, 1]]},
         "weights of 'db'"),
        ({"effort": 0}, "effort must be"),
    ]
    for kwargs, needle in cases:
        with pytest.raises(GenerationError, match=needle):
            build_covering(model, 2, 0, **kwargs)  # type: ignore[arg-type]
    for negatives, needle in [
        ({9: [0]}, "not a parameter index"),
        ({0: [7]}, "not codes"),
        ({2: [0, 1]}, "every value of 'cache'"),
    ]:
        with pytest.raises(GenerationError, match=needle):
            build_with_negatives(model, 2, 0, negatives)
    # db=0 is negative and os=2 forbids... the only single-fault row needs os!=2: fine;
    # but a negative value that constraints tie to another negative value is rejected
    tied = FiniteModel(("a", "b"), (2, 2), (FiniteConstraint("a=1 -> b=1", (0, 1),
                                                             lambda c: c[0] != 1 or c[1] == 1),))
    with pytest.raises(GenerationError, match="cannot appear"):
        build_with_negatives(tied, 2, 0, {0: [1], 1: [1]})


def test_empty_model_and_effort_and_determinism() -> None:
    empty = FiniteModel((), ())
    assert build_covering(empty, 2, 0).rows == [()]
    assert build_covering(empty, 2, 0, required_rows=[()]).rows == [()]
    model = _model()
    a = build_covering(model, 3, 9, effort=0.5, groups=[([0, 1, 2, 3], 4)])
    b = build_covering(model, 3, 9, effort=0.5, groups=[([0, 1, 2, 3], 4)])
    assert a.rows == b.rows
    assert _missing(model, a.rows, _subsets(7, 3, [([0, 1, 2, 3], 4)])) == set()


def test_time_budget_is_a_wall_clock_limit() -> None:
    model = FiniteModel(tuple(f"p{i}" for i in range(30)), (3,) * 30)
    solver = ModelSolver(model)
    start = time.monotonic()
    with warnings.catch_warnings():  # a heavily loaded machine may not finish the greedy in 2 s
        warnings.simplefilter("ignore", CoveringBudgetWarning)
        rows = build_covering(model, 3, 0, solver=solver, time_budget=2, max_steps=10**9).rows
    assert time.monotonic() - start < 12  # without the clock, 10**9 steps would never end
    assert uncovered_tuples(model, rows, 3, solver) == []


def test_budget_exhausted_before_a_complete_suite_warns_and_still_completes() -> None:
    model = _model()
    with pytest.warns(CoveringBudgetWarning, match="time budget exhausted after 1 greedy rows"):
        late = build_covering(model, 3, 4, time_budget=1e-9)
    assert late.over_budget
    assert _missing(model, late.rows, _subsets(7, 3)) == set()
    # the same call with time to spare: optimised (smaller), no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        timely = build_covering(model, 3, 4, time_budget=60, max_steps=2_000)
    assert not timely.over_budget and len(timely.rows) < len(late.rows)


# --------------------------------------------------------------------------- space level

SPACE = {
    "parameters": {
        "db.engine": {"type": "choice", "values": ["sqlite", "postgres", "mysql"]},
        "db.pool": {"type": "choice", "values": [1, 5, 20]},
        "db.tls": "bool",
        "cache.kind": {"type": "choice", "values": ["none", "memory", "redis"]},
        "log.level": {"type": "choice", "values": ["debug", "info", "warn", "bogus"]},
    },
    "constraints": ['db.engine == "sqlite" -> db.tls == false'],
}


def _codes(space: Space, configs: Iterable[dict[str, object]]) -> list[Row]:
    return [space.encode(c) for c in configs]


def test_covering_suite_with_seeds_groups_weights_and_negative_values() -> None:
    space = Space.from_dict(SPACE)
    full_seed = {"db": {"engine": "mysql", "pool": 5, "tls": True},
                 "cache": {"kind": "redis"}, "log": {"level": "info"}}
    partial_seed = {"db": {"engine": "postgres"}, "cache": {"kind": "none"}}
    report = covering_suite(
        space, 2, 4,
        seeds=[full_seed, partial_seed],
        groups={"db.*": 3},
        weights={"log.level": {"warn": 20}},
        negative={"log.level": ["bogus"]},
        max_steps=300,
    )
    assert report.configs[0] == full_seed
    assert report.seeded == 2
    assert report.configs[1]["db"]["engine"] == "postgres"
    assert report.configs[1]["cache"]["kind"] == "none"
    assert report.faults and all(path == "log.level" for _, path, _ in report.faults)
    fault_rows = {i for i, _, _ in report.faults}
    for i, config in enumerate(report.configs):
        assert (config["log"]["level"] == "bogus") == (i in fault_rows)
    from configlab._internal.spacemodel import space_model

    model = space_model(space).model
    bogus = space.param("log.level").classify("bogus")
    restricted = _without(model, (4, bogus))
    positive = _codes(space, report.configs[: len(report.configs) - len(report.faults)])
    groups = [([0, 1, 2], 3)]
    assert _missing(restricted, positive, _subsets(5, 2, groups)) == set()
    assert report.seed_covered == len(report.seed_tuples) > 0
    assert {"db.engine": "mysql", "log.level": "info"} in report.seed_tuples
    text = "\n".join(report.summary())
    assert "2 from seeds" in text and "single-fault" in text


def test_extension_counts_old_configs_that_no_longer_fit() -> None:
    old_space = Space.from_dict({"parameters": {
        "a": {"type": "choice", "values": ["x", "y"]},
        "b": {"type": "choice", "values": ["p", "q", "gone"]},
    }})
    old = list(generate(old_space, "covering"))
    assert any(c["b"] == "gone" for c in old)
    new_space = Space.from_dict({"parameters": {
        "a": {"type": "choice", "values": ["x", "y", "z"]},
        "b": {"type": "choice", "values": ["p", "q"]},
    }})
    report = covering_suite(new_space, 2, 0, existing=[*old, "junk"])  # type: ignore[list-item]
    invalid = [c for c in old if c["b"] == "gone"]
    assert report.existing == len(old) + 1
    assert len(report.existing_invalid) == len(invalid) + 1
    assert "not a config" in report.existing_invalid[-1]
    still = [c for c in old if c["b"] != "gone"]
    codes = _codes(new_space, still + report.configs)
    assert _missing(FiniteModel(("a", "b"), (3, 2)), codes, _subsets(2, 2)) == set()
    assert not any(c in still for c in report.configs)
    assert "no longer valid" in "\n".join(report.summary())
    # the generate() stream takes the same options
    streamed = list(generate(new_space, "covering", existing=old))
    assert streamed == report.configs


def test_space_level_bad_inputs() -> None:
    space = Space.from_dict(SPACE)
    for kwargs, needle in [
        ({"seeds": [{"db": {"engine": "oracle"}}]}, "'oracle' is not a value of 'db.engine'"),
        ({"seeds": [{"nothing": 1}]}, "sets no parameter"),
        ({"seeds": ["x"]}, "expected a config"),
        ({"seeds": [{"db": {"engine": "sqlite", "tls": True}}]}, "no valid configuration has"),
        ({"groups": "{nope.*}@3"}, "matches no parameter"),
        ({"groups": "db.*"}, "expected '{PATTERN"),
        ({"weights": ["x"]}, "expected a mapping"),
        # a flat {path: number} file was a TypeError deep inside (issue 19)
        ({"weights": {"log.level": 3}},
         r"weights of 'log.level': expected \{value: weight\}, got 3"),
        ({"weights": {"log.level": {"warn": "x"}}}, "a weight must be a number, got 'x'"),
        ({"weights": {"log.level": {"warn": True}}}, "a weight must be a number, got True"),
        ({"negative": {"log.level": "warn"}}, r"expected \{value: x\} or a list of values"),
    ]:
        with pytest.raises(GenerationError, match=needle):
            covering_suite(space, **kwargs)  # type: ignore[arg-type]
    assert parse_group("{db.*, cache.kind} @ 3") == (["db.*", "cache.kind"], 3)
    assert parse_group("db.* @2") == (["db.*"], 2)
    with pytest.raises(GenerationError, match="effort"):
        list(generate(space, "covering", effort=-1))
    report = covering_suite(space, groups=[(["db.engine", "db.pool", "db.tls"], 3)])
    assert len(report.configs) >= 15  # 18 db triples minus the 3 with sqlite and tls


def test_pict_sub_models_weights_and_negatives_drive_generation() -> None:
    text = (DATA_DIR / "pict" / "submodels_aliases.pict")
    space = Space.load(text) if text.exists() else None
    if space is None:  # pragma: no cover - the fixture lives in tests/data
        pytest.skip("fixture missing")
    report = covering_suite(space, 2, 0, max_steps=200)
    a = space.param("A")
    faults = [i for i, path, _ in report.faults]
    assert faults and all(p == "A" for _, p, _ in report.faults)
    for i, config in enumerate(report.configs):
        assert (config["A"] == -1) == (i in faults)
    # the {PLATFORM, CPUS, RAM, HDD} @ 3 sub-model: every triple of those is covered
    from configlab._internal.spacemodel import space_model

    model = space_model(space).model
    neg = a.classify(-1)
    idx = {p.path: n for n, p in enumerate(space.parameters)}
    restricted = _without(model, (idx["A"], neg))
    positive = _codes(space, report.configs[: len(report.configs) - len(faults)])
    group = [idx[p] for p in ("PLATFORM", "CPUS", "RAM", "HDD")]
    assert _missing(restricted, positive, _subsets(len(idx), 2, [(group, 3)])) == set()
    assert len(positive) >= 27  # 3 x 3 x 3 triples at least


def test_big_model_paths_sample_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    # on big models the optimiser samples the rows it evaluates; a tiny work limit makes
    # this small model take those paths, and the suite must stay complete and valid
    import configlab.generation._compactor as covering

    monkeypatch.setattr(covering, "WORK_LIMIT", 40)
    model = _model()
    rows = build_covering(model, 2, 2, max_steps=400).rows
    assert _missing(model, rows, _subsets(7, 2)) == set()
    # without the held-index matrix (too big on huge models) the steps recompute indices;
    # the search is the same, so the suite is too
    monkeypatch.setattr(covering, "CUR_LIMIT", 0)
    assert build_covering(model, 2, 2, max_steps=400).rows == rows
    assert build_covering(FiniteModel((), ()), 2, 0).seed_tuples() == []


def test_t3_single_change_steps_agree_with_and_without_held_indices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # at t=3 the steps evaluate only the subsets of the one parameter a row changes, read
    # from the held-index matrix or recomputed: both give the same search, hence suite
    import configlab.generation._compactor as covering

    model = _model()
    rows = build_covering(model, 3, 5, max_steps=600).rows
    assert _missing(model, rows, _subsets(7, 3)) == set()
    monkeypatch.setattr(covering, "CUR_LIMIT", 0)
    assert build_covering(model, 3, 5, max_steps=600).rows == rows
