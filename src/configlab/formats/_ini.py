"""INI codec (stdlib ``configparser``: no interpolation, case-preserving keys).

Section names and keys are dotted paths: ``[db.pool]`` + ``size = 5`` and ``[db]`` +
``pool.size = 5`` both give ``{"db": {"pool": {"size": 5}}}``.  Keys before the first
section are top-level keys.  ``[DEFAULT]`` is an ordinary section (values are not copied
into other sections).  A bare key (no ``=``) is null.  A value in double quotes is a literal
string (quotes removed, no inference), as in php.ini.
"""

from __future__ import annotations

import configparser
from typing import Any

from configlab.errors import FormatError
from configlab.formats._common import (
    Codec,
    Nester,
    check_tree,
    infer_scalar,
    is_ambiguous,
    iter_flat,
    parse_key,
    scalar_text,
    show_path,
    verify_round_trip,
)
from configlab.tree import Tree, join_path

_HEAD = "\x00configlab-top-level"
_NO_DEFAULT = "\x00configlab-no-default-section"
_BAD_KEY_START = ("#", ";", "[", " ", "\t")


def _parser() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(
        interpolation=None,
        strict=True,
        allow_no_value=True,
        default_section=_NO_DEFAULT,
        delimiters=("=", ":"),
        comment_prefixes=("#", ";"),
        inline_comment_prefixes=None,
    )
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    return parser


def loads(text: str, source: str | None, typed: bool) -> Tree:
    """Parse INI text into a nested tree."""
    _check_headers(text, source)
    parser = _parser()
    try:
        parser.read_string(f"[{_HEAD}]\n{text}", source=source or "<string>")
    except configparser.Error as exc:
        raise _error(exc, source) from None
    nester = Nester("ini", source)
    for section in parser.sections():
        prefix = () if section == _HEAD else parse_key(section, "ini section", source, None)
        options = parser.items(section, raw=True)
        if not options and prefix:
            nester.add(prefix, {})
        for key, value in options:
            segments = (*prefix, *parse_key(key, "ini", source, None))
            if value is not None:
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]  # a double-quoted value is a literal string
                elif typed:
                    value = infer_scalar(value)
            nester.add(segments, value)
    return nester.tree


def _check_headers(text: str, source: str | None) -> None:
    """Refuse a section header without its closing ``]`` (configparser reads ``[a`` as a key)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("[") and not line.rstrip().endswith("]"):
            raise FormatError(f"invalid INI: section header {line.strip()[:60]!r} has no "
                              "closing ']'", path=source, line=number)


def _error(exc: configparser.Error, source: str | None) -> FormatError:
    line: int | None = None
    if isinstance(exc, configparser.ParsingError):
        line, text = exc.errors[0]
        # Name the key, never the value: the value of a broken line is often a secret.
        key = text.strip().split("=", 1)[0].split(":", 1)[0].strip()[:60]
        message = f"cannot parse the line of {key!r} (value not shown)"
    else:
        line = getattr(exc, "lineno", None)
        message = exc.message
        if isinstance(exc, configparser.DuplicateSectionError):
            message = f"section [{exc.section}] is given more than once"
        elif isinstance(exc, configparser.DuplicateOptionError):
            message = f"key {exc.option!r} is given more than once in section [{exc.section}]"
    if line is not None:
        line -= 1  # the synthetic top-level section header
    return FormatError(f"invalid INI: {message}", path=source, line=line)


def dumps(tree: Tree, typed: bool) -> str:
    """Write a tree as INI: top-level scalars first, then one section per mapping of scalars."""
    check_tree(tree, "ini")
    sections: dict[tuple[str, ...], list[str]] = {(): []}
    for segments, value in iter_flat(tree, "ini"):
        if isinstance(value, dict):
            sections.setdefault(segments, [])
            continue
        section, key = segments[:-1], join_path(segments[-1:])
        if key.startswith(_BAD_KEY_START):
            if not section:
                raise FormatError(f"cannot write ini: top-level key {key!r} has no INI spelling")
            section, key = section[:-1], join_path(segments[-2:])
        sections.setdefault(section, []).append(_line(key, value, segments, typed))
    out: list[str] = sections.pop(())
    for section, lines in sections.items():
        if out:
            out.append("\n")
        out.append(f"[{join_path(section)}]\n")
        out.extend(lines)
    return verify_round_trip(tree, "".join(out), "ini", loads, typed)


def _line(key: str, value: Any, segments: tuple[str, ...], typed: bool) -> str:
    if any(char in key for char in "=:\n\r"):
        raise FormatError(f"cannot write ini: key {key!r} at {show_path(segments)} contains "
                          "'=', ':' or a line break")
    if value is None:
        return f"{key}\n"
    text = scalar_text(value, segments, "ini", typed, quotable=True)
    if "\n" in text or "\r" in text:
        raise FormatError(f"cannot write ini: value at {show_path(segments)} has a line break")
    if is_ambiguous(value, typed) or text != text.strip() or (
        len(text) >= 2 and text[0] == text[-1] == '"'
    ):
        text = f'"{text}"'
    return f"{key} = {text}\n"


CODEC = Codec("ini", (".ini",), loads, dumps)
