"""Bridge between a :class:`~configlab.space._model.Space` and the finite (value-code) world.

Parameter ``i`` of the :class:`~configlab._internal.finite.FiniteModel` is
``space.parameters[i]``; its codes ``0..n-1`` index ``value_classes``.  Every entry of
``space.finite_constraints()`` (user constraints plus one derived ``active_if(<path>)``
constraint per conditional parameter) becomes one :class:`FiniteConstraint` whose ``allows``
evaluates the constraint on the class representatives.

:class:`SpaceModel` also turns code rows back into nested configs quickly (precomputed path
segments, no per-call path parsing) with exactly the semantics of :meth:`Space.decode`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from configlab import tree as _tree
from configlab._internal.finite import FiniteConstraint, FiniteModel
from configlab.constraints import ABSENT, Constraint
from configlab.errors import SpaceError
from configlab.space import MemberParam, Route, Space, ValueClass, set_member

#: Labels of interior ("typical") value classes; every other class is an edge class.
INTERIOR_LABELS = frozenset({"nominal"})


def is_edge_class(value_class: ValueClass) -> bool:
    """Whether a value class is an edge: everything but ``nominal`` and ``example:...`` classes."""
    label = value_class.label
    return label not in INTERIOR_LABELS and not label.startswith("example:")


@dataclass(frozen=True)
class _Slot:
    """How one parameter is written into a nested config."""

    parents: tuple[str, ...]
    leaf: str
    path: str


#: Writes one value of an element parameter or member factor into a config being built.
_Writer = Callable[[dict[str, Any], Any], None]


def _writer(space: Space, index: int) -> _Writer:
    """How parameter ``index`` (an element parameter or a member factor) is written."""
    param = space.parameters[index]
    if isinstance(param, MemberParam):
        container, member = _tree.split_path(param.container), param.member

        def write_member(config: dict[str, Any], value: Any) -> None:
            set_member(config, container, member, value is True)

        return write_member
    return space.route(param.path).write


def _allows(constraint: Constraint, paths: tuple[str, ...],
            tables: tuple[tuple[Any, ...], ...]) -> Callable[[tuple[int, ...]], bool]:
    def allows(codes: tuple[int, ...]) -> bool:
        env = {path: table[code] for path, table, code in zip(paths, tables, codes, strict=True)}
        return constraint.evaluate(env)

    return allows


@dataclass(frozen=True)
class SpaceModel:
    """A space together with its finite model and fast code-row decoding.

    Attributes:
        space: the space.
        model: its finite model (parameter ``i`` = ``space.parameters[i]``).
        values: per parameter, the representative of each value class (``ABSENT`` for absent).
        edges: per parameter, whether each value class is an edge class (see :func:`is_edge_class`).
        constraints: ``space.finite_constraints()``, aligned with ``model.constraints``.
    """

    space: Space
    model: FiniteModel
    values: tuple[tuple[Any, ...], ...]
    edges: tuple[tuple[bool, ...], ...]
    constraints: tuple[Constraint, ...]
    _slots: tuple[_Slot, ...] = field(repr=False, compare=False)
    #: (index, route or None, writer) of the parameters written through a container, in
    #: declaration order (containers come first, so they are written before their elements).
    _routed: tuple[tuple[int, Route | None, _Writer], ...] = field(
        default=(), repr=False, compare=False)
    #: (index, parent segments, leaf) of the parameters written directly, in order.
    _plain: tuple[tuple[int, tuple[str, ...], str], ...] = field(
        default=(), repr=False, compare=False)

    @property
    def labels(self) -> tuple[tuple[str, ...], ...]:
        """Per parameter, the label of each value class."""
        return tuple(tuple(c.label for c in p.value_classes) for p in self.space.parameters)

    def decode(self, codes: Sequence[int], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The nested config taking the representatives of ``codes`` (same as ``Space.decode``)."""
        if len(codes) != len(self._slots):
            raise SpaceError(f"expected {len(self._slots)} codes, got {len(codes)}")
        return self.build([table[c] for table, c in zip(self.values, codes, strict=True)], base)

    def build(self, values: Sequence[Any], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Nested config from one raw value (or ``ABSENT``) per parameter, over ``base``."""
        root = self._build_plain(values, base)
        if base is None:
            found: dict[Any, list[Any]] = {}
            for index, route, write in self._routed:
                if route is not None:
                    route.write_new(root, values[index], found)
                else:
                    write(root, values[index])
            return root
        for index, _, write in self._routed:
            write(root, values[index])
        return root

    def _build_plain(self, values: Sequence[Any], base: Mapping[str, Any] | None
                     ) -> dict[str, Any]:
        if base is None:
            root: dict[str, Any] = {}
            copy = _tree.copy_value
            for index, parents, leaf in self._plain:
                value = values[index]
                if value is ABSENT:
                    continue
                node = root
                for segment in parents:
                    child = node.get(segment)
                    if child is None:
                        child = node[segment] = {}
                    node = child
                # Fresh containers: a caller mutating one config never alters another.
                node[leaf] = copy(value) if isinstance(value, list | dict) else value
            return root
        root = _tree.deep_copy(dict(base))
        for slot, value in zip(self._slots, values, strict=True):
            if slot.leaf == "":
                continue
            if value is ABSENT:
                _tree.delete_path(root, slot.path)
                continue
            node = root
            for segment in slot.parents:
                child = node.get(segment)
                if not isinstance(child, dict):
                    child = node[segment] = {}
                node = child
            node[slot.leaf] = _tree.deep_copy(value) if isinstance(value, list | dict) else value
        return root


def space_model(space: Space) -> SpaceModel:
    """Build the :class:`SpaceModel` of ``space`` (cached on nothing: call once per use)."""
    index = {p.path: i for i, p in enumerate(space.parameters)}
    values = tuple(tuple(c.value for c in p.value_classes) for p in space.parameters)
    edges = tuple(tuple(is_edge_class(c) for c in p.value_classes) for p in space.parameters)
    constraints = space.finite_constraints()
    finite: list[FiniteConstraint] = []
    for constraint in constraints:
        scope = tuple(sorted({index[path] for path in constraint.params if path in index}))
        paths = tuple(space.parameters[i].path for i in scope)
        tables = tuple(values[i] for i in scope)
        finite.append(FiniteConstraint(constraint.name, scope, _allows(constraint, paths, tables)))
    model = FiniteModel(
        names=tuple(p.path for p in space.parameters),
        domain_sizes=tuple(len(v) for v in values),
        constraints=tuple(finite),
    )
    slots = []
    routed: list[tuple[int, Route | None, _Writer]] = []
    for i, p in enumerate(space.parameters):
        if space.routed(p.path):  # written by ``_routed`` (an empty leaf skips the slot)
            slots.append(_Slot((), "", p.path))
            route = None if isinstance(p, MemberParam) else space.route(p.path)
            routed.append((i, route, _writer(space, i)))
            continue
        segments = _tree.split_path(p.path)
        slots.append(_Slot(segments[:-1], segments[-1], p.path))
    plain = tuple((i, slot.parents, slot.leaf) for i, slot in enumerate(slots) if slot.leaf)
    return SpaceModel(space, model, values, edges, constraints, tuple(slots), tuple(routed),
                      plain)


__all__ = ["INTERIOR_LABELS", "SpaceModel", "is_edge_class", "space_model"]
