"""The orjson fast path of the JSON codec gives exactly what the stdlib parser gives."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from configlab import formats
from configlab.errors import FormatError
from configlab.formats import _json
from configlab.formats._common import decode


def _typed(value: Any) -> Any:
    """A comparable form that keeps types, key order and NaN (== would merge 1, 1.0, True)."""
    if isinstance(value, dict):
        return ("dict", [(key, _typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(item) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, repr(value))


def _outcome(call: Any) -> Any:
    try:
        return ("ok", _typed(call()))
    except FormatError as error:
        return ("error", str(error), error.line)


def _reference(text: str) -> Any:
    return _outcome(lambda: _json._stdlib_loads(text, "x.json"))


def _check(text: str) -> None:
    expected = _reference(text)
    assert _outcome(lambda: formats.loads(text, "json", source="x.json")) == expected
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: only text input exists
        return
    # bytes are decoded first (a leading BOM is dropped), then parsed as before
    expected = _outcome(lambda: _json._stdlib_loads(decode(data, "x.json"), "x.json"))
    assert _outcome(lambda: formats.loads(data, "json", source="x.json")) == expected


EDGE_CASES = [
    '{"a": 1, "b": 2, "a": 3}',
    '{"a": 1e400, "b": -1e400}',
    '{"a": NaN}',
    '{"a": Infinity}',
    '{"a": -Infinity}',
    '{"a": 123456789012345678901234567890}',
    '{"a": 18446744073709551615}',
    '{"a": 18446744073709551616}',
    '{"a": -9223372036854775808}',
    '{"a": -9223372036854775809}',
    '{"a": 9223372036854775807}',
    '{"a": "1234567890123456789012"}',
    '{"a": "\\ud800"}',
    '{"a": "\\udc00\\ud800"}',
    '{"a": "\\ud83d\\ude00", "\\ud83d\\ude00": 1}',
    '{"a": "\x01"}',
    '{"a": "\x7f\u2028"}',
    '\ufeff{"a": 1}',
    " \t\n\r{} \n",
    '{}\x00',
    '{"a": 1.0, "b": -0, "c": -0.0, "d": 1E2, "e": 4.9e-324, "f": 1e-400}',
    '{"a": 01}',
    '{"a": 1.}',
    '{"a": .1}',
    '{"a": tru}',
    '{"a": [1,]}',
    '{"a": 1} x',
    '{\n  "a": 1,\n  "b": \n}\n',
    "[1, 2]",
    '"x"',
    "null",
    "",
    "{" * 2000 + "}" * 2000,
    '{"a": ' + "[" * 300 + "]" * 300 + "}",
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_match_the_stdlib(text: str) -> None:
    _check(text)


def test_fast_path_is_taken_and_refused_where_it_must() -> None:
    assert _json.fast_loads(b'{"a": [1, 2.5, true, null, "x"]}') == {
        "a": [1, 2.5, True, None, "x"]
    }
    assert _json.fast_loads('{"a": 1}') == {"a": 1}
    assert _json.fast_loads("{\"a\": \"\u00e9\"}") == {"a": "\u00e9"}
    assert _json.fast_loads('{"a": 1234567890123456789}') is None  # may exceed 64 bits
    assert _json.fast_loads('{"a": NaN}') is None
    assert _json.fast_loads("[1]") is None  # not a mapping: the stdlib path words the error
    assert _json.fast_loads(b"\xef\xbb\xbf{}") is None  # BOM: decoded by the normal path


def test_long_digit_runs_are_found_across_scan_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_json, "_SCAN_CHUNK", 8)
    assert not _json._has_long_digit_run(b"1234567890 " * 5)
    text = "x" * 5 + "1" * 19 + "x"
    assert _json._has_long_digit_run(text)
    assert _json._has_long_digit_run(text.encode())
    assert _json._has_long_digit_run("\u00e9" + text)
    assert _json._has_long_digit_run("\ud800" + text)
    assert not _json._has_long_digit_run("\u00e9" + "1" * 18)


def test_large_input_is_parsed_with_gc_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    monkeypatch.setattr(_json, "_NO_GC_MIN", 10)
    text = json.dumps({f"k{i}": {"v": i} for i in range(50)})
    assert gc.isenabled()
    assert formats.loads(text, "json") == json.loads(text)
    assert gc.isenabled()
    assert _json.fast_loads('{"a": NaN, "padding": 0}') is None
    assert gc.isenabled()


def test_load_from_a_file_uses_the_same_semantics(tmp_path: Any) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"big": 123456789012345678901234567890, "x": [1.5]}')
    tree = formats.load(path)
    assert tree == {"big": 123456789012345678901234567890, "x": [1.5]}
    assert type(tree["big"]) is int
    path.write_text('{"a": 1}')
    assert formats.load(path) == {"a": 1}
    path.write_text('{"a": NaN}')
    with pytest.raises(FormatError, match="NaN is not valid JSON"):
        formats.load(path)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
_trees = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)
_noise = st.sampled_from(
    ["NaN", "Infinity", "1e400", "-", ",", "]", "}", "\"\\ud800\"", "01", "\x00", "tru", " "]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=5), _trees, max_size=5), st.integers(0, 2))
def test_valid_documents_match_the_stdlib(tree: dict[str, Any], indent: int) -> None:
    _check(json.dumps(tree, indent=indent or None, ensure_ascii=bool(indent % 2)))


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.text(max_size=5), _trees, max_size=4),
    st.data(),
)
def test_damaged_documents_match_the_stdlib(tree: dict[str, Any], data: st.DataObject) -> None:
    text = json.dumps(tree)
    position = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 2))
    noise = data.draw(_noise)
    _check(text[:position] + noise + text[position + cut :])


# -- duplicate keys ---------------------------------------------------------------------------

DUPLICATES = [
    ('{"a": 1, "a": 2}', "a", 1),
    ('{\n  "x": {"a": 1},\n  "b": [{"q": 1,\n "q": "x:y"}]\n}', "q", 4),
    ('{"u": "http://h:1", "a": {"k": "v:w"},\n"a": 2}', "a", 2),
    ('{"a": "\\u003a", "a": "\\u003a"}', "a", 1),  # colon counts agree: the escape is seen
    ('{"\\u00e9": 1, "\u00e9": 2}', "\u00e9", 1),  # equal once decoded
    ('{"a": {"a": 1, "b": 2, "b": 3}}', "b", 1),
]


@pytest.mark.parametrize(("text", "key", "line"), DUPLICATES)
def test_duplicate_keys_are_refused_with_key_and_line(text: str, key: str, line: int) -> None:
    for data in (text, text.encode("utf-8")):
        with pytest.raises(FormatError, match="duplicate key") as caught:
            formats.loads(data, "json", source="c.json")
        assert repr(key) in str(caught.value) and caught.value.line == line
        assert str(caught.value).startswith(f"c.json:{line}: ")
    assert _json.fast_loads(text) is None


def test_same_key_in_different_objects_is_not_a_duplicate() -> None:
    text = '{"a": "{,\\"a\\"", "b": ["a", {"a": 1}, {"a": 2}], "c": {"a": {"a": 3}}, "d": "a:"}'
    expected = json.loads(text)
    assert _json.fast_loads(text) == expected  # the fast path keeps it
    assert formats.loads(text, "json") == expected
    assert _json._stdlib_loads(text, None) == expected
    assert _json._duplicate_position(text) is None
    assert _json._duplicate_position('{"x": [1, {"y": 1}], "y": 2, "x": 3}') == ("x", 29, 1)


_keys = st.text(alphabet="ab:\\\"{}[], \u00e9", max_size=3)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(_keys, _trees), min_size=1, max_size=5),
    st.data(),
)
def test_an_injected_duplicate_is_always_refused(
    pairs: list[tuple[str, Any]], data: st.DataObject
) -> None:
    """A document written pair by pair with one key repeated never parses, by either path."""
    repeat = data.draw(st.integers(0, len(pairs) - 1))
    value = data.draw(_trees)
    pairs = [*pairs, (pairs[repeat][0], value)]
    ascii_only = data.draw(st.booleans())
    body = ", ".join(
        f"{json.dumps(k, ensure_ascii=ascii_only)}: {json.dumps(v, ensure_ascii=ascii_only)}"
        for k, v in pairs
    )
    text = "{" + body + "}"
    with pytest.raises(FormatError, match="duplicate key"):
        formats.loads(text, "json")
    with pytest.raises(FormatError, match="duplicate key"):
        formats.loads(text.encode("utf-8"), "json")


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_keys, _trees, max_size=5))
def test_documents_without_duplicates_parse_as_the_plain_stdlib(tree: dict[str, Any]) -> None:
    text = json.dumps(tree)
    assert _typed(formats.loads(text, "json")) == _typed(json.loads(text))
    assert _typed(formats.loads(text.encode(), "json")) == _typed(json.loads(text))
