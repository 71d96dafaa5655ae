"""The space model: parameter kinds, value classes, validation, building configs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from configlab import formats
from configlab.errors import ConfiglabError, ConstraintError, SpaceError
from configlab.space import (
    ABSENT,
    BoolParam,
    ChoiceParam,
    FloatParam,
    IntParam,
    ListParam,
    Space,
    StringParam,
    load_space,
    parameter_from_spec,
)
from tests.paths import ROOT_DIR

EXAMPLES = ROOT_DIR / "examples"


def labels(param: Any) -> list[str]:
    return [c.label for c in param.value_classes]


def values(param: Any) -> list[Any]:
    return [c.value for c in param.value_classes]


def test_int_boundary_classes() -> None:
    p = IntParam("n", min=-5, max=100)
    assert values(p) == [-5, -4, -1, 0, 1, 2, 8, 16, 47, 64, 99, 100]
    assert labels(p)[:2] == ["min", "min+1"] and labels(p)[-2:] == ["max-1", "max"]
    assert "nominal" in labels(p)


def test_int_step_grid_and_powers_cap() -> None:
    p = IntParam("size", min=0, max=4096, step=64)
    assert all(v % 64 == 0 for v in values(p))
    assert values(p)[:2] == [0, 64] and values(p)[-2:] == [4032, 4096]
    wide = IntParam("wide", min=1, max=2**40)
    powers = [c for c in wide.value_classes if c.label.startswith("2^")]
    assert 0 < len(powers) <= 4


def test_int_single_value_and_errors() -> None:
    assert values(IntParam("one", min=3, max=3)) == [3]
    with pytest.raises(SpaceError, match="greater than max"):
        IntParam("bad", min=2, max=1)
    with pytest.raises(SpaceError, match="step"):
        IntParam("bad", min=0, max=1, step=0)


def test_float_classes_are_adjacent_floats() -> None:
    p = FloatParam("ratio", min=0.0, max=1.0)
    vals = values(p)
    assert vals[0] == 0.0 and vals[-1] == 1.0
    assert vals[1] == math.nextafter(0.0, 1.0)
    assert vals[-2] == math.nextafter(1.0, 0.0)
    assert 0.5 in vals
    with pytest.raises(SpaceError):
        FloatParam("x", min=math.inf, max=1)
    with pytest.raises(SpaceError):
        FloatParam("x", min=2, max=1)


def test_choice_bool_optional_nullable() -> None:
    c = ChoiceParam("level", values=("debug", 1, True, None), optional=True)
    assert labels(c) == ["debug", "1", "true", "null", "absent"]
    assert c.classify(ABSENT) == 4 and c.classify(None) == 3 and c.classify(1) == 1
    assert c.classify(1.0) == 1 and c.classify("nope") == -1
    assert labels(BoolParam("b", nullable=True)) == ["false", "true", "null"]
    with pytest.raises(SpaceError, match="duplicate"):
        ChoiceParam("x", values=(1, 1.0))
    tricky = ChoiceParam("t", values=("1", 1, True, "true", "absent"), optional=True)
    assert labels(tricky) == ['"1"', "1", "true", '"true"', '"absent"', "absent"]
    # redis.conf's `save ""`: the empty string is shown quoted, never as an empty label
    assert labels(ChoiceParam("save", values=("", "3600 1"))) == ['""', "3600 1"]
    with pytest.raises(SpaceError, match="at least one"):
        ChoiceParam("x", values=())
    with pytest.raises(SpaceError, match="scalars"):
        ChoiceParam("x", values=([1],))


def test_string_classes_and_patterns() -> None:
    plain = StringParam("s", max_length=8)
    assert values(plain) == ["", "value", "xxxxxxxx"]
    pat = StringParam("host", pattern=r"[a-z]{2,5}\.(com|org)", max_length=20, examples=("ab.org",))
    vals = values(pat)
    assert vals[0] == "aa.com" and vals[1] == "aaaaa.com" and "ab.org" in vals
    assert all(pat.check_value(v) is None for v in vals)
    with pytest.raises(SpaceError, match="invalid pattern"):
        StringParam("x", pattern="(")
    with pytest.raises(SpaceError, match="example"):
        StringParam("x", max_length=2, examples=("long",))
    with pytest.raises(SpaceError, match="no string satisfies"):
        StringParam("x", pattern=r"[^\s\S]", max_length=3)
    with pytest.raises(SpaceError, match="lookaround and backreferences are not supported"):
        StringParam("x", pattern=r"(?=a)a", max_length=3)  # RE2: linear time, no lookaround
    with pytest.raises(SpaceError, match="length bounds"):
        StringParam("x", min_length=5, max_length=2)
    assert values(StringParam("m", min_length=2, max_length=3))[0] == "xx"


@pytest.mark.parametrize(
    "pattern",
    [r"\d{3}-\d{4}", r"[^abc]+", r"(foo|barbaz)?x", r"\w+@\w+\.com", r".*", r"a*?b", r"\s\S\W"],
)
def test_pattern_extremes_match(pattern: str) -> None:
    p = StringParam("s", pattern=pattern, max_length=30)
    assert p.value_classes
    assert all(p.check_value(c.value) is None for c in p.value_classes)


def test_list_param() -> None:
    p = ListParam("tags", item=ChoiceParam("tags[]", values=("a", "b")), min_items=0, max_items=3)
    assert values(p) == [[], ["a"], ["a", "b", "a"]]
    assert p.check_value(["a", "c"]) is not None
    assert p.check_value("a") is not None
    assert p.check_value(["a"] * 4) is not None
    assert p.classify(["b", "b"]) in (1, 2)
    with pytest.raises(SpaceError):
        ListParam("l", min_items=3, max_items=1)
    with pytest.raises(SpaceError):
        ListParam("l", item=ListParam("x"))


def test_classify_nearest_and_invalid() -> None:
    p = IntParam("n", min=0, max=100)
    assert p.value_classes[p.classify(48)].label == "nominal"
    assert p.classify(101) == -1 and p.classify("3") == -1 and p.classify(True) == -1
    assert p.classify(None) == -1 and p.classify(ABSENT) == -1
    s = StringParam("s", max_length=10)
    assert s.value_classes[s.classify("abcdefghi")].label == "max-length"
    f = FloatParam("f", min=0, max=10)
    assert f.value_classes[f.classify(4.9)].label == "nominal"
    assert f.check_value(float("nan")) is not None


def load_example() -> Space:
    return Space.load(EXAMPLES / "webapp-space.yaml")


def test_load_example_space_and_validate_example_config() -> None:
    space = load_example()
    assert space.name == "webapp"
    assert space.paths[:3] == ("server.port", "server.workers", "server.tls")
    assert space.param("cache.size_mb").conditional
    assert space.constraints[1].name == "enough-connections"
    config = yaml.safe_load((EXAMPLES / "webapp-config.yaml").read_text())
    assert space.validate(config) == []
    assert space.is_valid(config)


def test_validation_reports_every_violation() -> None:
    space = load_example()
    config = yaml.safe_load((EXAMPLES / "webapp-config.yaml").read_text())
    config["server"]["port"] = 80
    config["cache"]["enabled"] = False  # size_mb and backend must now be absent
    config["db"]["pool"]["min"] = 40
    del config["log"]["level"]
    config["app"]["name"] = "Shop!"
    violations = space.validate(config)
    by_rule = {(v.path, v.rule) for v in violations}
    assert ("server.port", "int") in by_rule
    assert ("cache.size_mb", "active_if") in by_rule
    assert ("cache.backend", "active_if") in by_rule
    assert ("log.level", "required") in by_rule
    assert ("app.name", "string") in by_rule
    assert ("db.pool.max, db.pool.min", "constraint db.pool.min <= db.pool.max") in by_rule
    assert all(str(v) for v in violations)
    assert space.validate([1])[0].rule == "type"  # type: ignore[arg-type]


def test_build_carries_unknown_keys_and_removes_absent() -> None:
    space = load_example()
    base = {"deployment": {"region": "x"}, "cache": {"size_mb": 1, "other": True}}
    assignment = {p.path: p.value_classes[0].value for p in space.parameters}
    assignment["cache.size_mb"] = ABSENT
    config = space.build(assignment, base)
    assert config["deployment"] == {"region": "x"}
    assert "size_mb" not in config["cache"] and config["cache"]["other"] is True
    assert base["cache"]["size_mb"] == 1  # base untouched
    with pytest.raises(SpaceError, match="unknown parameter"):
        space.build({"unknown.path": 1})


def test_encode_decode_round_trip() -> None:
    space = load_example()
    for index in range(3):
        codes = tuple(min(index, len(p.value_classes) - 1) for p in space.parameters)
        assert space.encode(space.decode(codes)) == codes
    with pytest.raises(SpaceError):
        space.decode((0,))


def test_finite_constraints_encode_activation() -> None:
    space = load_example()
    derived = [c for c in space.finite_constraints() if c.name.startswith("active_if")]
    assert [c.name for c in derived] == ["active_if(cache.size_mb)", "active_if(cache.backend)"]
    holds = derived[0].evaluate
    assert holds({"cache.enabled": True, "cache.size_mb": 64})
    assert not holds({"cache.enabled": True, "cache.size_mb": ABSENT})
    assert not holds({"cache.enabled": False, "cache.size_mb": 64})
    assert holds({"cache.enabled": False})
    optional = Space.from_dict(
        {
            "parameters": {
                "a": "bool",
                "b": {"type": "int", "min": 0, "max": 1, "optional": True, "active_if": "a"},
            }
        }
    )
    rule = optional.finite_constraints()[0]
    assert rule.evaluate({"a": True}) and rule.evaluate({"a": False})
    assert not rule.evaluate({"a": False, "b": 1})
    assert space.finite_constraints() is space.finite_constraints()


def test_to_dict_round_trip_and_digest_stability() -> None:
    space = load_example()
    again = Space.from_dict(json.loads(json.dumps(space.to_dict())))
    assert again.to_dict() == space.to_dict()
    assert again.digest() == space.digest()
    assert len(space) == len(space.parameters) and "server.port" in space
    assert space.size() == math.prod(len(p.value_classes) for p in space.parameters)
    assert space.describe_classes()["server.tls"] == ["false (false)", "true (true)"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a mapping"),
        ({"parameters": {}}, "non-empty mapping"),
        ({"parameters": {"a": "bool"}, "bogus": 1}, "unknown top-level"),
        ({"parameters": {"a": {"type": "widget"}}}, "unknown parameter type"),
        ({"parameters": {"a": {"type": "int", "maximum": 3}}}, "unknown key"),
        ({"parameters": {"a": 5}}, "must be a mapping"),
        ({"parameters": {"a": {}}}, "empty namespace"),
        ({"parameters": {"a": {"type": "int", "min": "x"}}}, "min must be an integer"),
        ({"parameters": {"a": {"type": "float", "max": "x"}}}, "max must be a number"),
        ({"parameters": {"a": {"type": "choice"}}}, "list of values"),
        (
            {"parameters": {"a": {"type": "string", "max_length": 1.5}}},
            "max_length must be an integer",
        ),
        ({"parameters": {"a": {"type": "string", "examples": [1]}}}, "examples"),
        ({"parameters": {"a": {"type": "list", "max_items": "3"}}}, "max_items"),
        ({"parameters": {"a": {"type": "bool", "optional": "yes"}}}, "optional must be"),
        ({"parameters": {"a": {"type": "bool", "active_if": "zz"}}}, "unknown parameter 'zz'"),
        ({"parameters": {"a": "bool"}, "constraints": "a"}, "must be a list"),
        ({"parameters": {"a": "bool"}, "constraints": [3]}, "must be a string"),
        ({"parameters": {"a": "bool", "a.b": "bool"}}, "nested under parameter"),
        ({"parameters": {"a.b": "bool", "a": {"b": "bool"}}}, "declared twice"),
    ],
)
def test_bad_space_files(data: Any, message: str) -> None:
    with pytest.raises(SpaceError, match=message):
        Space.from_dict(data)


def test_constraint_error_in_space_names_constraint_number() -> None:
    with pytest.raises(ConstraintError, match="constraint #2") as info:
        Space.from_dict({"parameters": {"a": "bool"}, "constraints": ["a", "a and b"]})
    assert info.value.position == 6


def test_duplicate_parameter_and_unknown_lookup() -> None:
    with pytest.raises(SpaceError, match="declared twice"):
        Space((BoolParam("a"), BoolParam("a")))
    with pytest.raises(SpaceError, match="unknown parameter"):
        load_example().param("nope")


def test_load_space_accepts_many_sources(tmp_path: Path) -> None:
    space = load_example()
    assert load_space(space) is space
    assert load_space(space.to_dict()).digest() == space.digest()
    path = tmp_path / "s.json"
    path.write_text(json.dumps(space.to_dict()))
    assert load_space(str(path)).digest() == space.digest()
    with pytest.raises(SpaceError, match="no such space file"):
        Space.load(tmp_path / "missing.yaml")
    with pytest.raises(ConfiglabError):
        load_space(3)  # type: ignore[arg-type]


def test_shorthand_specs() -> None:
    assert isinstance(parameter_from_spec("a", ["x", "y"]), ChoiceParam)
    assert isinstance(parameter_from_spec("a", "boolean"), BoolParam)
    p = parameter_from_spec(
        "a", {"type": "integer", "min": 1, "max": 9, "step": 2, "default": 3, "description": "d"}
    )
    assert isinstance(p, IntParam) and p.step == 2
    assert p.to_dict() == {
        "type": "int",
        "min": 1,
        "max": 9,
        "step": 2,
        "default": 3,
        "description": "d",
    }


_SPACES = st.fixed_dictionaries(
    {
        "n": st.tuples(st.integers(-50, 50), st.integers(0, 100)).map(
            lambda t: (t[0], t[0] + t[1])
        ),
        "f": st.tuples(st.floats(-10, 10), st.floats(0, 10)).map(lambda t: (t[0], t[0] + t[1])),
        "strlen": st.integers(0, 20),
    }
)


@settings(max_examples=60, deadline=None)
@given(_SPACES)
def test_every_value_class_is_valid_and_classifies_to_itself(spec: dict[str, Any]) -> None:
    params = [
        IntParam("n", min=spec["n"][0], max=spec["n"][1], optional=True),
        FloatParam("f", min=spec["f"][0], max=spec["f"][1], nullable=True),
        StringParam("s", max_length=spec["strlen"]),
        BoolParam("b"),
    ]
    for param in params:
        for index, cls in enumerate(param.value_classes):
            assert param.check_value(cls.value) is None
            assert param.classify(cls.value) == index
        assert len({c.label for c in param.value_classes}) == len(param.value_classes)


@settings(max_examples=80, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "server.port",
                "server.workers",
                "cache.enabled",
                "cache.size_mb",
                "db.pool.min",
                "log.level",
                "log.format",
                "app.name",
                "app.features",
            ]
        ),
        st.one_of(
            st.integers(-5, 70000),
            st.booleans(),
            st.none(),
            st.sampled_from(["debug", "text", "shop", "Bad!", ABSENT]),
            st.lists(st.sampled_from(["search", "x"])),
        ),
        max_size=4,
    )
)
def test_is_valid_agrees_with_validate(changes: dict[str, Any]) -> None:
    space = load_example()
    config = yaml.safe_load((EXAMPLES / "webapp-config.yaml").read_text())
    assignment = dict(changes)
    mutated = space.build(assignment, base=config)
    assert space.is_valid(mutated) is (space.validate(mutated) == [])
    assert space.is_valid([]) is False  # type: ignore[arg-type]


def test_space_files_use_yaml_1_2_scalars(tmp_path: Path) -> None:
    path = tmp_path / "space.yaml"
    path.write_text("parameters:\n  answer: [yes, no, on, off]\n  flag: {type: bool}\n"
                    "  n: {type: int, min: 010, max: 0x20}\n  t: [1:30, true]\n")
    space = Space.load(path)
    assert space.param("answer").values == ("yes", "no", "on", "off")  # type: ignore[attr-defined]
    assert (space.param("n").min, space.param("n").max) == (10, 32)  # type: ignore[attr-defined]
    assert space.param("t").values == ("1:30", True)  # type: ignore[attr-defined]


def test_validate_reports_a_missing_parameter_once_not_as_a_constraint_violation() -> None:
    # The README's example: missing db.pool.* used to add two constraint violations "with
    # {'db.pool.max': ABSENT, ...}" that read like bugs.
    space = Space.load(ROOT_DIR / "examples" / "webapp-space.yaml")
    bad = {"server": {"port": 80, "workers": 8, "tls": False},
           "cache": {"enabled": False, "size_mb": 64}}
    messages = [str(v) for v in space.validate(bad)]
    assert "db.pool.max: is required" in messages
    assert not [m for m in messages if "violates" in m or "ABSENT" in m]
    # a constraint over present values is still reported, with readable values
    good = {**formats.load(ROOT_DIR / "examples" / "webapp-config.yaml")}
    good["db"] = {"pool": {"min": 20, "max": 16, "timeout_s": 5.0}}
    (violation,) = space.validate(good)
    assert str(violation) == (
        "db.pool.max, db.pool.min: violates 'db.pool.min <= db.pool.max' with "
        "db.pool.max = 16, db.pool.min = 20"
    )


def test_a_constraint_over_an_optional_absent_parameter_says_absent() -> None:
    space = Space.from_dict({
        "parameters": {"a": {"type": "int", "min": 0, "max": 9, "optional": True}, "b": "bool"},
        "constraints": ["b -> a != null"],
    })
    (violation,) = space.validate({"b": True})
    assert violation.message == "violates 'b -> a != null' with a absent, b = True"
