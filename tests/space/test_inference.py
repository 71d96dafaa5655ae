"""Inferring a space from example configs (configlab.space._model._infer)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from configlab.errors import SpaceError
from configlab.space import (
    BoolParam,
    ChoiceParam,
    FloatParam,
    IntParam,
    ListParam,
    Space,
    StringParam,
)
from configlab.space._infer import infer_space

EXAMPLES: list[dict[str, Any]] = [
    {"db": {"host": "alpha", "port": 5432, "ratio": 1}, "mode": "fast", "debug": False,
     "tags": ["a", "b"], "level": "info"},
    {"db": {"host": "beta.example", "port": 6543, "ratio": 0.5}, "mode": "slow", "debug": True,
     "tags": [], "level": "info", "extra": None},
    {"db": {"host": "gamma", "port": 7000, "ratio": 2}, "mode": "fast", "debug": True,
     "tags": ["c"], "level": "warn"},
]


def test_kinds_ranges_and_flags() -> None:
    space = Space.infer(EXAMPLES, name="svc")
    assert space.name == "svc"
    assert space.paths == ("db.host", "db.port", "db.ratio", "mode", "debug", "tags", "level",
                           "extra")
    host = space.param("db.host")
    assert isinstance(host, StringParam)
    assert (host.min_length, host.max_length) == (5, 12)
    assert host.examples == ("alpha", "beta.example", "gamma")
    port = space.param("db.port")
    assert isinstance(port, IntParam) and (port.min, port.max) == (5432, 7000)
    ratio = space.param("db.ratio")
    assert isinstance(ratio, FloatParam) and (ratio.min, ratio.max) == (0.5, 2.0)
    mode = space.param("mode")
    assert isinstance(mode, ChoiceParam) and mode.values == ("fast", "slow")
    assert isinstance(space.param("debug"), BoolParam)
    tags = space.param("tags")
    assert isinstance(tags, ListParam) and (tags.min_items, tags.max_items) == (0, 2)
    assert isinstance(tags.item, StringParam)  # "a", "b", "c": no value repeats
    extra = space.param("extra")
    assert extra.optional and extra.nullable
    assert not space.param("mode").optional
    assert all(p.inferred for p in space.parameters)
    assert all(space.is_valid(config) for config in EXAMPLES)
    assert not space.is_valid({**EXAMPLES[0], "mode": "medium"})
    assert not space.warnings


def test_few_repeated_strings_are_choices_but_unique_strings_are_not() -> None:
    repeated = infer_space([{"a": "x"}, {"a": "y"}, {"a": "x"}])
    assert isinstance(repeated.param("a"), ChoiceParam)
    unique = infer_space([{"a": "x"}, {"a": "y"}])
    assert isinstance(unique.param("a"), StringParam)
    many = infer_space([{"a": str(i % 11)} for i in range(22)])
    assert isinstance(many.param("a"), StringParam)


def test_mixed_values_conflicts_and_warnings() -> None:
    space = infer_space([
        {"m": 1, "s": "a", "obj": {"x": 1}, "lst": [1, 2.5, None], "bad": [{"a": 1}],
         "mix": [1], "big": float("inf"), "many": 0, "e": [], "1": 1,
         "lnan": [float("nan")]},
        {"m": "one", "s": True, "obj": 3, "lst": [], "bad": [], "mix": 2, "big": 1.0,
         "many": "x", "e": [], "": 2, "a`b": 3, 7: 1},
    ] + [{"many": f"v{i}"} for i in range(12)])
    assert space.param("m").values == (1, "one")  # type: ignore[attr-defined]
    assert space.param("s").values == ("a", True)  # type: ignore[attr-defined]
    lst = space.param("lst")
    assert isinstance(lst, ListParam) and isinstance(lst.item, FloatParam)
    assert lst.item.nullable
    empty = space.param("e")
    assert isinstance(empty, ListParam) and empty.max_items == 0
    text = "\n".join(space.warnings)
    for needle in ("obj: both an object and a value", "bad: lists of objects",
                   "mix: lists mixed with other values", "big: non-finite numbers",
                   "many: 14 distinct values of mixed types", "key '' cannot be addressed",
                   "key 'a`b' cannot be addressed", "key 7 cannot be addressed"):
        assert needle in text, needle
    for missing in ("obj", "bad", "mix", "big", "many", "lnan"):
        assert missing not in space
    assert space.param("obj.x").optional  # a scalar "obj" just means obj.x is absent
    assert "`1`" not in space and "1" in space


def test_huge_integers_mixed_with_floats_stay_inside_the_bounds() -> None:
    configs = [{"x": 2**70 + 1}, {"x": 0.5}, {"y": 2**2000}, {"y": 1.5},
               {"z": -(2**53 + 1)}, {"z": 0.5}]
    space = infer_space(configs)
    assert "y" not in space and any("beyond the float range" in w for w in space.warnings)
    assert all(space.is_valid(c) for c in configs)


@pytest.mark.parametrize(
    ("configs", "message"),
    [
        ([], "no configs"),
        ([{"a": 1}, [1]], "config #2 is a list"),
        ([{"a": {"b": {}}}], "no parameter could be inferred"),
        ([{"a": [{"x": 1}]}], r"inferred from the configs \(a: lists of objects"),
    ],
)
def test_errors(configs: list[Any], message: str) -> None:
    with pytest.raises(SpaceError, match=message):
        infer_space(configs)


def test_single_mapping_and_generator_inputs() -> None:
    assert infer_space({"a": 1}).paths == ("a",)  # type: ignore[arg-type]
    assert infer_space(c for c in EXAMPLES).digest() == infer_space(EXAMPLES).digest()


_KEYS = st.text(alphabet="abcxyz._-`", min_size=0, max_size=4)
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
_VALUES = st.recursive(
    st.one_of(_SCALARS, st.lists(_SCALARS, max_size=4)),
    lambda children: st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=12,
)
_CONFIGS = st.lists(st.dictionaries(_KEYS, _VALUES, max_size=5), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(_CONFIGS)
def test_every_example_validates_against_the_inferred_space(configs: list[dict[str, Any]]
                                                            ) -> None:
    try:
        space = infer_space(configs)
    except SpaceError as error:
        assert "no parameter could be inferred" in str(error)
        return
    for config in configs:
        assert space.validate(config) == [], config
    # First-seen order and determinism.
    assert infer_space(configs).digest() == space.digest()
    for param in space.parameters:
        assert param.inferred and param.value_classes


def test_few_examples_widen_numbers_and_keep_string_examples() -> None:
    space = Space.infer([{"port": 6379, "ratio": 0.5, "name": "redis", "neg": -3}])
    port = space.param("port")
    assert (port.min, port.max) == (0, 63790)  # type: ignore[attr-defined]
    labels = [c.label for c in port.value_classes]
    assert labels[0] == "min" and any(label.startswith("2^") for label in labels)
    assert (space.param("ratio").min, space.param("ratio").max) == (0.0, 5.0)  # type: ignore[attr-defined]
    assert (space.param("neg").min, space.param("neg").max) == (-30, 1)  # type: ignore[attr-defined]
    name = space.param("name")
    assert name.examples == ("redis",) and name.max_length == 64  # type: ignore[attr-defined]
    assert space.is_valid({"port": 6379, "ratio": 0.5, "name": "redis", "neg": -3})
    # switch words of redis.conf/sshd_config: both states, not a free string
    switches = Space.infer([{"appendonly": "no", "UsePAM": "yes", "tls": "on", "mode": "n"}])
    assert switches.param("appendonly").values == ("yes", "no")  # type: ignore[attr-defined]
    assert switches.param("UsePAM").values == ("yes", "no")  # type: ignore[attr-defined]
    assert switches.param("tls").values == ("on", "off")  # type: ignore[attr-defined]
    assert switches.param("mode").kind == "string"
    many = Space.infer([{"n": 3}, {"n": 5}, {"n": 9}])
    assert (many.param("n").min, many.param("n").max) == (3, 9)  # type: ignore[attr-defined]
