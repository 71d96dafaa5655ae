"""Helpers shared by the format codecs: scalar inference, tree checks, flat-key nesting."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from configlab._internal.safeio import decode_utf8
from configlab.errors import ConfiglabError, FormatError
from configlab.tree import Tree, join_path, split_path

#: Key holding a node's own value when the node also has children (XML text beside
#: attributes, or a properties/INI key that is also the prefix of other keys).
TEXT_KEY = "#text"

_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]*)")
_SCALAR_TYPES = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Codec:
    """One format: its name, file extensions and text codec functions."""

    name: str
    extensions: tuple[str, ...]
    loads: Callable[[str, str | None, bool], Tree]
    dumps: Callable[[Tree, bool], str]


def infer_scalar(text: str) -> Any:
    """Typed value of ``text`` when it is the canonical spelling of one, else ``text`` itself.

    Canonical spellings: ``true``/``false``, ``null``, integers without leading zeros or
    ``+`` (``-0`` excluded), and finite floats exactly as Python's ``repr`` writes them.
    """
    if not text:
        return text
    first = text[0]
    if first == "t" and text == "true":
        return True
    if first == "f" and text == "false":
        return False
    if first == "n" and text == "null":
        return None
    if first == "-" or "0" <= first <= "9":
        if _INT_RE.fullmatch(text):
            if text == "-0":
                return text
            try:
                return int(text)
            except ValueError:  # more digits than Python converts (int_max_str_digits)
                return text
        try:
            value = float(text)
        except ValueError:
            return text
        if math.isfinite(value) and repr(value) == text:
            return value
    return text


def format_scalar(value: Any) -> str:
    """Canonical text of a scalar (inverse of :func:`infer_scalar` for non-strings)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def is_scalar(value: Any) -> bool:
    """Whether ``value`` is a tree scalar (str, int, float, bool or None)."""
    return isinstance(value, _SCALAR_TYPES)


def same(a: Any, b: Any) -> bool:
    """Type-exact equality of two trees (``1``, ``1.0`` and ``True`` differ; NaN equals NaN)."""
    return first_difference(a, b) is None


def first_difference(a: Any, b: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Segments of the first path where ``a`` and ``b`` differ (type-exact), ``None`` when equal."""
    if type(a) is not type(b):
        return path
    if isinstance(a, dict):
        if a.keys() != b.keys():
            missing = [key for key in a if key not in b] or [key for key in b if key not in a]
            return (*path, str(missing[0]))
        for key, value in a.items():
            found = first_difference(value, b[key], (*path, str(key)))
            if found is not None:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return path
        for index, (left, right) in enumerate(zip(a, b, strict=True)):
            found = first_difference(left, right, (*path, str(index)))
            if found is not None:
                return found
        return None
    if isinstance(a, float) and math.isnan(a):
        return None if math.isnan(b) else path
    return None if a == b else path


def show_path(segments: tuple[str, ...]) -> str:
    """Human-readable dotted path (``<root>`` for the empty path)."""
    return join_path(segments) if segments else "<root>"


def check_tree(tree: Any, fmt: str) -> None:
    """Raise FormatError unless ``tree`` is a dict tree of str keys, lists and scalars."""
    if not isinstance(tree, dict):
        raise FormatError(f"cannot write {fmt}: the top level must be a mapping, got {_kind(tree)}")
    try:
        _check_node(tree, (), fmt)
    except RecursionError:
        raise FormatError(f"cannot write {fmt}: tree nested too deeply (or cyclic)") from None


def _check_node(node: Any, path: tuple[str, ...], fmt: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                raise FormatError(
                    f"cannot write {fmt}: key {key!r} at {show_path(path)} is not a string"
                )
            _check_node(value, (*path, key), fmt)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _check_node(item, (*path, str(index)), fmt)
    elif not isinstance(node, _SCALAR_TYPES):
        raise FormatError(
            f"cannot write {fmt}: value at {show_path(path)} has unsupported type "
            f"{type(node).__name__}"
        )


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def require_mapping(value: Any, source: str | None, fmt: str) -> Tree:
    """Return ``value`` when it is a dict, else raise the 'top level must be a mapping' error."""
    if not isinstance(value, dict):
        raise FormatError(
            f"{fmt} top level must be a mapping of keys to values, got {_kind(value)}", path=source
        )
    return value


def decode(data: bytes, source: str | None) -> str:
    """Decode UTF-8 bytes (a leading BOM is dropped); FormatError with the line on bad bytes."""
    return decode_utf8(data, source)


# ---------------------------------------------------------------------------------------------
# Flat key/value formats (properties, INI): dotted keys <-> nested trees.


def parse_key(key: str, fmt: str, source: str | None, line: int | None) -> tuple[str, ...]:
    """Split a dotted flat key into segments; FormatError (with where) when malformed."""
    try:
        return split_path(key)
    except ConfiglabError as exc:
        raise FormatError(f"bad {fmt} key {key!r}: {exc}", path=source, line=line) from None


class Nester:
    """Builds a nested tree from ``(segments, value)`` pairs, refusing ambiguous duplicates.

    A path that is both a value and the prefix of other keys (``a=1`` and ``a.b=2``) keeps
    its own value under :data:`TEXT_KEY`: ``{"a": {"#text": 1, "b": 2}}``.
    """

    def __init__(self, fmt: str, source: str | None) -> None:
        self.tree: Tree = {}
        self._fmt = fmt
        self._source = source

    def add(self, segments: tuple[str, ...], value: Any, line: int | None = None) -> None:
        """Place ``value`` at ``segments``; an empty dict value declares an (empty) table."""
        node = self.tree
        for segment in segments[:-1]:
            child = node.get(segment, _ABSENT)
            if child is _ABSENT:
                child = node[segment] = {}
            elif not isinstance(child, dict):
                child = node[segment] = {TEXT_KEY: child}
            node = child
        last = segments[-1]
        existing = node.get(last, _ABSENT)
        if isinstance(value, dict):  # an empty table: only declares that the path exists
            if existing is _ABSENT:
                node[last] = {}
            return
        if existing is _ABSENT or existing == {}:
            node[last] = value
            return
        if isinstance(existing, dict) and TEXT_KEY not in existing:
            existing[TEXT_KEY] = value
            return
        raise FormatError(
            f"{self._fmt} key {join_path(segments)} is given more than once",
            path=self._source,
            line=line,
        )


_ABSENT: Any = object()


def iter_flat(tree: Tree, fmt: str) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Yield ``(segments, leaf)`` for writing ``tree`` as flat dotted keys.

    Empty dicts are yielded as leaves; a :data:`TEXT_KEY` beside sibling keys is yielded at
    its parent's path (so ``{"a": {"#text": 1, "b": 2}}`` gives ``a=1`` and ``a.b=2``).
    Lists cannot be written and raise FormatError.
    """
    stack: list[tuple[tuple[str, ...], Any]] = [((), tree)]
    while stack:
        path, node = stack.pop()
        pending: list[tuple[tuple[str, ...], Any]] = []
        for key, value in node.items():
            if "`" in key or key == "":
                raise FormatError(
                    f"cannot write {fmt}: key {key!r} at {show_path(path)} is empty or "
                    "contains a backtick"
                )
            child = (*path, key)
            if isinstance(value, list):
                raise FormatError(
                    f"cannot write {fmt}: {fmt} has no lists (value at {show_path(child)}); "
                    "use yaml, json, toml or xml"
                )
            if key == TEXT_KEY and path and len(node) > 1 and not isinstance(value, dict):
                child = path
            if isinstance(value, dict) and value:
                pending.append((child, value))
            else:
                yield child, value
        stack.extend(reversed(pending))


def verify_round_trip(
    tree: Tree, text: str, fmt: str, loads: Callable[[str, str | None, bool], Tree], typed: bool
) -> str:
    """Return ``text`` when loading it gives back ``tree`` exactly, else raise FormatError."""
    expected = tree if typed else stringify(tree)
    try:
        again = loads(text, None, typed)
    except FormatError as exc:
        raise FormatError(f"cannot write {fmt} faithfully: {exc}") from None
    where = first_difference(expected, again)
    if where is not None:
        raise FormatError(
            f"cannot write {fmt} faithfully: the value at {show_path(where)} would not read back "
            f"the same" + ("" if typed else " (typed=False writes text)")
        )
    return text


def stringify(tree: Any) -> Any:
    """The tree as a ``typed=False`` reader sees it: every non-null scalar as its canonical text."""
    if isinstance(tree, dict):
        return {key: stringify(value) for key, value in tree.items()}
    if isinstance(tree, list):
        return [stringify(value) for value in tree]
    if tree is None or isinstance(tree, str):
        return tree
    return format_scalar(tree)


def is_ambiguous(value: Any, typed: bool) -> bool:
    """Whether a string would read back as another type when written bare (typed mode)."""
    return typed and isinstance(value, str) and not isinstance(infer_scalar(value), str)


def scalar_text(value: Any, path: tuple[str, ...], fmt: str, typed: bool, *,
                quotable: bool = False) -> str:
    """Text for a scalar in a string-only format; FormatError when it would not read back.

    With ``quotable`` the caller quotes ambiguous strings itself, so they are allowed.
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise FormatError(
            f"cannot write {fmt}: {value!r} at {show_path(path)} has no canonical spelling in {fmt}"
        )
    if not quotable and is_ambiguous(value, typed):
        back = infer_scalar(value)
        raise FormatError(
            f"cannot write {fmt}: the string {value!r} at {show_path(path)} would read back "
            f"as {type(back).__name__}; {fmt} has no quoting for it (use typed=False, or "
            "yaml/json/toml/xml)"
        )
    return format_scalar(value)
