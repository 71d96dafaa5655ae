"""PICT sub-models, weights and ``~`` values survive a space file (``covering:`` section)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from configlab import formats
from configlab.errors import SpaceError
from configlab.generation import covering_suite
from configlab.space import Space
from configlab.space._pict import space_from_pict, space_to_pict
from tests.paths import DATA_DIR

PICT = DATA_DIR / "pict" / "submodels_aliases.pict"


def _pict_space() -> Space:
    return space_from_pict(PICT.read_text(encoding="utf-8"), source=PICT.name)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_pict_model_to_space_file_and_back_keeps_every_hint(tmp_path: Path, fmt: str) -> None:
    original = _pict_space()
    path = tmp_path / f"space.{fmt}"
    path.write_text(formats.dumps(original.to_dict(), fmt))
    loaded = Space.load(path)
    assert loaded.hints == original.hints
    # integer values (A: ~-1) come back as integers, weights by label, groups in order
    assert loaded.hints["negative"] == {"A": [-1]}
    assert loaded.hints["weights"] == {"Browser": {"Chrome": 10}}
    assert loaded.hints["groups"][0] == (["PLATFORM", "CPUS", "RAM", "HDD"], 3)
    assert space_to_pict(loaded) == space_to_pict(original)
    # generation defaults, not part of the definition: the digest is the one without them
    assert loaded.digest() == original.digest()
    bare = Space.from_dict({k: v for k, v in original.to_dict().items() if k != "covering"})
    assert bare.hints == {} and bare.digest() == original.digest()


def test_space_file_hints_drive_covering_generation() -> None:
    data = _pict_space().to_dict()
    data = json.loads(json.dumps(data))  # what a JSON space file holds: string keys only
    report = covering_suite(Space.from_dict(data), 2, seed=3)
    # A = -1 is negative: it appears only in single-fault configs, one per config
    assert report.faults and all(path == "A" for _, path, _ in report.faults)
    fault_rows = {n for n, _, _ in report.faults}
    for n, config in enumerate(report.configs):
        assert (config["A"] == -1) == (n in fault_rows)
    # the sub-model {PLATFORM, CPUS, RAM, HDD} @ 3 is covered three-way
    triples = {
        (c["PLATFORM"], c["CPUS"], c["RAM"]) for c in report.configs if c["A"] != -1
    }
    assert len(triples) == 27


def test_integer_weights_round_trip_through_json_labels(tmp_path: Path) -> None:
    space = space_from_pict("n: 1 (5), 2, 3\nm: a, b\n", source="m.pict")
    assert space.hints == {"weights": {"n": {1: 5}}}
    text = formats.dumps(space.to_dict(), "json")
    assert json.loads(text)["covering"] == {"weights": {"n": {"1": 5}}}
    path = tmp_path / "s.json"
    path.write_text(text)
    assert Space.load(path).hints == {"weights": {"n": {1: 5}}}


BASE: dict[str, Any] = {"parameters": {"a": {"type": "choice", "values": [1, 2, 3]}}}


@pytest.mark.parametrize(
    ("covering", "message"),
    [
        ([1], "covering: expected a mapping"),
        ({"weight": {}}, "unknown key(s) ['weight']"),
        ({"groups": {"a": 3}}, "covering.groups: expected a list"),
        ({"groups": [["a"]]}, "covering.groups[0]: expected {parameters"),
        ({"groups": [{"parameters": [], "strength": 3}]}, "'parameters' must be a non-empty"),
        ({"groups": [{"parameters": ["a"], "strength": 0}]}, "'strength' must be a positive"),
        ({"groups": [{"parameters": ["b"], "strength": 2}]}, "'b' is not a parameter"),
        ({"weights": ["a"]}, "covering.weights: expected {path"),
        ({"weights": {"a": 3}}, "covering.weights.a: expected {value: weight}"),
        ({"weights": {"a": {"1": -2}}}, "weight of '1' must be a positive number"),
        ({"weights": {"a": {"9": 2}}}, "'9' is not a value of 'a'"),
        ({"negative": ["a"]}, "covering.negative: expected {path"),
        ({"negative": {"a": 1}}, "covering.negative.a: expected a list"),
        ({"negative": {"a": [7]}}, "7 is not a value of 'a'"),
        ({"negative": {"zz": [1]}}, "'zz' is not a parameter"),
    ],
)
def test_bad_covering_section_names_file_and_key(covering: Any, message: str) -> None:
    with pytest.raises(SpaceError) as info:
        Space.from_dict({**BASE, "covering": covering}, source="s.yaml")
    assert str(info.value).startswith("s.yaml: covering")
    assert message in str(info.value)


def test_empty_covering_section_means_no_hints() -> None:
    assert Space.from_dict({**BASE, "covering": None}).hints == {}
    assert Space.from_dict({**BASE, "covering": {}}).hints == {}
    assert "covering" not in Space.from_dict(BASE).to_dict()
