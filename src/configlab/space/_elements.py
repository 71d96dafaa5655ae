"""Parameters inside structured values: elements of arrays of objects, map entries, list members.

Three container kinds let t-way covering and boundary values reach inside structures:

* ``records`` (:class:`RecordsParam`) -- a list of objects at ``steps``; its value classes are
  lengths (empty, one, typical, max).  The fields of every element are *element parameters*
  addressed ``steps[*].name``: each has its own value classes, and a generated config gives
  that value to the field of every element of the list.
* ``map`` (:class:`MapParam`) -- an object with free keys at ``services``; value classes are
  entry counts with generated keys.  ``services.*`` addresses the value of every entry
  (``services.*.image`` a field of every entry when entries are objects).
* ``members`` (:class:`MembersParam`) -- a list whose items come from a finite set; each
  possible member ``m`` is a factor of its own, a :class:`MemberParam` at ``select[m]``
  (false/true: absent from or present in the list), so a pairwise suite holds every pair of
  members.  The list is written with the present members in declaration order.

Reading a config back (``Space.extract``), an element parameter takes the value of the first
element (first entry) -- the one its value classes describe; validation checks every element.
:class:`Route` is the compiled form of a path with ``[*]`` / ``*`` segments.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from configlab import tree as _tree
from configlab.constraints import ABSENT
from configlab.errors import SpaceError
from configlab.space._params import (
    Parameter,
    Scalar,
    ValueClass,
    _choice_key,
    _show_type,
    register_kind,
)

#: A path segment ``name[*]``: every element of the list at ``name``.
EACH_ELEMENT = "[*]"
#: A path segment ``*``: every entry of the map at the parent path.
EACH_ENTRY = "*"
#: Largest number of elements/entries of a container without an upper bound in its source.
DEFAULT_MAX_ELEMENTS = 8


#: A path segment ``name[3]`` before the last: the element at that position of the list at
#: ``name`` (where position matters: tuples, ``prefixItems``).
_POSITION = re.compile(r"^(.+)\[(0|[1-9][0-9]*)\]$")


def element_position(segment: str) -> tuple[str, int] | None:
    """``(list name, position)`` of a ``name[3]`` segment, None for any other segment."""
    found = _POSITION.match(segment)
    return None if found is None else (found.group(1), int(found.group(2)))


def is_wildcard(path: str) -> bool:
    """Whether ``path`` addresses the elements of a list (``a[*].b``, ``a[0].b``) or the entries
    of a map (``m.*``)."""
    segments = _tree.split_path(path)
    return any(s == EACH_ENTRY or s.endswith(EACH_ELEMENT) for s in segments) or any(
        element_position(s) is not None for s in segments[:-1])


def member_path(container: str, member: Scalar) -> str | None:
    """The path of the factor "``member`` is in the list at ``container``" (None: no path).

    A string member is written as itself, another scalar as JSON: ``select[B]``, ``ports[80]``.
    """
    label = member if isinstance(member, str) else json.dumps(member)
    if not label or any(c in label for c in "`[]"):
        return None
    segments = _tree.split_path(container)
    return _tree.join_path((*segments[:-1], f"{segments[-1]}[{label}]"))


# --------------------------------------------------------------------------- containers


def _spec_int(path: str, spec: Mapping[str, Any], key: str) -> dict[str, int]:
    if key not in spec:
        return {}
    value = spec[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise SpaceError(f"{path}: {key} must be an integer")
    return {key: value}


def _spec_scalars(path: str, spec: Mapping[str, Any], key: str) -> tuple[Scalar, ...]:
    values = spec.get(key)
    if not isinstance(values, list) or any(isinstance(v, dict | list) for v in values):
        raise SpaceError(f"{path}: {key} must be a list of scalars")
    return tuple(values)


def _lengths(low: int, high: int, cap: int) -> list[tuple[int, str]]:
    """Length classes of a container: the smallest, one, a typical middle, the largest."""
    top = min(high, cap)
    found: dict[int, str] = {}
    for count, label in ((low, "empty" if low == 0 else "min-items"),
                         (max(low, min(1, top)), "one"),
                         (max(low, min(top, 2)), "typical"),
                         (top, "max-items" if top == high else f"{top}-items")):
        found.setdefault(count, label)
    return sorted(found.items())


@dataclass(frozen=True)
class RecordsParam(Parameter):
    """A list of objects whose fields are element parameters (``path[*].field``).

    Value classes are lengths; each representative is a list of empty objects that the element
    parameters fill.  ``unique``: no two elements may be equal (JSON Schema ``uniqueItems``).
    """

    kind: ClassVar[str] = "records"

    min_items: int = 0
    max_items: int = DEFAULT_MAX_ELEMENTS

    def __post_init__(self) -> None:
        if self.min_items < 0 or self.min_items > self.max_items:
            raise SpaceError(f"{self.path}: bad item bounds [{self.min_items}, {self.max_items}]")

    def _base_classes(self) -> list[ValueClass]:
        return [ValueClass(label, [{} for _ in range(count)])
                for count, label in _lengths(self.min_items, self.max_items, self.max_items)]

    def _check(self, value: Any) -> str | None:
        if not isinstance(value, list):
            return f"expected a list of objects, got {_show_type(value)}"
        if not self.min_items <= len(value) <= self.max_items:
            return f"{len(value)} items is outside [{self.min_items}, {self.max_items}]"
        for index, element in enumerate(value):
            if not isinstance(element, dict):
                return f"item {index}: expected an object, got {_show_type(element)}"
        return None

    def _classify_present(self, value: Any) -> int:
        return _nearest_length(self.value_classes, len(value))

    def _spec(self) -> dict[str, Any]:
        return {"min_items": self.min_items, "max_items": self.max_items}

    @staticmethod
    def spec_kwargs(path: str, spec: Mapping[str, Any]) -> dict[str, Any]:
        """Constructor arguments from the space-file form."""
        return {**_spec_int(path, spec, "min_items"), **_spec_int(path, spec, "max_items")}


def _nearest_length(classes: Sequence[ValueClass], length: int) -> int:
    best, best_distance = -1, math.inf
    for index, cls in enumerate(classes):
        if isinstance(cls.value, list | dict):
            distance = abs(len(cls.value) - length)
            if distance < best_distance:
                best, best_distance = index, distance
    return best


@dataclass(frozen=True)
class MapParam(Parameter):
    """An object with free keys; ``path.*`` addresses the value of every entry.

    ``keys`` are the generated key names (the largest class uses all of them); a config may
    hold any other keys matching ``key_pattern`` (a full-match regex, None: any key).
    """

    kind: ClassVar[str] = "map"

    keys: tuple[str, ...] = ("key",)
    min_entries: int = 0
    max_entries: int = DEFAULT_MAX_ELEMENTS
    key_pattern: str | None = None

    def __post_init__(self) -> None:
        if self.min_entries < 0 or self.min_entries > self.max_entries:
            raise SpaceError(
                f"{self.path}: bad entry bounds [{self.min_entries}, {self.max_entries}]")
        if len(set(self.keys)) != len(self.keys) or not all(
                isinstance(k, str) and k for k in self.keys):
            raise SpaceError(f"{self.path}: keys must be distinct non-empty strings")
        if len(self.keys) < self.min_entries:
            raise SpaceError(f"{self.path}: {len(self.keys)} key(s) for at least "
                             f"{self.min_entries} entries")
        for key in self.keys:
            problem = self._key_problem(key)
            if problem is not None:
                raise SpaceError(f"{self.path}: key {key!r}: {problem}")

    def _key_problem(self, key: str) -> str | None:
        if self.key_pattern is None:
            return None
        # deferred: loads google-re2, needed only for maps whose keys have a pattern
        from configlab._internal.saferegex import compile_pattern

        compiled = self.__dict__.get("_key_regex")
        if compiled is None:
            compiled = compile_pattern(self.key_pattern, where=self.path, error=SpaceError)
            object.__setattr__(self, "_key_regex", compiled)
        return None if compiled.fullmatch(key) else f"does not match {self.key_pattern!r}"

    def _base_classes(self) -> list[ValueClass]:
        return [ValueClass(label.replace("items", "entries"),
                           {key: {} for key in self.keys[:count]})
                for count, label in _lengths(self.min_entries, self.max_entries,
                                             len(self.keys))]

    def _check(self, value: Any) -> str | None:
        if not isinstance(value, dict):
            return f"expected a mapping, got {_show_type(value)}"
        if not self.min_entries <= len(value) <= self.max_entries:
            return f"{len(value)} entries is outside [{self.min_entries}, {self.max_entries}]"
        for key in value:
            problem = self._key_problem(str(key))
            if problem is not None:
                return f"key {key!r} {problem}"
        return None

    def _classify_present(self, value: Any) -> int:
        return _nearest_length(self.value_classes, len(value))

    def _spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"keys": list(self.keys), "min_entries": self.min_entries,
                                "max_entries": self.max_entries}
        if self.key_pattern is not None:
            spec["key_pattern"] = self.key_pattern
        return spec

    @staticmethod
    def spec_kwargs(path: str, spec: Mapping[str, Any]) -> dict[str, Any]:
        """Constructor arguments from the space-file form."""
        kwargs: dict[str, Any] = {**_spec_int(path, spec, "min_entries"),
                                  **_spec_int(path, spec, "max_entries")}
        if "keys" in spec:
            kwargs["keys"] = _spec_scalars(path, spec, "keys")
        if spec.get("key_pattern") is not None:
            kwargs["key_pattern"] = str(spec["key_pattern"])
        return kwargs


@dataclass(frozen=True)
class MembersParam(Parameter):
    """A list of distinct ``members`` built from one :class:`MemberParam` factor per member.

    Its one present class is the list itself (the factors decide what is in it); the checks are
    the list's: only known members, each at most once, ``min_items``..``max_items`` of them.
    """

    kind: ClassVar[str] = "members"

    members: tuple[Scalar, ...] = ()
    min_items: int = 0
    max_items: int | None = None

    def __post_init__(self) -> None:
        if not self.members:
            raise SpaceError(f"{self.path}: a members list needs at least one member")
        keys = [_choice_key(m) for m in self.members]
        if len(set(keys)) != len(keys):
            raise SpaceError(f"{self.path}: duplicate members")
        top = len(self.members) if self.max_items is None else self.max_items
        if self.min_items < 0 or self.min_items > top:
            raise SpaceError(f"{self.path}: bad item bounds [{self.min_items}, {top}]")

    def _base_classes(self) -> list[ValueClass]:
        return [ValueClass("list", [])]

    def _check(self, value: Any) -> str | None:
        if not isinstance(value, list):
            return f"expected a list, got {_show_type(value)}"
        known = {_choice_key(m) for m in self.members}
        seen: set[tuple[str, Any]] = set()
        for index, item in enumerate(value):
            try:
                key = _choice_key(item)
                hashable = key in known
            except TypeError:
                hashable = False
            if not hashable:
                return f"item {index}: {item!r} is not one of {list(self.members)!r}"[:200]
            if key in seen:
                return f"item {index}: {item!r} appears twice"
            seen.add(key)
        top = len(self.members) if self.max_items is None else self.max_items
        if not self.min_items <= len(value) <= top:
            return f"{len(value)} items is outside [{self.min_items}, {top}]"
        return None

    def _classify_present(self, value: Any) -> int:
        return 0

    def _spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"members": list(self.members), "min_items": self.min_items}
        if self.max_items is not None:
            spec["max_items"] = self.max_items
        return spec

    @staticmethod
    def spec_kwargs(path: str, spec: Mapping[str, Any]) -> dict[str, Any]:
        """Constructor arguments from the space-file form."""
        return {"members": _spec_scalars(path, spec, "members"),
                **_spec_int(path, spec, "min_items"), **_spec_int(path, spec, "max_items")}


@dataclass(frozen=True)
class MemberParam(Parameter):
    """Whether ``member`` is in the list at ``container`` (a :class:`MembersParam`)."""

    kind: ClassVar[str] = "member"

    container: str = ""
    member: Scalar = None

    def _base_classes(self) -> list[ValueClass]:
        return [ValueClass("false", False), ValueClass("true", True)]

    def _check(self, value: Any) -> str | None:
        return None if isinstance(value, bool) else f"expected a boolean, got {_show_type(value)}"

    def _spec(self) -> dict[str, Any]:
        return {"container": self.container, "member": self.member}

    @staticmethod
    def spec_kwargs(path: str, spec: Mapping[str, Any]) -> dict[str, Any]:
        """Constructor arguments from the space-file form."""
        member = spec.get("member")
        if not isinstance(spec.get("container"), str) or isinstance(member, dict | list):
            raise SpaceError(f"{path}: a member needs 'container' (a path) and 'member' "
                             "(a scalar)")
        return {"container": spec["container"], "member": member}

    def read(self, config: Mapping[str, Any]) -> Any:
        """``True``/``False`` for the list at the container (ABSENT where there is none)."""
        node: Any = config
        for segment in _tree.split_path(self.container):
            if not isinstance(node, Mapping) or segment not in node:
                return ABSENT
            node = node[segment]
        if node is None:
            return ABSENT
        if not isinstance(node, list):
            return False
        wanted = _choice_key(self.member)
        for item in node:
            try:
                if _choice_key(item) == wanted:
                    return True
            except TypeError:  # pragma: no cover - _choice_key never hashes
                continue
        return False


#: The kinds of this module, registered as space-file kinds with their keys.
ELEMENT_KINDS: tuple[type[Parameter], ...] = (RecordsParam, MapParam, MembersParam, MemberParam)
for _kind, _keys in zip(ELEMENT_KINDS, (
        ("min_items", "max_items"), ("keys", "min_entries", "max_entries", "key_pattern"),
        ("members", "min_items", "max_items"), ("container", "member")), strict=True):
    register_kind(_kind, _keys)


# --------------------------------------------------------------------------- routes


@dataclass(frozen=True)
class Route:
    """How a path with ``[*]`` / ``[3]`` / ``*`` segments reaches its values.

    ``steps`` are ``("key", name)`` (into a mapping), ``("each",)`` (every list element),
    ``("at", "3")`` (the list element at that position, where there is one) and
    ``("entry",)`` (every map value); ``leaf`` is the key written in each reached mapping, or
    None when the path ends in ``*`` (every entry's value is the leaf).
    """

    path: str
    steps: tuple[tuple[str, ...], ...]
    leaf: str | None

    @functools.cached_property
    def _last_wildcard(self) -> int:
        """Index of the last ``each``/``entry`` step (-1: none)."""
        return max((i for i, step in enumerate(self.steps) if step[0] != "key"), default=-1)

    def parents(self, config: Any, create: bool = False) -> Iterator[Any]:
        """Every mapping the leaf lives in (or, for a ``*`` leaf, every map).

        ``create``: make the plain keys after the last wildcard where an element lacks them
        (an element's nested object is written by its first present field).
        """
        return iter(self._reach(config, create))

    def _reach(self, config: Any, create: bool) -> list[Any]:
        last = self._last_wildcard
        nodes = [config]
        for index, step in enumerate(self.steps):
            following: list[Any] = []
            kind = step[0]
            if kind == "key":
                name = step[1]
                make = create and index > last
                for node in nodes:
                    if isinstance(node, dict):  # checked first: the ABC check is slow
                        if make and name not in node:
                            node[name] = {}
                        if name in node:
                            following.append(node[name])
                    elif isinstance(node, Mapping) and name in node:
                        following.append(node[name])
            elif kind == "each":
                for node in nodes:
                    if isinstance(node, list):
                        following.extend(node)
            elif kind == "at":
                position = int(step[1])
                for node in nodes:
                    if isinstance(node, list) and len(node) > position:
                        following.append(node[position])
            else:
                for node in nodes:
                    if isinstance(node, dict | Mapping):
                        following.extend(node.values())
            nodes = following
        return [n for n in nodes if isinstance(n, dict | Mapping)]

    def first(self, config: Any) -> Any:
        """The value of the first element/entry (ABSENT when there is none)."""
        node = config
        for step in self.steps:
            if step[0] == "key":
                if not isinstance(node, Mapping) or step[1] not in node:
                    return ABSENT
                node = node[step[1]]
            elif step[0] in ("each", "at"):
                position = int(step[1]) if step[0] == "at" else 0
                if not isinstance(node, list) or len(node) <= position:
                    return ABSENT
                node = node[position]
            else:
                if not isinstance(node, Mapping) or not node:
                    return ABSENT
                node = next(iter(node.values()))
        if not isinstance(node, Mapping):
            return ABSENT
        if self.leaf is None:
            return next(iter(node.values())) if node else ABSENT
        return node.get(self.leaf, ABSENT)

    def values(self, config: Any) -> list[Any]:
        """The value at every element/entry (ABSENT where an element lacks the key)."""
        found: list[Any] = []
        for parent in self.parents(config):
            if self.leaf is None:
                found.extend(parent.values())
            else:
                found.append(parent.get(self.leaf, ABSENT))
        return found

    def write_new(self, config: Any, value: Any, found: dict[Any, list[Any]]) -> None:
        """:meth:`write` into a config being built from nothing (the generation hot path).

        Absent values need no removal there, and the mappings reached are remembered in
        ``found`` (one dict per build): the fields of one element share them.
        """
        if value is ABSENT:
            return
        parents = found.get(self.steps)
        if parents is None:
            parents = found[self.steps] = self._reach(config, True)
        structured = isinstance(value, list | dict)
        leaf = self.leaf
        for parent in parents:
            for key in (list(parent) if leaf is None else (leaf,)):
                parent[key] = _tree.copy_value(value) if structured else value

    def write(self, config: Any, value: Any) -> None:
        """Give every element/entry ``value`` (fresh copies; ABSENT removes the key)."""
        structured = isinstance(value, list | dict)
        for parent in self.parents(config, create=value is not ABSENT):
            keys = list(parent) if self.leaf is None else [self.leaf]
            for key in keys:
                if value is ABSENT:
                    parent.pop(key, None)
                else:
                    parent[key] = _tree.copy_value(value) if structured else value


def compile_route(path: str) -> Route:
    """The :class:`Route` of a path with ``name[*]`` / ``*`` segments."""
    segments = _tree.split_path(path)
    steps: list[tuple[str, ...]] = []
    for segment in segments[:-1]:
        position = element_position(segment)
        if segment == EACH_ENTRY:
            steps.append(("entry",))
        elif segment.endswith(EACH_ELEMENT):
            steps += [("key", segment[: -len(EACH_ELEMENT)]), ("each",)]
        elif position is not None:
            steps += [("key", position[0]), ("at", str(position[1]))]
        else:
            steps.append(("key", segment))
    last = segments[-1]
    if last.endswith(EACH_ELEMENT):
        raise SpaceError(f"{path}: a path cannot end in {EACH_ELEMENT} (a list of scalars is "
                         "a list parameter)")
    if last == EACH_ENTRY:
        return Route(path, tuple(steps), None)
    return Route(path, tuple(steps), last)


def container_paths(path: str) -> list[tuple[str, type[Parameter]]]:
    """The containers a wildcard path needs: ``(container path, its kind)`` in order."""
    segments = _tree.split_path(path)
    needed: list[tuple[str, type[Parameter]]] = []
    for index, segment in enumerate(segments):
        if segment == EACH_ENTRY:
            if index == 0:
                raise SpaceError(f"{path}: a '*' segment needs a map parameter before it")
            needed.append((_tree.join_path(segments[:index]), MapParam))
        elif segment.endswith(EACH_ELEMENT) and index < len(segments) - 1:
            name = segment[: -len(EACH_ELEMENT)]
            needed.append((_tree.join_path((*segments[:index], name)), RecordsParam))
        elif index < len(segments) - 1 and (position := element_position(segment)):
            needed.append((_tree.join_path((*segments[:index], position[0])), RecordsParam))
    return needed


def check_containers(parameters: Sequence[Parameter]) -> dict[str, Route]:
    """Routes of the wildcard parameters; SpaceError when a container is missing or follows.

    Every ``a[*].x`` needs a ``records`` parameter ``a`` declared before it, every ``m.*`` a
    ``map`` parameter ``m``; every member factor its ``members`` list before it.
    """
    position = {p.path: i for i, p in enumerate(parameters)}
    routes: dict[str, Route] = {}
    for index, param in enumerate(parameters):
        if isinstance(param, MemberParam):
            holder = position.get(param.container)
            if holder is None or is_wildcard(param.container) \
                    or not isinstance(parameters[holder], MembersParam) or holder > index:
                raise SpaceError(f"{param.path}: needs a members parameter "
                                 f"{param.container!r} declared before it")
            continue
        if not is_wildcard(param.path):
            continue
        for container, kind in container_paths(param.path):
            holder = position.get(container)
            if holder is None or not isinstance(parameters[holder], kind) or holder > index:
                raise SpaceError(f"{param.path}: needs a {kind.kind} parameter {container!r} "
                                 "declared before it")
        routes[param.path] = compile_route(param.path)
    return routes


def set_member(config: dict[str, Any], container: tuple[str, ...], member: Any,
               present: bool) -> None:
    """Put ``member`` into (``present``) or out of the list at ``container``, if there is one.

    A member already in the list is not added twice; the list itself is written by its
    ``members`` parameter (declared before the factors, so it is there first).
    """
    node: Any = config
    for segment in container:
        if not isinstance(node, dict) or segment not in node:
            return
        node = node[segment]
    if not isinstance(node, list):
        return
    wanted = _choice_key(member)
    at = [i for i, item in enumerate(node)
          if not isinstance(item, dict | list) and _choice_key(item) == wanted]
    if present and not at:
        node.append(member)
    elif not present:
        for index in reversed(at):
            del node[index]


__all__ = [
    "DEFAULT_MAX_ELEMENTS",
    "EACH_ELEMENT",
    "EACH_ENTRY",
    "ELEMENT_KINDS",
    "MapParam",
    "MemberParam",
    "MembersParam",
    "RecordsParam",
    "Route",
    "check_containers",
    "compile_route",
    "container_paths",
    "element_position",
    "is_wildcard",
    "member_path",
    "set_member",
]
