"""The state and shared primitives of the JSON Schema importer.

:class:`_ImporterState` holds what an import accumulates (parameters, constraint texts, warnings,
anchors) with the operations every part of the importer needs: ``$ref`` resolution, warnings,
snapshots/rollback and ``key is present`` texts.  :mod:`._schema_values` (one property ->
one parameter), :mod:`._schema_conditions` (object keywords -> constraints) and
:mod:`._json_schema` (the object walk and the entry point) build on it.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from configlab import tree as _tree
from configlab.constraints import parse
from configlab.errors import ConstraintError, SpaceError
from configlab.space._params import Parameter
from configlab.space._params import is_json_number as _is_number
from configlab.space._values import (
    Synthesizer,
    pointer_target,
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
#: A list of more string members (ruff's ``lint.select``: ~1,500 rule selectors) keeps at
#: most this many of them, chosen as prefix groups (:func:`prefix_groups`).
MAX_PREFIX_GROUPS = 160


def prefix_groups(members: Sequence[Any], limit: int) -> list[str] | None:
    """Up to ``limit`` string members that stand for the others, in their original order.

    A member's *parent* is the longest other member that is a proper prefix of it (``B9``
    -> ``B``, ``C901`` -> ``C90`` -> ``C``).  The groups are taken level by level: the
    members without a parent (``A``, ``B``, ``C``, ``I``, ``N``, ``S``), then their children
    (``ANN``, ``C4``, ``C90``, ``SIM``), ...; a level that does not fit whole takes its groups
    with the most descendants first.  None when a member is not a non-empty string.
    """
    if not all(isinstance(m, str) and m for m in members):
        return None
    known = set(members)
    parent: dict[str, str | None] = {}
    for member in members:
        parent[member] = next((member[:k] for k in range(len(member) - 1, 0, -1)
                               if member[:k] in known), None)
    size = dict.fromkeys(members, 0)
    depth: dict[str, int] = {}
    for member in members:
        level, above = 0, parent[member]
        while above is not None:
            size[above] += 1
            level, above = level + 1, parent[above]
        depth[member] = level
    position = {m: i for i, m in enumerate(members)}
    chosen: set[str] = set()
    for level in range(max(depth.values()) + 1):
        row = [m for m in members if depth[m] == level]
        room = limit - len(chosen)
        if len(row) > room:
            row = sorted(row, key=lambda m: (-size[m], position[m]))[:room]
        chosen.update(row)
        if len(chosen) >= limit:
            break
    return [m for m in members if m in chosen]


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
class _ImporterState:
    """What one import accumulates, and the primitives shared by its parts."""

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

    def warn(self, pointer: str, keyword: str, why: str) -> None:
        self.warnings.append(f"{pointer or '#'}: {keyword}: {why}")

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

    def add_param(self, path: str, param: Parameter | None) -> None:
        if param is not None:
            self.params[path] = param

    def types(self, schema: Mapping[str, Any]) -> list[str]:
        raw = schema.get("type")
        if raw is None:
            return []
        return [str(t) for t in raw] if isinstance(raw, list) else [str(raw)]

    def build(self, cls: type[Parameter], pointer: str, kwargs: dict[str, Any]) -> Parameter | None:
        try:
            param = cls(**kwargs)
            param.value_classes  # noqa: B018 - generation-ready check
        except SpaceError as error:
            self.warn(pointer, "schema", f"{error}; skipped")
            return None
        return param

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


#: The published JSON Schema metaschemas, which ``jsonschema`` ships (no network needed): the
#: only documents outside the schema that a ``$ref`` is followed into.
_METASCHEMA_HOSTS = ("http://json-schema.org/", "https://json-schema.org/")
#: Where :func:`inline_metaschemas` copies the metaschemas a schema refers to.
EMBEDDED_METASCHEMAS = "x-configlab-metaschemas"


def inline_metaschemas(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """``schema`` with its ``$ref`` s into the JSON Schema metaschemas made local.

    Swagger 2.0's published schema types ``title``, ``maximum``, ... of its own documents by
    reference to draft-04's metaschema; without it the required ``paths`` could not be built.
    The metaschema is copied under :data:`EMBEDDED_METASCHEMAS` (without its ``id``, so its
    own references stay inside the copy), and every other ``$ref`` is left as it is.
    """
    if not any(ref.startswith(_METASCHEMA_HOSTS) for ref in _refs(schema)):
        return schema
    from jsonschema_specifications import REGISTRY  # ~0.1 s: only for such schemas

    copies: dict[str, Any] = {}

    def local(ref: str, inside: str | None) -> str:
        base, _, fragment = ref.partition("#")
        if fragment and not fragment.startswith("/"):
            return ref  # an anchor: not followed (the importer says so)
        if not base:
            return ref if inside is None else f"#/{EMBEDDED_METASCHEMAS}/{inside}{fragment}"
        contents = None
        for uri in (base, base.replace("https://", "http://", 1),
                    base.replace("http://", "https://", 1)):
            if uri in REGISTRY:
                contents = REGISTRY.contents(uri)
                break
        if not base.startswith(_METASCHEMA_HOSTS) or not isinstance(contents, Mapping):
            return ref
        key = re.sub(r"[^A-Za-z0-9_.-]", "_", base.split("://", 1)[1])
        if key not in copies:
            copies[key] = {}  # claimed first: the metaschemas refer to themselves
            copies[key] = rewrite({k: v for k, v in contents.items()
                                   if k not in ("id", "$id", "$schema")}, key)
        return f"#/{EMBEDDED_METASCHEMAS}/{key}{fragment}"

    def rewrite(node: Any, inside: str | None) -> Any:
        if isinstance(node, Mapping):
            return {key: local(value, inside) if key == "$ref" and isinstance(value, str)
                    else rewrite(value, inside) for key, value in node.items()}
        if isinstance(node, list):
            return [rewrite(item, inside) for item in node]
        return node

    body = rewrite(schema, None)
    return {**body, EMBEDDED_METASCHEMAS: copies}


def _refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` string in ``node``."""
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


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


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return bool(left == right) and (_is_number(left) == _is_number(right))


def _fields(param: Parameter) -> dict[str, Any]:
    from dataclasses import fields

    return {f.name: getattr(param, f.name) for f in fields(param) if f.init}


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


