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
