"""JSON Schema (drafts 7, 2019-09, 2020-12) -> :class:`~configlab.space._model.Space`.

Object properties become dotted parameter paths; scalar schemas become parameters; object-level
``if``/``then``/``else``, ``anyOf``, ``oneOf``, ``not``, ``dependentRequired`` (and draft-7
``dependencies``) become constraints in configlab's constraint language.  Every keyword that
cannot be honoured exactly is reported in ``space.warnings`` as ``<json pointer>: <keyword>: why``
-- nothing is dropped silently.  See docs/space-import.md for the full mapping.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from configlab import tree as _tree
from configlab.constraints import parse
from configlab.errors import ConfiglabError, ConstraintError, SpaceError
from configlab.space._model import Space
from configlab.space._params import DEFAULT_STRING_MAX
from configlab.space._schema_base import (
    _OBJECT_KEYWORDS,
    ANNOTATIONS,
    ASSERTIONS,
    _Cycle,
    _pointer_escape,
    _quote_path,
    _same,
    _Unsupported,
    bundle,
    inline_metaschemas,
)
from configlab.space._schema_conditions import _ConditionImporter
from configlab.space._schema_structure import _StructureImporter
from configlab.space._schema_values import _ValueImporter


def _with_root_required(branch: Any, root: Mapping[str, Any]) -> Any:
    """``branch`` also requiring the keys the root requires beside its union."""
    shared = root.get("required")
    if not isinstance(branch, Mapping) or not isinstance(shared, list) or not shared:
        return branch
    own = branch.get("required")
    own = own if isinstance(own, list) else []
    return {**branch, "required": own + [n for n in shared if n not in own]}

class _Importer(_ValueImporter, _ConditionImporter, _StructureImporter):
    """Walks a schema's objects, delegating properties and object keywords to its parts."""

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
                anchor_path = self.anchor_of(path) or self.first_leaf_below(path)
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
        # a required object without a key of its own (all its content optional, as in
        # AWS::APS::Scraper's LoggingDestination): its first leaf keeps it present
        direct |= {leaf for p in direct if p not in self.params and p not in self.anchors
                   for leaf in [self.first_leaf_below(p)] if leaf is not None}
        for path, param in list(self.params.items()):
            if path == anchor_path or not path.startswith(f"{here}.") \
                    or param.active_if is not None:
                continue
            self.params[path] = dataclasses.replace(
                param, optional=param.optional and path not in direct,
                active_if=dataclasses.replace(condition, name=f"active_if({path})"))

    def first_leaf_below(self, path: str) -> str | None:
        """The first unconditional parameter anywhere below the object at ``path`` (None if
        none): present, it makes the object present, which a required object needs."""
        for candidate, param in self.params.items():
            if candidate.startswith(f"{path}.") and param.active_if is None:
                return candidate
        return None

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
                if self.map_entries(schema, pointer, segments, optional,
                                    "null" in types and not optional):
                    return
                # A free-form object: whole values (with generated keys).
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
        if (nonnull == ["array"] or (not types and "items" in schema)) and \
                self.structured_array(schema, pointer, segments, optional, (
                    "null" in types or schema.get("nullable") is True) and not optional):
            return
        param = self.parameter(schema, pointer, path, optional)
        if param is None and not optional:
            self.dropped.append(pointer)
        self.add_param(path, param)

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
                return _with_root_required(target, schema), f"#/{keyword}/{index}"
            if objects:
                # Alternatives that could not be merged (CMakePresets: one per file
                # version, each with its own preset schemas): the richest one is modelled,
                # the latest on a tie, which is where versioned schemas put new keys --
                # for oneOf only when a required key's values tell it from every other
                # alternative, so no config it gives matches two of them.
                index, target = max(objects, key=lambda found: (
                    len(found[1].get("properties") or {}), found[0]))
                target = _with_root_required(target, schema)
                if keyword == "oneOf" and not self.discriminated(target, index, branches):
                    continue
                self.warn("#", keyword, f"{len(objects)} object alternatives that cannot be "
                                        f"merged: only #/{keyword}/{index} (the one with the "
                                        "most properties) is modelled")
                return target, f"#/{keyword}/{index}"
        return schema, pointer

    def discriminated(self, target: Mapping[str, Any], index: int,
                      branches: Sequence[Any]) -> bool:
        """Whether a key ``target`` requires has ``const``/``enum`` values that no other
        alternative of ``branches`` allows (so ``target``'s instances match it alone)."""
        for name in target.get("required") or []:
            own = self.finite_of(target, name)
            if own is None:
                continue
            others = [self.finite_of(branch, name) for i, branch in enumerate(branches)
                      if i != index]
            if all(values is not None and not any(_same(v, w) for v in own
                                                   for w in values) for values in others):
                return True
        return False

    def finite_of(self, branch: Any, name: str) -> list[Any] | None:
        """The ``const``/``enum`` values property ``name`` may take in ``branch`` (or None)."""
        try:
            resolved, _ = self.resolve(branch, "#")
            sub = (resolved.get("properties") or {}).get(name) \
                if isinstance(resolved, Mapping) else None
            sub, _ = self.resolve(sub, "#")
        except (_Unsupported, _Cycle):
            return None
        if not isinstance(sub, Mapping):
            return None
        if "const" in sub:
            return [sub["const"]]
        values = sub.get("enum")
        return list(values) if isinstance(values, list) else None

    def run(self, name: str) -> Space:
        schema, pointer = self.resolve(self.root, "#")
        if isinstance(schema, Mapping) and "properties" not in schema and "allOf" not in schema:
            # A union at the root: its object alternatives merged under one constraint (when
            # that constraint is small and sound), or else its only object alternative.
            union = self.root_union(schema)
            if union is not None:
                mark = self.snapshot()
                self.resolving.append(pointer)
                self.walk_object(union, pointer, (), False)
                self.resolving.pop()
                if self.unsound == mark.unsound and not self.oversized(mark) and self.params:
                    return self.result(name)
                self.rollback(mark)
            schema, pointer = self.root_branch(schema, pointer)
        if isinstance(schema, Mapping) and not ("properties" in schema or "allOf" in schema) \
                and self.root_map(schema, pointer):
            return self.result(name)
        if not isinstance(schema, Mapping) or not (
            "properties" in schema or "allOf" in schema
        ):
            raise SpaceError(
                f"{self.source}: the schema must describe an object with 'properties' "
                "(or a root oneOf/anyOf of such objects, or a map: 'patternProperties' / "
                "'additionalProperties' with a schema for the entries)"
            )
        self.resolving.append(pointer)
        self.walk_object(schema, pointer, (), False)
        return self.result(name)

    def result(self, name: str) -> Space:
        """The space of everything imported (after the walk of the root)."""
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


#: Warnings about documented default bounds and about unknown keys being carried through:
#: the generated configs stay valid, so ``strict`` does not refuse them.
_LENIENT = ("(DEFAULT_", "configlab carries unknown keys through", "the root is a map",
            "(MAX_PREFIX_GROUPS)")


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
        space = _Importer(inline_metaschemas(schema), source).run(name)
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



__all__ = ["ANNOTATIONS", "ASSERTIONS", "bundle", "space_from_json_schema", "strict_problems"]
