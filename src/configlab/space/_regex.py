"""Build extreme strings that fully match a regular expression (for string value classes).

Walks the parse tree of Python's own regex parser; every candidate is checked with
``re.fullmatch`` by the caller, so a construct this walker approximates can only drop a class,
never produce a wrong one.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from configlab._internal.saferegex import compile_pattern

# Python >= 3.11 keeps the regex parser here (sre_parse is a deprecated alias of it).
_c: Any = importlib.import_module("re._constants")
_p: Any = importlib.import_module("re._parser")

_CATEGORY_CHAR = {
    _c.CATEGORY_DIGIT: "0",
    _c.CATEGORY_NOT_DIGIT: "a",
    _c.CATEGORY_SPACE: " ",
    _c.CATEGORY_NOT_SPACE: "a",
    _c.CATEGORY_WORD: "a",
    _c.CATEGORY_NOT_WORD: "-",
}
_CANDIDATES = "a0A_-. z9Z"
#: Cap on repetitions when building the longest string (keeps `.*` finite).
_REPEAT_CAP = 64
#: Longest string built at all (a nested repetition could otherwise ask for gigabytes).
_LENGTH_CAP = 1 << 20


def _char_for_set(items: Any) -> str | None:
    negate = False
    allowed: list[str] = []
    for op, arg in items:
        if op is _c.NEGATE:
            negate = True
        elif op is _c.LITERAL:
            allowed.append(chr(arg))
        elif op is _c.RANGE:
            allowed.append(chr(arg[0]))
        elif op is _c.CATEGORY:
            allowed.append(_CATEGORY_CHAR.get(arg, "a"))
    if not negate:
        return allowed[0] if allowed else None
    for candidate in _CANDIDATES:
        if candidate not in allowed:
            return candidate
    return None  # pragma: no cover - every candidate excluded


def _build(tree: Any, longest: bool, budget: int) -> str | None:
    out: list[str] = []
    for op, arg in tree:
        piece: str | None
        if op is _c.LITERAL:
            piece = chr(arg)
        elif op is _c.NOT_LITERAL:
            piece = "a" if chr(arg) != "a" else "b"
        elif op is _c.ANY:
            piece = "a"
        elif op is _c.IN:
            piece = _char_for_set(arg)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
            low, high, sub = arg
            unit = _build(sub, longest, budget)
            if unit is None:
                return None
            if longest:
                high = _REPEAT_CAP if high is _c.MAXREPEAT else min(high, _REPEAT_CAP)
                room = budget - len("".join(out))
                count = high if not unit else max(low, min(high, room // max(len(unit), 1)))
            else:
                count = low
            if len(unit) * count > _LENGTH_CAP:  # `(?:a{1000}){1000}{1000}`: give up
                return None
            piece = unit * count
        elif op is _c.SUBPATTERN:
            piece = _build(arg[-1], longest, budget)
        elif op is _c.BRANCH:
            options = [_build(branch, longest, budget) for branch in arg[1]]
            found = [o for o in options if o is not None]
            if not found:
                return None
            piece = max(found, key=len) if longest else min(found, key=len)
        elif op in (_c.AT, getattr(_c, "ATOMIC_GROUP", None)):
            piece = "" if op is _c.AT else _build(arg, longest, budget)
        elif op is _c.CATEGORY:
            piece = _CATEGORY_CHAR.get(arg, "a")
        else:
            return None  # lookarounds, backreferences: give up, the class is dropped
        if piece is None:
            return None
        out.append(piece)
    return "".join(out)


def _generate(pattern: str, longest: bool, budget: int) -> str | None:
    try:
        tree = _p.parse(pattern)
        candidate = _build(tree, longest, budget)
    except (re.error, RecursionError):  # 3,000 nested groups: no candidate, the class drops
        return None
    if candidate is None or not compile_pattern(pattern, where="pattern").fullmatch(candidate):
        return None
    return candidate


def shortest_match(pattern: str, min_length: int = 0) -> str | None:
    """A short string fully matching ``pattern`` (at least ``min_length`` long when possible)."""
    candidate = _generate(pattern, False, max(min_length, 1))
    if candidate is not None and len(candidate) < min_length:
        longer = _generate(pattern, True, min_length)
        if longer is not None and len(longer) >= min_length:
            return longer
    return candidate


def longest_match(pattern: str, max_length: int) -> str | None:
    """A long string (at most ``max_length`` when possible) fully matching ``pattern``."""
    return _generate(pattern, True, max_length)
