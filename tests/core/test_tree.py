"""Dotted-path helpers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from configlab import tree
from configlab.errors import ConfiglabError


def test_split_and_join_with_quoted_segments() -> None:
    assert tree.split_path("a.`b.c`.d") == ("a", "b.c", "d")
    assert tree.join_path(("a", "b.c", "d")) == "a.`b.c`.d"
    with pytest.raises(ConfiglabError):
        tree.split_path("a..b")
    with pytest.raises(ConfiglabError):
        tree.split_path("a.`b")


def test_get_set_delete() -> None:
    config: dict[str, object] = {"db": {"pool": {"size": 5}}, "x": 1}
    assert tree.get_path(config, "db.pool.size") == 5
    assert tree.get_path(config, "db.nope", None) is None
    assert tree.has_path(config, "x") and not tree.has_path(config, "x.y")
    with pytest.raises(ConfiglabError, match="not present"):
        tree.get_path(config, "db.nope")
    tree.set_path(config, "db.pool.max", 9)
    tree.set_path(config, "x.y", 2)  # replaces the scalar by a dict
    assert config == {"db": {"pool": {"size": 5, "max": 9}}, "x": {"y": 2}}
    tree.delete_path(config, "db.pool.size")
    tree.delete_path(config, "db.pool.max")
    assert config == {"x": {"y": 2}}
    tree.delete_path(config, "missing.path")
    tree.delete_path(config, "x.y.z")
    assert config == {"x": {"y": 2}}
    tree.set_path(config, "a.b", 1)
    tree.set_path(config, "a.c", 2)
    tree.delete_path(config, "a.b")
    assert config["a"] == {"c": 2}


def test_flatten_keeps_lists_and_empty_dicts_as_leaves() -> None:
    config = {"a": {"b": [1, 2], "c": {}}, "d.e": 1}
    flat = tree.flatten(config)
    assert flat == {"a.b": [1, 2], "a.c": {}, "`d.e`": 1}
    assert tree.unflatten(flat) == config


_keys = st.text(alphabet="abc.-_", min_size=1, max_size=4).filter(lambda k: "`" not in k)
_trees = st.recursive(
    st.one_of(st.integers(), st.text(max_size=3), st.booleans(), st.none()),
    lambda children: st.dictionaries(_keys, children, min_size=1, max_size=3),
    max_leaves=10,
)


@given(st.dictionaries(_keys, _trees, min_size=1, max_size=4))
def test_flatten_round_trip(config: dict[str, object]) -> None:
    assert tree.unflatten(tree.flatten(config)) == config
    copy = tree.deep_copy(config)
    assert copy == config


def test_copy_value_copies_plain_data_and_falls_back_on_other_objects() -> None:
    from collections import OrderedDict

    shared: dict[str, object] = {"x": [1, True, None, -0.0]}
    value = {"a": [shared, shared], "b": "s"}
    copy = tree.copy_value(value)
    assert copy == value
    # Fresh containers everywhere, including an object reached twice (copied twice).
    assert copy["a"][0] is not shared and copy["a"][0] is not copy["a"][1]
    assert copy["a"][0]["x"][1] is True
    # marshal refuses subclasses: the recursive copy takes them (an OrderedDict -> a dict).
    odd = [OrderedDict(k=[1])]
    copied = tree.copy_value(odd)
    assert copied == [{"k": [1]}] and type(copied[0]) is dict and copied[0]["k"] is not odd[0]["k"]
    assert tree.copy_value("scalar") == "scalar"
