"""JSON codec: ``orjson`` for speed, with the stdlib ``json`` semantics kept exactly.

Parsing first tries :func:`orjson.loads` (5-10x faster than ``json.loads`` on large files) and
falls back to the stdlib parser whenever orjson's result could differ from it or orjson refuses
the input, so that values, key order and every error message (with its line and column) are
exactly those of the stdlib parser:

* integer literals of 19 or more digits are parsed by the stdlib (orjson silently turns
  integers beyond 64 bits into floats);
* whatever orjson rejects -- ``NaN``, numbers that overflow to infinity (the stdlib accepts
  ``1e400`` as ``inf``), escaped lone surrogates, nesting deeper than orjson's limit, any syntax
  error -- is parsed again by the stdlib, which returns its value or raises its error;
* a document whose top level is not a mapping is handed to the stdlib path as well, so the
  error message names the same type.

Duplicate keys in one object are refused (like the YAML codec does): :class:`FormatError`
naming the key and its line.  Neither parser reports them by itself (both keep the last value),
so they are detected as follows:

* stdlib path: an ``object_pairs_hook`` compares the number of pairs with the size of the dict;
* orjson path: a cheap count instead of a second parse.  Every key of the input is followed by
  exactly one ``:`` outside strings, and every ``:`` inside a string survives
  :func:`orjson.dumps` of the parsed tree (which writes keys and strings as they are).  So with
  no duplicates, ``input.count(":") == orjson.dumps(tree).count(b":")``; a duplicate key drops a
  pair (its colon, and any colon in its value) from the tree, making the input count larger.
  The only way a string can hold a colon the count misses is the escape ``\\u003a``: input
  containing it takes the stdlib path.  Whenever the counts differ the stdlib path decides (and
  reports the duplicate).  The check costs one ``orjson.dumps`` and two ``bytes.count`` calls
  (see ``benchmarks/RESULTS_snapshots.md`` for the measured cost on a 100 MB file).
* the line of a duplicate is found, on the error path only, by a scan over the (valid) text that
  tracks the keys of each open object.

Writing stays on the stdlib encoder (``indent=2``): orjson writes some floats differently
(``1e-05`` vs ``0.00001``), and the bytes written by :func:`dumps` are part of snapshot ids.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable
from typing import Any, cast

import orjson

from configlab.errors import FormatError
from configlab.formats._common import Codec, check_tree, require_mapping
from configlab.tree import Tree

#: Digit runs at least this long may be integers beyond 64 bits: such input uses the stdlib.
_LONG_DIGITS = 19
#: Inputs at least this large are parsed with the cyclic garbage collector paused.
_NO_GC_MIN = 1024 * 1024
_SCAN_CHUNK = 4 * 1024 * 1024
_DIGIT_MAP = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))
_DIGIT_RUN = b"0" * _LONG_DIGITS
_STRUCTURE = re.compile(r'["{}\[\],]')
#: The stdlib's (C) string scanner: (text, index after the opening quote) -> (value, end).
_scanstring = cast(Callable[[str, int], tuple[str, int]], vars(json.decoder)["scanstring"])


class _DuplicateKeyError(Exception):
    """Raised by :func:`_pairs` on a repeated key (turned into a FormatError by the caller)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` refusing duplicate keys."""
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return result


def _duplicate_position(text: str) -> tuple[str, int, int] | None:
    """``(key, index of the repeated key, index of its first occurrence)`` for the first
    duplicate key of valid JSON ``text``, None when there is none."""
    stack: list[dict[str, int] | None] = []  # per open container: keys seen (None for a list)
    expect_key = False
    position = 0
    while (match := _STRUCTURE.search(text, position)) is not None:
        char, index = match.group(), match.start()
        position = index + 1
        if char == '"':
            value, position = _scanstring(text, index + 1)
            keys = stack[-1] if stack else None
            if expect_key and keys is not None:
                if value in keys:
                    return value, index, keys[value]
                keys[value] = index
            expect_key = False
        elif char == "{":
            stack.append({})
            expect_key = True
        elif char == "[":
            stack.append(None)
            expect_key = False
        elif char == ",":
            expect_key = bool(stack) and stack[-1] is not None
        else:
            stack.pop()
            expect_key = False
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _has_long_digit_run(data: bytes | str) -> bool:
    """Whether ``data`` holds 19 consecutive ASCII digits (anywhere, strings included)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    overlap = _LONG_DIGITS - 1
    for start in range(0, len(data), _SCAN_CHUNK):
        chunk = data[start : start + _SCAN_CHUNK + overlap]
        if chunk.translate(_DIGIT_MAP).find(_DIGIT_RUN) >= 0:
            return True
    return False


def fast_loads(data: bytes | str) -> dict[str, Any] | None:
    """The tree parsed by orjson when it is certainly what the stdlib parser returns, else None.

    ``None`` means: use :func:`loads` (the input is invalid, or orjson could disagree with the
    stdlib on it).  ``data`` may be UTF-8 bytes without a BOM or text.
    """
    if _has_long_digit_run(data):
        return None
    paused = len(data) >= _NO_GC_MIN and gc.isenabled()
    if paused:
        gc.disable()
    try:
        value = orjson.loads(data)
    except Exception:  # any refusal: the stdlib path decides (value or its exact error)
        return None
    finally:
        if paused:
            gc.enable()
    if not isinstance(value, dict) or _may_have_duplicates(data, value):
        return None
    return value


def _may_have_duplicates(data: bytes | str, tree: dict[str, Any]) -> bool:
    """Whether the input of ``tree`` may hold a duplicate key (see the module docstring)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    try:
        written = orjson.dumps(tree)
    except orjson.JSONEncodeError:  # nesting deeper than orjson writes: the stdlib path decides
        return True
    if raw.count(b":") != written.count(b":"):
        return True
    if raw.find(b"\\") < 0:  # no escape at all (one memchr): the counts are exact
        return False
    return raw.find(b"\\u003a") >= 0 or raw.find(b"\\u003A") >= 0


def _stdlib_loads(text: str, source: str | None) -> Tree:
    try:
        value = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_pairs)
    except _DuplicateKeyError as exc:
        found = _duplicate_position(text)
        if found is None:  # pragma: no cover - the hook only raises on a real duplicate
            raise FormatError(f"invalid JSON: duplicate key {exc.key!r}", path=source) from None
        key, index, first = found
        line = text.count("\n", 0, index) + 1
        column = index - text.rfind("\n", 0, index)
        first_line = text.count("\n", 0, first) + 1
        raise FormatError(
            f"invalid JSON: duplicate key {key!r} (column {column}; first at line {first_line})",
            path=source,
            line=line,
        ) from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"invalid JSON: {exc.msg} (column {exc.colno})", path=source,
                          line=exc.lineno) from None
    except ValueError as exc:  # NaN/Infinity, or an integer with too many digits
        raise FormatError(f"invalid JSON: {exc}", path=source) from None
    except RecursionError:
        raise FormatError("invalid JSON: nested too deeply", path=source) from None
    return require_mapping(value, source, "JSON")


def loads(text: str, source: str | None, typed: bool) -> Tree:
    """Parse JSON text into a tree (``typed`` is irrelevant: JSON values are typed)."""
    fast = fast_loads(text)
    if fast is not None:
        return fast
    return _stdlib_loads(text, source)


def dumps(tree: Tree, typed: bool) -> str:
    """Write a tree as indented JSON (NaN and infinities are refused: JSON has none)."""
    check_tree(tree, "json")
    try:
        return json.dumps(tree, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError as exc:
        raise FormatError(f"cannot write json: {exc}") from None


CODEC = Codec("json", (".json",), loads, dumps)
