"""YAML codec (PyYAML safe loading, libyaml-accelerated when available).

Safety: only the safe tags are constructed; documents whose aliases would expand to more
than :data:`MAX_ALIAS_EXPANSION` extra nodes ("billion laughs") or that alias themselves
are refused before construction, so the check costs time linear in the document size.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from configlab.errors import FormatError
from configlab.formats._common import Codec, check_tree, show_path
from configlab.tree import Tree

#: Most nodes that alias expansion may add to a document beyond its own nodes.
MAX_ALIAS_EXPANSION = 1_000_000

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_IMPLICIT_KEY_TAGS = frozenset(
    {
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:null",
        _TIMESTAMP_TAG,
    }
)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """Safe loader: plain dates stay strings, mapping keys are their text, no duplicate keys."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> Any:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag != _MERGE_TAG:
                line = key_node.start_mark.line + 1
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key_node.value!r} (first at line {seen[key_node.value]})",
                        key_node.start_mark,
                    )
                seen[key_node.value] = line
        self.flatten_mapping(node)
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag in _IMPLICIT_KEY_TAGS:
                key_node.tag = _STR_TAG  # keys are names: keep `on`, `80`, `~` as written
        return super().construct_mapping(node, deep)

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        # PyYAML raises a bare ValueError for `!!int twelve`, `!!timestamp 2023-99-99` or an
        # integer over Python's digit limit; give it the node's line like any YAML error.
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            shown = node.value if isinstance(node.value, str) else ""
            shown = shown if len(shown) <= 40 else shown[:40] + "..."
            tag = node.tag.rsplit(":", 1)[-1]
            reason = "more digits than supported" if "digits" in str(exc) else str(exc)
            raise yaml.constructor.ConstructorError(
                None, None, f"bad !!{tag} value {shown!r} ({reason})", node.start_mark
            ) from None


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Safe dumper that never emits anchors/aliases (shared sub-trees are written out)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    return []


def _check_aliases(root: Node, source: str | None) -> None:
    """Refuse recursive aliases and alias expansion beyond MAX_ALIAS_EXPANSION nodes."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        ident = id(node)
        if finished:
            open_nodes.discard(ident)
            sizes[ident] = 1 + sum(sizes[id(child)] for child in _children(node))
            continue
        if ident in sizes:
            continue
        if ident in open_nodes:
            raise FormatError(
                "YAML alias refers to itself (recursive structure)",
                path=source,
                line=node.start_mark.line + 1,
            )
        open_nodes.add(ident)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    extra = sizes[id(root)] - len(sizes)
    if extra > MAX_ALIAS_EXPANSION:
        raise FormatError(
            f"YAML aliases expand to {extra} extra nodes (limit {MAX_ALIAS_EXPANSION}); "
            "refusing a possible alias bomb",
            path=source,
        )


_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_CORE_BOOL = r"^(?:true|True|TRUE|false|False|FALSE)$"
_CORE_INT = r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"


class _CoreLoader(_Loader):
    """YAML 1.2 core schema scalars: only true/false are booleans (``yes``, ``no``, ``on``,
    ``off``, ``y``, ``n`` stay strings) and ``1:30`` is not a base-60 integer."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL_TAG, _INT_TAG)]
        for first, resolvers in _Loader.yaml_implicit_resolvers.items()
    }


_CoreLoader.add_implicit_resolver(_BOOL_TAG, re.compile(_CORE_BOOL), list("tTfF"))
_CoreLoader.add_implicit_resolver(_INT_TAG, re.compile(_CORE_INT), list("-+0123456789"))


def _core_int(loader: Any, node: ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    if text.startswith(("0o", "0x")):
        return int(text, 0)
    return int(text, 10)  # YAML 1.2: a leading zero is still decimal (010 is ten)


_CoreLoader.add_constructor(_INT_TAG, _core_int)


def loads_core(text: str, source: str | None) -> Tree:
    """Parse one YAML document with YAML 1.2 core-schema scalars (used for space files)."""
    return _load(text, source, _CoreLoader)


def loads(text: str, source: str | None, typed: bool) -> Tree:
    """Parse one YAML document into a tree (an empty document is an empty tree)."""
    return _load(text, source, _Loader)


def _load(text: str, source: str | None, loader_class: Any) -> Tree:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        if "&" in text:  # no anchors means no aliases
            _check_aliases(node, source)
        value = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise _marked_error(exc, source) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise FormatError(f"invalid YAML: {exc.reason} (character {exc.character!r})",
                          path=source, line=line) from None
    except yaml.YAMLError as exc:  # pragma: no cover - other errors carry marks
        raise FormatError(f"invalid YAML: {exc}", path=source) from None
    except RecursionError:
        raise FormatError("invalid YAML: nested too deeply", path=source) from None
    finally:
        loader.dispose()
    if not isinstance(value, dict):
        kind = "a list" if isinstance(value, list) else f"a {type(value).__name__}"
        if value is None:
            kind = "null"
        raise FormatError(
            f"YAML top level must be a mapping of keys to values, got {kind}", path=source
        )
    try:
        return _plain(value, (), source)  # type: ignore[no-any-return]
    except RecursionError:
        raise FormatError("invalid YAML: nested too deeply", path=source) from None


def _marked_error(exc: yaml.MarkedYAMLError, source: str | None) -> FormatError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    if exc.context == "expected a single document in the stream":
        return FormatError(
            "the file holds more than one YAML document; a config file must hold exactly one",
            path=source,
            line=line,
        )
    parts = [part for part in (exc.context, exc.problem) if part]
    return FormatError(f"invalid YAML: {'; '.join(parts)}", path=source, line=line)


def _plain(value: Any, path: tuple[str, ...], source: str | None) -> Any:
    """Copy the constructed data into a plain tree (unsharing aliases, dates -> ISO strings)."""
    kind = type(value)
    if kind is dict:
        return {key: _plain(item, (*path, key), source) for key, item in value.items()}
    if kind is list:
        return [_plain(item, (*path, str(index)), source) for index, item in enumerate(value)]
    if kind in (str, int, float, bool) or value is None:
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise FormatError(
        f"YAML value at {show_path(path)} has unsupported type {kind.__name__} "
        "(configs hold mappings, lists, strings, numbers, booleans and null)",
        path=source,
    )


def dumps(tree: Tree, typed: bool) -> str:
    """Write a tree as block-style YAML, keys in tree order."""
    check_tree(tree, "yaml")
    if not tree:
        return "{}\n"
    text: str = yaml.dump(
        tree, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return text


CODEC = Codec("yaml", (".yaml", ".yml"), loads, dumps)
