"""One JSON Schema property -> one parameter: scalars, enums/consts, bounds, strings, arrays
(lists and subsets), unions, and whole-value parameters built from synthesised instances when
a sub-schema has no finer model."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from configlab._internal.saferegex import compile_pattern
from configlab.errors import ConfiglabError, SpaceError
from configlab.space._params import (
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
    StringParam,
)
from configlab.space._params import is_json_number as _is_number
from configlab.space._schema_base import (
    _PARAM_KEYWORDS,
    ANNOTATIONS,
    ASSERTIONS,
    MAX_PREFIX_GROUPS,
    MAX_SUBSET_MEMBERS,
    _Cycle,
    _external_ref,
    _fields,
    _ImporterState,
    _json_type,
    _literal,
    _same,
    _Unsupported,
    bundle,
    prefix_groups,
)
from configlab.space._values import (
    FORMAT_EXAMPLES,
    Synthesizer,
    conjoin,
    search_pattern,
)


class _ValueImporter(_ImporterState):
    """Builds the parameter of one property (no object walking, no constraints)."""

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
                    merged, conflicts = conjoin(merged, resolved)
                    clashes = [k for k in conflicts if k.rsplit("/", 1)[-1] not in ANNOTATIONS]
                    if clashes:
                        # Both values must hold and no one keyword says so: the synthesiser
                        # builds whole instances and keeps only those jsonschema accepts.
                        self.warn(f"{pointer}/allOf/{index}", clashes[0],
                                  "cannot be combined with an earlier value; modelled as "
                                  "whole values")
                        return self.whole_values(schema, pointer, path, optional)
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
        if found is None or not found[0]:
            return None
        members = list(found[0])
        if len(members) <= MAX_SUBSET_MEMBERS:
            return members
        groups = prefix_groups(members, MAX_PREFIX_GROUPS)
        if groups is None:
            return None
        kept = set(groups)
        left = [m for m in members if m not in kept]
        if left:
            self.warn(f"{pointer}/items", "enum",
                      f"{len(members)} members: the {len(groups)} prefix groups "
                      f"({', '.join(groups[:6])}, ...) are generated; the other {len(left)} "
                      f"({', '.join(left[:3])}, ...) extend one of them and never appear "
                      f"(MAX_PREFIX_GROUPS)")
        return groups

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

