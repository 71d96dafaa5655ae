"""JSON codec (stdlib ``json``)."""

from __future__ import annotations

import json
from typing import Any

from configlab.errors import FormatError
from configlab.formats._common import Codec, check_tree, require_mapping
from configlab.tree import Tree


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str, source: str | None, typed: bool) -> Tree:
    """Parse JSON text into a tree (``typed`` is irrelevant: JSON values are typed)."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise FormatError(f"invalid JSON: {exc.msg} (column {exc.colno})", path=source,
                          line=exc.lineno) from None
    except ValueError as exc:  # NaN/Infinity, or an integer with too many digits
        raise FormatError(f"invalid JSON: {exc}", path=source) from None
    except RecursionError:
        raise FormatError("invalid JSON: nested too deeply", path=source) from None
    return require_mapping(value, source, "JSON")


def dumps(tree: Tree, typed: bool) -> str:
    """Write a tree as indented JSON (NaN and infinities are refused: JSON has none)."""
    check_tree(tree, "json")
    try:
        return json.dumps(tree, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError as exc:
        raise FormatError(f"cannot write json: {exc}") from None


CODEC = Codec("json", (".json",), loads, dumps)
