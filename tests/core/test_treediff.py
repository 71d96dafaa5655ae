"""Tests for configlab.treediff: entries, type changes, lists, JSON Patch, text, scale."""

from __future__ import annotations

import copy
import enum
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from configlab import formats, treediff
from configlab.treediff import DiffEntry, TreeDiff, diff, json_pointer

# -- an independent RFC 6902 applier (test oracle; jsonpatch is used too when installed) ----


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    assert pointer.startswith("/"), pointer
    return [_unescape(t) for t in pointer[1:].split("/")]


def _index(container: list[Any], token: str, *, allow_end: bool) -> int:
    assert token.isdigit() and (token == "0" or not token.startswith("0")), token
    index = int(token)
    limit = len(container) if allow_end else len(container) - 1
    assert 0 <= index <= limit, (token, len(container))
    return index


def apply_patch(doc: Any, patch: list[dict[str, Any]]) -> Any:
    """Apply add / remove / replace operations strictly (every target must exist as RFC says)."""
    doc = copy.deepcopy(doc)
    for op in patch:
        tokens = _tokens(op["path"])
        if not tokens:
            assert op["op"] == "replace"
            doc = copy.deepcopy(op["value"])
            continue
        parent = doc
        for token in tokens[:-1]:
            if isinstance(parent, list):
                parent = parent[_index(parent, token, allow_end=False)]
            else:
                parent = parent[token]
        last = tokens[-1]
        if isinstance(parent, list):
            if op["op"] == "add":
                parent.insert(_index(parent, last, allow_end=True), copy.deepcopy(op["value"]))
            elif op["op"] == "remove":
                del parent[_index(parent, last, allow_end=False)]
            else:
                parent[_index(parent, last, allow_end=False)] = copy.deepcopy(op["value"])
        else:
            assert isinstance(parent, dict)
            if op["op"] == "add":
                parent[last] = copy.deepcopy(op["value"])
            elif op["op"] == "remove":
                del parent[last]
            else:
                assert last in parent
                parent[last] = copy.deepcopy(op["value"])
    return doc


def strict_equal(a: Any, b: Any) -> bool:
    """Equality that also requires equal types everywhere (1 != 1.0 != True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def _kinds(result: TreeDiff) -> list[tuple[str, str]]:
    return [(e.kind, e.path) for e in result]


# -- entries ----------------------------------------------------------------------------------


def test_identical_trees_have_an_empty_diff() -> None:
    tree = {"a": 1, "b": {"c": [1, 2, {"d": None}]}, "e": 1.5, "f": "x", "g": True}
    result = diff(tree, copy.deepcopy(tree))
    assert result.is_empty
    assert len(result) == 0
    assert result.to_json_patch() == []
    assert result.to_text() == "no differences"


def test_added_removed_changed_by_dotted_path() -> None:
    old = {"db": {"host": "a", "port": 5432, "pool": {"size": 5}}, "debug": False}
    new = {"db": {"host": "b", "port": 5432, "user": "u"}, "debug": False, "cache": {}}
    result = diff(old, new)
    assert _kinds(result) == [
        ("changed", "db.host"),
        ("removed", "db.pool"),
        ("added", "db.user"),
        ("added", "cache"),
    ]
    assert [e.path for e in result.changed] == ["db.host"]
    assert [e.path for e in result.removed] == ["db.pool"]
    assert [e.path for e in result.added] == ["db.user", "cache"]
    host = result.changed[0]
    assert (host.old, host.new) == ("a", "b")
    assert result.removed[0].old == {"size": 5}
    assert result.added[1].new == {}
    assert not result.is_empty
    assert list(result) == list(result.entries)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (1, "1"),
        (1, 1.0),
        (1, True),
        (0, False),
        (None, 0),
        ("", None),
        ({"x": 1}, [1]),
        ({}, []),
        ([1], "1"),
        ({"a": 1}, 1),
    ],
)
def test_type_changes_are_changes(old: Any, new: Any) -> None:
    result = diff({"k": old}, {"k": new})
    assert _kinds(result) == [("changed", "k")]
    assert result.entries[0].old == old and type(result.entries[0].old) is type(old)
    assert type(result.entries[0].new) is type(new)


def test_nested_type_changes_inside_lists() -> None:
    result = diff({"a": [1, [2]]}, {"a": [1.0, [True]]})
    assert _kinds(result) == [("changed", "a.0"), ("changed", "a.1.0")]


def test_nan_equals_nan_and_key_order_does_not_matter() -> None:
    nan = float("nan")
    assert diff({"a": nan, "b": [float("nan")]}, {"b": [float("nan")], "a": float("nan")}).is_empty
    assert _kinds(diff({"a": nan}, {"a": 1.0})) == [("changed", "a")]


def test_lists_compare_by_index_with_tail_added_or_removed() -> None:
    grow = diff({"l": [1, 2]}, {"l": [1, 3, 4, 5]})
    assert _kinds(grow) == [("changed", "l.1"), ("added", "l.2"), ("added", "l.3")]
    shrink = diff({"l": [1, 2, 3, 4]}, {"l": [9, 2]})
    # removed tail elements come last index first, so the patch applies in order
    assert _kinds(shrink) == [("changed", "l.0"), ("removed", "l.3"), ("removed", "l.2")]
    assert apply_patch({"l": [1, 2, 3, 4]}, shrink.to_json_patch()) == {"l": [9, 2]}
    inserted = diff({"l": ["a", "b"]}, {"l": ["z", "a", "b"]})
    assert _kinds(inserted) == [("changed", "l.0"), ("changed", "l.1"), ("added", "l.2")]


def test_root_values_that_are_not_dicts() -> None:
    assert _kinds(diff(1, 2)) == [("changed", "")]
    assert diff([1, 2], [1, 2]).is_empty
    root = diff({"a": 1}, [1])
    assert root.to_json_patch() == [{"op": "replace", "path": "", "value": [1]}]
    assert root.to_text() == '~ <root>: {"a": 1} -> [1]'
    assert _kinds(diff([1], [1, {"x": 1}])) == [("added", "1")]


def test_paths_quote_dots_and_pointers_escape_tilde_and_slash() -> None:
    old = {"labels": {"app.kubernetes.io/name": "a", "a~b": 1}}
    new = {"labels": {"app.kubernetes.io/name": "b", "a~b": 2}}
    result = diff(old, new)
    assert [e.path for e in result] == ["labels.`app.kubernetes.io/name`", "labels.a~b"]
    assert [e.pointer for e in result] == ["/labels/app.kubernetes.io~1name", "/labels/a~0b"]
    assert json_pointer(("~/", 0)) == "/~0~1/0"
    assert json_pointer(()) == ""
    assert apply_patch(old, result.to_json_patch()) == new


def test_to_json_patch_operations_and_copies() -> None:
    old = {"a": 1, "b": {"c": 1}, "l": [1]}
    new = {"a": "1", "d": {"e": [1]}, "l": [1, 2]}
    patch = diff(old, new).to_json_patch()
    assert patch == [
        {"op": "replace", "path": "/a", "value": "1"},
        {"op": "remove", "path": "/b"},
        {"op": "add", "path": "/l/1", "value": 2},
        {"op": "add", "path": "/d", "value": {"e": [1]}},
    ]
    patch[3]["value"]["e"].append(99)
    assert new["d"] == {"e": [1]}
    assert strict_equal(apply_patch(old, diff(old, new).to_json_patch()), new)


def test_to_text_and_to_dicts() -> None:
    result = diff({"a": 1, "b": "x", "big": "y"}, {"a": "1", "c": [True], "big": "z" * 500})
    lines = result.to_text().splitlines()
    assert lines[0] == '~ a: 1 -> "1"'
    assert lines[1] == '- b: "x"'
    assert lines[2].startswith('~ big: "y" -> "zzz') and lines[2].endswith("...")
    assert len(lines[2]) < 150
    assert lines[3] == "+ c: [true]"
    assert result.to_dicts()[0] == {
        "kind": "changed",
        "path": "a",
        "pointer": "/a",
        "old": 1,
        "new": "1",
    }
    assert result.to_dicts()[1] == {"kind": "removed", "path": "b", "pointer": "/b", "old": "x"}
    assert result.to_dicts()[3] == {"kind": "added", "path": "c", "pointer": "/c", "new": [True]}
    assert DiffEntry("added", ("x", 0), new=1).path == "x.0"


def test_deep_nesting_does_not_hit_the_recursion_limit() -> None:
    depth = 20_000
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    a, b = old, new
    for _ in range(depth):
        a["n"] = {}
        b["n"] = {}
        a, b = a["n"], b["n"]
    a["leaf"] = 1
    b["leaf"] = 2
    result = diff(old, new)
    assert len(result) == 1
    assert result.entries[0].segments == ("n",) * depth + ("leaf",)


def test_wide_tree_linear_and_exact() -> None:
    old = {f"k{i}": {"v": i, "l": [i, i + 1]} for i in range(50_000)}
    new = copy.deepcopy(old)
    new["k7"]["v"] = "7"
    new["k49999"]["l"].append(0)
    del new["k3"]
    result = diff(old, new)
    assert _kinds(result) == [("removed", "k3"), ("changed", "k7.v"), ("added", "k49999.l.2")]


def test_yaml_and_json_with_the_same_tree_have_an_empty_diff() -> None:
    as_yaml = formats.loads("db:\n  host: x\n  port: 5432\nflags: [1, true, null]\n", "yaml")
    as_json = formats.loads('{"flags": [1, true, null], "db": {"port": 5432, "host": "x"}}', "json")
    assert diff(as_yaml, as_json).is_empty
    as_toml = formats.loads('[db]\nhost = "x"\nport = "5432"\n', "toml")
    assert _kinds(diff(as_yaml["db"], as_toml["db"])) == [("changed", "port")]


# -- properties -------------------------------------------------------------------------------

_keys = st.sampled_from(["a", "b", "c", "x.y", "~", "/", "~1", "0", ""])
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.sampled_from(["", "1", "a", "true"]),
)
_trees = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_keys, children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=120, deadline=None)
@given(st.dictionaries(_keys, _trees, max_size=5), st.dictionaries(_keys, _trees, max_size=5))
def test_patch_of_diff_turns_old_into_new(old: dict[str, Any], new: dict[str, Any]) -> None:
    result = diff(old, new)
    assert strict_equal(apply_patch(old, result.to_json_patch()), new)
    assert result.is_empty == strict_equal(old, new)
    assert diff(new, new).is_empty


@settings(max_examples=100, deadline=None)
@given(_trees, _trees)
def test_patch_works_on_any_roots(old: Any, new: Any) -> None:
    assert strict_equal(apply_patch(old, diff(old, new).to_json_patch()), new)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_keys, _trees, max_size=5), st.dictionaries(_keys, _trees, max_size=5))
def test_jsonpatch_package_agrees_when_installed(old: dict[str, Any], new: dict[str, Any]) -> None:
    jsonpatch = pytest.importorskip("jsonpatch")
    patched = jsonpatch.apply_patch(old, diff(old, new).to_json_patch())
    assert strict_equal(patched, new)


# -- the identical-run shortcut ---------------------------------------------------------------


def _without_shortcut(old: Any, new: Any) -> TreeDiff:
    """The plain walk (the shortcut disabled): the oracle for the fast path."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(treediff, "_same_run", lambda a, b: False)
        return diff(old, new)


def _entries(result: TreeDiff) -> list[tuple[Any, ...]]:
    return [(e.kind, e.segments, repr(e.old), repr(e.new)) for e in result]


class Level(enum.IntEnum):
    ONE = 1


_NAN = math.nan
_tricky = st.sampled_from([0, 1, 1.0, True, False, -0.0, 0.0, _NAN, "1", None, Level.ONE])
_mixed = st.recursive(
    st.one_of(_scalars, _tricky),
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(_keys, children, max_size=5)
    ),
    max_leaves=30,
)


@st.composite
def _near_pairs(draw: st.DrawFn) -> tuple[Any, Any]:
    """A tree and a copy of it with a few values replaced (often by equal-but-other-type ones)."""
    old = draw(st.dictionaries(_keys, _mixed, min_size=1, max_size=6))
    new = copy.deepcopy(old)
    for _ in range(draw(st.integers(0, 3))):
        node = new
        while True:
            if isinstance(node, dict) and node:
                key = draw(st.sampled_from(sorted(node)))
            elif isinstance(node, list) and node:
                key = draw(st.integers(0, len(node) - 1))
            else:
                break
            if draw(st.booleans()) or not isinstance(node[key], (dict, list)):
                node[key] = draw(_mixed)
                break
            node = node[key]
    return old, new


@settings(max_examples=300, deadline=None)
@given(_near_pairs(), st.sampled_from([1, 2, 3, 256]))
def test_shortcut_gives_the_plain_walks_entries(pair: tuple[Any, Any], run: int) -> None:
    old, new = pair
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(treediff, "_RUN", run)
        fast = diff(old, new)
        shared = diff(old, old)
    assert _entries(fast) == _entries(_without_shortcut(old, new))
    assert shared.is_empty


def test_shortcut_is_type_exact() -> None:
    wide_old = {f"k{i}": [1, {"x": 1.0}] for i in range(1000)}
    for replacement in (True, 1.0, Level.ONE):
        wide_new = copy.deepcopy(wide_old)
        wide_new["k700"][0] = replacement
        assert wide_new == wide_old  # Python equality cannot see it ...
        result = diff(wide_old, wide_new)  # ... the diff does
        assert _kinds(result) == [("changed", "k700.0")]
    same_values = [[1, 2.5, "x", None]] * 600
    assert diff(same_values, copy.deepcopy(same_values)).is_empty


def test_values_that_cannot_be_pickled_use_the_plain_walk() -> None:
    unpicklable = {"f": lambda: 1, "n": 1}
    assert _kinds(diff(unpicklable, {"f": unpicklable["f"], "n": 1.0})) == [("changed", "n")]


def test_str_of_a_diff_is_the_readable_diff() -> None:
    from configlab.treediff import diff

    found = diff({"db": {"port": 5432}}, {"db": {"port": 5433}, "tls": True})
    assert str(found) == found.to_text() == "~ db.port: 5432 -> 5433\n+ tls: true"
    assert f"{found}" == found.to_text() and "TreeDiff(" in repr(found)
    assert str(diff({}, {})) == "no differences"
