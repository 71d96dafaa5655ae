"""Parameters inside structures: ``path[*].field`` element parameters of arrays of objects,
``map.*`` entry parameters and member factors ``list[member]`` (issue 15)."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from configlab.errors import SpaceError
from configlab.generation import generate
from configlab.results import Result, ResultSet
from configlab.space import (
    ABSENT,
    JsonParam,
    MapParam,
    MemberParam,
    MembersParam,
    RecordsParam,
    Space,
)
from tests.space.schema_corpus import cloudformation_schema, kubernetes_schema

SPACE_FILE: dict[str, Any] = {"parameters": {
    "steps": {"type": "records", "min_items": 0, "max_items": 3},
    "steps[*].name": {"type": "string", "max_length": 4, "active_if": "len(steps) > 0"},
    "steps[*].retries": {"type": "int", "min": 0, "max": 5, "optional": True,
                         "active_if": "len(steps) > 0"},
    "labels": {"type": "map", "keys": ["a", "b"], "optional": True},
    "labels.*": {"type": "choice", "values": ["x", "y"], "active_if": "len(labels) > 0"},
    "select": {"type": "members", "members": ["B", "I", "C90", "SIM"]},
    **{f"select[{m}]": {"type": "member", "container": "select", "member": m}
       for m in ("B", "I", "C90", "SIM")},
}}


def quiet(space: Space, strategy: str, **options: Any) -> list[dict[str, Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(generate(space, strategy, seed=5, **options))


def test_space_file_kinds_build_read_and_round_trip() -> None:
    space = Space.from_dict(SPACE_FILE)
    assert [c.label for c in space.param("steps").value_classes] == [
        "empty", "one", "typical", "max-items"]
    assert [len(c.value) for c in space.param("labels").value_classes[:3]] == [0, 1, 2]
    config = space.build({"steps": [{}, {}], "steps[*].name": "ab", "steps[*].retries": ABSENT,
                          "labels": {"a": {}}, "labels.*": "y", "select": [],
                          "select[B]": True, "select[I]": False, "select[C90]": True,
                          "select[SIM]": False})
    assert config == {"steps": [{"name": "ab"}, {"name": "ab"}], "labels": {"a": "y"},
                      "select": ["B", "C90"]}
    env = space.extract(config)
    assert env["steps[*].name"] == "ab" and env["steps[*].retries"] is ABSENT
    assert env["labels.*"] == "y" and env["select[C90]"] is True and env["select[I]"] is False
    assert space.is_valid(config) and not space.validate(config)
    assert Space.from_dict(space.to_dict()).digest() == space.digest()


def test_validation_checks_every_element_and_the_list_rules() -> None:
    space = Space.from_dict(SPACE_FILE)
    good = {"steps": [{"name": "ok"}], "select": ["SIM"]}
    assert space.is_valid(good)
    second_bad = {"steps": [{"name": "ok"}, {"name": "too long"}], "select": []}
    problems = space.validate(second_bad)
    assert [(v.path, v.message) for v in problems] == [
        ("steps[*].name", "element 1: length 8 is outside [0, 4]")]
    assert not space.is_valid(second_bad)
    for select, why in ((["B", "B"], "appears twice"), (["X"], "is not one of"),
                        ("B", "expected a list")):
        found = space.validate({"steps": [], "select": select})
        assert any(v.path == "select" and why in v.message for v in found), (select, found)
    assert space.extract({"steps": []})["select[B]"] is ABSENT
    assert space.extract({"select": "B"})["select[B]"] is False


def test_covering_reaches_every_pair_of_members_and_element_fields() -> None:
    space = Space.from_dict(SPACE_FILE)
    suite = quiet(space, "covering")
    assert all(space.is_valid(c) for c in suite)
    selects = [set(c["select"]) for c in suite]
    for a, b in itertools.combinations(("B", "I", "C90", "SIM"), 2):
        for in_a, in_b in itertools.product((False, True), repeat=2):
            assert any((a in s) == in_a and (b in s) == in_b for s in selects), (a, b)
    lengths = {len(c["steps"]) for c in suite}
    names = {c["steps"][0]["name"] for c in suite if c["steps"]}
    assert lengths == {0, 1, 2, 3} and names == {"", "valu", "xxxx"}
    # Mutating an element field rewrites it in every element of a base config.
    base = {"steps": [{"name": "ab"}, {"name": "ab"}], "select": ["B"]}
    mutated = quiet(space, "mutate", base=base, count=30)
    assert any(c["steps"] == [{"name": "xxxx"}] * 2 for c in mutated)
    assert any(c["select"] == [] for c in mutated)


def test_containers_are_required_before_their_elements() -> None:
    with pytest.raises(SpaceError, match=r"steps\[\*\]\.name: needs a records parameter 'steps'"):
        Space.from_dict({"parameters": {"steps[*].name": "string"}})
    with pytest.raises(SpaceError, match=r"m\.\*: nested under parameter 'm'"):
        Space.from_dict({"parameters": {"m": "string", "m.*": "string"}})
    with pytest.raises(SpaceError, match=r"\*\.x: a '\*' segment needs a map parameter"):
        Space.from_dict({"parameters": {"*.x": "string"}})
    with pytest.raises(SpaceError, match="cannot end in"):
        Space.from_dict({"parameters": {"s": {"type": "records"}, "s[*]": "string"}})
    with pytest.raises(SpaceError, match="needs a members parameter"):
        Space.from_dict({"parameters": {
            "s[a]": {"type": "member", "container": "s", "member": "a"}}})
    with pytest.raises(SpaceError, match="nested under"):
        Space.from_dict({"parameters": {"m": {"type": "records"}, "m.x": "string"}})
    with pytest.raises(SpaceError, match="bad item bounds"):
        RecordsParam("r", min_items=3, max_items=1)
    with pytest.raises(SpaceError, match="does not match"):
        MapParam("m", keys=("Key",), key_pattern="[a-z]+")
    with pytest.raises(SpaceError, match="duplicate members"):
        MembersParam("l", members=("a", "a"))


SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["steps"],
    "properties": {
        "steps": {"type": "array", "minItems": 1, "maxItems": 4, "items": {
            "type": "object", "required": ["name"], "additionalProperties": False,
            "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 8},
                           "timeout": {"type": "integer", "minimum": 1, "maximum": 60},
                           "env": {"type": "object",
                                   "additionalProperties": {"type": "string", "maxLength": 3}}}}},
        "services": {"type": "object", "propertyNames": {"pattern": "^[a-z]+$"},
                     "additionalProperties": {
                         "type": "object", "required": ["image"],
                         "properties": {"image": {"type": "string", "maxLength": 10},
                                        "replicas": {"type": "integer", "minimum": 0,
                                                     "maximum": 9}}}},
        "lint": {"type": "object", "properties": {
            "select": {"type": "array", "uniqueItems": True,
                       "items": {"enum": ["B", "C90", "E", "F", "I", "N", "SIM"]}},
            "one_of": {"type": "array", "minItems": 1, "items": {"enum": ["x", "y", "z"]}}}},
        "unique_records": {"type": "array", "uniqueItems": True,
                           "items": {"type": "object", "properties": {"a": {"type": "integer",
                                                                            "minimum": 0,
                                                                            "maximum": 3}}}},
    },
}


def test_json_schema_structures_become_element_parameters_and_stay_valid() -> None:
    space = Space.from_json_schema(SCHEMA)
    assert isinstance(space.param("steps"), RecordsParam)
    assert {"steps[*].name", "steps[*].timeout", "steps[*].env", "steps[*].env.*",
            "services", "services.*.image", "services.*.replicas"} <= set(space.paths)
    assert space.param("services").keys == ("a", "aa", "ab")  # type: ignore[attr-defined]
    assert isinstance(space.param("lint.select[SIM]"), MemberParam)
    assert isinstance(space.param("unique_records"), JsonParam)  # equal elements would repeat
    check = jsonschema.Draft202012Validator(SCHEMA)
    for strategy, options in (("boundary", {"count": 40}), ("random", {"count": 40}),
                              ("random", {"count": 20, "raw": True}), ("covering", {})):
        for config in quiet(space, strategy, **options):
            assert check.is_valid(config), (strategy, config)
            assert space.is_valid(config)
    suite = quiet(space, "covering")
    selects = [c["lint"]["select"] for c in suite if "select" in c.get("lint", {})]
    assert any({"B", "I"} <= set(s) for s in selects)
    assert any({"C90", "SIM"} <= set(s) for s in selects)
    assert all(c["lint"]["one_of"] for c in suite if "one_of" in c.get("lint", {}))
    assert any(len(c["steps"]) == 4 and "timeout" in c["steps"][0] for c in suite)


def test_real_schemas_reach_inside_arrays_and_maps() -> None:
    service = Space.from_json_schema(kubernetes_schema("service-v1"))
    assert isinstance(service.param("spec.ports"), RecordsParam)
    assert "spec.ports[*].port" in service and "metadata.labels.*" in service
    bucket = Space.from_json_schema(cloudformation_schema("AWS::S3::Bucket"))
    assert "WebsiteConfiguration.RoutingRules[*].RedirectRule.HostName" in bucket


def test_results_encode_element_parameters_like_the_space() -> None:
    space = Space.from_dict(SPACE_FILE)
    configs = quiet(space, "covering")
    results = ResultSet([Result(config=c, outcome="pass") for c in configs])
    encoded = results.encode(space)
    assert [tuple(row) for row in encoded.codes.tolist()] == [space.encode(c) for c in configs]


def _cfn_lint_schema(name: str) -> dict[str, Any]:
    import json
    from pathlib import Path

    import cfnlint

    folder = Path(cfnlint.__file__).parent / "data" / "schemas" / "other" / "resources"
    return json.loads((folder / name).read_text())  # type: ignore[no-any-return]


def test_root_unions_of_objects_import_as_alternatives() -> None:
    # cfn-lint's published UpdateReplacePolicy/DeletionPolicy schema: a root anyOf of four
    # property-only alternatives, with true/false sub-schemas.
    schema = _cfn_lint_schema("update_policy_delete.json")
    space = Space.from_json_schema(schema)
    assert space.paths == ("DeletionPolicy", "UpdateReplacePolicy") and not space.warnings
    check = jsonschema.Draft7Validator(schema)
    suite = quiet(space, "covering")
    assert len(suite) == 4 and all(check.is_valid(c) for c in suite)
    # A discriminated root oneOf: the discriminator is a choice, the other keys follow it.
    union = {"oneOf": [
        {"type": "object", "required": ["kind", "url"], "additionalProperties": False,
         "properties": {"kind": {"const": "http"}, "url": {"type": "string", "maxLength": 20},
                        "timeout": {"type": "integer", "minimum": 1, "maximum": 9}}},
        {"type": "object", "required": ["kind", "path"], "additionalProperties": False,
         "properties": {"kind": {"const": "file"},
                        "path": {"type": "string", "minLength": 1, "maxLength": 9}}}]}
    space = Space.from_json_schema(union)
    assert space.param("kind").values == ("http", "file")  # type: ignore[attr-defined]
    check = jsonschema.Draft7Validator(union)
    for strategy in ("covering", "boundary", "random"):
        configs = quiet(space, strategy, count=40)
        assert all(check.is_valid(c) for c in configs), strategy
        assert {c["kind"] for c in configs} == {"http", "file"}
    # Alternatives that cannot be merged (a key with unrelated schemas): refused, clearly.
    clash = {"oneOf": [{"type": "object", "properties": {"a": {"type": "string"}}},
                       {"type": "object", "properties": {"a": {"type": "integer"}}}]}
    with pytest.raises(SpaceError, match="or a root oneOf/anyOf of such objects"):
        Space.from_json_schema(clash)


# --------------------------------------------------------------------------- positions


def test_positional_element_parameters_in_a_space_file() -> None:
    space = Space.from_dict({"parameters": {
        "pair": {"type": "records", "max_items": 2},
        "pair[0].host": {"type": "enum", "values": ["a", "b"], "active_if": "len(pair) > 0"},
        "pair[1].port": {"type": "int", "min": 1, "max": 9, "active_if": "len(pair) > 1"},
        "pair[*].tag": {"type": "enum", "values": ["x", "y"], "active_if": "len(pair) > 0"},
    }})
    assert space.routed("pair[0].host") and space.routed("pair[1].port")
    suite = quiet(space, "covering")
    assert all(space.is_valid(c) for c in suite)
    two = [c for c in suite if len(c["pair"]) == 2]
    # The position's own field only in its element; the [*] field in every element.
    assert two and all("port" not in c["pair"][0] and "host" not in c["pair"][1]
                       and c["pair"][0]["tag"] == c["pair"][1]["tag"] for c in two)
    ports = {c.value for c in space.param("pair[1].port").value_classes} - {ABSENT}
    assert {c["pair"][1]["port"] for c in two} == ports  # every class of port, in element 1
    config = {"pair": [{"host": "a", "tag": "x"}, {"port": 99, "tag": "x"}]}
    assert space.extract(config)["pair[1].port"] == 99
    assert [v.path for v in space.validate(config)] == ["pair[1].port"]
    assert space.extract({"pair": [{"host": "b"}]})["pair[1].port"] is ABSENT
    assert space.build({"pair": [{}], "pair[1].port": 3}) == {"pair": [{}]}  # no element 1
    with pytest.raises(SpaceError, match="needs a records parameter 'pair'"):
        Space.from_dict({"parameters": {"pair[0].host": "bool"}})


def test_tuple_schemas_get_positional_element_parameters() -> None:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": {"route": {"type": "array", "minItems": 1, "items": False,
                                       "prefixItems": [
                  {"type": "object", "required": ["host"], "properties": {
                      "host": {"type": "string", "format": "hostname"},
                      "port": {"type": "integer", "minimum": 1, "maximum": 65535}}},
                  {"type": "object", "required": ["mode"], "properties": {
                      "weight": {"type": "integer", "minimum": 0, "maximum": 100},
                      "mode": {"enum": ["rr", "hash"]}}}]}},
              "required": ["route"]}
    space = Space.from_json_schema(schema)
    assert space.paths == ("route", "route[0].host", "route[0].port", "route[1].weight",
                           "route[1].mode")
    assert space.param("route[1].mode").active_if.text == "len(route) > 1"  # type: ignore[union-attr]
    check = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    produced = quiet(space, "covering") + quiet(space, "boundary", count=60) \
        + quiet(space, "random", count=60) + quiet(space, "random", count=30, raw=True)
    assert all(check.is_valid(c) for c in produced)
    assert any(len(c["route"]) == 2 and c["route"][1]["mode"] == "hash" for c in produced)
    # Drafts 4-7: items as a list; positions that are not all objects stay whole values.
    draft7 = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
              "properties": {
        "pair": {"type": "array", "items": [
            {"type": "object", "properties": {"a": {"type": "boolean"}}},
            {"type": "object", "properties": {"b": {"enum": [1, 2]}}, "required": ["b"]}]},
        "mixed": {"type": "array", "items": [{"type": "string"}, {"type": "object",
                                                                  "properties": {}}]}}}
    seven = Space.from_json_schema(draft7)
    assert seven.paths == ("pair", "pair[0].a", "pair[1].b", "mixed")
    check7 = jsonschema.Draft7Validator(draft7)
    assert all(check7.is_valid(c) for c in quiet(seven, "covering"))


_FIELD_SCHEMAS = st.sampled_from([
    {"type": "boolean"}, {"type": "integer", "minimum": -3, "maximum": 40},
    {"enum": ["a", "b", "c"]}, {"type": "string", "maxLength": 3},
])


@st.composite
def _tuple_schemas(draw: st.DrawFn) -> dict[str, Any]:
    positions = []
    for _ in range(draw(st.integers(1, 3))):
        names = draw(st.lists(st.sampled_from("pqrs"), min_size=1, max_size=3, unique=True))
        fields = {n: draw(_FIELD_SCHEMAS) for n in names}
        required = draw(st.lists(st.sampled_from(names), unique=True))
        positions.append({"type": "object", "properties": fields, "required": required,
                          "additionalProperties": False})
    tuple_schema: dict[str, Any] = {"type": "array", "prefixItems": positions,
                                    "minItems": draw(st.integers(0, len(positions)))}
    if draw(st.booleans()):
        tuple_schema["items"] = False
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": {"t": tuple_schema, "flag": {"type": "boolean"}},
            "required": draw(st.sampled_from([[], ["t"]]))}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tuple_schemas(), st.integers(0, 1000))
def test_every_config_of_a_tuple_schema_validates(schema: dict[str, Any], seed: int) -> None:
    space = Space.from_json_schema(schema)
    assert any("[0]." in p for p in space.paths)  # positional, not whole values
    check = jsonschema.Draft202012Validator(schema)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        produced = list(generate(space, "covering", seed=seed)) + list(
            generate(space, "random", seed=seed, count=20)) + list(
            generate(space, "boundary", seed=seed, count=10))
    for config in produced:
        assert check.is_valid(config), (config, next(check.iter_errors(config)).message)
