"""Java ``.properties`` codec (jproperties).

Dotted keys nest (``db.pool.size=5`` -> ``{"db": {"pool": {"size": 5}}}``); a key that is
also the prefix of other keys keeps its own value under ``#text``.  Values are inferred
from their canonical spelling (see :func:`configlab.formats._common.infer_scalar`).
Files are written in ASCII with ``\\uXXXX`` escapes, so Java reads them in any encoding.
"""

from __future__ import annotations

import io
from typing import Any

from jproperties import ParseError, Properties

from configlab.errors import FormatError
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
from configlab.tree import Tree, join_path


def loads(text: str, source: str | None, typed: bool) -> Tree:
    """Parse .properties text into a nested tree (later duplicates win, as in Java)."""
    props = Properties()
    try:
        props.load(text)
    except ParseError as exc:
        raise FormatError(f"invalid properties: {exc.message}", path=source,
                          line=exc.line_number) from None
    nester = Nester("properties", source)
    for key, value in props.properties.items():
        segments = parse_key(key, "properties", source, None)
        nester.add(segments, infer_scalar(value) if typed else value)
    return nester.tree


def dumps(tree: Tree, typed: bool) -> str:
    """Write a tree as .properties with one dotted key per leaf; lists are refused."""
    check_tree(tree, "properties")
    props = Properties()
    for segments, value in iter_flat(tree, "properties"):
        props[join_path(segments)] = _text(value, segments, typed)
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
