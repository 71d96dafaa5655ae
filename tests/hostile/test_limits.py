"""Issue 18 items 6 and 7: linear checks, early refusals and caps on plain but large input."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from configlab.errors import GenerationError, SpaceError
from configlab.generation import _tuple_index, generate
from configlab.space import Space
from configlab.space._params import MAX_GENERATED_STRING, ChoiceParam, StringParam
from tests.hostile.conftest import assert_one_line_error, run_cli


def test_choice_duplicates_are_found_in_linear_time() -> None:
    values = tuple(f"v{i}" for i in range(20_000))
    start = time.perf_counter()
    param = ChoiceParam("c", values=values)
    assert len(param.value_classes) == 20_000
    assert time.perf_counter() - start < 3  # pairwise checks took 280 s
    with pytest.raises(SpaceError, match=r"duplicate choice value 1\.0"):
        ChoiceParam("c", values=(1, "1", True, 1.0))  # 1 == 1.0, but not "1" or True


def test_ten_thousand_parameters_are_refused_before_any_work() -> None:
    space = Space.from_dict({"parameters": {f"p{i}": ["a", "b", "c"] for i in range(10_000)}})
    start = time.perf_counter()
    with pytest.raises(GenerationError, match="2-tuples to cover exceed the limit"):
        list(generate(space))
    assert time.perf_counter() - start < 10  # was refused only after 21-28 s


def test_explicit_subsets_over_the_limit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_tuple_index, "MAX_TUPLES", 10)
    with pytest.raises(GenerationError, match="exceed the limit of 10"):
        _tuple_index.TupleIndex([4, 4, 4], 2, subsets=np.array([[0, 1], [1, 2]]))


def test_generated_strings_are_capped() -> None:
    param = StringParam("s", max_length=10**9)
    longest = max(len(c.value) for c in param.value_classes)
    assert longest == MAX_GENERATED_STRING
    with pytest.raises(SpaceError, match="min_length"):
        StringParam("s", min_length=10**9, max_length=10**9)


def test_int_bounds_far_outside_64_bits_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SpaceError, match="outside the supported range"):
        Space.from_dict({"parameters": {"n": {"type": "int", "min": -(10**400), "max": 1}}})
    space = tmp_path / "space.yaml"
    space.write_text("parameters:\n  n: {type: int, min: 0, max: 1" + "0" * 400 + "}\n")
    assert_one_line_error(run_cli("space", "check", str(space)), str(space), "n: max")


def test_the_size_of_a_huge_space_is_printed(tmp_path: Path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump(
        {"parameters": {f"p{i}": ["a", "b", "c"] for i in range(10_000)}}))
    result = run_cli("space", "check", str(space), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "~10^4771 value-class combination(s)" in result.stdout
