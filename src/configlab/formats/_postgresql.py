"""``postgresql`` codec: PostgreSQL's ``postgresql.conf`` (and ``postgresql.auto.conf``).

The syntax is PostgreSQL's own (its configuration-file scanner, ``guc-file.l``), reproduced
token for token so that configlab accepts exactly the files the server accepts:

* one ``name [=] value`` per line; ``#`` starts a comment anywhere outside a quoted value;
  blanks, tabs and carriage returns separate tokens;
* a name is an identifier or a qualified one (``auto_explain.log_min_duration``); names are
  case-insensitive for PostgreSQL and kept as written in the tree;
* a value is one token: a single-quoted string (``''`` for a quote, and the backslash escapes
  ``\\b \\f \\n \\r \\t``, octal ``\\ooo`` and ``\\x`` -> ``x``), or a bare word, number, number
  with a unit (``128MB``, ``5min``, ``0x1F``) or path-like word starting with a letter;
* ``include``, ``include_if_exists`` and ``include_dir`` are kept as keys (not followed); when
  one is given several times its values become a list, in file order;
* a parameter given twice: the later one wins, as in PostgreSQL, and the key takes the later
  position and spelling (so that it is still written after the includes it overrides).

Tree mapping (``typed=True``): a bare canonical integer (``5432``) is an int, a bare canonical
float (``0.9``, ``1.0e+16``) a float, a bare ``true``/``false`` a bool; everything else is a
string: ``on``/``off``/``yes``, units (``128MB``), quoted values (always strings, unquoted).

Writing: ``name = value`` lines in tree order; numbers, ``true``/``false`` and plain
identifiers bare, every other string single-quoted (PostgreSQL reads a quoted value like a
bare one, so quoting never changes what the server sees).  Null, nested mappings, lists (but
for the include keys) and two keys that differ only in case are refused with ``FormatError``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from configlab.errors import FormatError
from configlab.formats._common import Codec, check_tree, verify_round_trip
from configlab.tree import Tree

#: Keys naming other files; PostgreSQL reads them in place, configlab keeps them as values.
INCLUDE_KEYS = ("include", "include_if_exists", "include_dir")

# The scanner's token classes (guc-file.l); LETTER includes every non-ASCII character, as the
# scanner takes bytes 0x80-0xFF for letters.
_L = r"A-Za-z_\u0080-\U0010ffff"
_ID = rf"[{_L}][{_L}0-9]*"
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("id", re.compile(_ID)),
    ("qualified", re.compile(rf"{_ID}\.{_ID}")),
    ("string", re.compile(r"'(?:[^'\\\n]|\\[^\n]|'')*'")),
    ("unquoted", re.compile(rf"[{_L}][{_L}0-9\-.:/]*")),
    ("integer", re.compile(r"[+-]?0x[0-9a-fA-F]+[a-zA-Z]*")),
    ("integer", re.compile(r"[+-]?[0-9]+[a-zA-Z]*")),
    ("real", re.compile(r"[+-]?[0-9]*\.[0-9]*(?:[Ee][+-]?[0-9]+)?")),
    ("equals", re.compile(r"=")),
)
_BLANK = re.compile(r"[ \t\r]+")
_VALUE_KINDS = ("id", "string", "unquoted", "integer", "real")
_PLAIN_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CANONICAL_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_CANONICAL_REAL = re.compile(r"-?[0-9]+\.[0-9]+(?:e[+-][0-9]+)?")
_COMMENT_AFTER = re.compile(r"[^\s#][ \t\r]+#")
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _token(text: str, pos: int) -> tuple[str, str]:
    """The longest token at ``pos`` (the earlier rule on a tie, as flex does): (kind, text)."""
    best = ("error", "")
    for kind, pattern in _RULES:
        found = pattern.match(text, pos)
        if found is not None and len(found.group()) > len(best[1]):
            best = (kind, found.group())
    return best if best[1] else ("error", text[pos])


def _line_tokens(line: str) -> tuple[list[tuple[str, str]], int | None]:
    """Tokens of one line (no ``\\n``), and where a comment starts after a blank (else None)."""
    tokens: list[tuple[str, str]] = []
    pos, n = 0, len(line)
    while pos < n:
        blank = _BLANK.match(line, pos)
        if blank is not None:
            pos = blank.end()
            continue
        if line[pos] == "#":
            after_blank = pos > 0 and line[pos - 1] in " \t\r"
            return tokens, pos if after_blank else None
        kind, text = _token(line, pos)
        tokens.append((kind, text))
        pos += len(text)
    return tokens, None


def _unquote(token: str, source: str | None, line: int) -> str:
    """The value of a quoted token as PostgreSQL reads it (its DeescapeQuotedString)."""
    body, i = token[1:-1], 0
    if "\\" not in body:  # the common case: only doubled quotes to undo
        return body.replace("''", "'")
    out = bytearray()
    while i < len(body):
        char = body[i]
        if char == "\\":
            i += 1
            char = body[i]  # the scanner guarantees a character after a backslash
            if "0" <= char <= "7":
                digits = re.match(r"[0-7]{1,3}", body[i:])
                assert digits is not None
                code = int(digits.group(), 8) & 0xFF
                if code == 0:
                    raise FormatError("a \\0 escape in a quoted value: PostgreSQL would cut "
                                      "the value there", path=source, line=line)
                out.append(code)
                i += len(digits.group())
                continue
            out += _ESCAPES.get(char, char).encode("utf-8", "surrogatepass")
        elif char == "'":
            out.append(0x27)
            i += 1  # '' stands for one quote
        else:
            out += char.encode("utf-8", "surrogatepass")
        i += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError("an octal escape in a quoted value makes invalid UTF-8",
                          path=source, line=line) from None


def _float_text(value: float) -> str:
    """A float's spelling that PostgreSQL's scanner reads as one number (it needs a dot)."""
    text = repr(value)
    if "." not in text:  # 1e+16 -> 1.0e+16 (``1e+16`` would be two tokens)
        mantissa, _, exponent = text.partition("e")
        text = f"{mantissa}.0" + (f"e{exponent}" if exponent else "")
    return text


def _bare_value(text: str, typed: bool) -> Any:
    """Value of an unquoted token: canonical numbers and ``true``/``false`` typed, else text."""
    if not typed:
        return text
    if text == "true":
        return True
    if text == "false":
        return False
    if _CANONICAL_INT.fullmatch(text) and text != "-0":
        try:
            return int(text)
        except ValueError:  # more digits than Python converts
            return text
    if _CANONICAL_REAL.fullmatch(text):
        value = float(text)
        if math.isfinite(value) and _float_text(value) == text:
            return value
    return text


_Line = tuple[str, bool, str, str, bool]  # name, '=' given, value kind, value token, comment

# One whole line in the common shapes, in one regex (atomic groups: no backtracking into a
# shorter token than the scanner takes); what it does not match goes through _slow_split.
_FAST_LINE = re.compile(
    rf"[ \t\r]*(?P<name>(?>[{_L}][{_L}0-9\-.:/]*))[ \t\r]*(?P<eq>=)?[ \t\r]*"
    r"(?P<value>(?>'(?:[^'\\\n]|\\[^\n]|'')*')|(?>[^\s#'=]+))"
    r"(?P<blank>[ \t\r]*)(?P<comment>#.*)?"
)
_NAME = re.compile(rf"{_ID}(?:\.{_ID})?")
_BARE_ONE_TOKEN = re.compile(
    rf"[{_L}][{_L}0-9\-.:/]*|[+-]?(?:0x[0-9a-fA-F]+|[0-9]+)[a-zA-Z]*"
    r"|[+-]?[0-9]*\.[0-9]*(?:[Ee][+-]?[0-9]+)?"
)


def _split_line(line: str, source: str | None, number: int) -> _Line | None:
    """The parts of one setting line, None for a blank/comment line; FormatError if malformed."""
    fast = _FAST_LINE.fullmatch(line)
    if fast is not None and _NAME.fullmatch(fast["name"]):
        value = fast["value"]
        if value[0] == "'":
            kind = "string"
        elif _BARE_ONE_TOKEN.fullmatch(value) and not ("." in value and _NAME.fullmatch(value)):
            kind = "bare"  # (a qualified name is no value for the scanner: _slow_split says so)
        else:
            return _slow_split(line, source, number)
        commented = fast["comment"] is not None and fast["blank"] != ""
        return fast["name"], fast["eq"] is not None, kind, value, commented
    return _slow_split(line, source, number)


def _slow_split(line: str, source: str | None, number: int) -> _Line | None:
    """:func:`_split_line` token by token, with the scanner's longest-match rule."""
    tokens, comment = _line_tokens(line)
    if not tokens:
        return None
    kind, name = tokens[0]
    if kind not in ("id", "qualified"):
        raise FormatError(f"syntax error near {name[:40]!r}: a line must start with a "
                          "parameter name", path=source, line=number)
    rest = tokens[1:]
    equals = bool(rest) and rest[0][0] == "equals"
    if equals:
        rest = rest[1:]
    if not rest:
        raise FormatError(f"{name}: no value (write name = value; '' for an empty string)",
                          path=source, line=number)
    kind, text = rest[0]
    if kind not in _VALUE_KINDS:
        what = "an unterminated quoted value" if text == "'" else repr(text[:40])
        raise FormatError(f"{name}: syntax error at {what} (quote values with blanks, "
                          "'/' or other signs: 'like this')", path=source, line=number)
    if len(rest) > 1:
        raise FormatError(f"{name}: more than one value (quote a value with blanks: "
                          f"'...'); unexpected {rest[1][1][:40]!r}", path=source, line=number)
    return name, equals, "string" if kind == "string" else "bare", text, comment is not None


def _parse_line(line: str, source: str | None, number: int,
                typed: bool) -> tuple[str, Any] | None:
    """``(name, value)`` of one line, None for a blank or comment line."""
    parts = _split_line(line, source, number)
    if parts is None:
        return None
    name, _, kind, text, _ = parts
    if kind == "string":
        return name, _unquote(text, source, number)
    if name.lower() in INCLUDE_KEYS:
        return name, text  # a file name: never a number
    return name, _bare_value(text, typed)


def loads(text: str, source: str | None, typed: bool) -> Tree:
    """Parse postgresql.conf text into a flat tree (see the module docstring)."""
    tree: Tree = {}
    spelled: dict[str, str] = {}  # lower-case name -> the key holding it
    for number, line in enumerate(text.split("\n"), start=1):
        parsed = _parse_line(line, source, number, typed)
        if parsed is None:
            continue
        name, value = parsed
        lower = name.lower()
        previous = spelled.get(lower)
        if lower in INCLUDE_KEYS and previous is not None:
            # every include is read: keep them all, in file order
            held = tree.pop(previous)
            value = [*(held if isinstance(held, list) else [held]), value]
        elif previous is not None:
            del tree[previous]  # the later setting wins (and keeps its place after includes)
        tree[name] = value
        spelled[lower] = name
    return tree


def looks_like(text: str) -> bool:
    """Whether ``text`` is clearly postgresql.conf: every line a PostgreSQL setting, at least
    one written ``name = value``, and one value single-quoted or followed by a ``#`` comment
    (INI has neither; configparser would keep them inside the value)."""
    if "'" not in text and _COMMENT_AFTER.search(text) is None:
        return False  # no possible evidence: skip the scan (big INI files stay fast)
    has_equals = evidence = False
    for number, line in enumerate(text.split("\n"), start=1):
        try:
            parts = _split_line(line, None, number)
        except FormatError:
            return False
        if parts is not None:
            has_equals = has_equals or parts[1]
            evidence = evidence or parts[2] == "string" or parts[4]
    return has_equals and evidence


def _quote(text: str) -> str:
    escaped = (text.replace("\\", "\\\\").replace("'", "''").replace("\n", "\\n")
               .replace("\r", "\\r"))
    return f"'{escaped}'"


def _value_text(name: str, value: Any, typed: bool) -> str:
    if value is None:
        raise FormatError(f"cannot write postgresql: {name} is null (postgresql.conf has no "
                          "null; leave the key out and PostgreSQL uses its default)")
    if isinstance(value, float) and not math.isfinite(value):
        raise FormatError(f"cannot write postgresql: {name} is {value!r} (no spelling in "
                          "postgresql.conf)")
    if isinstance(value, str) and "\x00" in value:
        raise FormatError(f"cannot write postgresql: {name} holds a NUL character")
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = _float_text(value) if typed else repr(value)
    else:
        text = str(value)
    bare = (_PLAIN_ID.fullmatch(text) or _CANONICAL_INT.fullmatch(text)
            or _CANONICAL_REAL.fullmatch(text))
    again = _bare_value(text, typed)
    if bare and type(again) is type(value if typed else text) and again == (
            value if typed else text):
        return text
    return _quote(text)


def dumps(tree: Tree, typed: bool) -> str:
    """Write a flat tree as ``name = value`` lines (include lists repeat the directive)."""
    check_tree(tree, "postgresql")
    lines: list[str] = []
    seen: dict[str, str] = {}
    for name, value in tree.items():
        if not _NAME.fullmatch(name):
            raise FormatError(f"cannot write postgresql: {name!r} is not a parameter name "
                              "(letters, digits and _, optionally one '.' between two parts)")
        if name.lower() in seen:
            raise FormatError(f"cannot write postgresql: keys {seen[name.lower()]!r} and "
                              f"{name!r} name the same parameter (names are case-insensitive)")
        seen[name.lower()] = name
        if isinstance(value, dict):
            raise FormatError(f"cannot write postgresql: {name} is a nested mapping "
                              "(postgresql.conf is flat)")
        include = name.lower() in INCLUDE_KEYS
        if isinstance(value, list) and not include:
            raise FormatError(f"cannot write postgresql: {name} is a list (postgresql.conf "
                              "has one value per parameter; only the include keys repeat)")
        for item in value if isinstance(value, list) else [value]:
            if include and not isinstance(item, str):
                raise FormatError(f"cannot write postgresql: {name} takes file names "
                                  f"(strings), got {type(item).__name__}")
            lines.append(f"{name} = {_value_text(name, item, typed)}")
    text = "\n".join(lines) + ("\n" if lines else "")
    return verify_round_trip(tree, text, "postgresql", loads, typed)


CODEC = Codec("postgresql", (), loads, dumps)
