"""Property tests: for every format, dump -> load is the identity on the format's domain, and
dump either refuses a tree or writes it faithfully (never a silent change)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from configlab.errors import FormatError
from configlab.formats import FORMATS, dumps, loads
from configlab.formats._common import infer_scalar, same, stringify

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

XML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff",
                           min_codepoint=0x09).filter(lambda c: c in "\t\n\r" or c >= " "),
    max_size=12,
)
ANY_TEXT = st.text(max_size=12)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
ALL_FLOATS = st.floats()


def trees(keys: st.SearchStrategy[str], scalars: st.SearchStrategy[Any],
          lists: bool = True, empty_dicts: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """Nested trees over ``keys`` and ``scalars``."""

    def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        options = [st.dictionaries(keys, children, min_size=0 if empty_dicts else 1,
                                   max_size=4)]
        if lists:
            options.append(st.lists(children, max_size=4))
        return st.one_of(*options)

    values = st.recursive(scalars, extend, max_leaves=12)
    return st.dictionaries(keys, values, max_size=5)


def scalars(text: st.SearchStrategy[str], floats: st.SearchStrategy[float],
            null: bool = True) -> st.SearchStrategy[Any]:
    options: list[st.SearchStrategy[Any]] = [st.booleans(), st.integers(), floats, text]
    if null:
        options.append(st.none())
    return st.one_of(*options)


def unambiguous(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Strings that read back as strings in the string-only formats."""
    return text.filter(lambda s: isinstance(infer_scalar(s), str))


#: Plain words: no blanks, quotes, comment or block characters, never a number's spelling.
_WORDS = st.from_regex(r"[A-Za-z_/.][A-Za-z0-9_./-]{0,8}", fullmatch=True)

# each format's representable domain
DOMAINS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "yaml": trees(ANY_TEXT,
                  scalars(st.text(alphabet=st.characters(blacklist_categories=("Cs",)),
                                  max_size=12), ALL_FLOATS)),
    "json": trees(ANY_TEXT, scalars(ANY_TEXT, FINITE)),
    "toml": trees(ANY_TEXT, scalars(ANY_TEXT, ALL_FLOATS, null=False)),
    "xml": trees(XML_TEXT, scalars(XML_TEXT, ALL_FLOATS)),
    "properties": trees(
        # jproperties drops U+FEFF (a byte-order mark) from keys, so such keys are refused on
        # write (test_properties_refuses_bom_in_keys) and are outside the domain.
        st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                       blacklist_characters="`\ufeff"),
                min_size=1, max_size=8),
        scalars(unambiguous(ANY_TEXT), FINITE),
        lists=False,
        empty_dicts=False,
    ),
    "ini": trees(
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_ -]{0,6}[A-Za-z0-9_]", fullmatch=True),
        scalars(st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                               blacklist_characters="\n\r\x0b\x0c\x1c\x1d"
                                               "\x1e\x85\u2028\u2029"),
                        max_size=12), FINITE),
        lists=False,
    ),
    # directive: flat; one-argument values are numbers or plain words (yes/no stay strings),
    # a list is a directive given several times (two or more)
    "directive": st.dictionaries(
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True),
        st.one_of(_WORDS, st.integers(), FINITE,
                  st.lists(st.one_of(_WORDS, st.integers()), min_size=2, max_size=3)),
        max_size=6,
    ),
    # nginx: blocks are dicts; repeated directives/blocks are lists of two or more
    "nginx": st.recursive(
        st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
                        st.one_of(_WORDS, st.integers(min_value=0)), min_size=1, max_size=4),
        lambda inner: st.dictionaries(
            st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
            st.one_of(_WORDS, st.integers(min_value=0), inner,
                      st.lists(inner, min_size=2, max_size=2)),
            min_size=1, max_size=4),
        max_leaves=8,
    ),
    # postgresql: flat; names case-insensitive (unique ignoring case); any text but NUL
    # (PostgreSQL cuts a value there); the include keys repeat (lists of two or more)
    "postgresql": st.dictionaries(
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}(\.[A-Za-z_][A-Za-z0-9_]{0,4})?",
                      fullmatch=True),
        scalars(st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                               blacklist_characters="\x00"), max_size=12),
                FINITE, null=False),
        max_size=6,
    ).filter(lambda tree: len({key.lower() for key in tree}) == len(tree)).flatmap(
        lambda tree: st.one_of(st.just(tree), st.lists(ANY_TEXT.filter(lambda s: "\x00" not in s),
                                                       min_size=2, max_size=3).map(
            lambda files: {**tree, "include": files}))
        if "include" not in {key.lower() for key in tree} else st.just(tree)),
    "env": st.dictionaries(
        # "__" nests keys (tested separately), so plain keys here have no double underscore
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,8}", fullmatch=True).filter(
            lambda key: "__" not in key),
        scalars(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
                FINITE),
        max_size=6,
    ),
}


@pytest.mark.parametrize("fmt", FORMATS)
@SETTINGS
@given(data=st.data())
def test_dump_load_identity_in_domain(fmt: str, data: st.DataObject) -> None:
    tree = data.draw(DOMAINS[fmt])
    text = dumps(tree, fmt)
    again = loads(text, fmt)
    assert same(again, tree), text
    # load -> dump -> load is the identity too (text form is stable)
    assert dumps(again, fmt) == text


BROAD = trees(ANY_TEXT, scalars(ANY_TEXT, ALL_FLOATS))


@pytest.mark.parametrize("fmt", FORMATS)
@SETTINGS
@given(tree=BROAD)
def test_dump_never_changes_data_silently(fmt: str, tree: dict[str, Any]) -> None:
    try:
        text = dumps(tree, fmt)
    except FormatError:
        return
    assert same(loads(text, fmt), tree), text


@pytest.mark.parametrize("fmt", ["properties", "ini", "xml", "env", "postgresql"])
@SETTINGS
@given(data=st.data())
def test_untyped_round_trip(fmt: str, data: st.DataObject) -> None:
    tree = data.draw(DOMAINS[fmt])
    try:
        text = dumps(tree, fmt, typed=False)
    except FormatError:
        assert fmt in ("properties",) and "None" in repr(tree)
        return
    assert same(loads(text, fmt, typed=False), stringify(tree))


@SETTINGS
@given(value=st.one_of(st.integers(), FINITE, st.booleans(), st.none()))
def test_canonical_spelling_infers_back(value: Any) -> None:
    from configlab.formats._common import format_scalar

    assert same(infer_scalar(format_scalar(value)), value)


@SETTINGS
@given(text=ANY_TEXT)
def test_inference_is_canonical(text: str) -> None:
    from configlab.formats._common import format_scalar

    value = infer_scalar(text)
    if not isinstance(value, str):
        assert format_scalar(value) == text
        assert not (isinstance(value, float) and not math.isfinite(value))


@SETTINGS
@given(tree=DOMAINS["properties"])
def test_properties_load_dump_load_on_loaded_text(tree: dict[str, Any]) -> None:
    # a file written by hand with keys in any order reads to the same tree
    text = dumps(tree, "properties")
    reordered = "\n".join(reversed(text.rstrip("\n").split("\n"))) + "\n"
    assert same(loads(reordered, "properties"), tree)


@pytest.mark.parametrize("key", ["\ufeff", "0\ufeff", "a\ufeffb"])
def test_properties_refuses_bom_in_keys(key: str) -> None:
    with pytest.raises(FormatError):
        dumps({key: 1}, "properties")
