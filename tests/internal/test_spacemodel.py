"""Tests for configlab._internal.spacemodel: the Space -> FiniteModel bridge."""

from __future__ import annotations

import itertools

import pytest

from configlab._internal.finite import ModelSolver
from configlab._internal.spacemodel import is_edge_class, space_model
from configlab.constraints import ABSENT
from configlab.errors import SpaceError
from configlab.space import Space, ValueClass

SPACE = Space.from_dict(
    {
        "parameters": {
            "db.pool.min": {"type": "int", "min": 0, "max": 4},
            "db.pool.max": {"type": "int", "min": 1, "max": 4},
            "cache.enabled": "bool",
            "cache.size": {"type": "choice", "values": ["s", "l"], "active_if": "cache.enabled"},
            "tags": {"type": "list", "item": {"type": "choice", "values": ["a", "b"]},
                     "max_items": 2},
            "name": {"type": "string", "max_length": 3, "examples": ["ab"], "optional": True},
        },
        "constraints": ["db.pool.min <= db.pool.max", "1 + 1 == 2"],
    }
)


def test_model_mirrors_the_space() -> None:
    sm = space_model(SPACE)
    model = sm.model
    assert model.names == SPACE.paths
    assert model.domain_sizes == tuple(len(p.value_classes) for p in SPACE.parameters)
    # user constraints then one derived activation constraint per conditional parameter
    assert [c.name for c in model.constraints] == [
        "db.pool.min <= db.pool.max", "1 + 1 == 2", "active_if(cache.size)",
    ]
    assert model.constraints[0].scope == (0, 1)
    assert model.constraints[1].scope == ()
    assert model.constraints[2].scope == (2, 3)
    assert sm.labels[2] == ("false", "true")
    assert sm.values[3][-1] is ABSENT


def test_allows_agrees_with_space_validation_on_every_row() -> None:
    sm = space_model(SPACE)
    solver = ModelSolver(sm.model)
    sizes = sm.model.domain_sizes
    for row in itertools.product(*(range(s) for s in sizes)):
        config = sm.decode(row)
        assert config == SPACE.decode(row)
        assert (not solver.violates(row)) == SPACE.is_valid(config), (row, config)


def test_decode_over_a_base_keeps_unknown_keys_and_removes_absent() -> None:
    sm = space_model(SPACE)
    base = {"db": {"pool": {"min": 3, "extra": "keep"}, "url": "x"}, "cache": 5,
            "name": "zz", "other": [1, 2]}
    row = [0] * len(SPACE.parameters)
    row[-1] = len(SPACE.param("name").value_classes) - 1  # absent
    config = sm.decode(row, base)
    assert config == SPACE.decode(row, base)
    assert config["db"]["pool"]["extra"] == "keep"
    assert config["other"] == [1, 2] and config["other"] is not base["other"]
    assert "name" not in config
    assert isinstance(config["cache"], dict)  # a scalar in the way is replaced, as in Space.build
    assert base["db"]["pool"]["min"] == 3  # base untouched


def test_decoded_lists_are_fresh_copies() -> None:
    sm = space_model(SPACE)
    row = [0] * len(SPACE.parameters)
    row[4] = 2  # max-items list
    first, second = sm.decode(row), sm.decode(row)
    first["tags"].append("c")
    assert second["tags"] == ["a", "b"]


def test_decode_rejects_wrong_length() -> None:
    with pytest.raises(SpaceError, match="expected 6 codes"):
        space_model(SPACE).decode([0, 0])


def test_edge_classes() -> None:
    assert is_edge_class(ValueClass("min", 0))
    assert is_edge_class(ValueClass("absent", ABSENT))
    assert is_edge_class(ValueClass("'debug'", "debug"))
    assert not is_edge_class(ValueClass("nominal", 5))
    assert not is_edge_class(ValueClass("example:shop", "shop"))
    sm = space_model(SPACE)
    name_labels = sm.labels[5]
    assert [e for e, label in zip(sm.edges[5], name_labels, strict=True)
            if label.startswith("example:")] == [False]
