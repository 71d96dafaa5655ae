"""TOML codec (``tomllib`` to read, ``tomli-w`` to write)."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from typing import Any

import tomli_w

from configlab.errors import FormatError
from configlab.formats._common import Codec, check_tree, show_path
from configlab.tree import Tree

_LINE_RE = re.compile(r"\(at line (\d+), column \d+\)")
_DATES = (dt.datetime, dt.date, dt.time)


def loads(text: str, source: str | None, typed: bool) -> Tree:
    """Parse TOML text into a tree; dates and times become ISO 8601 strings."""
    try:
        value = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _LINE_RE.search(message)
        line = int(match.group(1)) if match else None
        message = _LINE_RE.sub("", message).strip()
        raise FormatError(f"invalid TOML: {message}", path=source, line=line) from None
    except RecursionError:
        raise FormatError("invalid TOML: nested too deeply", path=source) from None
    except ValueError as exc:  # int() of a number over Python's digit limit
        reason = "a number has more digits than supported" if "digits" in str(exc) else str(exc)
        raise FormatError(f"invalid TOML: {reason}", path=source) from None
    return _plain(value)  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, _DATES):
        return value.isoformat()
    return value


def dumps(tree: Tree, typed: bool) -> str:
    """Write a tree as TOML; null (anywhere) is refused: TOML has no null."""
    check_tree(tree, "toml")
    _refuse_null(tree, ())
    return tomli_w.dumps(tree)


def _refuse_null(value: Any, path: tuple[str, ...]) -> None:
    if value is None:
        raise FormatError(f"cannot write toml: TOML has no null (value at {show_path(path)})")
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_null(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_null(item, (*path, str(index)))


CODEC = Codec("toml", (".toml",), loads, dumps)
