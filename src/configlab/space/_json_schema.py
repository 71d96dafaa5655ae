"""JSON Schema (drafts 7, 2019-09, 2020-12) -> :class:`~configlab.space._model.Space`.

Object properties become dotted parameter paths; scalar schemas become parameters; object-level
``if``/``then``/``else``, ``anyOf``, ``oneOf``, ``not``, ``dependentRequired`` (and draft-7
``dependencies``) become constraints in configlab's constraint language.  Every keyword that
cannot be honoured exactly is reported in ``space.warnings`` as ``<json pointer>: <keyword>: why``
-- nothing is dropped silently.  See docs/space-import.md for the full mapping.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from configlab import tree as _tree
from configlab._internal.saferegex import compile_pattern
from configlab.constraints import parse
from configlab.errors import ConfiglabError, ConstraintError, SpaceError
from configlab.space._model import (
    DEFAULT_FLOAT_MAX,
    DEFAULT_FLOAT_MIN,
    DEFAULT_INT_MAX,
    DEFAULT_INT_MIN,
    DEFAULT_STRING_MAX,
    BoolParam,
    ChoiceParam,
    FloatParam,
    IntParam,
    JsonParam,
    ListParam,
    Parameter,
    Space,
    StringParam,
)
from configlab.space._values import (
    FORMAT_EXAMPLES,
    Synthesizer,
    pointer_target,
    search_pattern,
)

#: Keywords that only annotate (never restrict) a value: accepted without a warning.
ANNOTATIONS = frozenset({
    "$schema", "$id", "id", "$comment", "$anchor", "$dynamicAnchor", "$vocabulary", "title",
    "description", "default", "examples", "deprecated", "readOnly", "writeOnly",
    "markdownDescription", "deprecationMessage", "enumDescriptions", "markdownEnumDescriptions",
    "errorMessage", "definitions", "$defs", "x-intellij-html-description", "tsType",
    "defaultSnippets", "doNotSuggest", "allowComments", "allowTrailingCommas",
    "patternErrorMessage", "x-taplo", "x-taplo-info",
})
#: Keywords a scalar/list parameter honours.
_PARAM_KEYWORDS = frozenset({
    "type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "multipleOf", "minLength", "maxLength", "pattern", "items", "minItems", "maxItems",
    "nullable", "$ref", "anyOf", "oneOf", "allOf",
})
_OBJECT_KEYWORDS = frozenset({
    "type", "properties", "required", "additionalProperties", "$ref", "allOf", "anyOf", "oneOf",
    "if", "then", "else", "not", "dependentRequired", "dependencies", "nullable",
})
_SCALAR_TYPES = ("boolean", "integer", "number", "string")
#: Every keyword of the JSON Schema vocabularies (drafts 4-2020-12) that can reject a value.
#: Any other keyword (``x-...``, vendor extensions) only annotates: ignored without a warning.
ASSERTIONS = frozenset({
    "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "format", "items", "prefixItems",
    "additionalItems", "unevaluatedItems", "contains", "minContains", "maxContains", "maxItems",
    "minItems", "uniqueItems", "maxProperties", "minProperties", "required", "properties",
    "patternProperties", "additionalProperties", "unevaluatedProperties", "propertyNames",
    "dependentRequired", "dependentSchemas", "dependencies", "allOf", "anyOf", "oneOf", "not",
    "if", "then", "else", "$ref", "$dynamicRef", "$recursiveRef", "contentEncoding",
    "contentMediaType", "contentSchema", "nullable",
})


def _pointer_escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _quote_path(segments: Sequence[str]) -> str:
    """A dotted path as constraint-language text (backticks around non-identifier segments)."""
    return ".".join(
        s if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", s) and s not in _KEYWORDS else f"`{s}`"
        for s in segments
    )


_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null", "len"}


class _Unsupported(Exception):
    """A sub-schema that has no translation into the constraint language (becomes a warning)."""


class _Cycle(_Unsupported):
    """A ``$ref`` that leads back into a schema being imported (recursion)."""


#: A constraint reading parameters with more value-class combinations than this makes its
#: object a whole-value parameter instead (generation enumerates constraint scopes).
MAX_CONSTRAINT_COMBINATIONS = 100_000
#: A list of enum items with at most this many possible members is modelled as a subset.
MAX_SUBSET_MEMBERS = 64


@dataclass(frozen=True)
class _Snapshot:
    params: int
    constraints: int
    warnings: int
    unsound: int
    unbounded_strings: int
    unbounded_lists: int
    dropped: int
    anchors: int


@dataclass
class _Importer:
    root: Mapping[str, Any]
    source: str
    warnings: list[str] = field(default_factory=list)
    unbounded_strings: list[str] = field(default_factory=list)
    unbounded_lists: list[str] = field(default_factory=list)
    params: dict[str, Parameter] = field(default_factory=dict)
    optional_paths: dict[str, bool] = field(default_factory=dict)
    constraints: list[tuple[str, str]] = field(default_factory=list)  # (name, text)
    resolving: list[str] = field(default_factory=list)
    #: Constructs whose loss can make a generated config invalid (an object containing one is
    #: modelled as whole values instead).
    unsound: int = 0
    #: Required properties that could not be modelled at all (pointer list).
    dropped: list[str] = field(default_factory=list)
    synthesizer: Synthesizer | None = None
    #: Optional object path -> the parameter whose presence stands for the object's.
    anchors: dict[str, str] = field(default_factory=dict)

    def unsound_here(self, pointer: str, keyword: str, why: str) -> None:
        """Warn about a construct whose loss can make generated configs invalid."""
        self.unsound += 1
        self.warn(pointer, keyword, why)

    def snapshot(self) -> _Snapshot:
        return _Snapshot(len(self.params), len(self.constraints), len(self.warnings),
                         self.unsound, len(self.unbounded_strings), len(self.unbounded_lists),
                         len(self.dropped), len(self.anchors))

    def rollback(self, mark: _Snapshot) -> None:
        for path in list(self.params)[mark.params:]:
            del self.params[path]
        del self.constraints[mark.constraints:]
        del self.warnings[mark.warnings:]
        del self.unbounded_strings[mark.unbounded_strings:]
        del self.unbounded_lists[mark.unbounded_lists:]
        del self.dropped[mark.dropped:]
        for key in list(self.anchors)[mark.anchors:]:
            del self.anchors[key]
        self.unsound = mark.unsound

    def oversized(self, mark: _Snapshot) -> bool:
        """Whether a constraint added since ``mark`` reads too many value combinations."""
        known = list(self.params)
        for _, text in self.constraints[mark.constraints:]:
            try:
                params = parse(text, known).params
            except ConstraintError:  # pragma: no cover - texts are generated
                return True
            if math.prod(len(self.params[p].value_classes) for p in params
                         if p in self.params) > MAX_CONSTRAINT_COMBINATIONS:
                return True
        return False

    def whole_values(self, sub: Any, pointer: str, path: str, optional: bool,
                     nullable: bool = False) -> Parameter | None:
        """A :class:`JsonParam` whose classes are synthesised instances of ``sub``."""
        bundled = bundle(sub, self.root)
        external = _external_ref(bundled)
        if external is not None:
            self.warn(pointer, "$ref", f"non-local $ref {external!r} is not followed; "
                                       "property skipped")
            if not optional:
                self.dropped.append(pointer)
            return None
        if self.synthesizer is None:
            self.synthesizer = Synthesizer(self.root)
        found = self.synthesizer.instances(sub)
        values = [(label, value) for label, value in found if value is not None]
        if len(values) < len(found) and not optional:
            nullable = True
        if not values:
            self.warn(pointer, "schema", "no value validating this sub-schema could be built; "
                                         "property skipped")
            if not optional:
                self.dropped.append(pointer)
            return None
        return self.build(JsonParam, pointer, {
            "path": path, "optional": optional, "nullable": nullable,
            "values": tuple(values), "schema": bundled,
        })

    def warn(self, pointer: str, keyword: str, why: str) -> None:
        self.warnings.append(f"{pointer or '#'}: {keyword}: {why}")

    # ------------------------------------------------------------------ $ref
    def resolve(self, schema: Any, pointer: str) -> tuple[Any, str]:
        """Follow local ``$ref`` chains, merging sibling keywords over the target."""
        seen: list[str] = []
        while isinstance(schema, Mapping) and "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#"):
                raise _Unsupported(f"non-local $ref {ref!r} is not followed")
            if ref in seen or ref in self.resolving:
                raise _Cycle(ref)
            seen.append(ref)
            target = self.lookup(ref, pointer)
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **siblings} if isinstance(target, Mapping) else target
            pointer = ref
        return schema, pointer

    def lookup(self, ref: str, pointer: str) -> Any:
        fragment = urllib.parse.unquote(ref[1:])
        if fragment and not fragment.startswith("/"):
            raise _Unsupported(f"anchor $ref {ref!r} is not followed")
        try:
            return pointer_target(self.root, ref)
        except LookupError:
            raise SpaceError(f"{self.source}: {pointer}: $ref {ref!r} points nowhere") from None

    # ------------------------------------------------------------------ objects
    def walk_object(
        self, schema: Mapping[str, Any], pointer: str, prefix: tuple[str, ...], optional: bool
    ) -> None:
        for keyword in schema:
            if keyword not in _OBJECT_KEYWORDS and keyword in ASSERTIONS:
                self.unsound_here(pointer, keyword, "not honoured on an object")
        additional = schema.get("additionalProperties")
        if additional is False:
            self.warn(pointer, "additionalProperties",
                      "false is not enforced: configlab carries unknown keys through")
        elif isinstance(additional, Mapping):
            self.warn(pointer, "additionalProperties",
                      "a schema for extra keys is not honoured (free-form keys are not modelled)")
        required = schema.get("required", [])
        if not isinstance(required, list):
            raise SpaceError(f"{self.source}: {pointer}/required: must be a list")
        properties = schema.get("properties", {})
        if not isinstance(properties, Mapping):
            raise SpaceError(f"{self.source}: {pointer}/properties: must be an object")
        for name, sub in properties.items():
            child_pointer = f"{pointer}/properties/{_pointer_escape(str(name))}"
            self.property(sub, child_pointer, (*prefix, str(name)),
                          optional or name not in required)
        for index, part in enumerate(schema.get("allOf", []) or []):
            part_pointer = f"{pointer}/allOf/{index}"
            try:
                resolved, resolved_pointer = self.resolve(part, part_pointer)
            except _Unsupported as why:
                self.unsound_here(part_pointer, "$ref", str(why) or "recursive $ref")
                continue
            if isinstance(resolved, Mapping):
                self.resolving.append(resolved_pointer)
                self.walk_object(resolved, resolved_pointer, prefix, optional)
                self.resolving.pop()
            else:
                self.warn(part_pointer, "allOf", "boolean sub-schema ignored")
        self.required_presence(required, pointer, prefix, optional)
        for name in required:
            try:
                self.present((*prefix, str(name)))
            except _Unsupported:
                self.dropped.append(f"{pointer}/required")
                self.unsound_here(pointer, "required",
                                  f"required key {name!r} is not modelled: configs would lack it")
        before = len(self.constraints)
        self.object_constraints(schema, pointer, prefix)
        if optional and prefix and len(self.constraints) > before:
            # The sub-schema of an absent object is not applied: guard by "object present".
            try:
                guard = self.present(prefix)
            except _Unsupported:  # pragma: no cover - constraints imply modelled children
                guard = "true"
            self.constraints[before:] = [
                (name, f"({guard}) -> ({text})") for name, text in self.constraints[before:]
            ]

    def required_presence(self, required: list[Any], pointer: str, prefix: tuple[str, ...],
                          optional: bool) -> None:
        """Keep required keys present exactly when their object is.

        An optional object with a required key gets an *anchor*: that key's parameter.  Every
        other parameter below the object becomes conditional on ``anchor != null`` (required
        keys then are present exactly when the anchor is), so the object is all there or all
        absent with constraints of two parameters each, never one constraint over all of them.
        """
        names = [str(n) for n in required]
        if not optional:
            # Always present: a required object child must have content (else it is missing).
            for name in names:
                path = _tree.join_path((*prefix, name))
                if path in self.params:
                    continue
                anchor_path = self.anchor_of(path)
                if anchor_path is not None:
                    anchor = self.params[anchor_path]
                    self.params[anchor_path] = dataclasses.replace(anchor, optional=False)
                    continue
                try:
                    self.add(f"{pointer}/required", self.present((*prefix, name)))
                except _Unsupported:
                    continue
            return
        if not prefix:  # pragma: no cover - the root is never optional
            return
        anchor_path = None
        for name in names:
            anchor_path = self.anchor_of(_tree.join_path((*prefix, name)))
            if anchor_path is not None:
                break
        if anchor_path is None:
            return
        here = _tree.join_path(prefix)
        self.anchors[here] = anchor_path
        condition = parse(f"{_quote_path(_tree.split_path(anchor_path))} != null",
                          list(self.params))
        direct = {_tree.join_path((*prefix, n)) for n in names}
        direct |= {self.anchors[p] for p in direct if p in self.anchors}
        for path, param in list(self.params.items()):
            if path == anchor_path or not path.startswith(f"{here}.") \
                    or param.active_if is not None:
                continue
            self.params[path] = dataclasses.replace(
                param, optional=param.optional and path not in direct,
                active_if=dataclasses.replace(condition, name=f"active_if({path})"))

    def anchor_of(self, path: str) -> str | None:
        """The parameter whose presence stands for the key at ``path`` (None if there is none).

        A parameter stands for itself; an anchored object for its anchor; an object without
        required keys gets its first unconditional direct parameter as anchor (the object is
        then generated with that key whenever it is present -- valid, one class fewer).
        """
        if path in self.params:
            return path if self.params[path].active_if is None else None
        if path in self.anchors:
            return self.anchors[path]
        depth = len(_tree.split_path(path))
        for candidate, param in self.params.items():
            if candidate.startswith(f"{path}.") and param.active_if is None \
                    and len(_tree.split_path(candidate)) == depth + 1:
                others = [p for p, q in self.params.items()
                          if p.startswith(f"{path}.") and p != candidate and q.active_if is None]
                condition = parse(f"{_quote_path(_tree.split_path(candidate))} != null",
                                  list(self.params))
                for other in others:
                    self.params[other] = dataclasses.replace(
                        self.params[other],
                        active_if=dataclasses.replace(condition, name=f"active_if({other})"))
                self.anchors[path] = candidate
                return candidate
        return None

    def property(self, sub: Any, pointer: str, segments: tuple[str, ...], optional: bool) -> None:
        path = _tree.join_path(segments)
        if any(s == "" or "`" in s for s in segments):
            self.warn(pointer, "properties", f"key {segments[-1]!r} cannot be a path; skipped")
            if not optional:
                self.dropped.append(pointer)
            return
        if path in self.params:
            self.warn(pointer, "properties", f"{path} declared again; first declaration kept")
            return
        try:
            schema, resolved_pointer = self.resolve(sub, pointer)
        except _Cycle:
            # Recursion: whole values unrolled to a bounded depth by the synthesiser.
            self.add_param(path, self.whole_values(sub, pointer, path, optional))
            return
        except _Unsupported as why:
            self.warn(pointer, "$ref", f"{why}; property skipped")
            if not optional:
                self.dropped.append(pointer)
            return
        if schema is False:
            self.warn(pointer, "schema", "false schema: the property can never be present")
            if not optional:
                self.dropped.append(pointer)
            return
        if not isinstance(schema, Mapping) or not schema:
            self.add_param(path, self.whole_values(schema, pointer, path, optional))
            return
        types = self.types(schema)
        nonnull = [t for t in types if t != "null"]
        if nonnull == ["object"] or ("properties" in schema and not types):
            if not isinstance(schema.get("properties"), Mapping) or not schema["properties"] \
                    or any(k in schema for k in ("minProperties", "maxProperties",
                                                 "propertyNames", "dependentSchemas")):
                # A map or free-form object: whole values (with generated keys).
                self.add_param(path, self.whole_values(schema, pointer, path, optional))
                return
            mark = self.snapshot()
            self.resolving.append(resolved_pointer)
            try:
                self.walk_object(schema, pointer, segments, optional or "null" in types)
            except _Cycle:
                self.unsound += 1
            self.resolving.pop()
            if self.unsound > mark.unsound or len(self.dropped) > mark.dropped \
                    or self.oversized(mark):
                # Ties between its properties that constraints cannot express: whole values.
                self.rollback(mark)
                self.add_param(path, self.whole_values(schema, pointer, path, optional))
            return
        param = self.parameter(schema, pointer, path, optional)
        if param is None and not optional:
            self.dropped.append(pointer)
        self.add_param(path, param)

    def add_param(self, path: str, param: Parameter | None) -> None:
        if param is not None:
            self.params[path] = param

    def types(self, schema: Mapping[str, Any]) -> list[str]:
        raw = schema.get("type")
        if raw is None:
            return []
        return [str(t) for t in raw] if isinstance(raw, list) else [str(raw)]

    # ------------------------------------------------------------------ parameters
    def parameter(
        self, schema: Mapping[str, Any], pointer: str, path: str, optional: bool
    ) -> Parameter | None:
        common: dict[str, Any] = {"path": path, "optional": optional}
        if isinstance(schema.get("description"), str):
            common["description"] = schema["description"]
        if "default" in schema:
            common["default"] = schema["default"]
        types = self.types(schema)
        # An optional key reads as null when absent in constraints ("present" tests are
        # "!= null"), so optional keys are generated absent rather than null.
        nullable = ("null" in types or schema.get("nullable") is True) and not optional
        types = [t for t in types if t != "null"]
        finite = self.finite_values(schema, pointer)
        if finite is not None:
            values, finite_nullable = finite
            # An enum/const decides alone whether null is allowed (the type also must allow it).
            nullable = (finite_nullable if ("enum" in schema or "const" in schema)
                        else nullable or finite_nullable) and not optional
            if types:  # enum values the declared type rejects are not values
                values = [v for v in values if _json_type(v) in types
                          or (_json_type(v) == "integer" and "number" in types)]
            if not values:
                if not nullable:
                    self.warn(pointer, "enum", "no usable value; skipped")
                    return None
                values = [None]
            return self.build(ChoiceParam, pointer, dict(common, values=tuple(values),
                                                          nullable=nullable))
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema and (not isinstance(schema[keyword], list)
                                      or not schema[keyword]):
                raise SpaceError(f"{self.source}: {pointer}/{keyword}: must be a non-empty list")
        if "oneOf" in schema or ("anyOf" in schema and not self.string_union(schema["anyOf"])):
            # A union: one value class per branch (an explicit branch choice).
            return self.whole_values(schema, pointer, path, optional)
        for keyword in ("anyOf",):
            if keyword in schema:
                # Named strings or any string: a string parameter with the names as examples.
                branches = schema[keyword]
                chosen = self.union_branch(branches, f"{pointer}/{keyword}", keyword)
                if chosen is None:
                    return None
                branch, branch_nullable = chosen
                merged = {k: v for k, v in schema.items() if k != keyword}
                merged.update(branch)
                param = self.parameter(merged, pointer, path, optional)
                if param is None:
                    return self.whole_values(schema, pointer, path, optional)
                if branch_nullable and not param.nullable and not optional:
                    param = self.build(type(param), pointer,
                                       {**_fields(param), "nullable": True})
                return param
        if "allOf" in schema:
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for index, part in enumerate(schema["allOf"]):
                try:
                    resolved, _ = self.resolve(part, f"{pointer}/allOf/{index}")
                except _Unsupported as why:
                    self.warn(f"{pointer}/allOf/{index}", "$ref", str(why))
                    continue
                if isinstance(resolved, Mapping):
                    for key, value in resolved.items():
                        if key in merged and merged[key] != value:
                            self.warn(f"{pointer}/allOf/{index}", key,
                                      "conflicts with an earlier value; the earlier one kept")
                        else:
                            merged[key] = value
            return self.parameter(merged, pointer, path, optional)
        if not types:
            types = self.guess_type(schema)
            if not types:
                return self.whole_values(schema, pointer, path, optional)
        if len(types) > 1 or types[0] == "object" or "not" in schema:
            return self.whole_values(schema, pointer, path, optional)
        kind = types[0]
        for keyword in schema:
            if keyword not in _PARAM_KEYWORDS and keyword in ASSERTIONS and keyword not in (
                    "format", "uniqueItems", "contains", "prefixItems", "additionalItems",
                    "unevaluatedItems"):
                self.warn(pointer, keyword, "not honoured (ignored)")
        common["nullable"] = nullable
        step = schema.get("multipleOf")
        if kind in ("integer", "number") and step is not None and not (
                _is_number(step) and float(step).is_integer() and step > 0 and kind == "integer"):
            # A fractional grid: whole values built on it.
            return self.whole_values(schema, pointer, path, optional, nullable)
        if kind == "boolean":
            return self.build(BoolParam, pointer, common)
        if kind == "integer":
            return self.build(IntParam, pointer, dict(common, **self.int_bounds(schema, pointer)))
        if kind == "number":
            return self.build(FloatParam, pointer,
                              dict(common, **self.float_bounds(schema, pointer)))
        if kind == "string":
            return self.string(schema, pointer, common)
        if kind == "array":
            return self.array(schema, pointer, common)
        self.warn(pointer, "type", f"{kind!r} is not supported; skipped")
        return None

    def build(self, cls: type[Parameter], pointer: str, kwargs: dict[str, Any]) -> Parameter | None:
        try:
            param = cls(**kwargs)
            param.value_classes  # noqa: B018 - generation-ready check
        except SpaceError as error:
            self.warn(pointer, "schema", f"{error}; skipped")
            return None
        return param

    def guess_type(self, schema: Mapping[str, Any]) -> list[str]:
        hints = (
            ("integer", ("multipleOf",)),
            ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")),
            ("string", ("minLength", "maxLength", "pattern")),
            ("array", ("items", "minItems", "maxItems")),
        )
        for kind, keywords in hints:
            if any(k in schema for k in keywords):
                return [kind]
        default = schema.get("default")
        if isinstance(default, bool):
            return ["boolean"]
        if isinstance(default, int):
            return ["integer"]
        if isinstance(default, float):
            return ["number"]
        if isinstance(default, str):
            return ["string"]
        return []

    def finite_values(
        self, schema: Mapping[str, Any], pointer: str
    ) -> tuple[list[Any], bool] | None:
        """Values of an enum/const, or of an anyOf/oneOf whose branches are all finite."""
        if "const" in schema:
            return self.scalars([schema["const"]], pointer, "const")
        if "enum" in schema:
            if not isinstance(schema["enum"], list):
                raise SpaceError(f"{self.source}: {pointer}/enum: must be a list")
            return self.scalars(schema["enum"], pointer, "enum")
        types = [t for t in self.types(schema) if t != "null"]
        if types == ["boolean"]:
            return None
        for keyword in ("anyOf", "oneOf"):
            branches = schema.get(keyword)
            if not isinstance(branches, list) or not branches:
                continue
            values: list[Any] = []
            nullable = False
            for index, branch in enumerate(branches):
                try:
                    resolved, _ = self.resolve(branch, f"{pointer}/{keyword}/{index}")
                except _Unsupported:
                    return None
                if not isinstance(resolved, Mapping):
                    return None
                branch_types = self.types(resolved)
                if "const" in resolved or "enum" in resolved:
                    found = self.finite_values(resolved, f"{pointer}/{keyword}/{index}")
                    if found is None:  # pragma: no cover - const/enum always give values
                        return None
                    branch_values, branch_null = found
                elif branch_types == ["boolean"]:
                    branch_values, branch_null = [False, True], False
                elif branch_types == ["null"]:
                    branch_values, branch_null = [], True
                else:
                    return None
                nullable = nullable or branch_null
                for value in branch_values:
                    if not any(_same(value, v) for v in values):
                        values.append(value)
            return values, nullable
        return None

    def scalars(self, raw: list[Any], pointer: str, keyword: str) -> tuple[list[Any], bool]:
        values: list[Any] = []
        nullable = False
        for value in raw:
            if value is None:
                nullable = True
            elif isinstance(value, dict | list):
                self.warn(pointer, keyword, f"structured value {value!r} dropped")
            elif not any(_same(value, v) for v in values):
                values.append(value)
        return values, nullable

    def string_union(self, branches: Any) -> bool:
        """Whether every branch is a plain string schema or an enum/const of strings."""
        if not isinstance(branches, list) or not branches:
            return False
        for index, branch in enumerate(branches):
            try:
                target, _ = self.resolve(branch, f"#/anyOf/{index}")
            except (_Unsupported, _Cycle):
                return False
            if not isinstance(target, Mapping):
                return False
            values = target.get("enum", [target["const"]] if "const" in target else None)
            if values is not None:
                if not all(isinstance(v, str) for v in values):
                    return False
            elif self.types(target) != ["string"] or any(
                    k in target for k in ("pattern", "format", "minLength", "maxLength")):
                return False
        return True

    def union_branch(
        self, branches: Any, pointer: str, keyword: str
    ) -> tuple[Mapping[str, Any], bool] | None:
        """For a non-finite anyOf/oneOf on a value: the first non-null branch (with a warning)."""
        if not isinstance(branches, list) or not branches:
            raise SpaceError(f"{self.source}: {pointer}: must be a non-empty list")
        resolved: list[Mapping[str, Any]] = []
        nullable = False
        for index, branch in enumerate(branches):
            try:
                target, _ = self.resolve(branch, f"{pointer}/{index}")
            except _Unsupported as why:
                self.warn(f"{pointer}/{index}", "$ref", str(why))
                continue
            if not isinstance(target, Mapping):
                continue
            if self.types(target) == ["null"]:
                nullable = True
            else:
                resolved.append(target)
        if not resolved:
            self.warn(pointer, keyword, "no usable branch; skipped")
            return None
        open_branches = [b for b in resolved if "enum" not in b and "const" not in b]
        chosen = dict(open_branches[0] if open_branches else resolved[0])
        examples: list[str] = []
        for branch in resolved:
            enum = branch.get("enum")
            found = enum if isinstance(enum, list) else [branch.get("const")]
            examples.extend(v for v in found if isinstance(v, str))
        if open_branches and examples and self.types(chosen) == ["string"]:
            chosen["examples"] = [*chosen.get("examples", []), *examples]
            if len(open_branches) > 1:
                self.warn(pointer, keyword,
                          f"only the first of {len(open_branches)} open alternatives is modelled")
        elif len(resolved) > 1:
            self.warn(pointer, keyword,
                      f"only one of {len(resolved)} alternatives is modelled")
        return chosen, nullable

    def int_bounds(self, schema: Mapping[str, Any], pointer: str) -> dict[str, int]:
        low, high = self.bounds(schema, pointer)
        lo = DEFAULT_INT_MIN if low is None else (
            math.floor(low[0]) + 1 if low[1] else math.ceil(low[0]))
        hi = DEFAULT_INT_MAX if high is None else (
            math.ceil(high[0]) - 1 if high[1] else math.floor(high[0]))
        if low is None or high is None:
            missing = " and ".join(
                name for name, bound in (("minimum", low), ("maximum", high)) if bound is None
            )
            self.warn(pointer, "type",
                      f"unbounded integer: {missing} defaulted to [{lo}, {hi}] "
                      "(DEFAULT_INT_MIN/MAX)")
        result: dict[str, int] = {"min": lo, "max": hi}
        step = schema.get("multipleOf")
        if step is not None:
            if _is_number(step) and float(step).is_integer() and step > 0:
                step = int(step)
                first = -(-lo // step) * step
                last = (hi // step) * step
                if first > last:
                    raise SpaceError(
                        f"{self.source}: {pointer}: no multiple of {step} in [{lo}, {hi}]"
                    )
                result = {"min": first, "max": last, "step": step}
            else:
                self.warn(pointer, "multipleOf", f"{step!r} is not a positive integer; ignored")
        return result

    def float_bounds(self, schema: Mapping[str, Any], pointer: str) -> dict[str, float]:
        low, high = self.bounds(schema, pointer)
        lo = DEFAULT_FLOAT_MIN if low is None else (
            math.nextafter(float(low[0]), math.inf) if low[1] else float(low[0]))
        hi = DEFAULT_FLOAT_MAX if high is None else (
            math.nextafter(float(high[0]), -math.inf) if high[1] else float(high[0]))
        if low is None or high is None:
            self.warn(pointer, "type",
                      f"unbounded number: defaulted to [{lo}, {hi}] (DEFAULT_FLOAT_MIN/MAX)")
        if "multipleOf" in schema:
            self.warn(pointer, "multipleOf",
                      "not honoured for numbers (values are not snapped to the grid)")
        return {"min": lo, "max": hi}

    def bounds(
        self, schema: Mapping[str, Any], pointer: str
    ) -> tuple[tuple[float, bool] | None, tuple[float, bool] | None]:
        """(value, exclusive) for the lower and upper bound; both keyword forms."""
        result: list[tuple[float, bool] | None] = []
        for inclusive_key, exclusive_key, pick in (
            ("minimum", "exclusiveMinimum", max), ("maximum", "exclusiveMaximum", min),
        ):
            inclusive = schema.get(inclusive_key)
            exclusive = schema.get(exclusive_key)
            for key, value in ((inclusive_key, inclusive), (exclusive_key, exclusive)):
                if value is not None and not isinstance(value, bool) and not _is_number(value):
                    raise SpaceError(f"{self.source}: {pointer}/{key}: must be a number")
            candidates: list[tuple[float, bool]] = []
            if isinstance(inclusive, int | float) and not isinstance(inclusive, bool):
                candidates.append((inclusive, exclusive is True))  # draft-4 boolean form
            if isinstance(exclusive, int | float) and not isinstance(exclusive, bool):
                candidates.append((exclusive, True))
            if not candidates:
                result.append(None)
                continue
            best = pick(c[0] for c in candidates)
            result.append((best, any(c[1] for c in candidates if c[0] == best)))
        return result[0], result[1]

    def string(self, schema: Mapping[str, Any], pointer: str, common: dict[str, Any]
               ) -> Parameter | None:
        kwargs = dict(common)
        for key, target in (("minLength", "min_length"), ("maxLength", "max_length")):
            if key in schema:
                value = schema[key]
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise SpaceError(f"{self.source}: {pointer}/{key}: must be a natural number")
                kwargs[target] = value
        if "max_length" not in kwargs:
            kwargs["max_length"] = max(DEFAULT_STRING_MAX, kwargs.get("min_length", 0))
            self.unbounded_strings.append(pointer)
        if schema.get("format") in FORMAT_EXAMPLES:
            return self.whole_values(schema, pointer, common["path"], common["optional"],
                                     common.get("nullable", False))
        if "format" in schema:
            self.warn(pointer, "format", f"{schema['format']!r} is not a known format; "
                                         "strings are not checked against it")
        pattern = schema.get("pattern")
        if pattern is not None:
            # JSON Schema patterns search; configlab patterns must match the whole string.
            full = search_pattern(str(pattern))
            try:
                compile_pattern(full, where=pointer)
            except ConfiglabError as error:
                self.warn(pointer, "pattern", f"{pattern!r} cannot be used ({error}); ignored")
            else:
                kwargs["pattern"] = full
        examples = [
            e for e in schema.get("examples", []) or []
            if isinstance(e, str)
            and kwargs.get("min_length", 0) <= len(e) <= kwargs["max_length"]
            and (kwargs.get("pattern") is None
                 or compile_pattern(kwargs["pattern"], where=pointer).fullmatch(e))
        ]
        if examples:
            kwargs["examples"] = tuple(dict.fromkeys(examples))
        mark = self.snapshot()
        param = self.build(StringParam, pointer, kwargs)
        if param is None and "pattern" in kwargs:
            # No boundary string from the pattern: whole values the synthesiser can build.
            self.rollback(mark)
            return self.whole_values(schema, pointer, common["path"], common["optional"],
                                     common.get("nullable", False))
        return param

    def array(self, schema: Mapping[str, Any], pointer: str, common: dict[str, Any]
              ) -> Parameter | None:
        kwargs = dict(common)
        whole = (common["path"], common["optional"], common.get("nullable", False))
        items = schema.get("items", {})
        members = self.members(items, pointer)
        if members is not None:
            subset = self.subset(schema, pointer, members, *whole)
            if subset is not None:
                return subset
        if isinstance(items, list) or any(k in schema for k in (
                "uniqueItems", "contains", "prefixItems", "additionalItems", "unevaluatedItems")):
            return self.whole_values(schema, pointer, *whole)
        try:
            item_schema, _ = self.resolve(items, f"{pointer}/items")
        except _Cycle:
            return self.whole_values(schema, pointer, *whole)
        except _Unsupported as why:
            self.warn(f"{pointer}/items", "$ref", f"{why}; skipped")
            return None
        if not isinstance(item_schema, Mapping) or not item_schema:
            self.warn(f"{pointer}/items", "items", "items of any type: modelled as strings")
            item_schema = {"type": "string"}
        item_types = [t for t in self.types(item_schema) if t != "null"]
        if "object" in item_types or "array" in item_types or "properties" in item_schema \
                or len(item_types) != 1 or any(k in item_schema for k in (
                    "anyOf", "oneOf", "allOf", "not", "format", "if")):
            return self.whole_values(schema, pointer, *whole)
        mark = self.snapshot()
        item = self.parameter(item_schema, f"{pointer}/items", f"{common['path']}[]", False)
        if item is None or isinstance(item, JsonParam):
            self.rollback(mark)
            return self.whole_values(schema, pointer, *whole)
        kwargs["item"] = item
        for key, target in (("minItems", "min_items"), ("maxItems", "max_items")):
            if key in schema:
                value = schema[key]
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise SpaceError(f"{self.source}: {pointer}/{key}: must be a natural number")
                kwargs[target] = value
        if "max_items" not in kwargs:
            kwargs["max_items"] = max(8, kwargs.get("min_items", 0))
            self.unbounded_lists.append(pointer)
        return self.build(ListParam, pointer, kwargs)

    def members(self, items: Any, pointer: str) -> list[Any] | None:
        """The possible members of a list whose items are an enum/const (else None)."""
        try:
            item_schema, _ = self.resolve(items, f"{pointer}/items")
        except _Unsupported:
            return None
        if not isinstance(item_schema, Mapping):
            return None
        mark = self.snapshot()
        found = self.finite_values(item_schema, f"{pointer}/items")
        self.rollback(mark)
        if found is None or not found[0] or len(found[0]) > MAX_SUBSET_MEMBERS:
            return None
        return list(found[0])

    def subset(self, schema: Mapping[str, Any], pointer: str, members: list[Any], path: str,
               optional: bool, nullable: bool) -> Parameter | None:
        """A list of enum members as a subset: one value class per member (so generation and
        coverage reach every member), plus the smallest and the fullest allowed list."""
        low = schema.get("minItems", 0)
        high = schema.get("maxItems", len(members))
        if not isinstance(low, int) or not isinstance(high, int) or low > len(members):
            return None
        high = min(high, len(members))
        candidates: list[tuple[str, list[Any]]] = [("min", members[:low])]
        for index, member in enumerate(members):
            rest = [m for m in members if m is not member][: max(low - 1, 0)]
            shown = member if isinstance(member, str) else _literal(member)
            label = f"member:{shown}" if len(shown) <= 50 else f"member:#{index}"
            candidates.append((label, [member, *rest]))
        candidates.append(("all", members[:high]))
        if self.synthesizer is None:
            self.synthesizer = Synthesizer(self.root)
        valid = self.synthesizer.checker(schema)
        values: list[tuple[str, Any]] = []
        seen: list[list[Any]] = []
        for label, value in candidates:
            if low <= len(value) <= high and value not in seen and valid(value):
                seen.append(value)
                values.append((label, value))
        if len(values) <= len(members) // 2:
            return None  # the members do not combine freely: whole values instead
        return self.build(JsonParam, pointer, {
            "path": path, "optional": optional, "nullable": nullable,
            "values": tuple(values), "schema": bundle(schema, self.root)})

    # ------------------------------------------------------------------ constraints
    def object_constraints(
        self, schema: Mapping[str, Any], pointer: str, prefix: tuple[str, ...]
    ) -> None:
        if "if" in schema:
            try:
                cond = self.condition(schema["if"], prefix, f"{pointer}/if")
                if "then" in schema:
                    then = self.condition(schema["then"], prefix, f"{pointer}/then")
                    self.add(f"{pointer}/then", f"({cond}) -> ({then})")
                if "else" in schema:
                    other = self.condition(schema["else"], prefix, f"{pointer}/else")
                    self.add(f"{pointer}/else", f"not ({cond}) -> ({other})")
            except _Unsupported as why:
                self.unsound_here(pointer, "if", f"{why}; the conditional is not modelled")
        else:
            for keyword in ("then", "else"):
                if keyword in schema:
                    self.warn(pointer, keyword, "without 'if' has no effect")
        for keyword in ("anyOf", "oneOf", "not"):
            if keyword not in schema:
                continue
            try:
                if keyword == "not":
                    inner = self.condition(schema["not"], prefix, f"{pointer}/not")
                    self.add(f"{pointer}/not", f"not ({inner})")
                    continue
                branches = schema[keyword]
                if not isinstance(branches, list) or not branches:
                    raise SpaceError(
                        f"{self.source}: {pointer}/{keyword}: must be a non-empty list"
                    )
                parts = [self.condition(b, prefix, f"{pointer}/{keyword}/{i}")
                         for i, b in enumerate(branches)]
                if keyword == "anyOf":
                    text = " or ".join(f"({p})" for p in parts)
                elif len(parts) == 1:
                    text = parts[0]
                else:
                    text = " or ".join(
                        "(" + " and ".join(
                            f"({p})" if i == j else f"not ({p})" for j, p in enumerate(parts)
                        ) + ")"
                        for i in range(len(parts))
                    )
                self.add(f"{pointer}/{keyword}", text)
            except _Unsupported as why:
                self.unsound_here(pointer, keyword, f"{why}; not modelled")
        dependent = dict(schema.get("dependentRequired", {}) or {})
        for name, value in (schema.get("dependencies", {}) or {}).items():
            if isinstance(value, list):
                dependent[name] = value
            else:
                self.unsound_here(f"{pointer}/dependencies/{_pointer_escape(name)}",
                                  "dependencies", "schema dependencies are not modelled")
        for name, needed in dependent.items():
            try:
                trigger = self.present((*prefix, str(name)))
                required = [self.present((*prefix, str(n))) for n in needed]
            except _Unsupported as why:
                self.unsound_here(f"{pointer}/dependentRequired/{_pointer_escape(name)}",
                                  "dependentRequired", f"{why}; not modelled")
                continue
            if required:
                self.add(f"{pointer}/dependentRequired/{_pointer_escape(name)}",
                         f"{trigger} -> " + " and ".join(required))

    def add(self, name: str, text: str) -> None:
        self.constraints.append((name, text))

    def param_ref(self, segments: tuple[str, ...]) -> str:
        path = _tree.join_path(segments)
        if path not in self.params:
            raise _Unsupported(f"{path} is not a modelled parameter")
        return _quote_path(segments)

    def present(self, segments: tuple[str, ...]) -> str:
        """``key is present``: the parameter, or any parameter of a nested object, is not null."""
        path = _tree.join_path(segments)
        if path in self.anchors:
            return f"{_quote_path(_tree.split_path(self.anchors[path]))} != null"
        if path in self.params:
            return f"{_quote_path(segments)} != null"
        below = [p for p in self.params if p.startswith(f"{path}.")]
        if not below:
            raise _Unsupported(f"{path} is not a modelled parameter")
        texts = [f"{_quote_path(_tree.split_path(p))} != null" for p in below]
        return texts[0] if len(texts) == 1 else "(" + " or ".join(texts) + ")"

    def condition(self, schema: Any, prefix: tuple[str, ...], pointer: str) -> str:
        """A sub-schema applied to the object at ``prefix`` as a constraint expression."""
        try:
            schema, pointer = self.resolve(schema, pointer)
        except _Unsupported as why:
            raise _Unsupported(str(why)) from None
        if schema is True or schema == {}:
            return "true"
        if schema is False:
            return "false"
        if not isinstance(schema, Mapping):
            raise _Unsupported(f"{pointer}: unsupported sub-schema")
        parts: list[str] = []
        required = schema.get("required", [])
        for keyword in schema:
            if keyword not in ("properties", "required", "anyOf", "oneOf", "allOf", "not",
                               "type") and keyword not in ANNOTATIONS:
                raise _Unsupported(f"{pointer}: keyword {keyword!r} in a condition")
        if schema.get("type", "object") != "object":
            raise _Unsupported(f"{pointer}: a condition on a non-object")
        for name in required:
            parts.append(self.present((*prefix, str(name))))
        for name, sub in (schema.get("properties", {}) or {}).items():
            parts.append(self.value_condition(
                sub, (*prefix, str(name)), f"{pointer}/properties/{_pointer_escape(str(name))}",
                name in required,
            ))
        for index, part in enumerate(schema.get("allOf", []) or []):
            parts.append(self.condition(part, prefix, f"{pointer}/allOf/{index}"))
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                branches = [self.condition(b, prefix, f"{pointer}/{keyword}/{i}")
                            for i, b in enumerate(schema[keyword])]
                if keyword == "oneOf" and len(branches) > 1:
                    branches = [
                        " and ".join(f"({p})" if i == j else f"not ({p})"
                                     for j, p in enumerate(branches))
                        for i in range(len(branches))
                    ]
                parts.append(" or ".join(f"({b})" for b in branches))
        if "not" in schema:
            parts.append(f"not ({self.condition(schema['not'], prefix, f'{pointer}/not')})")
        if not parts:
            return "true"
        return " and ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]

    def value_condition(
        self, schema: Any, segments: tuple[str, ...], pointer: str, required: bool
    ) -> str:
        """``properties: {name: schema}`` inside a condition (holds when the key is absent)."""
        schema, pointer = self.resolve(schema, pointer)
        if isinstance(schema, Mapping) and (
            "properties" in schema or schema.get("type") == "object"
        ):
            inner = self.condition(schema, segments, pointer)
            return inner
        ref = self.param_ref(segments)
        if not isinstance(schema, Mapping):
            raise _Unsupported(f"{pointer}: boolean schema in a condition")
        tests: list[str] = []
        for keyword, value in schema.items():
            if keyword in ANNOTATIONS:
                continue
            if keyword == "const":
                tests.append(f"{ref} == {_literal(value)}")
            elif keyword == "enum" and isinstance(value, list) and not any(
                isinstance(v, dict | list) for v in value
            ):
                tests.append(f"{ref} in [{', '.join(_literal(v) for v in value)}]")
            elif keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") \
                    and _is_number(value):
                op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">",
                      "exclusiveMaximum": "<"}[keyword]
                tests.append(f"{ref} {op} {_literal(value)}")
            elif keyword == "not" and isinstance(value, Mapping):
                inner = self.value_condition(value, segments, f"{pointer}/not", True)
                tests.append(f"not ({inner})")
            else:
                raise _Unsupported(f"{pointer}: keyword {keyword!r} in a condition")
        if not tests:
            return "true"
        text = " and ".join(f"({t})" for t in tests) if len(tests) > 1 else tests[0]
        param = self.params[_tree.join_path(segments)]
        if not required and (param.optional or param.conditional):
            return f"{ref} == null or ({text})"
        return text

    def root_branch(self, schema: Mapping[str, Any], pointer: str) -> tuple[Any, str]:
        """A root ``oneOf``/``anyOf`` with exactly one object alternative: use that one."""
        for keyword in ("oneOf", "anyOf"):
            branches = schema.get(keyword)
            if not isinstance(branches, list):
                continue
            objects = []
            for index, branch in enumerate(branches):
                try:
                    target, _ = self.resolve(branch, f"#/{keyword}/{index}")
                except _Unsupported:
                    continue
                if isinstance(target, Mapping) and (
                    "object" in self.types(target) or "properties" in target
                    or "allOf" in target
                ):
                    objects.append((index, target))
            if len(objects) == 1:
                index, target = objects[0]
                if len(branches) > 1:
                    self.warn("#", keyword, f"only the object alternative #/{keyword}/{index} "
                                            "is modelled (a config file is an object)")
                return target, f"#/{keyword}/{index}"
        return schema, pointer

    # ------------------------------------------------------------------ result
    def run(self, name: str) -> Space:
        schema, pointer = self.resolve(self.root, "#")
        if isinstance(schema, Mapping) and "properties" not in schema and "allOf" not in schema:
            schema, pointer = self.root_branch(schema, pointer)
        if not isinstance(schema, Mapping) or not (
            "properties" in schema or "allOf" in schema
        ):
            raise SpaceError(
                f"{self.source}: the schema must describe an object with 'properties'"
            )
        self.resolving.append(pointer)
        self.walk_object(schema, pointer, (), False)
        if not self.params:
            raise SpaceError(
                f"{self.source}: no parameter could be imported "
                f"({len(self.warnings)} warning(s): {'; '.join(self.warnings[:3])})"
            )
        if self.unbounded_strings:
            self.warn(self.unbounded_strings[0], "maxLength",
                      f"absent on {len(self.unbounded_strings)} string(s) (first shown): "
                      f"strings longer than {DEFAULT_STRING_MAX} characters "
                      "(DEFAULT_STRING_MAX) are treated as invalid")
        if self.unbounded_lists:
            self.warn(self.unbounded_lists[0], "maxItems",
                      f"absent on {len(self.unbounded_lists)} array(s) (first shown): "
                      "lists longer than 8 items are treated as invalid")
        known = list(self.params)
        constraints = []
        for cname, text in self.constraints:
            try:
                constraints.append(parse(text, known, name=f"schema:{cname or '#'}"))
            except ConstraintError as error:  # pragma: no cover - texts are generated
                self.warn(cname, "constraint", f"could not be translated: {error}")
        return Space(tuple(self.params.values()), tuple(constraints), name=name,
                     warnings=tuple(dict.fromkeys(self.warnings)))


def _external_ref(node: Any) -> str | None:
    """The first ``$ref`` in ``node`` that does not point inside the document, if any."""
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return ref
        for value in node.values():
            found = _external_ref(value)
            if found is not None:
                return found
    elif isinstance(node, list):
        for item in node:
            found = _external_ref(item)
            if found is not None:
                return found
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "object"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return bool(left == right) and (_is_number(left) == _is_number(right))


def _fields(param: Parameter) -> dict[str, Any]:
    from dataclasses import fields

    return {f.name: getattr(param, f.name) for f in fields(param) if f.init}


#: Warnings about documented default bounds and about unknown keys being carried through:
#: the generated configs stay valid, so ``strict`` does not refuse them.
_LENIENT = ("(DEFAULT_", "configlab carries unknown keys through")


def strict_problems(warnings: Sequence[str]) -> list[str]:
    """The warnings that make a ``strict`` import fail (keywords not honoured)."""
    return [w for w in warnings if not any(marker in w for marker in _LENIENT)]


def space_from_json_schema(schema: Mapping[str, Any], *, source: str = "schema",
                           strict: bool = False) -> Space:
    """Import a JSON Schema document describing a configuration object.

    Returns a space whose ``warnings`` list every keyword that could not be honoured exactly.
    Raises :class:`SpaceError` for a schema that is not an object schema, a ``$ref`` cycle or
    a dangling local ``$ref``.
    """
    if not isinstance(schema, Mapping):
        raise SpaceError(f"{source}: a JSON Schema must be an object")
    title = schema.get("title")
    name = title if isinstance(title, str) else ""
    try:
        space = _Importer(schema, source).run(name)
        problems = strict_problems(space.warnings) if strict else []
        if problems:
            raise SpaceError(f"{source}: strict import refused: {len(problems)} keyword(s) not "
                             f"honoured: {'; '.join(problems[:5])}"
                             + (" ..." if len(problems) > 5 else ""))
        return space
    except _Unsupported as why:
        raise SpaceError(f"{source}: {why}") from None
    except SpaceError:
        raise
    except ConfiglabError as error:  # pragma: no cover - defensive
        raise SpaceError(f"{source}: {error}") from None



def bundle(schema: Any, root: Mapping[str, Any]) -> Any:
    """``schema`` made self-contained: every local ``$ref`` it reaches (transitively) is copied
    under ``$defs`` with a name made from its pointer, and the references rewritten to it."""
    names: dict[str, str] = {}
    order: list[str] = []

    def rename(ref: str) -> str:
        if ref not in names:
            names[ref] = "ref" + re.sub(r"[^A-Za-z0-9_.-]", "_", ref[1:]) + f"_{len(names)}"
            order.append(ref)
        return f"#/$defs/{names[ref]}"

    def rewrite(node: Any) -> Any:
        if isinstance(node, Mapping):
            out: dict[str, Any] = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str) and value.startswith("#"):
                    out[key] = rename(value)
                else:
                    out[key] = rewrite(value)
            return out
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    body = rewrite(schema)
    if not names:
        if isinstance(body, Mapping) and "$schema" in root and "$schema" not in body:
            return {"$schema": root["$schema"], **body}
        return body
    definitions: dict[str, Any] = {}
    index = 0
    while index < len(order):
        ref = order[index]
        index += 1
        try:
            node: Any = pointer_target(root, ref)
        except LookupError:
            node = {}
        definitions[names[ref]] = rewrite(node)
    wrapper: dict[str, Any] = {"$defs": definitions, "allOf": [body]}
    if "$schema" in root:
        wrapper["$schema"] = root["$schema"]
    return wrapper


__all__ = ["ANNOTATIONS", "ASSERTIONS", "bundle", "space_from_json_schema", "strict_problems"]
