"""``.env`` codec (python-dotenv's parser; no variable interpolation).

Nested trees use the ``__`` delimiter (as pydantic-settings' ``env_nested_delimiter="__"``
reads them): ``DB__POOL__SIZE=5`` <-> ``{"DB": {"POOL": {"SIZE": 5}}}``.  A key whose ``__``
parts are not all non-empty, or that would clash with a plain key (``A=1`` beside ``A__B=2``),
stays flat.  A bare ``KEY``
(no ``=``) is null, as in python-dotenv.  Unquoted values are inferred from their canonical
spelling; quoted values (``'...'`` or ``"..."``) are always strings.
"""

from __future__ import annotations

import io
import re
from typing import Any

from dotenv.parser import parse_stream

from configlab.errors import FormatError
from configlab.formats._common import (
    Codec,
    check_tree,
    infer_scalar,
    is_ambiguous,
    scalar_text,
    verify_round_trip,
)
from configlab.tree import Tree

_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_BARE_VALUE_RE = re.compile(r"[A-Za-z0-9_./:@,+%-]+")
# A binding whose value is quoted (python-dotenv's grammar): quoted values are never inferred.
_QUOTED_RE = re.compile(r"\s*(?:export[^\S\r\n]+)?(?:'[^']+'|[^=#\s]+)[^\S\r\n]*=[^\S\r\n]*['\"]")


def loads(text: str, source: str | None, typed: bool) -> Tree:
    """Parse .env text into a flat tree; a line python-dotenv cannot parse is an error."""
    tree: Tree = {}
    lines: dict[str, int] = {}
    for binding in parse_stream(io.StringIO(text)):
        raw = binding.original.string
        line = binding.original.line + raw[: len(raw) - len(raw.lstrip())].count("\n")
        if binding.error:
            # Name the key, never the value: the value of a broken line is often a secret.
            name = binding.original.string.strip().split("=", 1)[0].strip()[:60]
            raise FormatError(f"invalid .env line for {name!r} (value not shown)",
                              path=source, line=line)
        if binding.key is None:
            continue
        if binding.key in tree:
            raise FormatError(
                f".env key {binding.key!r} is given more than once (first at line "
                f"{lines[binding.key]})",
                path=source,
                line=line,
            )
        value = binding.value
        if typed and value is not None and not _QUOTED_RE.match(binding.original.string):
            value = infer_scalar(value)
        tree[binding.key] = value
        lines[binding.key] = line
    return _nest(tree)


#: Delimiter of nested keys (pydantic-settings' convention).
NESTED_DELIMITER = "__"


def _nest(flat: Tree) -> Tree:
    """Split ``A__B`` keys into nested mappings where that is unambiguous."""
    if not any(NESTED_DELIMITER in key for key in flat):
        return flat
    tree: Tree = {}
    for key, value in flat.items():
        parts = key.split(NESTED_DELIMITER)
        if len(parts) == 1 or any(not part for part in parts) or key.endswith("_"):
            placed = tree.setdefault(key, value) is value
        else:
            node: Any = tree
            placed = True
            for part in parts[:-1]:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    placed = False
                    break
                node = child
            if placed and parts[-1] not in node:
                node[parts[-1]] = value
            else:
                placed = False
        if not placed:
            return flat  # a clash: the file stays flat, exactly as written
    return tree


def _flatten(tree: Tree, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in tree.items():
        name = f"{prefix}{NESTED_DELIMITER}{key}" if prefix else key
        if isinstance(value, dict):
            if not value:
                raise FormatError(f"cannot write env: {name!r} is an empty mapping "
                                  "(.env has no empty groups)")
            out.extend(_flatten(value, name))
        else:
            out.append((name, value))
    return out


def dumps(tree: Tree, typed: bool) -> str:
    """Write a tree as ``KEY=value`` lines (values quoted when needed, null as bare KEY); nested
    mappings become ``KEY__SUB`` keys."""
    check_tree(tree, "env")
    out: list[str] = []
    for key, value in _flatten(tree):
        if isinstance(value, list):
            raise FormatError(
                f"cannot write env: .env holds only scalars (nested mappings become "
                f"KEY__SUB keys); {key!r} is a list"
            )
        if not _KEY_RE.fullmatch(key):
            raise FormatError(f"cannot write env: {key!r} is not a valid .env key")
        out.append(_line(key, value, typed))
    return verify_round_trip(tree, "".join(out), "env", loads, typed)


def _line(key: str, value: Any, typed: bool) -> str:
    if value is None:
        return f"{key}\n"
    text = scalar_text(value, (key,), "env", typed, quotable=True)
    if not is_ambiguous(value, typed) and (text == "" or _BARE_VALUE_RE.fullmatch(text)):
        return f"{key}={text}\n"
    quoted = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"{key}='{quoted}'\n"


CODEC = Codec("env", (".env",), loads, dumps)
