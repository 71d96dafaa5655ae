"""JSON Schema structures split into parameters: arrays of objects, maps, lists of members.

Where the importer used to model such a property as one whole-value parameter, it now tries,
in order, a finer model (see :mod:`configlab.space._elements`):

* an array whose items are one enum/const set -> a ``members`` list plus one false/true factor
  per member (``select[B]``), so covering reaches pairs of members;
* an array whose items are objects with properties -> a ``records`` length parameter plus
  element parameters ``path[*].field`` walked like any object;
* an object with free keys (``additionalProperties`` schema or one ``patternProperties``
  pattern) -> a ``map`` entry-count parameter with generated keys plus ``path.*`` element
  parameters for the entry values.

Element parameters are active exactly when their container has an element
(``len(container) > 0``); constraints found inside an element are guarded the same way.  When
anything inside cannot be modelled soundly the attempt is rolled back and the caller keeps the
whole-value parameter, so every generated config stays valid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from configlab import tree as _tree
from configlab._internal.saferegex import compile_pattern
from configlab.constraints import parse
from configlab.errors import ConfiglabError, SpaceError
from configlab.space._elements import (
    DEFAULT_MAX_ELEMENTS,
    EACH_ELEMENT,
    EACH_ENTRY,
    MapParam,
    MemberParam,
    MembersParam,
    RecordsParam,
    element_position,
    member_path,
)
from configlab.space._schema_base import (
    ANNOTATIONS,
    _ImporterState,
    _quote_path,
    _Snapshot,
    _Unsupported,
)
from configlab.space._values import Synthesizer, search_pattern

#: Containers nested deeper than this (``a[*].b[*].c[*]``) stay whole values.
MAX_WILDCARDS = 2
#: An element with more parameters than this (a Kubernetes container has ~200) stays one
#: whole-value parameter: every element parameter is a factor of covering and of the
#: constraint model, and hundreds of them would make generation slow for little gain.
MAX_ELEMENT_PARAMETERS = 40
#: Element parameters of one whole import, at most (first come, first split; later containers
#: stay whole values): a Kubernetes Deployment has 35 arrays of objects, and splitting all of
#: them doubles its parameters and makes its pairwise suite take minutes instead of seconds.
MAX_ELEMENT_PARAMETERS_TOTAL = 48
#: Most generated keys of a map (its largest value class).
MAP_KEYS = 3
#: A ``minItems`` of 1 on a members list is a constraint over every factor; above this many
#: members that constraint is too large to enumerate, and the list stays one parameter.
MAX_COUNTED_MEMBERS = 10
#: Keywords of an array that element parameters do not express.
_ARRAY_BLOCKERS = ("contains", "prefixItems", "additionalItems", "unevaluatedItems", "enum",
                   "const", "anyOf", "oneOf", "allOf", "not", "if")
#: Keywords of a map that entry parameters do not express.
_MAP_BLOCKERS = ("dependentSchemas", "unevaluatedProperties", "enum", "const", "anyOf",
                 "oneOf", "allOf", "not", "if", "required", "dependentRequired",
                 "dependencies")


#: Keywords an alternative of a root union may use (anything else: not merged).
_BRANCH_KEYWORDS = ("properties", "required", "type", "additionalProperties")


def _finite(schema: Any) -> list[Any] | None:
    """The values of a ``const``/``enum``-only sub-schema (None for any other schema)."""
    if not isinstance(schema, Mapping) or any(
            k not in ANNOTATIONS and k not in ("const", "enum", "type") for k in schema):
        return None
    if "const" in schema:
        return [schema["const"]]
    values = schema.get("enum")
    return list(values) if isinstance(values, list) else None


def _merge_branches(branches: list[Mapping[str, Any]]) -> dict[str, Any] | None:
    """One schema per property name over all alternatives (None: they cannot be merged)."""
    names: dict[str, list[Any]] = {}
    for branch in branches:
        for name, sub in (branch.get("properties") or {}).items():
            names.setdefault(str(name), []).append(sub)
    merged: dict[str, Any] = {}
    for name, subs in names.items():
        real = [s for s in subs if not isinstance(s, bool)]
        if not real:
            if any(s is True for s in subs):
                merged[name] = {}
            continue
        if all(s == real[0] for s in real):
            merged[name] = real[0]
            continue
        values: list[Any] = []
        for sub in real:
            found = _finite(sub)
            if found is None:
                return None
            values += [v for v in found if v not in values]
        merged[name] = {"enum": values}
    return merged


def _branch_condition(branch: Mapping[str, Any], merged: Mapping[str, Any]) -> dict[str, Any]:
    """The condition (a sub-schema over the merged properties) of one alternative."""
    properties = branch.get("properties") or {}
    forbidden = [n for n, sub in properties.items() if sub is False and n in merged]
    if branch.get("additionalProperties") is False:
        forbidden += [n for n in merged if n not in properties]
    condition: dict[str, Any] = {
        "required": list(branch.get("required") or []),
        "properties": {n: sub for n, sub in properties.items()
                       if not isinstance(sub, bool) and sub != merged.get(n)},
    }
    if forbidden:
        condition["not"] = {"anyOf": [{"required": [n]} for n in forbidden]}
    return condition


def _wildcards(segments: tuple[str, ...]) -> int:
    return sum(1 for s in segments if s == EACH_ENTRY or s.endswith(EACH_ELEMENT)) + sum(
        1 for s in segments[:-1] if element_position(s) is not None)


#: Keywords of a tuple that positional element parameters do not express.
_TUPLE_BLOCKERS = ("contains", "unevaluatedItems", "enum", "const", "anyOf", "oneOf", "allOf",
                   "not", "if")


def _natural(schema: Mapping[str, Any], key: str, source: str, pointer: str) -> int | None:
    value = schema.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SpaceError(f"{source}: {pointer}/{key}: must be a natural number")
    return value


def _objects_only(schema: Any) -> Any:
    """``schema`` without ``null`` among its types when it describes an object."""
    if not isinstance(schema, Mapping) or not isinstance(schema.get("type"), list) \
            or "object" not in schema["type"]:
        return schema
    return {**schema, "type": "object"}


class _StructureImporter(_ImporterState):
    """Records, maps and members lists (mixed into the importer after its other parts)."""

    # -- provided by the other parts of the importer
    def property(self, sub: Any, pointer: str, segments: tuple[str, ...],
                 optional: bool) -> None:  # pragma: no cover - defined by _Importer
        raise NotImplementedError

    def members(self, items: Any, pointer: str) -> list[Any] | None:  # pragma: no cover
        raise NotImplementedError

    def synth(self) -> Synthesizer:
        """The importer's synthesiser (created on first use)."""
        if self.synthesizer is None:
            self.synthesizer = Synthesizer(self.root)
        return self.synthesizer

    # ------------------------------------------------------------------ arrays
    def structured_array(self, schema: Mapping[str, Any], pointer: str,
                         segments: tuple[str, ...], optional: bool, nullable: bool) -> bool:
        """Model an array as members factors or records; False: the caller models it."""
        if self.positional_records(schema, pointer, segments, optional, nullable):
            return True
        if any(k in schema for k in _ARRAY_BLOCKERS) or not isinstance(
                schema.get("items"), Mapping):
            return False
        if self.member_factors(schema, pointer, segments, optional, nullable):
            return True
        return self.records(schema, pointer, segments, optional, nullable)

    def member_factors(self, schema: Mapping[str, Any], pointer: str,
                       segments: tuple[str, ...], optional: bool, nullable: bool) -> bool:
        """A list of enum members: a ``members`` list plus one factor per member."""
        if _wildcards(segments):
            return False
        members = self.members(schema["items"], pointer)
        if members is None or len(members) < 2:
            return False
        low = _natural(schema, "minItems", self.source, pointer) or 0
        high = _natural(schema, "maxItems", self.source, pointer)
        if low > 1 or (high is not None and high < len(members)) or (
                low == 1 and len(members) > MAX_COUNTED_MEMBERS):
            return False  # a count the factors cannot hold: one subset parameter instead
        path = _tree.join_path(segments)
        paths = [member_path(path, m) for m in members]
        if any(p is None or p in self.params for p in paths) or len(set(paths)) != len(paths):
            return False
        valid = self.synth().checker(schema)
        if not all(valid([m]) for m in members) or not valid(list(members)) or (
                low == 0 and not valid([])):
            return False  # the members do not combine freely
        mark = self.snapshot()
        container = self.build(MembersParam, pointer, {
            "path": path, "optional": optional, "nullable": nullable,
            "members": tuple(members), "min_items": low, "max_items": high})
        if container is None:
            self.rollback(mark)
            return False
        self.params[path] = container
        guard = f"{_quote_path(segments)} != null"
        condition = parse(guard, list(self.params)) if optional or nullable else None
        for member, member_at in zip(members, paths, strict=True):
            assert member_at is not None
            active = None if condition is None else dataclasses.replace(
                condition, name=f"active_if({member_at})")
            self.params[member_at] = MemberParam(member_at, active_if=active, container=path,
                                                 member=member)
        if low == 1:
            factors = " or ".join(f"{_quote_path(_tree.split_path(str(p)))} == true"
                                  for p in paths)
            self.add(f"{pointer}/minItems",
                     factors if condition is None else f"({guard}) -> ({factors})")
            if self.oversized(mark):
                self.rollback(mark)
                return False
        return True

    def records(self, schema: Mapping[str, Any], pointer: str, segments: tuple[str, ...],
                optional: bool, nullable: bool) -> bool:
        """An array of objects: a ``records`` length parameter plus ``path[*].field`` s."""
        if _wildcards(segments) >= MAX_WILDCARDS:
            return False
        try:
            items, _ = self.resolve(schema["items"], f"{pointer}/items")
        except _Unsupported:
            return False
        if not isinstance(items, Mapping) or not isinstance(items.get("properties"), Mapping) \
                or not items["properties"] \
                or [t for t in self.types(items) if t != "null"] not in ([], ["object"]):
            return False
        low = _natural(schema, "minItems", self.source, pointer) or 0
        high = _natural(schema, "maxItems", self.source, pointer)
        if schema.get("uniqueItems") is True and (high is None or high > 1):
            return False  # equal elements (one value per field) would repeat
        mark = self.snapshot()
        if high is None:
            high = max(DEFAULT_MAX_ELEMENTS, low)
            self.unbounded_lists.append(pointer)
        if not self.add_records(mark, pointer, segments, optional, nullable, low, high):
            return False
        element = (*segments[:-1], segments[-1] + EACH_ELEMENT)
        before = len(self.constraints)
        # Elements are always generated as objects: a "null" item type would make the
        # element an optional object (its required keys then conditional).
        self.property(_objects_only(items), f"{pointer}/items", element, False)
        return self.finish_elements(mark, segments, element, before)

    def positional_records(self, schema: Mapping[str, Any], pointer: str,
                           segments: tuple[str, ...], optional: bool, nullable: bool) -> bool:
        """A tuple of objects (``prefixItems``; drafts 4-7: ``items`` as a list): a ``records``
        length parameter plus ``path[i].field`` for the fields of position ``i``.

        Position matters there: each position has its own schema, so each gets its own element
        parameters, active when the list reaches it (``len(path) > i``).  Lists stop at the
        last position (elements after it would need the schema of the rest).
        """
        key = "prefixItems" if isinstance(schema.get("prefixItems"), list) else "items"
        positions = schema.get(key)
        if not isinstance(positions, list) or not positions \
                or any(k in schema for k in _TUPLE_BLOCKERS) \
                or schema.get("uniqueItems") is True or _wildcards(segments) >= MAX_WILDCARDS:
            return False
        resolved = []
        for index, position in enumerate(positions):
            try:
                target, _ = self.resolve(position, f"{pointer}/{key}/{index}")
            except _Unsupported:
                return False
            if not isinstance(target, Mapping) or not isinstance(target.get("properties"),
                                                                 Mapping) \
                    or not target["properties"] \
                    or [t for t in self.types(target) if t != "null"] not in ([], ["object"]):
                return False
            resolved.append(target)
        low = _natural(schema, "minItems", self.source, pointer) or 0
        high = _natural(schema, "maxItems", self.source, pointer)
        top = len(resolved) if high is None else min(high, len(resolved))
        if low > top:
            return False
        mark = self.snapshot()
        if not self.add_records(mark, pointer, segments, optional, nullable, low, top):
            return False
        parts: list[tuple[int, str, int, int]] = []
        for index, target in enumerate(resolved[:top]):
            element = (*segments[:-1], f"{segments[-1]}[{index}]")
            before = len(self.constraints)
            self.property(_objects_only(target), f"{pointer}/{key}/{index}", element, False)
            parts.append((index, _tree.join_path(element), before, len(self.constraints)))
        added = list(self.params)[mark.params + 1:]
        total = sum(1 for p in self.params if _wildcards(_tree.split_path(p)))
        if not added or len(added) > MAX_ELEMENT_PARAMETERS \
                or total > MAX_ELEMENT_PARAMETERS_TOTAL or self.unsound > mark.unsound \
                or len(self.dropped) > mark.dropped or self.oversized(mark) \
                or any(here in self.params for _, here, _, _ in parts):
            self.rollback(mark)
            return False
        for index, here, start, end in parts:
            self.guard_elements([p for p in added if p.startswith(f"{here}.")],
                                f"len({_quote_path(segments)}) > {index}", start, end)
        return True

    def add_records(self, mark: _Snapshot, pointer: str, segments: tuple[str, ...],
                    optional: bool, nullable: bool, low: int, high: int) -> bool:
        """Add the ``records`` container at ``segments`` (False, rolled back to ``mark``:
        refused)."""
        path = _tree.join_path(segments)
        container = self.build(RecordsParam, pointer, {
            "path": path, "optional": optional, "nullable": nullable,
            "min_items": low, "max_items": high})
        if container is None:
            self.rollback(mark)
            return False
        self.params[path] = container
        return True

    def guard_elements(self, paths: list[str], guard: str, start: int, end: int) -> None:
        """Make ``paths`` active only when ``guard`` holds, and guard the constraints found
        inside the element (``self.constraints[start:end]``) the same way."""
        known = list(self.params)
        for path in paths:
            param = self.params[path]
            text = guard if param.active_if is None else f"({guard}) and ({param.active_if.text})"
            self.params[path] = dataclasses.replace(
                param, active_if=parse(text, known, name=f"active_if({path})"))
        self.constraints[start:end] = [(name, f"({guard}) -> ({text})")
                                       for name, text in self.constraints[start:end]]

    # ------------------------------------------------------------------ maps
    def map_entries(self, schema: Mapping[str, Any], pointer: str, segments: tuple[str, ...],
                    optional: bool, nullable: bool) -> bool:
        """An object with free keys: a ``map`` count parameter plus ``path.*`` entries."""
        plan = self.map_plan(schema, pointer) if _wildcards(segments) < MAX_WILDCARDS else None
        if plan is None:
            return False
        entry, entry_pointer, key_pattern, low, high, keys = plan
        try:
            entry, _ = self.resolve(entry, entry_pointer)
        except _Unsupported:
            return False
        mark = self.snapshot()
        path = _tree.join_path(segments)
        container = self.build(MapParam, pointer, {
            "path": path, "optional": optional, "nullable": nullable, "keys": tuple(keys),
            "min_entries": low, "max_entries": high if high is not None else 2**31 - 1,
            "key_pattern": key_pattern})
        if container is None:
            self.rollback(mark)
            return False
        self.params[path] = container
        element = (*segments, EACH_ENTRY)
        before = len(self.constraints)
        self.property(_objects_only(entry), entry_pointer, element, False)
        return self.finish_elements(mark, segments, element, before)

    def map_plan(self, schema: Mapping[str, Any], pointer: str
                 ) -> tuple[Any, str, str | None, int, int | None, list[str]] | None:
        """(entry schema, its pointer, key pattern, minProperties, maxProperties, generated
        keys) of an object with free keys only; None when it is not such a map."""
        if schema.get("properties") or any(k in schema for k in _MAP_BLOCKERS):
            return None
        found = self.entry_schema(schema, pointer)
        if found is None:
            return None
        entry, entry_pointer, key_pattern = found
        low = _natural(schema, "minProperties", self.source, pointer) or 0
        high = _natural(schema, "maxProperties", self.source, pointer)
        keys = self.map_keys(schema, key_pattern, max(low, min(MAP_KEYS, high or MAP_KEYS)))
        if keys is None or len(keys) < low:
            return None
        return entry, entry_pointer, key_pattern, low, high, keys

    def entry_schema(self, schema: Mapping[str, Any], pointer: str
                     ) -> tuple[Any, str, str | None] | None:
        """(entry schema, its pointer, full-match key pattern) of a map, None if not a map."""
        patterns = schema.get("patternProperties") or {}
        additional = schema.get("additionalProperties")
        names = schema.get("propertyNames")
        key_pattern: str | None = None
        if isinstance(names, Mapping):
            # Key lengths are honoured by the generated keys (map_keys checks them).
            if set(names) - {"pattern", "type", "description", "title", "minLength",
                             "maxLength"} \
                    or not isinstance(names.get("pattern", ""), str):
                return None
            if "pattern" in names:
                key_pattern = search_pattern(names["pattern"])
        elif names is not None:
            return None
        if isinstance(patterns, Mapping) and len(patterns) == 1 and additional in (None, False):
            raw, entry = next(iter(patterns.items()))
            if key_pattern is not None:
                return None
            escaped = str(raw).replace("~", "~0").replace("/", "~1")
            return entry, f"{pointer}/patternProperties/{escaped}", search_pattern(str(raw))
        if patterns or not isinstance(additional, Mapping):
            return None
        return additional, f"{pointer}/additionalProperties", key_pattern

    def map_keys(self, schema: Mapping[str, Any], key_pattern: str | None,
                 count: int) -> list[str] | None:
        """``count`` distinct keys the map accepts (None when they cannot be generated)."""
        # deferred: loads google-re2, needed only for maps whose keys have a pattern
        from configlab.space._regex import shortest_match

        base = "key"
        matcher = None
        if key_pattern is not None:
            try:
                matcher = compile_pattern(key_pattern, where="propertyNames")
                found = shortest_match(key_pattern, 1)
            except ConfiglabError:
                return None
            if not found:
                return None
            base = found
        names = schema.get("propertyNames")
        lengths = names if isinstance(names, Mapping) else {}
        shortest, longest = lengths.get("minLength", 0), lengths.get("maxLength", 2**31)
        if not isinstance(shortest, int) or not isinstance(longest, int):
            return None
        keys: list[str] = []
        # Variants of the shortest key: one more letter or digit first (``[a-z]+`` keys
        # accept "aa" but not "a1"), then numbered ones.
        suffixes = ["", *"abcdefghijklmnopqrstuvwxyz0123456789", *map(str, range(10, 10 + count))]
        for suffix in suffixes:
            candidate = base + suffix
            if (matcher is not None and not matcher.fullmatch(candidate)) \
                    or not shortest <= len(candidate) <= longest:
                continue
            keys.append(candidate)
            if len(keys) == count:
                return keys
        return None

    # ------------------------------------------------------------------ root maps
    def root_map(self, schema: Mapping[str, Any], pointer: str) -> bool:
        """A root object with free keys only (``patternProperties``/``additionalProperties``):
        imported as generated keys, each holding the entry schema (False: not such a root).

        A path cannot be empty, so the root cannot be a ``map`` parameter; instead
        ``MAP_KEYS`` keys the map accepts (``minProperties`` of them required, at most
        ``maxProperties``) become top-level properties sharing the entry schema, so every
        config has 0..``MAP_KEYS`` entries, each with the entry's own parameters.
        """
        plan = self.map_plan(schema, pointer)
        if plan is None:
            return False
        entry, entry_pointer, _, low, _, keys = plan
        mark = self.snapshot()
        for index, key in enumerate(keys):
            self.property(entry, entry_pointer, (key,), index >= low)
        if len(self.dropped) > mark.dropped:  # a required entry could not be modelled
            self.rollback(mark)
            return False
        keyword = "patternProperties" if "/patternProperties/" in entry_pointer \
            else "additionalProperties"
        self.warn(pointer, keyword, f"the root is a map: modelled as the generated keys "
                                    f"{', '.join(keys)} ({low} required)")
        return True

    # ------------------------------------------------------------------ root unions
    def root_union(self, schema: Mapping[str, Any]) -> dict[str, Any] | None:
        """A root ``oneOf``/``anyOf`` of object alternatives as one object plus a constraint.

        The alternatives' properties are merged (a name with different ``const``/``enum``
        schemas gets the union of their values; ``true``/``false`` sub-schemas allow anything
        / nothing); each alternative becomes a condition on the merged parameters -- its
        required keys present, its discriminator values, its forbidden keys absent -- and the
        union becomes the object-level ``oneOf``/``anyOf`` constraint over those conditions.
        None when the alternatives are not that simple (the caller then refuses the schema
        or keeps its only object alternative).
        """
        for keyword in ("oneOf", "anyOf"):
            options = schema.get(keyword)
            if not isinstance(options, list) or len(options) < 2 or any(
                    k not in ANNOTATIONS and k not in (keyword, "type", "required")
                    for k in schema):
                continue
            # keys the root requires whatever the alternative (CMakePresets: "version")
            shared = schema.get("required", [])
            if not isinstance(shared, list) or not all(isinstance(n, str) for n in shared):
                return None
            branches: list[Mapping[str, Any]] = []
            for index, option in enumerate(options):
                try:
                    branch, _ = self.resolve(option, f"#/{keyword}/{index}")
                except _Unsupported:
                    return None
                if not isinstance(branch, Mapping) or any(
                        k not in ANNOTATIONS and k not in _BRANCH_KEYWORDS for k in branch) \
                        or branch.get("type", "object") != "object" \
                        or branch.get("additionalProperties", True) not in (True, False) \
                        or not isinstance(branch.get("properties", {}), Mapping):
                    return None
                branches.append(branch)
            merged = _merge_branches(branches)
            if merged is None:
                return None
            conditions = [_branch_condition(b, merged) for b in branches]
            if any(n not in merged for n in shared):
                return None
            required = [n for n in merged if n in shared or all(
                n in (b.get("required") or []) for b in branches)]
            rest = {k: v for k, v in schema.items() if k != keyword}
            return {**rest, "type": "object", "properties": merged, "required": required,
                    keyword: conditions}
        return None

    # ------------------------------------------------------------------ shared
    def finish_elements(self, mark: _Snapshot, segments: tuple[str, ...],
                        element: tuple[str, ...], before: int) -> bool:
        """Make element parameters active exactly when the container has an element.

        Rolls back (returns False) when the element part was not modelled soundly: then the
        caller models the container as whole values.
        """
        here = _tree.join_path(element)
        added = list(self.params)[mark.params + 1:]
        inside = [p for p in added if p == here or p.startswith(f"{here}.")]
        total = sum(1 for p in self.params if p not in inside and _wildcards(
            _tree.split_path(p))) + len(inside)
        if not inside or len(inside) != len(added) or len(inside) > MAX_ELEMENT_PARAMETERS \
                or total > MAX_ELEMENT_PARAMETERS_TOTAL \
                or self.unsound > mark.unsound \
                or len(self.dropped) > mark.dropped or self.oversized(mark) \
                or (here.endswith(EACH_ELEMENT) and here in self.params):
            self.rollback(mark)
            return False
        self.guard_elements(inside, f"len({_quote_path(segments)}) > 0", before,
                            len(self.constraints))
        return True


__all__ = ["MAP_KEYS", "MAX_COUNTED_MEMBERS", "MAX_ELEMENT_PARAMETERS",
           "MAX_ELEMENT_PARAMETERS_TOTAL", "MAX_WILDCARDS"]
