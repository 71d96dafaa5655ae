"""Constraint language: parsing, semantics, errors, safety."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from configlab.constraints import ABSENT, parse, truthy, values_equal
from configlab.errors import ConfiglabError, ConstraintError


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        (
            "not cache.enabled -> cache.size_mb == 0",
            {"cache.enabled": False, "cache.size_mb": 0},
            True,
        ),
        (
            "not cache.enabled -> cache.size_mb == 0",
            {"cache.enabled": False, "cache.size_mb": 5},
            False,
        ),
        (
            "not cache.enabled -> cache.size_mb == 0",
            {"cache.enabled": True, "cache.size_mb": 5},
            True,
        ),
        ("pool.min <= pool.max", {"pool.min": 3, "pool.max": 3}, True),
        ("pool.min <= pool.max", {"pool.min": 4, "pool.max": 3}, False),
        (
            'log.level in ["debug", "info"] or not trace.enabled',
            {"log.level": "warn", "trace.enabled": True},
            False,
        ),
        (
            'log.level in ["debug", "info"] or not trace.enabled',
            {"log.level": "info", "trace.enabled": True},
            True,
        ),
        ("a + b <= 100", {"a": 40, "b": 60}, True),
        ("a + b <= 100", {"a": 41, "b": 60}, False),
        ("a * 2 - b / 4 == 7", {"a": 4, "b": 4}, True),
        ("a % 3 == 1", {"a": 7}, True),
        ("-a < -3", {"a": 4}, True),
        ("x == null", {}, True),
        ("x == null", {"x": ABSENT}, True),
        ("x != null", {"x": 0}, True),
        ("flag == 1", {"flag": True}, False),
        ("n == 1.0", {"n": 1}, True),
        ("s < t", {"s": "a", "t": "b"}, True),
        ("s < 3", {"s": "a"}, False),
        ("x not in [1, 2]", {"x": 3}, True),
        ('"ab" in s', {"s": "xaby"}, True),
        ("len(name) > 3", {"name": "abcd"}, True),
        ("len(n) > 3", {"n": 5}, False),
        ("a <-> b", {"a": True, "b": False}, False),
        ("a && !b || c", {"a": True, "b": False, "c": False}, True),
        ("a -> b -> c", {"a": True, "b": True, "c": False}, False),
        ("(a or b) and c", {"a": False, "b": True, "c": True}, True),
        ("`my-key`.x == 'q'", {"my-key.x": "q"}, True),
        ("a / 0 == null", {"a": 1}, True),
        ("list == [1, 2]", {"list": [1, 2]}, True),
        ("s + 'x' == 'ax'", {"s": "a"}, True),
        ("1e3 == 1000", {}, True),
        ("'it\\'s' == s", {"s": "it's"}, True),
    ],
)
def test_semantics(text: str, env: dict[str, object], expected: bool) -> None:
    assert parse(text).evaluate(env) is expected


def test_params_are_sorted_and_unique() -> None:
    constraint = parse("b.y > 1 and a.x < 2 or b.y == 0")
    assert constraint.params == ("a.x", "b.y")
    assert constraint.name == constraint.text


def test_value_of_arithmetic() -> None:
    assert parse("a + b").value({"a": 2, "b": 3}) == 5
    assert parse("x").value({"x": ABSENT}) is None


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("a ++ ", 3, "expected a value"),
        ("(a == 1", 7, "expected ')'"),
        ("a == 1 b", 7, "unexpected token"),
        ("a $ b", 2, "unexpected character"),
        ("", 0, "empty constraint"),
        ("[1, 2", 5, "expected ']'"),
        ("len a", 4, "expected '('"),
    ],
)
def test_syntax_errors_name_text_and_position(text: str, position: int, fragment: str) -> None:
    with pytest.raises(ConstraintError) as info:
        parse(text)
    assert info.value.position == position
    assert info.value.text == text
    assert fragment in str(info.value)
    assert isinstance(info.value, ConfiglabError)


def test_unknown_parameter_is_reported_with_position() -> None:
    with pytest.raises(ConstraintError, match="unknown parameter 'b'") as info:
        parse("a == 1 and b == 2", known_params=["a"])
    assert info.value.position == 11


def test_non_string_is_refused() -> None:
    with pytest.raises(ConstraintError):
        parse(42)  # type: ignore[arg-type]


def test_never_evaluates_python() -> None:
    # Python syntax that would run code under eval is just an unknown token here.
    with pytest.raises(ConstraintError):
        parse("__import__('os').system('true')")


def test_absent_is_a_picklable_singleton() -> None:
    assert pickle.loads(pickle.dumps(ABSENT)) is ABSENT
    assert repr(ABSENT) == "ABSENT"


def test_truthiness_and_equality_helpers() -> None:
    assert truthy(ABSENT) is False
    assert truthy(float("nan")) is False
    assert truthy(1) is True
    assert values_equal([1, [2]], [1.0, [2]])
    assert not values_equal([1], [1, 2])
    assert not values_equal(True, 1)


@given(st.integers(-1000, 1000), st.integers(-1000, 1000))
def test_arithmetic_matches_python(a: int, b: int) -> None:
    assert parse("a + b").value({"a": a, "b": b}) == a + b
    assert parse("a - b * 2").value({"a": a, "b": b}) == a - b * 2
    assert parse("a < b").evaluate({"a": a, "b": b}) is (a < b)
    assert parse("a >= b").evaluate({"a": a, "b": b}) is (a >= b)
    assert parse("a > b").evaluate({"a": a, "b": b}) is (a > b)


@given(st.booleans(), st.booleans(), st.booleans())
def test_boolean_connectives_match_truth_tables(a: bool, b: bool, c: bool) -> None:
    env = {"a": a, "b": b, "c": c}
    assert parse("a and b or c").evaluate(env) is ((a and b) or c)
    assert parse("a -> b").evaluate(env) is ((not a) or b)
    assert parse("not a <-> b").evaluate(env) is ((not a) == b)
    assert parse("a or b and c").evaluate(env) is (a or (b and c))


def test_overflowing_arithmetic_is_null_not_an_exception() -> None:
    assert parse("a + b <= 100").evaluate({"a": 10**400, "b": 1e308}) is False
    assert parse("a * b == null").evaluate({"a": 10**400, "b": 1.5}) is True


def test_unknown_name_suggests_backticks_for_hyphenated_parameters() -> None:
    with pytest.raises(ConstraintError, match=r"backticks: `max-length`") as caught:
        parse("max-length > 3", ["max-length", "min"])
    assert "unknown parameter 'max'" in str(caught.value)
    with pytest.raises(ConstraintError, match=r"backticks: lint.`line-length`"):
        parse("lint.line-length > 80", ["lint.line-length"])
    with pytest.raises(ConstraintError) as plain:
        parse("zz > 1", ["a"])
    assert "backticks" not in str(plain.value)
    assert parse("`max-length` > 3", ["max-length"]).params == ("max-length",)
