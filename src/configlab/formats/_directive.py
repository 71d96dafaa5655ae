"""``directive`` codec: ``name argument...`` lines (redis.conf, sshd_config and the like).

One directive per line; ``#`` starts a comment line; arguments are separated by blanks and may
be quoted with ``"..."`` (backslash escapes) or ``'...'`` as Redis and OpenSSH read them.

Tree mapping:

* a directive with one argument -> a scalar: an integer or float written canonically is a
  number, anything else a string (``yes``/``no`` stay strings: the application reads them);
* a directive with several arguments, or one argument that needs quotes (empty, blanks,
  quotes) -> one string, the argument text as the application reads it (arguments joined by one
  space, quoted where needed): ``save 3600 1`` -> ``"3600 1"``, ``logfile ""`` -> ``'""'``,
  ``proc-title-template "{title} {listen-addr}"`` keeps its quotes;
* a directive given several times -> a list of those values, in file order
  (``save``, ``rename-command``, ``HostKey``, ``AcceptEnv``);
* an empty argument (``logfile ""``) or a directive without argument -> ``""``, written
  ``""`` (Redis needs the empty argument).

Writing is the inverse: a string is written as-is when it reads back as the same value (an
argument list), else quoted as one argument.  Booleans are refused (the application has its
own words: ``yes``/``no``, ``on``/``off``); so is null.  Comments and blank lines are not
kept.  Nested trees cannot be written.
"""

from __future__ import annotations

import math
import re
from typing import Any

from configlab.errors import FormatError
from configlab.formats._common import Codec, check_tree, infer_scalar, verify_round_trip
from configlab.tree import Tree

_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/+-]*")
_PLAIN_RE = re.compile(r"[^\s\"'#\\]+")


def _tokens(text: str, source: str | None, line: int) -> list[tuple[str, bool]]:
    """Split ``text`` into ``(argument, was_quoted)`` pairs (Redis/OpenSSH quoting rules)."""
    out: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char in "\"'":
            quote, i, chunk = char, i + 1, []
            while True:
                if i >= n:
                    raise FormatError("unterminated quoted argument", path=source, line=line)
                if text[i] == "\\" and quote == '"' and i + 1 < n:
                    escaped = text[i + 1]
                    chunk.append({"n": "\n", "t": "\t", "r": "\r"}.get(escaped, escaped))
                    i += 2
                    continue
                if text[i] == quote:
                    i += 1
                    break
                chunk.append(text[i])
                i += 1
            if i < n and not text[i].isspace():
                raise FormatError("a closing quote must be followed by a space",
                                  path=source, line=line)
            out.append(("".join(chunk), True))
            continue
        start = i
        while i < n and not text[i].isspace():
            i += 1
        out.append((text[start:i], False))
    return out


def _quote(argument: str) -> str:
    escaped = (argument.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\t", "\\t").replace("\r", "\\r"))
    return f'"{escaped}"'


def _value(tokens: list[tuple[str, bool]], typed: bool) -> Any:
    if not tokens or (len(tokens) == 1 and tokens[0][0] == ""):
        return ""
    if len(tokens) == 1 and _PLAIN_RE.fullmatch(tokens[0][0]):
        text, quoted = tokens[0]
        if typed and not quoted:
            value = infer_scalar(text)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
        return text
    # The argument text as the application reads it: arguments that need quotes keep them.
    return " ".join(t if _PLAIN_RE.fullmatch(t) else _quote(t) for t, _ in tokens)


def loads(text: str, source: str | None, typed: bool) -> Tree:
    """Parse directive lines into a flat tree (repeated directives become lists)."""
    tree: Tree = {}
    repeated: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = stripped.split(None, 1)
        name = parts[0]
        if not _NAME_RE.fullmatch(name):
            raise FormatError(f"invalid directive name {name[:40]!r}", path=source, line=number)
        value = _value(_tokens(parts[1] if len(parts) > 1 else "", source, number), typed)
        if name in tree:
            if name not in repeated:
                tree[name] = [tree[name]]
                repeated.add(name)
            tree[name].append(value)
        else:
            tree[name] = value
    return tree


def _argument_text(value: Any, name: str) -> str:
    if isinstance(value, bool):
        raise FormatError(f"cannot write directive: {name} is {value!r}; directive files have "
                          "no booleans: write the application's word (yes/no, on/off)")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FormatError(f"cannot write directive: {name} is {value!r}")
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if value is None:
        raise FormatError(f"cannot write directive: {name} is null (a directive has a value; "
                          "leave the key out instead)")
    if not isinstance(value, str):
        raise FormatError(f"cannot write directive: {name} must be a scalar or a list of "
                          f"scalars, got {type(value).__name__}")
    if value == "":
        return '""'
    try:
        again = _value(_tokens(value, None, 0), False)
    except FormatError:
        again = None
    if again == value and value == value.strip():
        return value
    return _quote(value)


def dumps(tree: Tree, typed: bool) -> str:
    """Write a flat tree as directive lines (lists repeat the directive)."""
    check_tree(tree, "directive")
    lines: list[str] = []
    for name, value in tree.items():
        if not _NAME_RE.fullmatch(name):
            raise FormatError(f"cannot write directive: invalid directive name {name!r}")
        if isinstance(value, dict):
            raise FormatError(f"cannot write directive: {name} is a nested mapping "
                              "(directive files are flat)")
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, list | dict):
                raise FormatError(f"cannot write directive: {name} holds a nested value")
            text = _argument_text(item, name)
            lines.append(f"{name} {text}".rstrip())
    text = "\n".join(lines) + ("\n" if lines else "")
    # A string that is not an argument list by itself is written quoted (checked so).
    expected = {name: [_yes_no(v) for v in value] if isinstance(value, list) else _yes_no(value)
                for name, value in tree.items()}
    return verify_round_trip(expected, text, "directive", loads, typed)


def _yes_no(value: Any) -> Any:
    """What ``value`` reads back as: the quoted argument text for a string that is not an
    argument list by itself (``it's`` -> ``"it's"``)."""
    if isinstance(value, str) and value:
        text = _argument_text(value, "")
        if text != value:
            return _value(_tokens(text, None, 0), False)
    return value


def looks_like(text: str) -> bool:
    """Whether ``text`` reads as directive lines (``name value`` without ``=`` or sections)."""
    meaningful = [line.strip() for line in text.splitlines()
                  if line.strip() and not line.strip().startswith(("#", ";"))]
    if not meaningful:
        return False
    def directive(line: str) -> bool:
        parts = line.split(None, 1)
        rest = parts[1] if len(parts) > 1 else ""
        return bool(_NAME_RE.fullmatch(parts[0])) and not rest.startswith(("=", ":")) \
            and not parts[0].endswith(":") and not line.endswith(("{", "}", ";"))

    return all(directive(line) for line in meaningful)


CODEC = Codec("directive", (), loads, dumps)
