"""JSON Schema import (configlab.space._model._json_schema)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from configlab._internal.saferegex import compile_pattern
from configlab.errors import SpaceError
from configlab.generation import generate
from configlab.space import MapParam, MemberParam, MembersParam, RecordsParam
from configlab.space._json_schema import space_from_json_schema
from configlab.space._model import Space
from configlab.space._params import (
    ABSENT,
    DEFAULT_FLOAT_MAX,
    DEFAULT_INT_MAX,
    DEFAULT_INT_MIN,
    DEFAULT_STRING_MAX,
    BoolParam,
    ChoiceParam,
    FloatParam,
    IntParam,
    JsonParam,
    ListParam,
    StringParam,
)
from configlab.space._values import conjoin, search_pattern
from tests.paths import DATA_DIR

DATA = DATA_DIR / "schemas"


def schema_file(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def warned(space: Space, pointer: str, keyword: str) -> bool:
    return any(w.startswith(f"{pointer}: {keyword}:") for w in space.warnings)


# --------------------------------------------------------------------------- real schemas


@pytest.mark.parametrize("name", ["prettierrc.json", "bowerrc.json", "lerna.json"])
def test_real_schemas_are_generation_ready(name: str) -> None:
    space = Space.load(DATA / name)
    assert len(space.parameters) >= 10
    for param in space.parameters:
        present = [c for c in param.value_classes if c.value is not ABSENT]
        assert present, param.path
        for cls in present:  # every representative is a valid value of its parameter
            assert param.check_value(cls.value) is None, (param.path, cls)
    # The representative configs validate against the schema itself.
    schema = schema_file(name)
    first = space.decode([0] * len(space.parameters))
    jsonschema.validate(first, schema)


def test_prettierrc_details() -> None:
    space = Space.load(DATA / "prettierrc.json")
    assert space.name == "Schema for .prettierrc"
    arrow = space.param("arrowParens")
    assert isinstance(arrow, ChoiceParam) and arrow.values == ("always", "avoid")
    assert arrow.optional and arrow.default == "always"
    assert isinstance(space.param("semi"), BoolParam)
    width = space.param("printWidth")
    assert isinstance(width, IntParam)
    assert (width.min, width.max) == (DEFAULT_INT_MIN, DEFAULT_INT_MAX)
    parser = space.param("parser")
    assert isinstance(parser, StringParam) and "babel-ts" in parser.examples
    plugins = space.param("plugins")
    assert isinstance(plugins, ListParam) and isinstance(plugins.item, StringParam)
    # An array of objects: a records length plus element parameters for the fields.
    overrides = space.param("overrides")
    assert isinstance(overrides, RecordsParam)
    assert [c.label for c in overrides.value_classes][:3] == ["empty", "one", "typical"]
    assert isinstance(space.param("overrides[*].options.semi"), BoolParam)
    semi = space.param("overrides[*].options.semi").active_if
    assert semi is not None and semi.text == "len(overrides) > 0"
    base = "#/definitions/optionsDefinition/properties"
    assert warned(space, f"{base}/printWidth", "type")
    assert "unbounded integer" in next(w for w in space.warnings if "printWidth" in w)
    assert warned(space, "#", "oneOf")
    assert space.is_valid({"semi": False, "tabWidth": 4, "trailingComma": "es5"})
    assert not space.is_valid({"trailingComma": "sometimes"})


def test_bowerrc_and_lerna_nesting_and_type_lists() -> None:
    bower = Space.load(DATA / "bowerrc.json")
    assert "storage.cache" in bower
    assert isinstance(bower.param("timeout"), FloatParam)
    assert bower.param("timeout").max == DEFAULT_FLOAT_MAX  # type: ignore[attr-defined]
    # A type list is a branch choice: one value class per type, none narrowed away.
    registry = bower.param("registry")
    assert isinstance(registry, JsonParam)
    assert "type:string" in [c.label for c in registry.value_classes]
    assert {type(c.value) for c in registry.value_classes if c.value is not ABSENT} == {dict, str}
    lerna = Space.load(DATA / "lerna.json")
    ignore = lerna.param("command.bootstrap.ignore")
    assert ignore.kind == "json"
    assert {type(c.value) for c in ignore.value_classes if c.value is not ABSENT} == {list, str}
    assert any("maxLength: absent on" in w for w in lerna.warnings)
    assert all(p.optional for p in lerna.parameters)


# --------------------------------------------------------------------------- keywords

SERVICE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "service",
    "type": "object",
    "required": ["mode", "port", "level"],
    "properties": {
        "mode": {"enum": ["plain", "tls"], "description": "transport"},
        "cert": {"type": "string", "maxLength": 12, "minLength": 1},
        "port": {"type": "integer", "exclusiveMinimum": 0, "maximum": 65535, "default": 80},
        "ratio": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
        "level": {"$ref": "#/$defs/level"},
        "workers": {"type": "integer", "minimum": 1, "maximum": 20, "multipleOf": 4},
        "note": {"type": ["string", "null"], "maxLength": 5, "pattern": "ab"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 3},
                 "maxItems": 2},
        "db": {"$ref": "#/definitions/db"},
        "user": {"type": "string", "maxLength": 4},
        "password": {"type": "string", "maxLength": 4},
    },
    "$defs": {"level": {"type": "string", "enum": ["debug", "info"], "default": "info"}},
    "definitions": {
        "db": {
            "type": "object",
            "required": ["host"],
            "properties": {
                "host": {"type": "string", "maxLength": 6},
                "pool": {"type": "integer", "minimum": 1, "maximum": 4},
            },
        },
    },
    "if": {"properties": {"mode": {"const": "tls"}}},
    "then": {"required": ["cert"]},
    "else": {"not": {"required": ["cert"]}},
    "anyOf": [{"required": ["db"]}, {"properties": {"port": {"enum": [80, 8080]}}}],
    "oneOf": [
        {"properties": {"level": {"const": "debug"}}},
        {"properties": {"workers": {"minimum": 8}}, "required": ["workers"]},
    ],
    "dependentRequired": {"user": ["password"]},
}


def test_keywords_become_parameters_and_constraints() -> None:
    space = space_from_json_schema(SERVICE, source="service.json")
    assert space.name == "service"
    assert space.paths == ("mode", "cert", "port", "ratio", "level", "workers", "note", "tags",
                           "db.host", "db.pool", "user", "password")
    port = space.param("port")
    assert isinstance(port, IntParam) and (port.min, port.max) == (1, 65535)
    assert not port.optional and port.default == 80
    ratio = space.param("ratio")
    assert isinstance(ratio, FloatParam) and ratio.max == math.nextafter(1.0, 0.0)
    assert ratio.optional
    workers = space.param("workers")
    assert isinstance(workers, IntParam)
    assert (workers.min, workers.max, workers.step) == (4, 20, 4)
    note = space.param("note")
    # Optional: generated absent rather than null (constraints read absent as null).
    assert isinstance(note, StringParam) and not note.nullable and note.pattern is not None
    assert space.param("level").values == ("debug", "info")  # type: ignore[attr-defined]
    assert space.param("mode").description == "transport"
    assert space.param("db.host").optional  # db itself is optional
    # db.host (required in db) anchors db: the rest of db is present only with it.
    pool = space.param("db.pool")
    assert pool.active_if is not None and pool.active_if.text == "db.host != null"
    names = [c.name for c in space.constraints]
    assert names == [
        "schema:#/then", "schema:#/else",
        "schema:#/anyOf", "schema:#/oneOf", "schema:#/dependentRequired/user",
    ]
    assert not space.warnings


def test_constraints_agree_with_jsonschema_on_examples() -> None:
    space = space_from_json_schema(SERVICE)
    valid = {"mode": "tls", "cert": "c", "port": 80, "level": "debug"}
    assert space.is_valid(valid)
    jsonschema.validate(valid, SERVICE)
    for change, why in (
        ({"cert": ABSENT}, "then"),
        ({"mode": "plain"}, "else"),
        ({"port": 81}, "anyOf"),
        ({"workers": 8}, "oneOf"),
        ({"user": "u"}, "dependentRequired"),
        ({"db": {"pool": 2}}, "required"),
    ):
        config = {k: v for k, v in {**valid, **change}.items() if v is not ABSENT}
        assert not space.is_valid(config), why
        assert not jsonschema.Draft202012Validator(SERVICE).is_valid(config), why


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_validity_agrees_with_jsonschema_on_value_class_combinations(data: st.DataObject) -> None:
    """For configs built from value classes, configlab and jsonschema agree on validity."""
    space = space_from_json_schema(SERVICE)
    codes = [data.draw(st.integers(0, len(p.value_classes) - 1)) for p in space.parameters]
    config = space.decode(codes)
    expected = jsonschema.Draft202012Validator(SERVICE).is_valid(config)
    assert space.is_valid(config) is expected, (config, space.validate(config))


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        ({"type": "integer", "minimum": 0, "exclusiveMinimum": True, "maximum": 5,
          "exclusiveMaximum": True}, (1, 4)),
        ({"type": "integer", "exclusiveMinimum": 0.5, "exclusiveMaximum": 3.5}, (1, 3)),
        ({"type": "integer", "minimum": 0.5, "maximum": 3.5}, (1, 3)),
        ({"type": "integer", "minimum": 2, "exclusiveMinimum": 4, "maximum": 9}, (5, 9)),
        ({"type": "number", "exclusiveMinimum": 0, "maximum": 2},
         (math.nextafter(0.0, 1.0), 2.0)),
        ({"type": "number", "minimum": -1, "maximum": 0, "exclusiveMaximum": True},
         (-1.0, math.nextafter(0.0, -1.0))),
    ],
)
def test_exclusive_bounds_in_both_forms(prop: dict[str, Any], expected: tuple[float, float]
                                        ) -> None:
    space = space_from_json_schema({"properties": {"x": prop}})
    param = space.param("x")
    assert (param.min, param.max) == expected  # type: ignore[attr-defined]
    assert not space.warnings


def test_nullable_forms_and_finite_unions() -> None:
    space = space_from_json_schema({"type": "object", "required": list("abcdefg"), "properties": {
        "a": {"type": ["integer", "null"], "minimum": 0, "maximum": 3},
        "b": {"enum": ["x", None, {"o": 1}]},
        "c": {"anyOf": [{"type": "boolean"}, {"const": "auto"}, {"type": "null"}]},
        "d": {"nullable": True, "type": "boolean"},
        "e": {"const": 3},
        "f": {"oneOf": [{"type": "integer", "minimum": 0, "maximum": 9}, {"type": "null"}]},
        "g": {"enum": [None]},
    }})
    assert space.param("a").nullable and space.param("d").nullable
    assert space.param("b").values == ("x",)  # type: ignore[attr-defined]
    assert space.param("b").nullable
    assert warned(space, "#/properties/b", "enum")
    assert space.param("c").values == (False, True, "auto")  # type: ignore[attr-defined]
    assert space.param("c").nullable
    assert space.param("e").values == (3,)  # type: ignore[attr-defined]
    f = space.param("f")  # a oneOf: one class per branch (the null branch is the null class)
    assert isinstance(f, JsonParam) and f.nullable
    assert [c.label for c in f.value_classes] == ["branch:0", "branch:0:max", "null"]
    assert space.param("g").nullable
    # Optional keys are generated absent rather than null: constraints read absent as null.
    optional = space_from_json_schema({"properties": {"a": {"type": ["integer", "null"]}}})
    assert not optional.param("a").nullable


def test_unhonoured_keywords_are_warnings_never_silent() -> None:
    space = space_from_json_schema({"type": "object", "additionalProperties": False,
                                    "minProperties": 1, "properties": {
        "s": {"type": "string", "format": "email", "maxLength": 30},
        "t": {"type": "string", "pattern": "(?<=x", "maxLength": 3},
        "m": {"type": "number", "minimum": 0, "maximum": 1, "multipleOf": 0.1},
        "k": {"type": "integer", "minimum": 0, "maximum": 9, "multipleOf": 1.5},
        "u": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 3},
              "uniqueItems": True, "maxItems": 3},
        "v": {"type": "array", "items": [{"type": "string"}]},
        "w": {"type": "array", "items": {"type": "object", "properties": {"a": {}}}},
        "x": {},
        "y": {"type": "string", "maxLength": 4, "contentEncoding": "base64"},
        "z": {"type": "object", "additionalProperties": {"type": "string"}},
        "free": True,
        "ext": {"$ref": "other.json#/x"},
        "anc": {"$ref": "#anchor"},
        "mix": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 1},
                          {"type": "string", "maxLength": 2}]},
        "weird": {"type": "nothing"},
        "nums": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 2}},
        "empty": {"type": "array", "maxItems": 2},
        "obj": {"type": "object", "properties": {"q": {"type": "boolean"}},
                "patternProperties": {"^x": {}}},
    }})
    for pointer, keyword in (
        ("#", "additionalProperties"), ("#", "minProperties"),
        ("#/properties/t", "pattern"), ("#/properties/v", "schema"),
        ("#/properties/y", "contentEncoding"), ("#/properties/ext", "$ref"),
        ("#/properties/anc", "$ref"), ("#/properties/weird", "type"),
        ("#/properties/w", "maxItems"), ("#/properties/empty/items", "items"),
    ):
        assert warned(space, pointer, keyword), (pointer, keyword, space.warnings)
    assert space.paths == ("s", "t", "m", "k", "u", "w", "w[*].a", "x", "y", "z", "z.*", "free",
                           "mix", "nums", "empty", "obj")
    # Formats, fractional grids, uniqueItems, unions, free values and objects with pattern
    # keys are honoured as whole values (each one valid), not warned about; an array of
    # objects and a map are split into element parameters.
    structured = ("s", "m", "k", "u", "w[*].a", "x", "free", "mix", "obj")
    assert all(isinstance(space.param(p), JsonParam) for p in structured)
    assert isinstance(space.param("w"), RecordsParam)
    assert isinstance(space.param("z"), MapParam) and isinstance(space.param("z.*"), StringParam)
    assert [c.value for c in space.param("s").value_classes][:2] == [
        "a@example.com", "first.last+tag@sub.example.org"]
    assert all(len(set(c.value)) == len(c.value)
               for c in space.param("u").value_classes if c.value is not ABSENT)
    assert [c.label for c in space.param("mix").value_classes][:2] == ["branch:0", "branch:1"]
    assert {c.value for c in space.param("m").value_classes if c.value is not ABSENT} <= {
        0.0, 0.1, 0.5, 1.0, 1.0000000000000002, 0.30000000000000004}
    nums = space.param("nums")
    assert isinstance(nums, ListParam) and nums.max_items == 8


def test_default_string_bound_and_guessed_types() -> None:
    space = space_from_json_schema({"properties": {
        "name": {"type": "string"},
        "by_default": {"default": 1.5},
        "by_flag": {"default": True},
        "by_int": {"default": 3},
        "by_text": {"default": "x"},
        "by_keyword": {"minLength": 2, "maxLength": 3},
        "by_bound": {"minimum": 1, "maximum": 2},
        "by_step": {"multipleOf": 2, "minimum": 0, "maximum": 4},
        "by_items": {"items": {"type": "boolean"}, "maxItems": 1},
    }})
    name = space.param("name")
    assert isinstance(name, StringParam) and name.max_length == DEFAULT_STRING_MAX
    assert warned(space, "#/properties/name", "maxLength")
    kinds = {p.path: p.kind for p in space.parameters}
    assert kinds == {"name": "string", "by_default": "float", "by_flag": "bool",
                     "by_int": "int", "by_text": "string", "by_keyword": "string",
                     "by_bound": "float", "by_step": "int", "by_items": "list"}


def test_pattern_is_searched_like_json_schema() -> None:
    space = space_from_json_schema({"properties": {
        "p": {"type": "string", "pattern": "ab", "maxLength": 6, "examples": ["xaby", 3, "zz"]},
        "q": {"type": "string", "pattern": "^a+$", "maxLength": 3},
    }})
    p = space.param("p")
    assert p.check_value("zzabzz") is None and p.check_value("zz") is not None
    assert p.examples == ("xaby",)  # type: ignore[attr-defined]
    assert space.param("q").pattern == "^a+$"  # type: ignore[attr-defined]
    impossible = space_from_json_schema({"properties": {
        "r": {"type": "string", "pattern": "^abcdef$", "maxLength": 3}, "ok": {"type": "boolean"},
    }})
    # No string can match: the key is skipped with a warning, never generated invalid.
    assert warned(impossible, "#/properties/r", "schema") and "r" not in impossible
    unicode = space_from_json_schema({"properties": {
        "path": {"type": "string", "pattern": "^(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)$",
                 "maxLength": 12}}})
    for cls in unicode.param("path").value_classes:
        assert cls.value is ABSENT or re.search(
            "^(\u002F)|(\u002F[\u0021-\u007E]+\u002F)$", cls.value), cls


def test_refs_allof_merging_and_nested_conditions() -> None:
    schema = {
        "$defs": {
            "base": {"type": "object", "properties": {"a": {"type": "boolean"}}},
            "port": {"type": "integer", "minimum": 1, "maximum": 9},
            "bounded": {"maximum": 5},
        },
        "allOf": [
            {"$ref": "#/$defs/base"},
            {"properties": {"b": {"$ref": "#/$defs/port"}, "a": {"type": "boolean"}}},
            {"if": {"properties": {"a": {"const": True}}, "required": ["a"]},
             "then": {"properties": {"b": {"minimum": 5}}}},
            False,
            {"$ref": "elsewhere.json"},
        ],
        "properties": {
            "c": {"allOf": [{"type": "integer"}, {"minimum": 0}, {"$ref": "#/$defs/bounded"},
                            {"maximum": 7}, True, {"$ref": "x.json"}]},
            "tls": {"type": "object", "properties": {
                "on": {"type": "boolean"}, "cert": {"type": "string", "maxLength": 3}},
                "if": {"properties": {"on": {"const": True}}},
                "then": {"required": ["cert"]}},
        },
        "not": {"properties": {"c": {"enum": [3]}, "tls": {"properties": {"on": {"not": {
            "const": False}}}}}, "required": ["c"]},
    }
    space = space_from_json_schema(schema)
    assert space.paths == ("c", "tls.on", "tls.cert", "a", "b")
    c = space.param("c")
    # both maxima hold: the tighter one (5) is the bound, no value conflicts
    assert isinstance(c, IntParam) and (c.min, c.max) == (0, 5)
    assert not warned(space, "#/properties/c/allOf/3", "maximum")
    assert warned(space, "#/allOf/4", "$ref")
    assert warned(space, "#/allOf/3", "allOf")
    assert warned(space, "#/allOf/1/properties/a", "properties")
    texts = {c.name: c.text for c in space.constraints}
    assert texts["schema:#/allOf/2/then"] == (
        "((a != null) and (a == true)) -> (b == null or (b >= 5))"
    )
    assert space.is_valid({"a": True, "b": 6, "c": 1})
    assert not space.is_valid({"a": True, "b": 2, "c": 1})
    assert not space.is_valid({"c": 3, "tls": {"on": True, "cert": "x"}})
    assert space.is_valid({"c": 3, "tls": {"on": False}})
    assert not space.is_valid({"c": 1, "tls": {"on": True}})


def test_untranslatable_conditions_become_warnings() -> None:
    space = space_from_json_schema({"properties": {"a": {"type": "boolean"},
                                                   "n": {"type": "integer", "minimum": 0,
                                                         "maximum": 3}},
        "if": {"properties": {"a": {"pattern": "x"}}}, "then": {"required": ["a"]},
        "anyOf": [{"minProperties": 1}],
        "oneOf": [{"properties": {"missing": {"const": 1}}}],
        "not": {"type": "string"},
        "dependencies": {"a": {"required": ["n"]}, "n": ["zz"]},
        "dependentRequired": {"zz": ["a"]},
    })
    for pointer, keyword in (("#", "if"), ("#", "anyOf"), ("#", "oneOf"), ("#", "not"),
                             ("#/dependencies/a", "dependencies"),
                             ("#/dependentRequired/n", "dependentRequired"),
                             ("#/dependentRequired/zz", "dependentRequired")):
        assert warned(space, pointer, keyword), (pointer, keyword, space.warnings)
    assert not space.constraints


def test_then_without_if_and_trivial_conditions() -> None:
    space = space_from_json_schema({
        "properties": {"a": {"type": "boolean"}, "b": {"type": "boolean"}},
        "oneOf": [{"properties": {"a": {"description": "only annotations"}}}],
        "anyOf": [True, False, {}],
        "if": {"properties": {"a": {"const": True}, "b": {"const": False}}, "required": ["a", "b"]},
        "else": {"anyOf": [{"required": ["a"]}], "oneOf": [{"required": ["a"]},
                                                           {"required": ["b"]}]},
    })
    lone = space_from_json_schema({"properties": {"a": {"type": "boolean"}},
                                   "then": {"required": ["a"]}, "else": {}})
    assert warned(lone, "#", "then") and warned(lone, "#", "else") and not lone.constraints
    texts = [c.text for c in space.constraints]
    assert texts[0].startswith("not (")
    assert "(true) or (false) or (true)" in texts
    assert "true" in texts
    assert space.is_valid({"a": True})
    assert not space.is_valid({"a": True, "b": True})


def test_recursive_refs_are_unrolled_to_bounded_depth() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {"node": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "maxLength": 8},
            "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
        }}},
        "type": "object",
        "properties": {"tree": {"$ref": "#/$defs/node"},
                       "self": {"type": "object", "properties": {"b": {"$ref": "#"}}}},
    }
    space = space_from_json_schema(schema)
    assert space.param("tree.name").kind == "string"
    children = space.param("tree.children")
    assert isinstance(children, JsonParam)
    deepest = max((c.value for c in children.value_classes if c.value is not ABSENT),
                  key=lambda v: len(json.dumps(v)))
    assert deepest and isinstance(deepest[0]["name"], str) and deepest[0]["children"]
    assert isinstance(space.param("self.b"), JsonParam)
    validator = jsonschema.Draft202012Validator(schema)
    for path in ("tree.children", "self.b"):
        for cls in space.param(path).value_classes:
            if cls.value is not ABSENT:
                config = space.build({path: cls.value, "tree.name": "n"})
                assert validator.is_valid(config), (path, cls)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ([], "must be an object"),
        ({"type": "string"}, "must describe an object"),
        ({"properties": {"a": {"$ref": "#/$defs/nothing"}}}, "points nowhere"),
        ({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
          "properties": {"x": {"$ref": "#/$defs/a"}}}, "no parameter could be imported"),
        ({"properties": {"a": False}}, "no parameter could be imported"),
        ({"properties": {"a": {"type": "integer", "minimum": 1, "maximum": 2,
                               "multipleOf": 5}}}, "no multiple of 5"),
        ({"properties": {"a": {"type": "integer", "minimum": "x"}}}, "must be a number"),
        ({"properties": {"a": {"type": "string", "maxLength": -1}}}, "natural number"),
        ({"properties": {"a": {"type": "array", "maxItems": "2"}}}, "natural number"),
        ({"properties": {"a": {"enum": "x"}}}, "must be a list"),
        ({"properties": []}, "must be an object"),
        ({"properties": {"a": {"type": "boolean"}}, "required": "a"}, "must be a list"),
        ({"properties": {"a": {"oneOf": []}}}, "non-empty list"),
        ({"properties": {"a": {"type": "boolean"}}, "anyOf": []}, "non-empty list"),
    ],
)
def test_errors(schema: Any, message: str) -> None:
    with pytest.raises(SpaceError, match=message):
        space_from_json_schema(schema, source="s.json")


def test_root_union_without_a_single_object_branch_and_misc() -> None:
    with pytest.raises(SpaceError, match="must describe an object"):
        space_from_json_schema({"oneOf": [{"type": "string"}, {"$ref": "x.json"}]})
    space = space_from_json_schema({"anyOf": [{"properties": {"a": {"type": "boolean"}}}]})
    assert space.paths == ("a",) and not space.warnings
    odd = space_from_json_schema({"properties": {
        "": {"type": "boolean"}, "a`b": {"type": "boolean"}, "ok": {"type": "boolean"},
        "a": {"type": "integer", "minimum": 5, "maximum": 1},
        "u": {"oneOf": [{"type": "null"}, {"$ref": "x.json"}, True]},
        "l": {"type": "array", "items": {"$ref": "x.json"}},
        "li": {"type": "array", "items": {"type": "string", "maxLength": 2}, "minItems": 3,
               "maxItems": 1},
        "e": {"enum": []},
    }})
    assert odd.paths == ("ok",)
    for pointer, keyword in (("#/properties/", "properties"), ("#/properties/a`b", "properties"),
                             ("#/properties/a", "schema"), ("#/properties/u/anyOf", "anyOf"),
                             ("#/properties/u", "$ref"),
                             ("#/properties/l/items", "$ref"), ("#/properties/li", "schema"),
                             ("#/properties/e", "enum")):
        if keyword == "anyOf":
            continue
        assert warned(odd, pointer, keyword), (pointer, keyword, odd.warnings)


def test_property_less_roots_are_imported_as_maps() -> None:
    from tests.space.schema_corpus import cloudformation_section_schema

    # A real one: the Outputs section of a CloudFormation template (cfn-lint's schema):
    # patternProperties of logical ids to {Value (required), Description, Export, Condition}.
    schema = cloudformation_section_schema("outputs")
    space = space_from_json_schema(schema, source="outputs")
    keys = sorted({p.split(".")[0] for p in space.paths})
    assert keys == ["a", "aa", "ab"]  # generated names matching ^[a-zA-Z0-9]+$
    assert {f"{k}.Value" for k in keys} <= set(space.paths)
    assert warned(space, "#", "patternProperties")
    # Honoured (configs valid), so a strict import accepts it.
    strict = space_from_json_schema(schema, source="outputs", strict=True)
    assert strict.paths == space.paths
    # additionalProperties as the entry schema, minProperties/maxProperties and key lengths.
    typed = space_from_json_schema({
        "type": "object", "additionalProperties": {"type": "integer", "minimum": 0,
                                                   "maximum": 9},
        "minProperties": 1, "maxProperties": 2, "propertyNames": {"maxLength": 4}})
    assert typed.paths == ("key", "keya")
    assert not typed.param("key").optional and typed.param("keya").optional
    check = jsonschema.Draft202012Validator({
        "type": "object", "additionalProperties": {"type": "integer", "minimum": 0,
                                                   "maximum": 9},
        "minProperties": 1, "maxProperties": 2, "propertyNames": {"maxLength": 4}})
    for config in (typed.decode(row) for row in ((0, 0), (5, 1), (2, 3))):
        assert check.is_valid(config), config
    # A root $ref to such a map resolves to it.
    ref = space_from_json_schema({"$ref": "#/$defs/m", "$defs": {"m": {
        "patternProperties": {"^x[0-9]+$": {"type": "boolean"}}}}})
    assert ref.paths == ("x0", "x00", "x01")
    # minProperties above MAP_KEYS: that many keys, all required.
    many = space_from_json_schema({"additionalProperties": {"type": "string"},
                                   "minProperties": 5})
    assert len(many.paths) == 5 and not any(p.optional for p in many.parameters)
    # Still refused: free-form roots and maps whose keys cannot be generated.
    for refused in ({"type": "object"},
                    {"additionalProperties": {"type": "string"},
                     "propertyNames": {"maxLength": 2}}):
        with pytest.raises(SpaceError, match="or a map"):
            space_from_json_schema(refused)


def test_deterministic() -> None:
    first = space_from_json_schema(SERVICE)
    second = space_from_json_schema(json.loads(json.dumps(SERVICE)))
    assert first.digest() == second.digest() and first.warnings == second.warnings


def test_less_common_paths() -> None:
    with pytest.raises(SpaceError, match="non-local"):
        space_from_json_schema({"$ref": "other.json"})
    space = space_from_json_schema({
        "$defs": {"pair": [{"type": "boolean"}, {"type": "integer", "minimum": 0, "maximum": 2}]},
        "properties": {
            "b": {"$ref": "#/$defs/pair/1"},
            "n": {"type": ["integer", "null"], "minimum": 0, "maximum": 2},
            "r": {"type": "number", "minimum": 0, "maximum": 1},
            "u": {"anyOf": [True, {"const": 1}]},
            "s": {"anyOf": [{"type": "string"}, {"type": "string", "maxLength": 3},
                            {"enum": ["a"]}]},
            "bad_items": {"type": "array", "items": {"type": "nothing"}},
        },
        "if": {"properties": {"n": {"const": None}, "r": {"minimum": 0.5}}},
        "then": {"properties": {"b": {"const": 1}}},
    })
    assert space.param("b").kind == "int"
    u = space.param("u")  # a union: one class per branch
    assert [(c.label, c.value) for c in u.value_classes] == [
        ("branch:0", "value"), ("branch:1", 1), ("absent", ABSENT)]
    assert [c.label for c in space.param("s").value_classes][:3] == [
        "branch:0", "branch:2", "branch:0:max"]
    named = space_from_json_schema({"properties": {"s": {"anyOf": [{"type": "string"},
                                                                   {"enum": ["a", "b"]}]}}})
    assert named.param("s").examples == ("a", "b")  # type: ignore[attr-defined]
    assert warned(space, "#/properties/bad_items", "schema")
    assert "bad_items" not in space
    text = space.constraints[0].text
    assert "n == null" in text and "r >= 0.5" in text


def test_strict_refuses_unhonoured_keywords_but_not_default_bounds() -> None:
    lossy = {"properties": {"s": {"type": "string", "maxLength": 4,
                                  "contentEncoding": "base64"}}}
    assert warned(space_from_json_schema(lossy), "#/properties/s", "contentEncoding")
    with pytest.raises(SpaceError, match=r"strict import refused: 1 keyword.*contentEncoding"):
        space_from_json_schema(lossy, strict=True)
    # Default bounds and carried-through unknown keys keep generated configs valid: accepted.
    lenient = {"additionalProperties": False, "properties": {"n": {"type": "integer"}}}
    space = Space.from_json_schema(lenient, strict=True)
    assert space.warnings and space.paths == ("n",)


def test_lists_of_enum_members_are_factors_or_subsets_reaching_every_member() -> None:
    schema = {"properties": {
        "select": {"type": "array", "uniqueItems": True,
                   "items": {"enum": ["B", "C90", "E", "F", "I", "N", "SIM"]}},
        "pair": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "minItems": 2,
                 "maxItems": 2},
        "nums": {"type": "array", "items": {"enum": [1, 2]}, "maxItems": 1},
    }}
    space = space_from_json_schema(schema)
    # Members combine freely: one false/true factor per member (pairs of members covered).
    assert isinstance(space.param("select"), MembersParam)
    for member in ("B", "C90", "E", "F", "I", "N", "SIM"):
        factor = space.param(f"select[{member}]")
        assert isinstance(factor, MemberParam) and factor.member == member
        assert factor.active_if is not None and factor.active_if.text == "select != null"
    # Counts the factors cannot hold (exactly two; at most one): one subset parameter.
    select = space.param("pair")
    assert isinstance(select, JsonParam)
    labels = [c.label for c in select.value_classes]
    assert labels[0] == "min" and {"member:b", "member:c"} <= set(labels)
    check = jsonschema.Draft202012Validator(schema)
    for path in ("pair", "nums"):
        for cls in space.param(path).value_classes:
            if cls.value is not ABSENT:
                assert check.is_valid({path: cls.value}), (path, cls)
    assert [c.value for c in space.param("nums").value_classes][:3] == [[], [1], [2]]


def test_discriminated_unions_are_branch_classes_named_by_their_discriminator() -> None:
    schema = {"$defs": {
        "http": {"type": "object", "required": ["type", "url"], "additionalProperties": False,
                 "properties": {"type": {"const": "http"}, "url": {"type": "string",
                                                                  "format": "uri"}}},
        "file": {"type": "object", "required": ["type", "path"], "additionalProperties": False,
                 "properties": {"type": {"enum": ["file"]}, "path": {"type": "string",
                                                                    "minLength": 1}}},
    }, "properties": {"sink": {"oneOf": [{"$ref": "#/$defs/http"}, {"$ref": "#/$defs/file"}]}},
        "required": ["sink"]}
    sink = space_from_json_schema(schema).param("sink")
    labels = [c.label for c in sink.value_classes]
    assert labels[:2] == ["branch:0:type=http", "branch:1:type=file"]
    check = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for cls in sink.value_classes:
        assert check.is_valid({"sink": cls.value}), cls
    assert sink.value_classes[sink.classify({"type": "file", "path": "/x"})].label.endswith("=file")


def _ruff_selectors() -> list[str]:
    """ruff's rule selectors as its JSON schema lists them (``RuleSelector``: ``ALL``, every
    linter prefix and every prefix of every rule code below it), from the installed ruff."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip extra: test)")
    rules = json.loads(subprocess.run([ruff, "rule", "--all", "--output-format", "json"],
                                      capture_output=True, check=True, text=True).stdout)
    linters = json.loads(subprocess.run([ruff, "linter", "--output-format", "json"],
                                        capture_output=True, check=True, text=True).stdout)
    prefixes = {f"{linter['prefix']}{category['prefix']}"
                for linter in linters for category in linter.get("categories") or []}
    prefixes |= {linter["prefix"] for linter in linters if linter["prefix"]}
    selectors = {"ALL", "C", "T"} | prefixes  # C and T: ruff's legacy multi-linter groups
    for rule in rules:
        code = rule["code"]
        if not code:
            continue
        owner = max((p for p in prefixes if code.startswith(p) and code[len(p):].isdigit()),
                    key=len)
        selectors.update(code[:k] for k in range(len(owner), len(code) + 1))
    return sorted(selectors)


def test_large_enum_lists_keep_prefix_groups_as_member_factors() -> None:
    selectors = _ruff_selectors()
    assert len(selectors) > 1000
    schema = {
        "type": "object",
        "properties": {"lint": {"type": "object", "properties": {
            "select": {"type": "array", "items": {"$ref": "#/definitions/RuleSelector"}},
            "line-length": {"type": "integer", "minimum": 1, "maximum": 320}}}},
        "definitions": {"RuleSelector": {"type": "string", "enum": selectors}},
    }
    space = space_from_json_schema(schema, source="ruff")
    factors = {p.member for p in space.parameters if isinstance(p, MemberParam)}
    # Every rule group a user selects is a factor of its own (not only the first 64 codes).
    assert {"B", "C90", "C4", "I", "N", "SIM", "E", "F", "UP", "PLR", "ANN"} <= factors
    assert len(factors) <= 160 and "B901" not in factors
    assert warned(space, "#/properties/lint/properties/select/items", "enum")
    assert space_from_json_schema(schema, source="ruff", strict=True).paths == space.paths
    from configlab.generation import generate

    suite = list(generate(space, "covering", seed=1))
    check = jsonschema.Draft7Validator(schema)
    assert all(check.is_valid(config) for config in suite)
    selects = [set(config.get("lint", {}).get("select", [])) for config in suite]
    for a in ("B", "C90", "I", "N", "SIM"):
        for b in ("B", "C90", "I", "N", "SIM"):
            if a != b:
                assert any(a in s and b not in s for s in selects), (a, b)


def test_prefix_groups_fill_levels_by_size_and_refuse_non_strings() -> None:
    from configlab.space._schema_base import prefix_groups

    members = ["A", "A1", "A11", "A12", "AB", "B", "B1", "C"]
    assert prefix_groups(members, 3) == ["A", "B", "C"]
    # Level 1 does not fit whole: A1 (2 descendants) before AB and B1 (none).
    assert prefix_groups(members, 4) == ["A", "A1", "B", "C"]
    assert prefix_groups(members, 2) == ["A", "B"]  # the largest roots first
    assert prefix_groups([1, 2, 3], 2) is None


def test_cmake_presets_versions_and_allof_item_schemas() -> None:
    # CMake 3.25's published CMakePresets.json schema (Debian package cmake-data): a root
    # oneOf with one alternative per file version that cannot be merged (each version has
    # its own preset schemas), told apart by the root-required `version` const; each preset
    # array lists its allowed keys with `{}` schemas beside an allOf that gives their types.
    schema = schema_file("cmake-presets.json")
    space = Space.from_json_schema(schema)
    assert space.param("version").values == (6,)  # type: ignore[attr-defined]
    assert warned(space, "#", "oneOf")
    check = jsonschema.Draft7Validator(schema)
    for strategy, count in (("covering", None), ("boundary", 80), ("random", 80)):
        configs = list(generate(space, strategy, seed=3, count=count))
        assert configs and all(check.is_valid(c) for c in configs), strategy
    presets = [p for c in configs for p in c.get("configurePresets", [])]
    assert presets and all(isinstance(p.get("hidden", True), bool) for p in presets)


def test_allof_conjunction_of_subschemas() -> None:
    # Each allOf part must hold: element schemas, per-property schemas and bounds are
    # combined, not "first one wins".
    left = {"type": "array", "maxItems": 4, "items": {
        "properties": {"a": {}, "b": {"type": "integer", "maximum": 9}}, "required": ["a"],
        "additionalProperties": False}}
    right = {"minItems": 1, "maxItems": 2, "items": {
        "properties": {"a": {"type": "boolean"}, "b": {"maximum": 3}}, "required": ["b"],
        "additionalProperties": {"type": "string"}}}
    merged, conflicts = conjoin(left, right)
    assert conflicts == []
    assert merged == {"type": "array", "minItems": 1, "maxItems": 2, "items": {
        "properties": {"a": {"type": "boolean"}, "b": {"type": "integer", "maximum": 3}},
        "required": ["a", "b"], "additionalProperties": False}}
    assert conjoin({"enum": [1, 2, 3]}, {"enum": [3, 2]})[0] == {"enum": [2, 3]}
    assert conjoin({"pattern": "a"}, {"pattern": "b"}) == ({"pattern": "a"}, ["pattern"])
    assert conjoin({"items": {"pattern": "a"}}, {"items": {"pattern": "b"}})[1] == [
        "items/pattern"]
    assert conjoin(True, {"type": "string"}) == ({"type": "string"}, [])
    assert conjoin({"type": "string"}, {}) == ({"type": "string"}, [])
    assert conjoin(False, {"type": "string"}) == (False, [])
    assert conjoin(3, 4) == (3, ["$schema"])
    # An allOf whose parts clash on a keyword no bound can express: whole values, each
    # checked by jsonschema, instead of one side silently dropped.
    schema = {"type": "object", "properties": {"name": {"allOf": [
        {"type": "string", "pattern": "^a+$", "maxLength": 3},
        {"pattern": "^aa"}]}, "n": {"allOf": [
            {"type": "integer", "minimum": 1, "maximum": 20, "multipleOf": 2},
            {"multipleOf": 3}]}}, "required": ["name", "n"]}
    space = space_from_json_schema(schema)
    assert warned(space, "#/properties/name/allOf/1", "pattern")
    values = [c.value for c in space.param("name").value_classes]
    assert values and all(re.search("^a+$", v) and v.startswith("aa") for v in values)
    n = space.param("n")
    assert isinstance(n, IntParam) and (n.min, n.max, n.step) == (6, 18, 6)


def test_root_union_alternatives_without_a_discriminator() -> None:
    # oneOf alternatives told apart by nothing stay refused (an instance could match two);
    # the same alternatives under anyOf: the richest one is modelled.
    branches = [{"type": "object", "properties": {"a": {"type": "string"}}},
                {"type": "object", "properties": {"a": {"type": "integer"},
                                                  "b": {"type": "boolean"}}}]
    with pytest.raises(SpaceError, match="or a root oneOf/anyOf of such objects"):
        space_from_json_schema({"oneOf": branches})
    space = space_from_json_schema({"anyOf": branches})
    assert space.paths == ("a", "b") and warned(space, "#", "anyOf")
    # A discriminator only one alternative allows makes a oneOf choice safe.
    tagged = [{**b, "required": ["kind"], "properties": {
        **b["properties"], "kind": {"enum": [f"k{i}", f"x{i}"]}}} for i, b in enumerate(branches)]
    tagged[0]["properties"]["a"] = {"$ref": "#/$defs/text"}
    space = space_from_json_schema({"oneOf": tagged, "$defs": {"text": {"type": "string"}}})
    assert space.param("kind").values == ("k1", "x1")  # type: ignore[attr-defined]
    # A shared value is no discriminator.
    tagged[0]["properties"]["kind"] = {"const": "x1"}
    with pytest.raises(SpaceError, match="or a root oneOf/anyOf of such objects"):
        space_from_json_schema({"oneOf": tagged, "$defs": {"text": {"type": "string"}}})


def test_swagger_refs_into_the_draft_04_metaschema_are_followed() -> None:
    # Swagger 2.0's published schema (as openapi-spec-validator ships it) types parts of
    # its documents by $ref into http://json-schema.org/draft-04/schema; jsonschema ships
    # that metaschema, so the refs are followed offline and the required `paths` is built.
    schema = schema_file("swagger-2.0.json")
    space = Space.from_json_schema(schema)
    assert {"swagger", "info", "paths", "definitions.*"} <= set(space.paths)
    assert not any("non-local" in w or "required key" in w for w in space.warnings)
    check = jsonschema.Draft4Validator(schema)
    for strategy, count in (("covering", None), ("boundary", 60), ("random", 60)):
        configs = list(generate(space, strategy, seed=5, count=count))
        assert configs and all(check.is_valid(c) for c in configs), strategy
    # Other external documents are still not fetched: said, not guessed.
    elsewhere = {"type": "object", "required": ["a"], "properties": {
        "a": {"$ref": "https://example.org/a.json"},
        "b": {"$ref": "http://json-schema.org/draft-07/schema#/definitions/nonNegativeInteger"},
        "c": {"$ref": "http://json-schema.org/draft-07/schema#anchor"}}}
    space = space_from_json_schema(elsewhere)
    assert space.paths == ("b",)
    assert warned(space, "#/properties/a", "$ref") and warned(space, "#/properties/c", "$ref")
    assert all(v >= 0 for v in (c.value for c in space.param("b").value_classes)
               if isinstance(v, int))


def test_required_objects_whose_content_is_all_optional() -> None:
    # AWS::APS::Scraper: an optional object requires `Destination`, an object whose only
    # content is optional; AWS::ResilienceHub::ResiliencyPolicy: the root requires `Policy`,
    # an object of optional objects. A required object needs a key to exist: its first leaf
    # is kept present (the first was missing; the second became one constraint over every
    # leaf, 331,195,392 value combinations, and the space was refused).
    leaf = {"type": "object", "properties": {
        "Arn": {"type": "string", "maxLength": 9}, "Days": {"type": "integer", "minimum": 1,
                                                          "maximum": 9}}}
    schema = {"type": "object", "required": ["Policy"], "properties": {
        "Logging": {"type": "object", "required": ["Components", "Destination"], "properties": {
            "Components": {"type": "string", "enum": ["a", "b"]},
            "Destination": {"type": "object", "properties": {"CloudWatch": leaf}}}},
        "Policy": {"type": "object", "properties": {
            name: leaf for name in ("Software", "Hardware", "Az", "Region", "Extra")}}}}
    space = space_from_json_schema(schema)
    assert not space.constraints or all(len(c.params) <= 2 for c in space.constraints)
    check = jsonschema.Draft7Validator(schema)
    for strategy, count in (("covering", None), ("boundary", 60), ("random", 60)):
        configs = list(generate(space, strategy, seed=2, count=count))
        assert configs and all(check.is_valid(c) for c in configs), strategy
    assert any("Logging" in c for c in configs) and any("Logging" not in c for c in configs)


def test_a_pattern_anchored_at_one_end_builds_its_boundaries() -> None:
    # AWS::EMR::Studio's required DefaultS3Location: `^s3://.*` with minLength 6. Searched as
    # `.*?(?:^s3://.*).*`, the leading wrapper could only be empty, so no 6-character string
    # was built and the required key was dropped (every config invalid).
    schema = {"type": "object", "required": ["s3", "tail"], "properties": {
        "s3": {"type": "string", "minLength": 6, "maxLength": 64, "pattern": "^s3://.*"},
        "tail": {"type": "string", "minLength": 4, "maxLength": 8, "pattern": "\\.json$"}}}
    space = space_from_json_schema(schema)
    assert space.param("s3").pattern == "(?s:(?:^s3://.*).*)"  # type: ignore[attr-defined]
    assert space.param("tail").pattern == "(?s:.*?(?:\\.json$))"  # type: ignore[attr-defined]
    check = jsonschema.Draft7Validator(schema)
    configs = list(generate(space, "boundary", seed=1, count=30))
    assert configs and all(check.is_valid(c) for c in configs)
    assert {len(c["s3"]) for c in configs} >= {6, 64}
    for pattern in ("^s3://.*", "\\.json$", "ab", "^x", "^\\d{2}"):  # search semantics kept
        full = search_pattern(pattern)
        for text in ("s3://x", "xs3://", "a.json", "a.jsonx", "cab", "x", "yx", "12", "a12", ""):
            assert compile_pattern(full, where="p").fullmatch(text) == bool(
                re.search(pattern, text)), (pattern, text)
