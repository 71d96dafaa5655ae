"""Java ``.properties`` codec (jproperties).

Dotted keys nest (``db.pool.size=5`` -> ``{"db": {"pool": {"size": 5}}}``; ``.level``, no
path, stays one key); a key that is
also the prefix of other keys keeps its own value under ``#text``.  Values are inferred
from their canonical spelling (see :func:`configlab.formats._common.infer_scalar`).
Files are written in ASCII with ``\\uXXXX`` escapes, so Java reads them in any encoding.
"""

from __future__ import annotations

import io
import re
from typing import Any

from jproperties import ParseError, Properties

from configlab.errors import ConfiglabError, FormatError
from configlab.formats._common import (
    Codec,
    Nester,
    check_tree,
    infer_scalar,
    iter_flat,
    parse_key,
    scalar_text,
    show_path,
    verify_round_trip,
)
from configlab.tree import Tree, join_path, split_path

_NATURAL_LINES = re.compile(r"\r\n|\r|\n")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def loads(text: str, source: str | None, typed: bool) -> Tree:
    """Parse .properties text into a nested tree (later duplicates win, as in Java).

    Raises:
        FormatError: a malformed ``\\uXXXX`` escape or other syntax error (file and line).
    """
    _check_unicode_escapes(text, source)
    props = Properties()
    try:
        props.load(text)
    except ParseError as exc:
        raise FormatError(f"invalid properties: {_parse_error_text(exc)}", path=source,
                          line=exc.line_number) from None
    nester = Nester("properties", source)
    for key, value in props.properties.items():
        nester.add(_segments(key, source), infer_scalar(value) if typed else value)
    return nester.tree


def _segments(key: str, source: str | None) -> tuple[str, ...]:
    """The tree path of a key: its dotted segments, or the key whole when it does not split.

    java.util.logging's own ``logging.properties`` sets the root logger with ``.level``; a
    key with an empty segment is kept as one literal key, written back as it was read (a
    backtick stays an error: no tree key holding one can be written).
    """
    return (key,) if _literal(key) else parse_key(key, "properties", source, None)


def _literal(key: str) -> bool:
    """Whether ``key`` is one literal key: not empty, no backtick, and no dotted path."""
    if not key or "`" in key:
        return False
    try:
        split_path(key)
    except ConfiglabError:
        return True
    return False


def _key_text(segments: tuple[str, ...]) -> str:
    if len(segments) == 1 and _literal(segments[0]):
        return segments[0]
    return join_path(segments)


def _check_unicode_escapes(text: str, source: str | None) -> None:
    """Refuse ``\\u`` escapes that are not followed by exactly four hex digits, as Java does.

    jproperties reports a truncated escape with an empty message (it wraps a bare EOFError)
    and decodes the rest with ``int(..., 16)``, which accepts ``+12a``, `` 12 ``, ``1_23`` and
    fails on ``-123`` with an unwrapped ``struct.error``; checking first gives one clear
    message for all of them.  Comment lines are skipped, as in Java.
    """
    continued = False
    for number, line in enumerate(_NATURAL_LINES.split(text), start=1):
        if not continued and line.lstrip(" \t\f")[:1] in ("#", "!"):
            continue
        continued = False
        index = line.find("\\")
        while index != -1:
            escaped = line[index + 1:index + 2]
            if escaped == "":
                continued = True  # an unpaired backslash at the end continues the line
            elif escaped == "u":
                digits = line[index + 2:index + 6]
                if len(digits) != 4 or not all(char in _HEX_DIGITS for char in digits):
                    raise FormatError(
                        f"invalid properties: invalid \\uXXXX escape "
                        f'"\\u{digits}" (needs 4 hex digits)',
                        path=source, line=number,
                    )
            index = line.find("\\", index + 2)


def _parse_error_text(exc: ParseError) -> str:
    """What went wrong: jproperties' message, or the text of the error it wrapped.

    jproperties raises ``ParseError(str(e))`` inside ``except ... as e``, so a wrapped error
    with no text (a bare EOFError) left the message empty; its ``__context__`` still says more.
    """
    cause = exc.__context__
    if isinstance(cause, UnicodeDecodeError):
        return ("invalid \\uXXXX escape: a low surrogate (\\uDC00-\\uDFFF) with no high "
                "surrogate escape before it")
    return str(exc.message or cause or "") or "unexpected end of input"


def dumps(tree: Tree, typed: bool) -> str:
    """Write a tree as .properties with one dotted key per leaf; lists are refused."""
    check_tree(tree, "properties")
    props = Properties()
    for segments, value in iter_flat(tree, "properties"):
        props[_key_text(segments)] = _text(value, segments, typed)
    out = io.BytesIO()
    props.store(out, encoding="ascii", timestamp=False)
    text = out.getvalue().decode("ascii")
    return verify_round_trip(tree, text, "properties", loads, typed)


def _text(value: Any, segments: tuple[str, ...], typed: bool) -> str:
    if isinstance(value, dict):
        raise FormatError(
            f"cannot write properties: empty mapping at {show_path(segments)} has no "
            "properties spelling"
        )
    if value is None and not typed:
        raise FormatError(
            f"cannot write properties: null at {show_path(segments)} (typed=False has no null)"
        )
    return scalar_text(value, segments, "properties", typed)


CODEC = Codec("properties", (".properties",), loads, dumps)
