"""Concrete values that validate against a JSON Schema sub-schema (for structured value classes).

Where a part of a schema is not split into parameters -- a map, an array of objects, a union of
structured alternatives, a recursive ``$ref``, an object whose keywords tie its properties
together -- configlab models it as one parameter whose value classes are whole instances:
the smallest valid instance, a typical one, the largest one (bounded), one per ``oneOf`` /
``anyOf`` branch.  :class:`Synthesizer` builds those candidates by walking the schema and keeps
only the candidates that ``jsonschema`` itself accepts (with format checking), so a value class
is valid by construction, never by hope.  It is deterministic: no randomness, ordered walks.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from configlab._internal.saferegex import compile_pattern
from configlab.space._params import is_json_number
from configlab.space._regex import longest_match, shortest_match

#: Expansion depth of ``$ref`` s before only required content is produced (recursion bound).
DEFAULT_MAX_DEPTH = 3
#: Largest number of elements/entries a "max" instance gets where the schema sets no bound.
MAX_OPEN_ITEMS = 3

#: Valid example per ``format`` (first = shortest-ish, last = longest-ish).
FORMAT_EXAMPLES: dict[str, tuple[str, ...]] = {
    "date-time": ("1970-01-01T00:00:00Z", "2024-02-29T23:59:59.999+14:00"),
    "date": ("1970-01-01", "2024-02-29"),
    "time": ("00:00:00Z", "23:59:59.999+14:00"),
    "duration": ("P1D", "P1Y2M3DT4H5M6S"),
    "email": ("a@example.com", "first.last+tag@sub.example.org"),
    "idn-email": ("a@example.com", "first.last+tag@sub.example.org"),
    "hostname": ("localhost", "host-1.sub.example.org"),
    "idn-hostname": ("localhost", "host-1.sub.example.org"),
    "ipv4": ("0.0.0.0", "255.255.255.255"),
    "ipv6": ("::1", "2001:db8:85a3::8a2e:370:7334"),
    "uri": ("http://a.example", "https://user@example.org:8443/path/to?q=1#frag"),
    "uri-reference": ("/", "https://example.org/path?q=1#frag"),
    "iri": ("http://a.example", "https://example.org/path"),
    "iri-reference": ("/", "https://example.org/path"),
    "uri-template": ("http://example.org/{id}", "https://example.org/{group}/{id}"),
    "url": ("http://a.example", "https://example.org/path"),
    "uuid": ("00000000-0000-0000-0000-000000000000", "123e4567-e89b-42d3-a456-426614174000"),
    "regex": ("^a$", "^[a-z0-9]+(-[a-z0-9]+)*$"),
    "json-pointer": ("", "/a/b~1c"),
    "relative-json-pointer": ("0", "1/a"),
    "byte": ("", "aGVsbG8="),
    "int32": ("0", "2147483647"),
    "int64": ("0", "9223372036854775807"),
}

_TYPE_ORDER = ("object", "array", "string", "integer", "number", "boolean", "null")


class Synthesizer:
    """Build valid instances of sub-schemas of one root schema (local ``$ref`` s resolved).

    Args:
        root: the whole schema document (``$ref`` s resolve against it).
        max_depth: ``$ref`` expansions after which only required content is generated.
    """

    def __init__(self, root: Mapping[str, Any], max_depth: int = DEFAULT_MAX_DEPTH) -> None:
        self.root = root
        self.max_depth = max_depth
        # deferred: jsonschema and its format checkers cost ~50 ms of import, paid by every
        # command that loads the space model (``analyze`` only infers a space from results)
        import jsonschema

        cls = jsonschema.validators.validator_for(root, default=jsonschema.Draft202012Validator)
        try:
            self._validator = cls(root, format_checker=cls.FORMAT_CHECKER)
        except Exception:
            self._validator = jsonschema.Draft202012Validator(
                {}, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

    # ------------------------------------------------------------------ checking
    def checker(self, schema: Any) -> Callable[[Any], bool]:
        """``value -> bool``: whether ``value`` validates against ``schema`` (in the root)."""
        evolved = self._validator.evolve(schema=schema)

        def valid(value: Any) -> bool:
            try:
                return bool(evolved.is_valid(value))
            except Exception:
                return False

        return valid

    # ------------------------------------------------------------------ public
    def instances(self, schema: Any, *, limit: int = 6) -> list[tuple[str, Any]]:
        """Distinct valid instances of ``schema`` with labels, smallest first (may be empty).

        Candidates: ``min`` (required content only, lower bounds), ``typical``, ``max`` (all
        properties, upper bounds, bounded by :data:`MAX_OPEN_ITEMS`), and one per top-level
        ``oneOf``/``anyOf`` branch (``branch:<i>``) and per allowed ``type`` (``type:<t>``).
        """
        valid = self.checker(schema)
        found: list[tuple[str, Any]] = []
        seen: set[str] = set()

        def offer(label: str, make: Callable[[], Any]) -> None:
            if len(found) >= limit:
                return
            try:
                value = make()
            except _NoValue:
                return
            key = json.dumps(value, sort_keys=True, default=repr)
            if key in seen or not valid(value):
                return
            seen.add(key)
            found.append((label, value))

        try:
            resolved = self._resolve(schema)
        except _NoValue:
            return found
        branches: list[tuple[str, Any]] = []
        if isinstance(resolved, Mapping):
            for keyword in ("oneOf", "anyOf"):
                options = resolved.get(keyword)
                if isinstance(options, list):
                    rest = {k: v for k, v in resolved.items() if k != keyword}
                    for i, option in enumerate(options):
                        try:
                            branch = _merge(rest, self._resolve(option))
                            branches.append((_branch_label(i, branch), branch))
                        except _NoValue:
                            continue
                    break
        if branches:
            for label, branch in branches:
                offer(label, lambda b=branch: self.make(b, "min", 0))  # type: ignore[misc]
            for label, branch in branches:
                offer(f"{label}:max", lambda b=branch: self.make(b, "max", 0))  # type: ignore[misc]
        else:
            types = _types(resolved) if isinstance(resolved, Mapping) else []
            for mode in ("min", "typical", "max"):
                offer(mode, lambda m=mode: self.make(schema, m, 0))  # type: ignore[misc]
            if len([t for t in types if t != "null"]) > 1:
                for t in types:
                    offer(f"type:{t}", lambda t=t: self.make(  # type: ignore[misc]
                        {**resolved, "type": t}, "min", 0))
        return found

    # ------------------------------------------------------------------ building
    def _resolve(self, schema: Any, depth: int = 0) -> Any:
        seen = 0
        while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str):
            ref = schema["$ref"]
            seen += 1
            if seen > 32 or not ref.startswith("#"):
                raise _NoValue
            target = self._lookup(ref)
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = _merge(target, rest) if isinstance(target, Mapping) and rest else target
        return schema

    def _lookup(self, ref: str) -> Any:
        try:
            return pointer_target(self.root, ref)
        except LookupError:
            raise _NoValue from None

    def make(self, schema: Any, mode: str, depth: int) -> Any:
        """One instance of ``schema`` in ``mode`` (``min``/``typical``/``max``), unchecked."""
        if isinstance(schema, Mapping) and "$ref" in schema:
            depth += 1
            schema = self._resolve(schema)
        if schema is True or schema == {}:
            return "value"  # any value: a plain string is the most config-like
        if not isinstance(schema, Mapping):
            raise _NoValue
        deep = depth > self.max_depth
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            options = schema["enum"]
            valid = self.checker(schema)
            ordered = ([options[-1]] if mode == "max" else []) + list(options)
            if mode == "typical":
                ordered = [options[len(options) // 2], *options]
            for option in ordered:
                if valid(option):
                    return option
            raise _NoValue
        if isinstance(schema.get("allOf"), list):
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                merged = _merge(merged, self._resolve(part))
            return self.make(merged, mode, depth)
        for keyword in ("oneOf", "anyOf"):
            options = schema.get(keyword)
            if isinstance(options, list) and options:
                rest = {k: v for k, v in schema.items() if k != keyword}
                valid = self.checker(schema)
                for option in options:
                    try:
                        candidate = self.make(_merge(rest, self._resolve(option)), mode, depth)
                    except _NoValue:
                        continue
                    if valid(candidate):
                        return candidate
                raise _NoValue
        if "if" in schema:
            rest = {k: v for k, v in schema.items() if k not in ("if", "then", "else")}
            valid = self.checker(schema)
            for branch in ("then", "else"):
                try:
                    candidate = self.make(_merge(rest, self._resolve(schema.get(branch, {}))),
                                          mode, depth)
                except _NoValue:
                    continue
                if valid(candidate):
                    return candidate
            raise _NoValue
        types = _types(schema) or _guess_types(schema)
        choices = [t for t in types if t != "null"] or types
        if deep and "null" in types:
            return None
        kind = choices[0] if choices else "object"
        if kind == "object":
            return self._object(schema, mode, depth, deep)
        if kind == "array":
            return self._array(schema, mode, depth, deep)
        if kind == "string":
            return _string(schema, mode)
        if kind in ("integer", "number"):
            return _number(schema, mode, kind == "integer")
        if kind == "boolean":
            return mode == "max"
        if kind == "null":
            return None
        raise _NoValue

    def _object(self, schema: Mapping[str, Any], mode: str, depth: int, deep: bool) -> Any:
        properties = schema.get("properties") or {}
        required = [str(r) for r in schema.get("required") or []]
        out: dict[str, Any] = {}
        names: list[str] = list(required)
        if mode != "min" and not deep:
            optional = [n for n in properties if n not in required]
            names += optional if mode == "max" else optional[: max(1, len(optional) // 2)]
        dependent = schema.get("dependentRequired") or {}
        for name in list(names):
            for extra in dependent.get(name, []) if isinstance(dependent, Mapping) else []:
                if extra not in names:
                    names.append(str(extra))
        for name in names:
            sub = properties.get(name, self._extra_schema(schema, name))
            try:
                out[name] = self.make(sub, mode, depth + 1)
            except _NoValue:
                if name in required:
                    raise
        wanted = int(schema.get("minProperties", 0) or 0)
        open_keys = not properties or isinstance(schema.get("additionalProperties"), Mapping) \
            or bool(schema.get("patternProperties"))
        if mode == "max" and not deep and open_keys:
            # A map: one generated key beyond the declared ones.
            wanted = max(wanted, len(out) + 1)
        cap = schema.get("maxProperties")
        if isinstance(cap, int):
            wanted = min(wanted, cap)
        index = 0
        while len(out) < wanted and index < MAX_OPEN_ITEMS + wanted:
            key, sub = self._extra_key(schema, index)
            index += 1
            if key is None:
                break
            if key in out:
                continue
            try:
                out[key] = self.make(sub, "min", depth + 1)
            except _NoValue:
                break
        return out

    def _extra_schema(self, schema: Mapping[str, Any], name: str) -> Any:
        for pattern, sub in (schema.get("patternProperties") or {}).items():
            if re.search(pattern, name):
                return sub
        extra = schema.get("additionalProperties", {})
        return {} if extra is True else extra

    def _extra_key(self, schema: Mapping[str, Any], index: int) -> tuple[str | None, Any]:
        names = schema.get("propertyNames")
        name_schema = self._resolve(names) if isinstance(names, Mapping) else {}
        for pattern, sub in (schema.get("patternProperties") or {}).items():
            try:
                base = shortest_match(f"(?s:.*?(?:{pattern}).*)", 1)
            except Exception:
                base = None
            if base:
                return (base if index == 0 else f"{base}{index}"), sub
        extra = schema.get("additionalProperties", True)
        if extra is False:
            return None, None
        key = _string(name_schema, "typical") if isinstance(name_schema, Mapping) and (
            name_schema.get("pattern") or name_schema.get("format")) else "key"
        if index:
            key = f"{key}{index}"
        return key, ({} if extra is True else extra)

    def _array(self, schema: Mapping[str, Any], mode: str, depth: int, deep: bool) -> Any:
        low = int(schema.get("minItems", 0) or 0)
        high = schema.get("maxItems")
        bound = high if isinstance(high, int) else low + MAX_OPEN_ITEMS
        count = {"min": low, "typical": max(low, min(1, bound)),
                 "max": max(low, min(bound, low + MAX_OPEN_ITEMS))}[mode]
        if deep:
            count = low
        prefix: list[Any] = []
        for key in ("prefixItems", "items"):
            if isinstance(schema.get(key), list):
                prefix = schema[key]
                break
        items = schema.get("items") if isinstance(schema.get("items"), Mapping | bool) else (
            schema.get("additionalItems", {}))
        if items is False:
            count = min(count, len(prefix))
        unique = schema.get("uniqueItems") is True
        out: list[Any] = []
        seen: set[str] = set()
        modes = [mode, "min", "typical", "max"]
        for index in range(count):
            sub = prefix[index] if index < len(prefix) else items
            placed = False
            for variant in range(len(modes) + 4):
                try:
                    if variant < len(modes):
                        value = self.make(sub, modes[variant], depth + 1)
                    else:
                        value = self._variant(sub, index + variant, depth + 1)
                except _NoValue:
                    continue
                key = json.dumps(value, sort_keys=True, default=repr)
                if unique and key in seen:
                    continue
                seen.add(key)
                out.append(value)
                placed = True
                break
            if not placed:
                if len(out) >= low:
                    break
                raise _NoValue
        contains = schema.get("contains")
        if isinstance(contains, Mapping):
            value = self.make(contains, "min", depth + 1)
            if out:
                out[0] = value
            else:
                out.append(value)
        return out

    def _variant(self, schema: Any, index: int, depth: int) -> Any:
        """A value different from the mode-based ones (for uniqueItems)."""
        resolved = self._resolve(schema)
        base = self.make(resolved, "typical", depth)
        if isinstance(base, str):
            return _string(resolved, "typical", suffix=str(index))
        if isinstance(base, int) and not isinstance(base, bool):
            return base + index
        if isinstance(base, float):
            return base + index / 8
        raise _NoValue


def _branch_label(index: int, branch: Any) -> str:
    """``branch:<i>``, named by its discriminator when a property is a ``const`` (or a one-value
    ``enum``): ``branch:1:type=http`` -- so analysis can blame the alternative by name."""
    label = f"branch:{index}"
    if not isinstance(branch, Mapping):
        return label
    for name, sub in (branch.get("properties") or {}).items():
        if not isinstance(sub, Mapping) or name not in (branch.get("required") or []):
            continue
        values = [sub["const"]] if "const" in sub else sub.get("enum")
        if isinstance(values, list) and len(values) == 1 and isinstance(values[0], str | int) \
                and len(str(values[0])) <= 40:
            return f"{label}:{name}={values[0]}"
    return label


def pointer_target(root: Any, ref: str) -> Any:
    """The node a local ``$ref`` (``#/a/b~1c/0``) points to; LookupError when it is missing."""
    node: Any = root
    for raw in urllib.parse.unquote(ref[1:]).split("/")[1:]:
        segment = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and segment in node:
            node = node[segment]
        elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
            node = node[int(segment)]
        else:
            raise LookupError(segment)
    return node


class _NoValue(Exception):
    """No value of the requested shape can be built here."""


#: Keywords whose value is one sub-schema: both sides of an ``allOf`` must hold.
_SUBSCHEMA_KEYWORDS = ("items", "additionalProperties", "contains", "propertyNames",
                       "unevaluatedProperties", "unevaluatedItems", "additionalItems")
#: Numeric bounds: the conjunction keeps the tighter one.
_LOWER_BOUNDS = ("minimum", "minLength", "minItems", "minProperties", "minContains")
_UPPER_BOUNDS = ("maximum", "maxLength", "maxItems", "maxProperties", "maxContains")


def conjoin(left: Any, right: Any) -> tuple[Any, list[str]]:
    """One schema meaning ``left`` and ``right`` both hold (an ``allOf`` of two), and the
    keywords whose two values could not be combined (``left``'s value kept for those).

    Sub-schemas (``items``, ``properties`` values, ``additionalProperties``, ...) are
    conjoined recursively, ``required`` united, ``type`` and ``enum`` intersected, numeric
    bounds tightened.  CMake's presets schema, for one, lists the allowed keys of an array's
    elements beside an ``allOf`` that gives their types: keeping either side alone builds
    invalid elements.
    """
    if not isinstance(left, Mapping) or not isinstance(right, Mapping):
        if isinstance(left, Mapping) and not left:
            return right, []
        if left is True or left == right:
            return right, []
        if right is True or (isinstance(right, Mapping) and not right):
            return left, []
        return (False, []) if left is False or right is False else (left, ["$schema"])
    merged = dict(left)
    conflicts: list[str] = []
    for key, value in right.items():
        if key not in merged or merged[key] == value:
            merged[key] = value
        elif key == "properties" and isinstance(merged[key], Mapping) \
                and isinstance(value, Mapping):
            both = dict(merged[key])
            for name, sub in value.items():
                if name in both:
                    both[name], inner = conjoin(both[name], sub)
                    conflicts += [f"properties/{name}/{k}" for k in inner]
                else:
                    both[name] = sub
            merged[key] = both
        elif key == "required" and isinstance(merged[key], list) and isinstance(value, list):
            merged[key] = list(dict.fromkeys([*merged[key], *value]))
        elif key == "type":
            left_types = _types(merged)
            right_types = value if isinstance(value, list) else [value]
            both_types = [t for t in left_types if t in right_types or (
                t == "number" and "integer" in right_types)]
            if "integer" in left_types and "number" in right_types \
                    and "integer" not in both_types:
                both_types.append("integer")
            merged[key] = both_types or right_types
        elif key in _SUBSCHEMA_KEYWORDS:
            merged[key], inner = conjoin(merged[key], value)
            conflicts += [f"{key}/{k}" for k in inner]
        elif key == "enum" and isinstance(merged[key], list) and isinstance(value, list):
            merged[key] = [v for v in merged[key] if v in value]
        elif key == "multipleOf" and isinstance(merged[key], int) \
                and isinstance(value, int) and not isinstance(value, bool) \
                and not isinstance(merged[key], bool) and min(merged[key], value) > 0:
            merged[key] = math.lcm(merged[key], value)
        elif key in _LOWER_BOUNDS + _UPPER_BOUNDS and is_json_number(merged[key]) \
                and is_json_number(value):
            pick = max if key in _LOWER_BOUNDS else min
            merged[key] = pick(merged[key], value)
        else:
            conflicts.append(key)
    return merged, conflicts


def _merge(left: Any, right: Any) -> Any:
    return conjoin(left, right)[0]


def _types(schema: Mapping[str, Any]) -> list[str]:
    raw = schema.get("type")
    if raw is None:
        return []
    found = [str(t) for t in raw] if isinstance(raw, list) else [str(raw)]
    return sorted(found, key=lambda t: _TYPE_ORDER.index(t) if t in _TYPE_ORDER else 99)


def _guess_types(schema: Mapping[str, Any]) -> list[str]:
    if any(k in schema for k in ("properties", "additionalProperties", "patternProperties",
                                 "required", "minProperties")):
        return ["object"]
    if any(k in schema for k in ("items", "prefixItems", "minItems", "maxItems", "contains")):
        return ["array"]
    if any(k in schema for k in ("pattern", "minLength", "maxLength", "format")):
        return ["string"]
    if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                                 "multipleOf")):
        return ["number"]
    default = schema.get("default")
    if isinstance(default, bool):
        return ["boolean"]
    if isinstance(default, int | float):
        return ["number"]
    if isinstance(default, str):
        return ["string"]
    return ["string"]


def _unicode_escape(match: re.Match[str]) -> str:
    code = int(match.group(2), 16)
    char = f"\\x{code:02x}" if code <= 0xFF else chr(code)
    return match.group(1) + char


def search_pattern(pattern: str) -> str:
    """A JSON Schema ``pattern`` (ECMA-262, matches anywhere) as a full-match regex.

    ``\\uXXXX`` escapes become ``\\xHH`` or the character itself (understood by both Python's
    ``re`` and RE2); the pattern is wrapped in ``.*?(...).*`` unless it is one anchored
    alternative (``^...$`` without ``|``), where the wrapper would only slow matching.
    """
    translated = re.sub(r"(?<!\\)((?:\\\\)*)\\u([0-9a-fA-F]{4})", _unicode_escape, pattern)
    starts = translated.startswith("^") and "|" not in translated
    ends = translated.endswith("$") and not translated.endswith("\\$") and "|" not in translated
    if starts and ends:
        return translated
    # An anchored end needs no wrapper on that side: ``^s3://.*`` with minLength 6 has no
    # string ``.*?^s3://...`` can start with but the empty one, and no boundary was built.
    return f"(?s:{'' if starts else '.*?'}(?:{translated}){'' if ends else '.*'})"


def format_examples(fmt: str) -> tuple[str, ...]:
    """Known-valid example strings of a JSON Schema ``format`` (empty when unknown)."""
    return FORMAT_EXAMPLES.get(fmt, ())


def _string(schema: Mapping[str, Any], mode: str, suffix: str = "") -> str:
    low = int(schema.get("minLength", 0) or 0)
    high = schema.get("maxLength")
    high = high if isinstance(high, int) else max(low, 64)
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in FORMAT_EXAMPLES:
        options = [e for e in FORMAT_EXAMPLES[fmt] if low <= len(e) <= high]
        if options:
            return options[-1] if mode == "max" else options[0]
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        full = search_pattern(pattern)
        try:
            if mode == "max":
                found = longest_match(full, high)
            else:
                found = shortest_match(full, max(low, len(suffix)))
        except Exception:
            found = None
        if found is None:
            raise _NoValue
        if suffix:
            candidate = found + suffix
            if _fullmatch(full, candidate) and len(candidate) <= high:
                return candidate
            raise _NoValue
        return found
    if mode == "min":
        text = "x" * low
    elif mode == "max":
        text = "x" * min(high, max(low, 16))
    else:
        text = "value"[: max(1, min(5, high))].ljust(low, "x")
    if suffix:
        text = (text or "v") + suffix
        if len(text) > high:
            raise _NoValue
    return text


def _number(schema: Mapping[str, Any], mode: str, integer: bool) -> int | float:
    low: float = -math.inf
    high: float = math.inf
    for key, exclusive in (("minimum", False), ("exclusiveMinimum", True)):
        value = schema.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            low = max(low, value + (1 if integer else 1e-6) * exclusive)
    for key, exclusive in (("maximum", False), ("exclusiveMaximum", True)):
        value = schema.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            high = min(high, value - (1 if integer else 1e-6) * exclusive)
    step = schema.get("multipleOf")
    target = {"min": low if low > -math.inf else 0,
              "max": high if high < math.inf else 1000,
              "typical": 1}[mode]
    target = min(max(target, low), high)
    if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
        target = math.ceil(target / step) * step
        if target > high:
            target -= step
        if integer and not float(target).is_integer():
            raise _NoValue
    if integer:
        value = math.ceil(target) if target == low else math.floor(target)
        if value < low or value > high:
            raise _NoValue
        return int(value)
    return float(target)


def _fullmatch(pattern: str, text: str) -> bool:
    try:
        return compile_pattern(pattern, where="pattern").fullmatch(text) is not None
    except Exception:
        return False


__all__ = ["DEFAULT_MAX_DEPTH", "FORMAT_EXAMPLES", "Synthesizer", "conjoin", "format_examples",
           "pointer_target", "search_pattern"]
