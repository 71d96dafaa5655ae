"""Format codecs: read and write configuration trees as YAML, JSON, TOML, XML, Java
.properties, INI, .env, ``directive`` files (redis.conf, sshd_config), nginx-style blocks and
PostgreSQL's ``postgresql.conf``.

A *tree* is a dict with str keys whose values are dicts, lists and scalars (str, int, float,
bool, None).  ``load``/``dump`` work on files (format chosen by extension unless ``fmt`` is
given), ``loads``/``dumps`` on text.  Every failure -- malformed or hostile input, a file over
the size limit, a tree a format cannot represent -- raises
:class:`configlab.errors.FormatError` naming the file and, where known, the line.

The string-only formats (properties, ini, env, xml) infer scalars from their canonical
spelling (``8080`` -> 8080, ``true`` -> True, ``1.5`` -> 1.5, ``null`` -> None); pass
``typed=False`` to keep values as strings.  See docs/formats.md for the mappings.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from configlab._internal import safeio
from configlab.errors import FormatError
from configlab.formats import (
    _directive,
    _env,
    _ini,
    _json,
    _nginx,
    _postgresql,
    _properties,
    _toml,
    _xml,
    _yaml,
)
from configlab.formats._common import Codec, decode, format_scalar, infer_scalar
from configlab.formats._yaml import loads_core as loads_yaml_core
from configlab.tree import Tree

#: Largest file :func:`load` reads by default (bytes); configs up to 100 MB must load.
DEFAULT_MAX_BYTES = safeio.DEFAULT_MAX_BYTES

_CODECS: dict[str, Codec] = {
    codec.name: codec
    for codec in (
        _yaml.CODEC,
        _json.CODEC,
        _toml.CODEC,
        _xml.CODEC,
        _properties.CODEC,
        _ini.CODEC,
        _env.CODEC,
        _directive.CODEC,
        _nginx.CODEC,
        _postgresql.CODEC,
    )
}

#: Names of the supported formats, usable as ``fmt``.
FORMATS: tuple[str, ...] = tuple(_CODECS)

_ALIASES = {"yml": "yaml", "cfg": "ini", "dotenv": "env", "redis": "directive", "sshd": "directive",
            "postgres": "postgresql"}
#: Files known by their name alone (PostgreSQL's main and ALTER SYSTEM files).
_BY_NAME = {"postgresql.conf": "postgresql", "postgresql.auto.conf": "postgresql"}
_BY_EXTENSION = {ext: codec.name for codec in _CODECS.values() for ext in codec.extensions}
#: Extensions shared by several formats: the content decides, or the caller passes fmt.
AMBIGUOUS_EXTENSIONS = (".conf", ".cfg")
_XML_START = re.compile(r"\ufeff?\s*<(?:\?xml[\s?]|!DOCTYPE\s|!--|[A-Za-z_])")
_INI_LINE = re.compile(r"\[[^\]]+\]|[^\s=:]+(?:\s+[^\s=:]+)*\s*[=:].*")


def sniff_format(text: str) -> str | None:
    """The one format among xml, ini, directive, nginx and postgresql ``text`` reads as, else None.

    XML: the text starts with ``<?xml`` or an element/``<!DOCTYPE`` (fontconfig's and D-Bus's
    ``.conf`` files); INI: every line a ``[section]`` or ``key = value`` / ``key: value``;
    nginx: every line ends in ``;``, ``{`` or ``}``; directive: every line ``name value...``
    without ``=``; postgresql: no sections, every line a PostgreSQL setting, and a value
    single-quoted or followed by a ``#`` comment (which INI would keep inside the value).
    """
    if _XML_START.match(text):
        return "xml"
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.strip().startswith(("#", ";"))]
    if not lines:
        return None
    found = []
    if all(_INI_LINE.fullmatch(line) for line in lines):
        found.append("ini")
    if _nginx.looks_like(text):
        found.append("nginx")
    if _directive.looks_like(text):
        found.append("directive")
    if _postgresql.looks_like(text):  # its quotes and comments would be garbage in INI values
        found = [name for name in found if name != "ini"] + ["postgresql"]
    return found[0] if len(found) == 1 else None


def _codec(fmt: str) -> Codec:
    name = fmt.lower().lstrip(".") if isinstance(fmt, str) else fmt
    name = _ALIASES.get(name, name)
    codec = _CODECS.get(name) if isinstance(name, str) else None
    if codec is None:
        raise FormatError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return codec


def detect_format(path: str | os.PathLike[str], text: str | bytes | None = None) -> str:
    """Format name for ``path`` from its extension (``.env``, ``*.env`` and ``.env.*`` are env).

    ``postgresql.conf`` and ``postgresql.auto.conf`` are postgresql.  Other ``.conf`` and
    ``.cfg`` files are used by INI, directive (redis.conf, sshd_config), nginx-style and
    PostgreSQL files alike: the format then comes from ``text`` (see :func:`sniff_format`),
    and without text or when the content is not clearly one of them, a :class:`FormatError`
    asks for fmt.
    """
    name = Path(path).name.lower()
    if name == ".env" or name.endswith(".env") or name.startswith(".env."):
        return "env"
    if name in _BY_NAME:
        return _BY_NAME[name]
    suffix = Path(name).suffix
    if suffix in AMBIGUOUS_EXTENSIONS or name in ("sshd_config", "ssh_config"):
        if isinstance(text, bytes | bytearray):
            text = bytes(text).decode("utf-8", errors="replace")
        sniffed = sniff_format(text) if text is not None else None
        if sniffed is None:
            raise FormatError(
                f"{suffix or name!r} files can be XML, INI, directive (redis.conf), "
                "nginx-style or postgresql.conf and the content does not tell which; pass the "
                "format (--format / fmt=: xml, ini, directive, nginx or postgresql)",
                path=os.fspath(path),
            )
        return sniffed
    fmt = _BY_EXTENSION.get(suffix)
    if fmt is None:
        raise FormatError(
            "cannot tell the format from the file name; pass fmt= (one of "
            f"{', '.join(FORMATS)})",
            path=os.fspath(path),
        )
    return fmt


def loads(text: str | bytes, fmt: str, *, source: str | None = None, typed: bool = True) -> Tree:
    """Parse ``text`` (str, or UTF-8 bytes) in format ``fmt`` into a tree.

    ``source`` names the input in error messages.  ``typed=False`` keeps the values of the
    string-only formats (properties, ini, env, xml) as strings instead of inferring scalars.
    """
    codec = _codec(fmt)
    if isinstance(text, (bytes, bytearray, memoryview)):
        if codec is _json.CODEC:  # parse the bytes directly when that gives the same result
            fast = _json.fast_loads(bytes(text))
            if fast is not None:
                return fast
        text = decode(bytes(text), source)
    elif not isinstance(text, str):
        raise FormatError(f"expected str or bytes to parse, got {type(text).__name__}",
                          path=source)
    return codec.loads(text, source, typed)


def dumps(tree: Tree, fmt: str, *, typed: bool = True) -> str:
    """Write ``tree`` as text in format ``fmt``.

    Raises FormatError when the format cannot represent the tree exactly (e.g. null in
    TOML, lists in INI), so that ``loads(dumps(tree, fmt), fmt) == tree`` whenever it returns.
    """
    codec = _codec(fmt)
    try:
        return codec.dumps(tree, typed)
    except UnicodeEncodeError as exc:  # a lone surrogate ("\ud800" read from JSON)
        raise FormatError(
            f"cannot write {codec.name}: text is not encodable as UTF-8 ({exc.reason})"
        ) from None


def load(
    path: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    typed: bool = True,
) -> Tree:
    """Read the config file at ``path`` (format from its extension unless ``fmt`` is given).

    Files larger than ``max_bytes`` are refused before they are read.
    """
    where = os.fspath(path)
    data = safeio.read_bytes(where, what="config file", max_bytes=max_bytes)
    codec = _codec(fmt) if fmt is not None else _codec(detect_format(path, data))
    if codec is _json.CODEC:
        fast = _json.fast_loads(data)
        if fast is not None:
            return fast
    return codec.loads(decode(data, where), where, typed)


def dump(
    tree: Tree, path: str | os.PathLike[str], fmt: str | None = None, *, typed: bool = True
) -> None:
    """Write ``tree`` to ``path`` (format from its extension unless ``fmt`` is given).

    A regular file is replaced atomically, a device or FIFO written in place (see
    ``configlab._internal.safeio``); nothing is written when the tree cannot be represented.
    """
    where = os.fspath(path)
    codec = _codec(fmt) if fmt is not None else _codec(detect_format(path))
    try:
        data = codec.dumps(tree, typed).encode("utf-8")
    except FormatError as exc:
        raise FormatError(str(exc), path=where) from None
    except UnicodeEncodeError as exc:
        raise FormatError(
            f"cannot write {codec.name}: text is not encodable as UTF-8 ({exc.reason})",
            path=where,
        ) from None
    safeio.write_output(where, data, what="config file", error=FormatError)


__all__ = [
    "AMBIGUOUS_EXTENSIONS",
    "DEFAULT_MAX_BYTES",
    "FORMATS",
    "decode",
    "detect_format",
    "dump",
    "dumps",
    "format_scalar",
    "infer_scalar",
    "load",
    "loads",
    "loads_yaml_core",
    "sniff_format",
]
