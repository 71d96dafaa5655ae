"""``.env`` codec (python-dotenv's parser; no variable interpolation).

Keys stay flat: a .env file is a mapping of top-level keys to scalars.  A bare ``KEY``
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
    return tree


def dumps(tree: Tree, typed: bool) -> str:
    """Write a flat tree as ``KEY=value`` lines (values quoted when needed, null as bare KEY)."""
    check_tree(tree, "env")
    out: list[str] = []
    for key, value in tree.items():
        if isinstance(value, (dict, list)):
            raise FormatError(
                f"cannot write env: .env holds only top-level scalars; {key!r} is a "
                f"{'mapping' if isinstance(value, dict) else 'list'}"
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
