"""JSON codec: ``orjson`` for speed, with the stdlib ``json`` semantics kept exactly.

Parsing first tries :func:`orjson.loads` (5-10x faster than ``json.loads`` on large files) and
falls back to the stdlib parser whenever orjson's result could differ from it or orjson refuses
the input, so that values, key order, duplicate-key handling and every error message (with its
line and column) are exactly those of the stdlib parser:

* integer literals of 19 or more digits are parsed by the stdlib (orjson silently turns
  integers beyond 64 bits into floats);
* whatever orjson rejects -- ``NaN``, numbers that overflow to infinity (the stdlib accepts
  ``1e400`` as ``inf``), escaped lone surrogates, nesting deeper than orjson's limit, any syntax
  error -- is parsed again by the stdlib, which returns its value or raises its error;
* a document whose top level is not a mapping is handed to the stdlib path as well, so the
  error message names the same type.

Writing stays on the stdlib encoder (``indent=2``): orjson writes some floats differently
(``1e-05`` vs ``0.00001``), and the bytes written by :func:`dumps` are part of snapshot ids.
"""

from __future__ import annotations

import gc
import json
from typing import Any

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
    return value if isinstance(value, dict) else None


def _stdlib_loads(text: str, source: str | None) -> Tree:
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
