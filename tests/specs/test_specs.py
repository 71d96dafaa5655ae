"""Behaviour specs: model, loading (YAML/JSON/Gherkin), expectations, lint, diff."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from configlab.constraints import parse
from configlab.errors import ConfiglabError, ContradictorySpecError, SpecError
from configlab.space import Space
from configlab.specs import (
    Expectation,
    Interval,
    Outcome,
    Rule,
    Spec,
    check,
    comparison_atoms,
    diff_specs,
    expect,
    expectation_conflict,
    load_spec,
    loads_spec,
    resolve_predicate,
    spec_from_dict,
)
from tests.paths import DATA_DIR

DATA = DATA_DIR / "specs"

SPACE: dict[str, Any] = {
    "parameters": {
        "cache": {"enabled": {"type": "bool"}, "size": {"type": "int", "min": 1, "max": 64}},
        "mode": {"type": "choice", "values": ["fast", "safe"]},
    }
}


def _spec(*rules: Rule, space: Any = SPACE) -> Spec:
    return Spec(name="t", version="1", space=space, rules=list(rules))


# ----------------------------------------------------------------------------- outcomes


def test_outcome_derives_its_outcome_field() -> None:
    assert Outcome(exit_code=0).outcome == "pass"
    assert Outcome().outcome == "pass"
    assert Outcome(exit_code=2).outcome == "fail"
    assert Outcome(exit_code=0, exception="ValueError").outcome == "error"
    assert Outcome(error="timeout").outcome == "error"
    assert Outcome(exit_code=1, outcome="pass").outcome == "pass"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"exit_code": True},
        {"exit_code": "0"},
        {"outcome": "ok"},
        {"metrics": [1]},
        {"metrics": {"x": "fast"}},
        {"metrics": {"x": True}},
    ],
)
def test_outcome_rejects_bad_fields(kwargs: dict[str, Any]) -> None:
    with pytest.raises(SpecError):
        Outcome(**kwargs)


def test_outcome_from_dict_and_exception() -> None:
    out = Outcome.from_dict({"exit_code": 3, "metrics": {"x": 1}, "exception_bases": ["A"]})
    assert out.exit_code == 3 and out.metrics == {"x": 1} and out.exception_bases == ("A",)
    with pytest.raises(SpecError, match="unknown outcome field"):
        Outcome.from_dict({"exit": 1})
    with pytest.raises(SpecError):
        Outcome.from_dict([1])  # type: ignore[arg-type]
    raised = Outcome.from_exception(UnicodeDecodeError("utf-8", b"x", 0, 1, "bad"), 0.5)
    assert raised.outcome == "error" and raised.exception == "UnicodeDecodeError"
    assert "ValueError" in raised.exception_bases and raised.duration_s == 0.5


def test_outcome_env_exposes_metrics_and_config() -> None:
    out = Outcome(exit_code=0, duration_s=1.5, metrics={"ratio": 0.25})
    env = out.env({"cache": {"size": 4}})
    assert env["duration_s"] == 1.5 and env["metrics.ratio"] == 0.25
    assert env["config.cache.size"] == 4 and env["outcome"] == "pass"
    data = Outcome(stdout="x" * 10).to_dict(max_output=3)
    assert data["stdout"] == "xxx"


# ----------------------------------------------------------------------------- expectations


@pytest.mark.parametrize(
    ("expectation", "outcome", "holds"),
    [
        (expect.exit_code(0), Outcome(exit_code=0), True),
        (expect.exit_code(0), Outcome(exit_code=1), False),
        (expect.passes(), Outcome(exit_code=0), True),
        (expect.fails(), Outcome(exit_code=0), False),
        (expect.outcome("error"), Outcome(exception="X"), True),
        (expect.stdout_contains("ok"), Outcome(stdout="all ok\n"), True),
        (expect.stdout_contains("ok"), Outcome(stdout=""), False),
        (expect.stderr_contains("warn"), Outcome(stderr="a wa rning"), False),
        (expect.stderr_contains("warn"), Outcome(stderr="warn: x"), True),
        (expect.stdout_matches(r"^v\d+$"), Outcome(stdout="v12"), True),
        (expect.stderr_matches(r"err(or)?"), Outcome(stderr="fine"), False),
        (expect.metric("duration_s < 2"), Outcome(duration_s=1.0), True),
        (expect.metric("duration_s < 2"), Outcome(duration_s=3.0), False),
        (expect.metric("duration_s < 2"), Outcome(), False),
        (
            expect.metric("metrics.payload_ratio <= 0.5"),
            Outcome(metrics={"payload_ratio": 0.5}),
            True,
        ),
        (
            expect.metric("metrics.payload_ratio <= 0.5"),
            Outcome(metrics={"payload_ratio": 0.7}),
            False,
        ),
        (expect.metric("duration_s < config.cache.size"), Outcome(duration_s=3.0), True),
        (expect.raises(ValueError), Outcome(exception="ValueError"), True),
        (
            expect.raises("ValueError"),
            Outcome(exception="UnicodeDecodeError", exception_bases=("ValueError",)),
            True,
        ),
        (expect.raises("KeyError"), Outcome(exception="ValueError"), False),
        (expect.raises("builtins.KeyError"), Outcome(exception="KeyError"), True),
        (expect.raises("KeyError"), Outcome(exit_code=0), False),
    ],
)
def test_expectations_evaluate(expectation: Expectation, outcome: Outcome, holds: bool) -> None:
    problem = expectation.evaluate({"cache": {"size": 8}}, outcome)
    assert (problem is None) is holds
    if not holds:
        assert isinstance(problem, str) and problem


def test_metric_failure_message_shows_observed_values() -> None:
    problem = expect.metric("duration_s < 2").evaluate({}, Outcome(duration_s=3.25))
    assert problem == "expected duration_s < 2; got duration_s=3.25"
    problem = expect.metric("metrics.x > 0").evaluate({}, Outcome())
    assert problem is not None and "metrics.x=missing" in problem


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("nope", 1, "unknown expectation"),
        ("exit_code", "0", "integer"),
        ("exit_code", False, "integer"),
        ("outcome", "passed", "one of"),
        ("stdout_matches", "(", "invalid pattern"),
        ("metric", "duration_s <", "metric"),
        ("metric", "speed < 2", "unknown outcome field 'speed'"),
        ("raises", "not a name", "exception type"),
        ("predicate", "no_colon", "module.path:function"),
        ("metric", 3, "non-empty string"),
        ("stdout_contains", 3, "string"),
    ],
)
def test_bad_expectations_raise_spec_error(kind: str, value: Any, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        Expectation(kind, value)


def test_predicates_resolve_by_import_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(DATA))
    holds = expect.predicate("spec_checks:mentions_mode")
    assert holds.evaluate({"mode": "safe"}, Outcome(stdout="ok safe")) is None
    assert holds.evaluate({"mode": "fast"}, Outcome(stdout="ok safe")) is not None
    with pytest.raises(SpecError, match="cannot be imported"):
        resolve_predicate("spec_checks:missing")
    with pytest.raises(SpecError, match="cannot be imported"):
        resolve_predicate("no_such_module_xyz:f")
    with pytest.raises(SpecError, match="not callable"):
        resolve_predicate("spec_checks:not_callable")


def test_expect_builders_produce_spec_file_form() -> None:
    items = [
        expect.exit_code(0),
        expect.stdout_matches("a"),
        expect.stderr_matches("b"),
        expect.predicate("m:f"),
        expect.raises(KeyError),
        expect.outcome("fail"),
    ]
    assert [e.to_dict() for e in items] == [
        {"exit_code": 0},
        {"stdout_matches": "a"},
        {"stderr_matches": "b"},
        {"predicate": "m:f"},
        {"raises": "KeyError"},
        {"outcome": "fail"},
    ]
    assert str(expect.exit_code(2)) == "exit_code: 2"


# ----------------------------------------------------------------------------- rules and specs


def test_python_api_builds_the_same_spec_as_yaml(tmp_path: Path) -> None:
    built = _spec(
        Rule(
            id="small",
            when="cache.size <= 8",
            expect=[expect.exit_code(0), expect.metric("duration_s < 2")],
        ),
        Rule(
            id="safe",
            when='mode == "safe"',
            expect=expect.stdout_contains("safe"),
            description="safe mode",
        ),
    )
    text = json.dumps(
        {
            "name": "t",
            "version": 1,
            "space": SPACE,
            "rules": [
                {
                    "id": "small",
                    "when": "cache.size <= 8",
                    "expect": [{"exit_code": 0}, {"metric": "duration_s < 2"}],
                },
                {
                    "id": "safe",
                    "description": "safe mode",
                    "when": 'mode == "safe"',
                    "expect": [{"stdout_contains": "safe"}],
                },
            ],
        }
    )
    path = tmp_path / "spec.json"
    path.write_text(text)
    loaded = load_spec(path)
    assert loaded == built
    assert loaded.digest() == built.digest()
    assert loaded.version == "1" and loaded.label == "t@1"
    assert spec_from_dict(built.to_dict()).digest() == built.digest()
    assert built.rule("safe").description == "safe mode"
    with pytest.raises(SpecError, match="no rule"):
        built.rule("x")


def test_digest_changes_with_rules_and_space() -> None:
    a = _spec(Rule(id="r", when="cache.size <= 8", expect=[expect.exit_code(0)]))
    b = _spec(Rule(id="r", when="cache.size <= 9", expect=[expect.exit_code(0)]))
    wider = {"parameters": {**SPACE["parameters"], "extra": {"type": "bool"}}}
    c = _spec(Rule(id="r", when="cache.size <= 8", expect=[expect.exit_code(0)]), space=wider)
    assert len({a.digest(), b.digest(), c.digest()}) == 3
    assert len(a.digest()) == 64


def test_rule_applies_and_expects_error() -> None:
    rule = Rule(id="r", when="cache.enabled and cache.size > 4", expect=[expect.raises("E")])
    assert rule.expects_error
    assert rule.applies({"cache": {"enabled": True, "size": 5}})
    assert not rule.applies({"cache": {"enabled": True, "size": 4}})
    assert Rule(id="x", expect=[expect.exit_code(0)]).applies({})
    assert not Rule(id="y", expect=[expect.passes()]).expects_error


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "t", "version": 1, "rules": [], "extra": 1}, "unknown top-level key"),
        ({"version": 1, "rules": []}, "missing required key 'name'"),
        ({"name": "t", "version": 1, "rules": {}}, "'rules' must be a list"),
        ({"name": "t", "version": 1, "rules": [3]}, "rule #1 must be a mapping"),
        (
            {
                "name": "t",
                "version": 1,
                "rules": [{"id": "r", "expect": [{"exit_code": 0}], "whenn": "x"}],
            },
            r"rule 'r': unknown key\(s\) \['whenn'\]",
        ),
        ({"name": "t", "version": 1, "rules": [{"id": "r"}]}, "rule 'r': missing 'expect'"),
        ({"name": "t", "version": 1, "rules": [{"id": "r", "expect": []}]}, "non-empty list"),
        (
            {"name": "t", "version": 1, "rules": [{"id": "r", "expect": [{"exit": 0}]}]},
            "rule 'r': unknown expectation key 'exit'",
        ),
        ({"name": "t", "version": 1, "rules": [{"id": "r", "expect": [3]}]}, "mapping like"),
        (
            {"name": "t", "version": 1, "rules": [{"id": "r", "expect": [{"exit_code": "x"}]}]},
            "rule 'r': exit_code expects an integer",
        ),
        (
            {"name": "t", "version": 1, "rules": [{"id": True, "expect": [{"exit_code": 0}]}]},
            "'id' must be a string",
        ),
        (
            {
                "name": "t",
                "version": 1,
                "rules": [{"id": "r", "when": "a ==", "expect": [{"exit_code": 0}]}],
            },
            "when 'a =='",
        ),
        (
            {
                "name": "t",
                "version": 1,
                "rules": [{"id": "r", "when": 3, "expect": [{"exit_code": 0}]}],
            },
            "'when' must",
        ),
        ({"name": "t", "version": 1, "rules": []}, "at least one rule"),
        ({"name": "", "version": 1, "rules": []}, "non-empty 'name'"),
        ({"name": "t", "version": [1], "rules": []}, "'version' must be"),
        (
            {"name": "a b", "version": 1, "rules": [{"id": "r", "expect": {"exit_code": 0}}]},
            "whitespace",
        ),
        ({"name": "t", "version": 1, "space": 3, "rules": []}, "'space' must be a path"),
        ({"name": "t", "version": 1, "space": {"parameters": {}}, "rules": []}, "space"),
        (
            {
                "name": "t",
                "version": 1,
                "space": SPACE,
                "rules": [{"id": "r", "when": "nope == 1", "expect": [{"exit_code": 0}]}],
            },
            "reads 'nope', which is not a parameter",
        ),
        (
            {
                "name": "t",
                "version": 1,
                "rules": [
                    {"id": "r", "expect": [{"exit_code": 0}]},
                    {"id": "r", "expect": [{"exit_code": 1}]},
                ],
            },
            "duplicate rule id",
        ),
        (
            {
                "name": "t",
                "version": 1,
                "rules": [{"id": "r", "description": 3, "expect": [{"exit_code": 0}]}],
            },
            "description",
        ),
    ],
)
def test_malformed_specs_raise_spec_error_naming_file_and_rule(
    data: dict[str, Any], message: str
) -> None:
    with pytest.raises(SpecError, match=message) as info:
        spec_from_dict(data, source="my.yaml")
    assert "my.yaml" in str(info.value) or "spec" in str(info.value)


def test_spec_rejects_non_rules() -> None:
    with pytest.raises(SpecError, match="Rule objects"):
        Spec(name="t", version="1", rules=[{"id": "r"}])  # type: ignore[list-item]
    with pytest.raises(SpecError, match="list of rules"):
        Spec(name="t", version="1", rules=3)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="non-empty string id"):
        Rule(id=" ", expect=[expect.exit_code(0)])
    with pytest.raises(SpecError, match="a spec must be a mapping"):
        spec_from_dict([1])  # type: ignore[arg-type]


def test_load_spec_errors(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(SpecError, match=r"bad.yaml:\d+: invalid YAML"):
        load_spec(bad)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"name": }')
    with pytest.raises(SpecError, match=r"bad.json:1: invalid JSON"):
        load_spec(bad_json)
    other = tmp_path / "spec.txt"
    other.write_text("x")
    with pytest.raises(SpecError, match="unknown spec format"):
        load_spec(other)
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(binary)
    missing_space = tmp_path / "s.yaml"
    missing_space.write_text("name: t\nversion: 1\nspace: nowhere.yaml\nrules: []\n")
    with pytest.raises(SpecError, match="space"):
        load_spec(missing_space)


def test_load_yaml_spec_resolves_space_relative_to_file() -> None:
    spec = load_spec(DATA / "spec_v1.yaml")
    assert spec.space is not None and "cache.size" in spec.space
    assert [name for name, _ in spec.source_files] == ["spec_v1.yaml", "space/space.yaml"]
    assert spec.rule("big-cache-refused").expect[1] == Expectation("stderr_matches", r"too\s+large")
    override = load_spec(DATA / "spec_v1.yaml", space=DATA / "space.yaml")
    assert override.digest() == spec.digest()


def test_loads_spec_from_text() -> None:
    spec = loads_spec("name: t\nversion: 2\nrules:\n  - id: r\n    expect: {exit_code: 0}\n")
    assert spec.version == "2" and spec.space is None
    with pytest.raises(SpecError, match="unknown spec format"):
        loads_spec("", "toml")


# ----------------------------------------------------------------------------- gherkin


def test_feature_file_maps_onto_rules_with_outline_rows() -> None:
    spec = load_spec(DATA / "demo.feature")
    assert spec.name == "demo-app" and spec.version == "3"
    assert spec.space is not None
    ids = [r.id for r in spec.rules]
    assert ids == [
        "a-disabled-cache-works",
        "cache-of-size#1",
        "cache-of-size#2",
        "cache-of-size#3",
        "safe-mode",
    ]
    first = spec.rules[0]
    assert first.when == 'fault == "none" and cache.enabled == false'
    assert [e.to_dict() for e in first.expect] == [
        {"exit_code": 0},
        {"stdout_contains": "ok"},
        {"metric": "duration_s < 30"},
    ]
    row = spec.rule("cache-of-size#2")
    assert row.when == 'fault == "none" and cache.enabled == true and cache.size == 33'
    assert row.description == "cache of size 33"
    assert [e.to_dict() for e in row.expect] == [{"exit_code": 3}, {"stdout_matches": "^$"}]
    assert row.source.endswith("demo.feature:25")
    assert spec.rule("safe-mode").expect == (Expectation("outcome", "pass"),)
    assert "(mode == 'safe' and cache.enabled == false)" in spec.rule("safe-mode").when


FEATURE_HEAD = "Feature: f\n  Scenario: s\n"


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (
            "    Given the config has mode = safe\n    Then the test fails\n",
            ('mode == "safe"', [{"outcome": "fail"}]),
        ),
        (
            "    Given the config has mode == 'safe'\n    Then the test errors\n",
            ("mode == 'safe'", [{"outcome": "error"}]),
        ),
        (
            '    Then the error output contains "boom"\n    And it raises ValueError\n',
            ("true", [{"stderr_contains": "boom"}, {"raises": "ValueError"}]),
        ),
        (
            '    Then the error output matches "b.om"\n    But metrics.ratio <= 0.5\n',
            ("true", [{"stderr_matches": "b.om"}, {"metric": "metrics.ratio <= 0.5"}]),
        ),
        (
            "    * the config has cache.size = 4\n    When the application runs\n"
            '    Then the predicate "m:f" holds\n',
            ("cache.size == 4", [{"predicate": "m:f"}]),
        ),
        (
            '    Given the config has mode = a "quoted" word\n    Then the exit code is -1\n',
            ('mode == "a \\"quoted\\" word"', [{"exit_code": -1}]),
        ),
    ],
)
def test_step_vocabulary(steps: str, expected: tuple[str, list[dict[str, Any]]]) -> None:
    spec = loads_spec(FEATURE_HEAD + steps, "feature")
    rule = spec.rules[0]
    assert (rule.when, [e.to_dict() for e in rule.expect]) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            FEATURE_HEAD + "    Given the weather is nice\n    Then the exit code is 0\n",
            r"x.feature:3: unknown step Given 'the weather is nice'",
        ),
        (
            FEATURE_HEAD + "    Given the config has a = 1\n    Then the config has b = 2\n",
            r"x.feature:4: unknown step Then",
        ),
        (
            FEATURE_HEAD + "    When the user clicks\n    Then the exit code is 0\n",
            r"x.feature:3: unknown step When",
        ),
        (FEATURE_HEAD + "    Then banana\n", r"x.feature:3: unknown step"),
        (FEATURE_HEAD + "    Given the config has a = 1\n", r"x.feature:2: .*no Then step"),
        (FEATURE_HEAD + "    Then the exit code is 0\n      | a |\n      | 1 |\n", "data tables"),
        ("Feature: f\n  Scenario Outline: s <a>\n    Then the exit code is <a>\n", "no Examples"),
        (
            "Feature: f\n  Scenario Outline: s\n    Then the exit code is <b>\n"
            "    Examples:\n      | a |\n      | 1 |\n",
            "placeholder <b>",
        ),
        ("Scenario: s\n  Given x\n", r"x.feature:1: invalid Gherkin: \(1:1\): expected"),
        ("# only a comment\n", "no Feature"),
        (
            "Feature: f\n  Scenario Outline: s\n    Then the exit code is <a>\n    Examples:\n",
            r"x.feature:4: Examples without a table",
        ),
        (
            FEATURE_HEAD + "    Then the exit code is 0\n  Scenario: s\n    Then the test passes\n",
            "duplicate rule id",
        ),
        (
            FEATURE_HEAD + "    Given the config has nope = 1\n    Then the exit code is 0\n",
            "not a parameter",
        ),
    ],
)
def test_bad_features_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        loads_spec(text, "feature", source="x.feature", space=SPACE)


def test_feature_with_rule_blocks_and_several_example_tables(tmp_path: Path) -> None:
    text = (
        "@version=7\nFeature: blocks\n"
        "  Background:\n    Given the config has cache.enabled = true\n"
        "  Rule: sizes\n"
        "    Scenario Outline: size\n      Given the config has cache.size = <n>\n"
        "      Then the exit code is 0\n"
        "      Examples: small\n        | n |\n        | 1 |\n"
        "      Examples: large\n        | n |\n        | 64 |\n"
    )
    path = tmp_path / "blocks.feature"
    path.write_text(text)
    spec = load_spec(path, space=SPACE)
    assert spec.version == "7"
    assert [r.id for r in spec.rules] == ["size#1", "size#2"]
    assert spec.rules[1].when == "cache.enabled == true and cache.size == 64"


# ----------------------------------------------------------------------------- lint


def test_check_finds_contradiction_with_witness_and_dead_rule() -> None:
    spec = load_spec(DATA / "contradictory.yaml")
    report = check(spec, raise_on_contradiction=False)
    assert not report.ok
    pairs = [(c.rule_a, c.rule_b) for c in report.contradictions]
    assert pairs == [("fast-when-small", "slow-when-enabled")]
    found = report.contradictions[0]
    assert "duration_s < 1" in found.reason and "duration_s > 2" in found.reason
    assert spec.space is not None and spec.space.is_valid(dict(found.witness))
    assert found.witness["cache"]["size"] <= 8 and found.witness["cache"]["enabled"] is True
    assert [d.rule_id for d in report.dead] == ["never"]
    text = report.to_text()
    assert "fast-when-small" in text and "never" in text
    data = report.to_dict()
    assert data["dead"][0]["rule"] == "never" and data["contradictions"][0]["witness"]
    with pytest.raises(ContradictorySpecError, match=r"fast-when-small.*slow-when-enabled"):
        check(spec)


def test_disjoint_conditions_are_not_contradictions() -> None:
    spec = _spec(
        Rule(id="a", when='mode == "fast"', expect=[expect.exit_code(0)]),
        Rule(id="b", when='mode == "safe"', expect=[expect.exit_code(1)]),
    )
    report = check(spec)
    assert report.ok and report.to_text() == "t@1: ok"


def test_contradiction_needs_values_not_among_classes() -> None:
    # 37 is no value class of cache.size: the model widens the domain with rule literals
    spec = _spec(
        Rule(id="a", when="cache.size == 37", expect=[expect.passes()]),
        Rule(id="b", when="cache.size > 36 and cache.size < 38", expect=[expect.fails()]),
    )
    report = check(spec, raise_on_contradiction=False)
    assert [(c.rule_a, c.rule_b) for c in report.contradictions] == [("a", "b")]
    assert report.contradictions[0].witness["cache"]["size"] == 37


def test_self_contradictory_rule_and_space_checks() -> None:
    spec = _spec(Rule(id="a", expect=[expect.exit_code(0), expect.exit_code(2)]))
    report = check(spec, raise_on_contradiction=False)
    assert [(c.rule_a, c.rule_b) for c in report.contradictions] == [("a", "a")]
    assert "rule 'a' contradict" in str(report.contradictions[0])
    nospace = Spec(name="t", version="1", rules=[Rule(id="a", expect=[expect.passes()])])
    with pytest.raises(SpecError, match="no space"):
        check(nospace)
    assert check(nospace, SPACE).ok
    unknown = Spec(
        name="t", version="1", rules=[Rule(id="a", when="zz == 1", expect=[expect.passes()])]
    )
    with pytest.raises(SpecError, match="not in the space"):
        check(unknown, SPACE)


def test_check_reports_unbuildable_models() -> None:
    space = Space.from_dict(
        {"parameters": {f"p{i}": {"type": "int", "min": 0, "max": 100} for i in range(6)}}
    )
    when = " and ".join(f"p{i} > {i}" for i in range(6))
    wide = Spec(
        name="t",
        version="1",
        space=space,
        rules=[
            Rule(
                id="a", when=f"{when} and p0 + p1 + p2 + p3 + p4 + p5 > 3", expect=[expect.passes()]
            )
        ],
    )
    with pytest.raises(SpecError, match="finite model"):
        check(wide)


@pytest.mark.parametrize(
    ("a", "b", "conflict"),
    [
        ([expect.exit_code(0)], [expect.exit_code(1)], True),
        ([expect.exit_code(0)], [expect.exit_code(0)], False),
        ([expect.passes()], [expect.fails()], True),
        ([expect.raises("KeyError")], [expect.passes()], True),
        ([expect.raises("KeyError")], [expect.raises("ValueError")], True),
        ([expect.raises("KeyError")], [expect.raises("LookupError")], False),
        ([expect.raises("MyError")], [expect.raises("OtherError")], False),
        ([expect.metric("duration_s < 1")], [expect.metric("duration_s > 2")], True),
        ([expect.metric("duration_s < 1")], [expect.metric("duration_s >= 1")], True),
        ([expect.metric("duration_s <= 1")], [expect.metric("duration_s >= 1")], False),
        ([expect.metric("2 < duration_s")], [expect.metric("duration_s < 1")], True),
        ([expect.metric("exit_code > 0")], [expect.exit_code(0)], True),
        (
            [expect.metric("duration_s > 1 and duration_s < 5")],
            [expect.metric("duration_s > 4")],
            False,
        ),
        (
            [expect.metric("duration_s < 1 or duration_s > 5")],
            [expect.metric("duration_s > 2")],
            False,
        ),
        ([expect.metric("metrics.a == 1")], [expect.metric("metrics.a == 2")], True),
        ([expect.stdout_contains("x")], [expect.stdout_contains("y")], False),
    ],
)
def test_expectation_conflicts(a: list[Expectation], b: list[Expectation], conflict: bool) -> None:
    items = [("A", e) for e in a] + [("B", e) for e in b]
    assert (expectation_conflict(items) is not None) is conflict


def test_three_way_interval_conflict_names_all() -> None:
    items = [
        ("A", expect.metric("duration_s > 1 and duration_s < 3")),
        ("B", expect.metric("duration_s > 2 and duration_s < 4")),
        ("C", expect.metric("duration_s >= 3")),
    ]
    assert expectation_conflict(items) == "duration_s < 3 (A) vs duration_s >= 3 (C)"


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["<", "<=", ">", ">=", "=="]), st.integers(-3, 3)),
        min_size=1,
        max_size=5,
    )
)
def test_interval_conflicts_agree_with_brute_force(atoms: list[tuple[str, int]]) -> None:
    items = [(f"r{i}", expect.metric(f"duration_s {op} {n}")) for i, (op, n) in enumerate(atoms)]
    checks = [parse(f"duration_s {op} {n}") for op, n in atoms]
    grid = [x / 4 for x in range(-20, 21)]
    satisfiable = any(all(c.evaluate({"duration_s": x}) for c in checks) for x in grid)
    assert (expectation_conflict(items) is None) is satisfiable


def test_comparison_atoms() -> None:
    assert comparison_atoms(parse("a < 1 and 2 <= b and c == 3").root) == [
        ("a", "<", 1.0),
        ("b", ">=", 2.0),
        ("c", "==", 3.0),
    ]
    assert comparison_atoms(parse("a < b").root) == []
    assert comparison_atoms(parse("a == true").root) == []


_interval = st.builds(
    Interval,
    st.one_of(st.just(-math.inf), st.integers(-5, 5).map(float)),
    st.one_of(st.just(math.inf), st.integers(-5, 5).map(float)),
    st.booleans(),
    st.booleans(),
)


def _contains(interval: Interval, x: float) -> bool:
    above = x > interval.lo or (x == interval.lo and interval.lo_closed)
    below = x < interval.hi or (x == interval.hi and interval.hi_closed)
    return above and below


@settings(max_examples=200, deadline=None)
@given(_interval, _interval)
def test_interval_intersection_matches_membership(a: Interval, b: Interval) -> None:
    both = a.intersect(b)
    points = [x / 2 for x in range(-12, 13)]
    for x in points:
        assert _contains(both, x) == (_contains(a, x) and _contains(b, x))
    if both.empty:
        assert not any(_contains(a, x) and _contains(b, x) for x in points)
    elif both.lo < both.hi or both.lo_closed:
        assert any(_contains(both, x) for x in [*points, (both.lo + both.hi) / 2])


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 64), st.integers(1, 64), st.sampled_from(["<", "<=", ">", ">=", "=="]))
def test_witnesses_are_valid_and_sound(lo: int, hi: int, op: str) -> None:
    from configlab.specs._rulemodel import RuleModel

    space = Space.from_dict(SPACE)
    first = parse(f"cache.size {op} {lo}")
    second = parse(f"cache.size != {hi} and cache.enabled")
    model = RuleModel(space, [first, second])
    try:
        witness = model.witness([0, 1], seed=1)
    finally:
        model.close()
    exists = any(first.evaluate({"cache.size": v}) and v != hi for v in range(1, 65))
    assert (witness is not None) == exists
    if witness is not None:
        env = space.extract(witness)
        assert space.is_valid(witness) and first.evaluate(env) and second.evaluate(env)


# ----------------------------------------------------------------------------- diff


def test_diff_reports_added_removed_and_changed_rules() -> None:
    result = diff_specs(DATA / "spec_v1.yaml", DATA / "spec_v2.yaml")
    assert result.added == ("safe-mode-prints-mode",)
    assert result.removed == ("safe-mode-announced", "never-hangs")
    changed = {c.rule_id: c.fields for c in result.changed}
    assert changed == {"small-cache-ok": ("when",), "big-cache-refused": ("expect",)}
    assert result.header == {"version": ("1", "2")}
    text = result.to_text()
    assert "+ rule safe-mode-prints-mode" in text and "- rule never-hangs" in text
    assert "cache.size <= 16" in text
    assert json.loads(json.dumps(result.to_dict()))["changed"][0]["rule"] == "small-cache-ok"
    same = diff_specs(DATA / "spec_v1.yaml", DATA / "spec_v1.yaml")
    assert same.empty and "(no differences)" in same.to_text()


def test_diff_sees_space_changes() -> None:
    rule = Rule(id="r", expect=[expect.passes()])
    a = Spec(name="t", version="1", space=SPACE, rules=[rule])
    b = Spec(name="t", version="1", rules=[rule], description="d")
    result = diff_specs(a, b)
    assert set(result.header) == {"space", "description"}
    with pytest.raises(SpecError):
        diff_specs(3, a)  # type: ignore[arg-type]


def test_errors_are_configlab_errors() -> None:
    assert issubclass(SpecError, ConfiglabError)


def test_rule_model_widens_domains_and_honours_space_constraints() -> None:
    from configlab.specs._rulemodel import RuleModel

    space = Space.from_dict(
        {
            "parameters": {
                "ratio": {"type": "float", "min": 0.0, "max": 1.0},
                "level": {"type": "choice", "values": ["low", "mid", "high"]},
                "on": {"type": "bool"},
                "n": {"type": "int", "min": 0, "max": 100},
                "extra": {"type": "int", "min": 0, "max": 9, "active_if": "on"},
            },
            "constraints": ["level == 'high' -> on", "n != 37 or ratio > 0.5"],
        }
    )
    conditions = [
        parse("ratio < 0.3 and ratio > 0.2"),
        parse("level in ['high', 'nope'] and n == 37"),
        parse("0.75 == ratio and on == true and n > 1000000"),
        parse("extra == 7 and ratio != 0.5"),
        parse("level != 'low' and ratio < 1e400 and n <= n and on != false"),
    ]
    model = RuleModel(space, conditions)
    try:
        first = model.witness([0])
        assert first is not None and 0.2 < first["ratio"] < 0.3
        second = model.witness([1])
        assert second is not None and second["n"] == 37 and second["on"] is True
        assert second["ratio"] > 0.5 and space.is_valid(second)
        assert model.witness([2]) is None
        fourth = model.witness([3, 1])
        assert fourth is not None and fourth["extra"] == 7 and fourth["n"] == 37
        assert model.witness([0, 1]) is None
        fifth = model.witness([4])
        assert fifth is not None and fifth["level"] != "low" and fifth["on"] is True
    finally:
        model.close()
