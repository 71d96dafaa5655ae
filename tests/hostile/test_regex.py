"""Issue 18 item 5: user patterns run on RE2 (linear time), so a ReDoS pattern cannot hang."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from configlab._internal.saferegex import ENGINE, compile_pattern
from configlab.errors import SpaceError
from configlab.space import Space
from configlab.specs import Outcome, expect
from tests.hostile.conftest import run_cli

EVIL = "a" * 50_000 + "!"  # `(a+)+$` backtracks 2**n steps on this with Python's re


def test_space_pattern_check_is_linear(tmp_path: Path) -> None:
    space = Space.from_dict({"parameters": {"name": {"type": "string", "pattern": "(a+)+$",
                                                     "max_length": 100_000}}})
    start = time.perf_counter()
    assert not space.is_valid({"name": EVIL})
    assert space.is_valid({"name": "aaaa"})
    assert time.perf_counter() - start < 2
    # the same through the CLI: a config checked against the space answers at once
    (tmp_path / "space.yaml").write_text(
        "parameters:\n  name: {type: string, pattern: '(a+)+$', max_length: 100000}\n")
    (tmp_path / "c.yaml").write_text(f"name: '{EVIL}'\n")
    result = run_cli("space", "check", str(tmp_path / "space.yaml"), "-c",
                     str(tmp_path / "c.yaml"), timeout=20)
    assert result.returncode == 1 and "does not match pattern" in result.stdout


def test_spec_stdout_matches_is_linear() -> None:
    expectation = expect.stdout_matches("(a+)+$")
    start = time.perf_counter()
    message = expectation.evaluate({}, Outcome(exit_code=0, stdout=EVIL))
    assert message is not None and "expected stdout to match" in message
    assert expectation.evaluate({}, Outcome(exit_code=0, stdout="aaa")) is None
    assert time.perf_counter() - start < 2


def test_unsupported_and_oversized_patterns_are_refused() -> None:
    assert "RE2" in ENGINE
    for bad, needle in [(r"(a)\1", "backreferences"), ("(?<=a)b", "lookaround"),
                        ("(?:a{60000}){60000}", "repetition"), ("x" * 20_000, "limit")]:
        with pytest.raises(SpaceError, match=needle):
            compile_pattern(bad, where="p", error=SpaceError)
    with pytest.raises(SpaceError, match="must be a string"):
        compile_pattern(3, where="p", error=SpaceError)  # type: ignore[arg-type]


def test_three_thousand_nested_groups_give_a_space_error() -> None:
    pattern = "(" * 3000 + "a" + ")" * 3000
    with pytest.raises(SpaceError, match="no string satisfies pattern") as info:
        Space.from_dict({"parameters": {"s": {"type": "string", "pattern": pattern}}})
    assert len(str(info.value)) < 300  # the pattern is shortened in the message


def test_counts_above_re2s_limit_are_split_into_equal_runs() -> None:
    # AWS's published schemas write `.{0,1023}`, `.{16,2044}`, `(\w|/|-){1,1011}`; RE2 caps a
    # count at 1,000, so these are compiled as runs of the same atom matching the same strings
    import re

    from configlab._internal.saferegex import split_repeats

    assert split_repeats("^arn:.{16,2044}$") == "^arn:(?:.){16,1000}(?:.){0,1000}(?:.){0,44}$"
    assert split_repeats(r"(\w|-){1,1011}") == r"(?:(\w|-)){1,1000}(?:(\w|-)){0,11}"
    assert split_repeats("[a-z]{2000,}?") == "(?:[a-z]){1000,1000}?(?:[a-z]){1000,}?"
    assert split_repeats(r"[]\]x]{1500}") == r"(?:[]\]x]){1000,1000}(?:[]\]x]){500,500}"
    assert split_repeats("x{3}a{2}{1001}") is None  # a count after a count: no atom
    for unsplit in ("x{3}", "(?:a{60000}){60000}", "(a{1001}", "a)b{1001}", "[ab{1001}"):
        assert split_repeats(unsplit) is None, unsplit
    for pattern in ("^arn:.{16,2044}$", "^(ab|c){2,1500}$", "^[^/]{0,1023}x$", "^a{1001,1003}$"):
        safe, python = compile_pattern(pattern, where="p"), re.compile(pattern)
        for n in (0, 1, 15, 16, 17, 999, 1000, 1001, 1002, 1003, 1004, 1500, 1501, 2044, 2045):
            for text in ("arn:" + "z" * n, "ab" * n, "c" * n, "q" * n + "x", "a" * n):
                assert safe.fullmatch(text) == bool(python.fullmatch(text)), (pattern, n)
    with pytest.raises(SpaceError, match="repetition"):  # above MAX_SPLIT_REPEAT: refused
        compile_pattern("a{10001}", where="p", error=SpaceError)


def test_python_end_of_text_is_respelled_for_re2() -> None:
    # AWS::MSK::ClusterPolicy writes `cluster.*\Z` (Python's end of text; RE2 spells it \z)
    safe = compile_pattern(r"^arn:[\w-]+:kafka:.*\Z", where="p")
    assert safe.fullmatch("arn:aws:kafka:x") and not safe.fullmatch("arn:aws:kafka:x\n")
    assert compile_pattern(r"a\\Z", where="p").fullmatch("a\\Z")  # an escaped backslash, a Z
    assert compile_pattern(r"^.{0,1023}\Z", where="p").fullmatch("x" * 1023)
