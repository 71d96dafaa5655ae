"""The configuration space: parameters with finite value classes, plus constraints.

A :class:`Space` describes the part of an application's configuration that we know about.  Every
parameter is addressed by a dotted path and exposes a finite tuple of :class:`ValueClass` es —
the boundary and representative values that generation, coverage and correlation count.  Keys of a
config that the space does not describe are never touched (partial knowledge).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from configlab import tree as _tree
from configlab._internal import safeio
from configlab.constraints import ABSENT, Constraint, Node, parse
from configlab.errors import ConfiglabError, ConstraintError, SpaceError
from configlab.space._elements import (
    MapParam,
    MemberParam,
    Route,
    check_containers,
    container_paths,
    set_member,
)
from configlab.space._hints import hints_from_dict, hints_to_dict
from configlab.space._params import Parameter, Violation, parameter_from_spec


def _collect_parameter_specs(node: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    """Flatten the ``parameters`` section: dotted keys and nested namespaces are both allowed."""
    for key, spec in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(spec, Mapping) and "type" not in spec:
            if not spec:
                raise SpaceError(f"{path}: empty namespace (a parameter needs a 'type')")
            _collect_parameter_specs(spec, path, out)
        else:
            if path in out:
                raise SpaceError(f"{path}: parameter declared twice")
            out[path] = spec


# --------------------------------------------------------------------------- the space


def _derived_activation(param: Parameter) -> Constraint:
    condition = param.active_if
    assert condition is not None
    path = param.path

    def holds(env: Mapping[str, Any]) -> bool:
        present = env.get(path, ABSENT) is not ABSENT
        active = condition.evaluate(env)
        if param.optional:
            return active or not present
        return present == active

    return Constraint(
        text=f"{path} present only when ({condition.text})",
        name=f"active_if({path})",
        params=tuple(sorted({*condition.params, path})),
        root=Node("active_if", (path, condition.root)),
        _evaluate=holds,
    )


#: The readers of other space descriptions: ``json_schema`` (a JSON Schema mapping),
#: ``pict`` (PICT model text) and ``infer`` (example configs), each returning a :class:`Space`.
#: They build Spaces, so they import this module; :mod:`configlab.space` (the package face)
#: wires them in here once both are loaded, so this module never imports them back (no import
#: cycle). Importing ``configlab.space._model`` always runs that face first.
IMPORTERS: dict[str, Callable[..., Space]] = {}


@dataclass(frozen=True)
class Space:
    """A configuration space: ordered parameters plus named constraints."""

    parameters: tuple[Parameter, ...]
    constraints: tuple[Constraint, ...] = ()
    name: str = ""
    #: Messages about parts of the source that could not be honoured exactly (JSON Schema import).
    warnings: tuple[str, ...] = ()
    #: Covering-generation defaults read from the source (PICT sub-models, weights, ``~``
    #: values): keys ``groups`` (``[([path, ...], t), ...]``), ``weights``
    #: (``{path: {value: weight}}``) and ``negative`` (``{path: [value, ...]}``).
    hints: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        paths = [p.path for p in self.parameters]
        if len(set(paths)) != len(paths):
            duplicate = next(p for p in paths if paths.count(p) > 1)
            raise SpaceError(f"parameter {duplicate!r} declared twice")
        by_path = {p.path: p for p in self.parameters}
        for p in paths:
            segments = _tree.split_path(p)
            for i in range(1, len(segments)):
                above = by_path.get(_tree.join_path(segments[:i]))
                if above is not None and not (
                        segments[i] == "*" and isinstance(above, MapParam)):
                    raise SpaceError(f"{p}: nested under parameter {above.path!r}")
        object.__setattr__(self, "_by_path", by_path)
        # Element parameters (``a[*].b``, ``m.*``) and member factors are read and written
        # through their containers; every other path directly.
        routes = check_containers(self.parameters)
        object.__setattr__(self, "_routes", routes)
        object.__setattr__(self, "_readers", tuple(
            (p.path, p.read if isinstance(p, MemberParam) else routes[p.path].first)
            for p in self.parameters if isinstance(p, MemberParam) or p.path in routes))
        # Pre-split paths: validation and extraction run in generation's hot loop.
        object.__setattr__(self, "_segments", tuple(
            (p.path, _tree.split_path(p.path)) for p in self.parameters
            if p.path not in routes and not isinstance(p, MemberParam)))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "space") -> Space:
        """Build a space from its space-file form (see docs/space.md)."""
        if not isinstance(data, Mapping):
            raise SpaceError(f"{source}: a space file must be a mapping")
        unknown = set(data) - {
            "name", "parameters", "constraints", "description", "version", "covering"
        }
        if unknown:
            raise SpaceError(f"{source}: unknown top-level key(s) {sorted(unknown)}")
        raw_params = data.get("parameters")
        if not isinstance(raw_params, Mapping) or not raw_params:
            raise SpaceError(f"{source}: 'parameters' must be a non-empty mapping")
        specs: dict[str, Any] = {}
        try:  # every message names the file (`a.b: parameter declared twice` did not)
            _collect_parameter_specs(raw_params, "", specs)
            known = list(specs)
            parameters = tuple(parameter_from_spec(p, s, known) for p, s in specs.items())
        except SpaceError as error:
            raise SpaceError(f"{source}: {error}") from None
        constraints = []
        raw_constraints = data.get("constraints") or []
        if not isinstance(raw_constraints, list):
            raise SpaceError(f"{source}: 'constraints' must be a list")
        for index, item in enumerate(raw_constraints):
            if isinstance(item, Mapping):
                text, cname = item.get("expr"), item.get("name")
            else:
                text, cname = item, None
            if not isinstance(text, str):
                raise SpaceError(f"{source}: constraint #{index + 1} must be a string")
            try:
                constraints.append(
                    parse(text, known, name=str(cname) if cname is not None else None)
                )
            except ConstraintError as error:
                raise ConstraintError(
                    f"{source}: constraint #{index + 1}: {error.reason}",
                    text=text,
                    position=error.position,
                ) from None
        hints = hints_from_dict(data.get("covering"), {p.path: p for p in parameters}, source)
        try:
            return cls(
                parameters, tuple(constraints), name=str(data.get("name", "")), hints=hints
            )
        except SpaceError as error:
            raise SpaceError(f"{source}: {error}") from None

    @classmethod
    def load(cls, path: str | Path, fmt: str | None = None, *, strict: bool = False) -> Space:
        """Read a space file (YAML/JSON), a JSON Schema, or a PICT model (``.pict``).

        ``strict`` refuses a JSON Schema with a keyword that cannot be honoured (see
        :meth:`from_json_schema`).
        """
        location = Path(path)
        # regular files only (a FIFO or /dev/zero would hang), bounded, UTF-8 checked
        if fmt == "pict" or (fmt is None and location.suffix.lower() == ".pict"):
            text = safeio.read_text(location, what="space file", error=SpaceError)
            return IMPORTERS["pict"](text, source=str(location))

        # deferred: the format codecs (YAML, TOML, XML, .env ...: ~30 ms of imports) are
        # needed to read a space file, not by `analyze`, which infers the space
        from configlab import formats

        raw = safeio.read_bytes(location, what="space file", error=SpaceError)
        fmt = fmt or formats.detect_format(location, raw)
        if fmt in ("yaml", "yml"):
            # Space files are read with YAML 1.2 scalars: `values: [yes, no]` stays strings.
            data: Any = formats.loads_yaml_core(formats.decode(raw, str(location)), str(location))
        else:
            data = formats.loads(raw, fmt, source=str(location))
        if _looks_like_json_schema(data):
            return cls.from_json_schema(data, source=str(location), strict=strict)
        return cls.from_dict(data, source=str(location))

    @classmethod
    def from_json_schema(cls, schema: Mapping[str, Any], *, source: str = "schema",
                         strict: bool = False) -> Space:
        """Import a JSON Schema (drafts 7, 2019-09, 2020-12); see ``space.warnings``.

        With ``strict`` a keyword that is not honoured (a warning other than the documented
        default bounds) raises :class:`SpaceError` naming every such keyword and its path.
        """
        return IMPORTERS["json_schema"](schema, source=source, strict=strict)

    @classmethod
    def infer(cls, configs: Iterable[Mapping[str, Any]], *, name: str = "inferred") -> Space:
        """Infer a space from example configs (types, observed ranges and enums)."""
        return IMPORTERS["infer"](configs, name=name)

    # ------------------------------------------------------------------ access
    def param(self, path: str) -> Parameter:
        """The parameter at ``path``."""
        found: dict[str, Parameter] = self.__dict__["_by_path"]
        try:
            return found[path]
        except KeyError:
            raise SpaceError(f"unknown parameter {path!r}") from None

    @property
    def paths(self) -> tuple[str, ...]:
        """Parameter paths in declaration order."""
        return tuple(p.path for p in self.parameters)

    def routed(self, path: str) -> bool:
        """Whether the parameter at ``path`` is read and written through a container: an
        element parameter (``a[*].b``, ``m.*``) or a member factor (``list[member]``)."""
        return path in self.__dict__["_routes"] or isinstance(self.param(path), MemberParam)

    def route(self, path: str) -> Route:
        """The :class:`~configlab.space._elements.Route` of the element parameter ``path``."""
        try:
            return self.__dict__["_routes"][path]  # type: ignore[no-any-return]
        except KeyError:
            raise SpaceError(f"{path!r} is not an element parameter") from None

    def reader(self, path: str) -> Callable[[Mapping[str, Any]], Any]:
        """``config -> value`` of the parameter at ``path``, exactly as :meth:`extract` reads it."""
        for routed, read in self.__dict__["_readers"]:
            if routed == path:
                return read  # type: ignore[no-any-return]
        segments = _tree.split_path(self.param(path).path)

        def read_plain(config: Mapping[str, Any]) -> Any:
            node: Any = config
            for segment in segments:
                if not isinstance(node, Mapping) or segment not in node:
                    return ABSENT
                node = node[segment]
            return node

        return read_plain

    def __contains__(self, path: object) -> bool:
        return path in self.__dict__["_by_path"]

    def __len__(self) -> int:
        return len(self.parameters)

    def finite_constraints(self) -> tuple[Constraint, ...]:
        """User constraints plus one derived constraint per conditional parameter."""
        cached: tuple[Constraint, ...] | None = self.__dict__.get("_finite")
        if cached is None:
            derived = tuple(_derived_activation(p) for p in self.parameters if p.active_if)
            cached = self.constraints + derived
            object.__setattr__(self, "_finite", cached)
        return cached

    def size(self) -> int:
        """Number of value-class combinations (ignoring constraints)."""
        return math.prod(len(p.value_classes) for p in self.parameters)

    # ------------------------------------------------------------------ configs
    def extract(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``path -> value`` for every parameter (ABSENT where the config lacks it)."""
        env: dict[str, Any] = {}
        segments_by_path: tuple[tuple[str, tuple[str, ...]], ...] = self.__dict__["_segments"]
        for path, segments in segments_by_path:
            node: Any = config
            for segment in segments:
                # Plain dicts first: isinstance against the Mapping ABC is slow in this loop.
                if (type(node) is dict or isinstance(node, Mapping)) and segment in node:
                    node = node[segment]
                else:
                    node = ABSENT
                    break
            env[path] = node
        for path, read in self.__dict__["_readers"]:
            env[path] = read(config)
        return env

    def _element_violations(self, config: Mapping[str, Any]) -> list[Violation]:
        """Problems of the elements after the first of every element parameter (the first is
        the parameter's value in :meth:`extract`, checked with the rest of the config)."""
        found: list[Violation] = []
        for path, route in self.__dict__["_routes"].items():
            param = self.param(path)
            for index, value in enumerate(route.values(config)[1:], start=1):
                if value is ABSENT:
                    continue
                problem = param.check_value(value)
                if problem is not None:
                    found.append(Violation(path, param.kind, value,
                                           f"element {index}: {problem}"))
        return found

    def validate(self, config: Mapping[str, Any]) -> list[Violation]:
        """Every violation of ``config`` against the space (empty list = valid)."""
        if not isinstance(config, Mapping):
            return [Violation("", "type", config, "a config must be a mapping")]
        env = self.extract(config)
        violations: list[Violation] = []
        for param in self.parameters:
            value = env[param.path]
            active = param.active_if is None or param.active_if.evaluate(env)
            if not active:
                if value is not ABSENT:
                    violations.append(
                        Violation(
                            param.path,
                            "active_if",
                            value,
                            f"must be absent unless {param.active_if.text}",  # type: ignore[union-attr]
                        ),
                    )
                continue
            if value is ABSENT:
                if not param.optional:
                    violations.append(Violation(param.path, "required", ABSENT, "is required"))
                continue
            problem = param.check_value(value)
            if problem is not None:
                violations.append(Violation(param.path, param.kind, value, problem))
        if self.__dict__["_routes"]:
            violations += self._element_violations(config)
        # A constraint reading a required parameter that is missing cannot be judged; the
        # "is required" violation above already says what is wrong (no second, puzzling one).
        missing = {v.path for v in violations if v.rule == "required"}
        for constraint in self.constraints:
            if missing.intersection(constraint.params) or constraint.evaluate(env):
                continue
            shown = {p: env.get(p) for p in constraint.params}
            values = ", ".join(
                f"{p} absent" if v is ABSENT else f"{p} = {v!r}" for p, v in shown.items()
            )
            violations.append(
                Violation(
                    ", ".join(constraint.params),
                    f"constraint {constraint.name}",
                    shown,
                    f"violates {constraint.text!r} with {values}",
                )
            )
        return violations

    def is_valid(self, config: Mapping[str, Any]) -> bool:
        """Whether ``config`` satisfies every parameter rule and constraint.

        Same verdict as ``not validate(config)``, but stops at the first problem and builds no
        messages (it runs once per generated config).
        """
        if not isinstance(config, Mapping):
            return False
        env = self.extract(config)
        for param in self.parameters:
            value = env[param.path]
            if param.active_if is not None and not param.active_if.evaluate(env):
                if value is not ABSENT:
                    return False
                continue
            if value is ABSENT:
                if not param.optional:
                    return False
                continue
            if param.check_value(value) is not None:
                return False
        if self.__dict__["_routes"] and self._element_violations(config):
            return False
        return all(constraint.evaluate(env) for constraint in self.constraints)

    def build(
        self, assignment: Mapping[str, Any], base: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Nested config from ``path -> value``; ABSENT removes the path; base keys carried."""
        unknown = [path for path in assignment if path not in self]
        if unknown:
            raise SpaceError(f"cannot build a config: unknown parameter(s) {unknown}")
        config: dict[str, Any] = _tree.deep_copy(dict(base)) if base is not None else {}
        routes = self.__dict__["_routes"]
        for param in self.parameters:
            if param.path not in assignment:
                continue
            value = assignment[param.path]
            if param.path in routes:  # every element / entry gets the value
                routes[param.path].write(config, value)
            elif isinstance(param, MemberParam):
                set_member(config, _tree.split_path(param.container), param.member,
                           value is True)
            elif value is ABSENT:
                _tree.delete_path(config, param.path)
            else:
                _tree.set_path(config, param.path, _tree.deep_copy(value))
        return config

    def build_partial(self, assignment: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`build` of a partial assignment (a seeding row), giving element values a home.

        An element parameter (``a[*].b``, ``m.*``) or member factor (``list[m]``) assigned
        without its container gets the container's shortest non-empty value class (one element,
        one entry; the empty list of a members list), so the value is in the config instead of
        being dropped; an assigned container is taken as it is.
        """
        full = dict(assignment)
        needed: list[str] = []
        for path in assignment:
            if path not in self:
                continue  # build() names it
            param = self.param(path)
            if isinstance(param, MemberParam):
                needed.append(param.container)
            elif self.routed(path):
                needed += [container for container, _ in container_paths(path)]
        for container in needed:
            if container not in full and container in self:
                full[container] = _shortest_present(self.param(container))
        return self.build(full)

    def encode(self, config: Mapping[str, Any]) -> tuple[int, ...]:
        """Value-class code of every parameter for ``config`` (-1 where the value fits no class)."""
        env = self.extract(config)
        return tuple(p.classify(env[p.path]) for p in self.parameters)

    def decode(self, codes: Sequence[int], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The config whose parameters take the representatives of ``codes``."""
        if len(codes) != len(self.parameters):
            raise SpaceError(f"expected {len(self.parameters)} codes, got {len(codes)}")
        return self.build(
            {p.path: p.value_classes[c].value for p, c in zip(self.parameters, codes, strict=True)},
            base,
        )

    # ------------------------------------------------------------------ identity
    def to_dict(self) -> dict[str, Any]:
        """Canonical space-file form (round-trips through :meth:`from_dict`)."""
        data: dict[str, Any] = {}
        if self.name:
            data["name"] = self.name
        data["parameters"] = {p.path: p.to_dict() for p in self.parameters}
        if self.constraints:
            data["constraints"] = [
                c.text if c.name == c.text else {"name": c.name, "expr": c.text}
                for c in self.constraints
            ]
        if self.hints:
            covering = hints_to_dict(self.hints, {p.path: p for p in self.parameters})
            if covering:
                data["covering"] = covering
        return data

    def digest(self) -> str:
        """Stable sha256 of the canonical definition (same space => same digest, any process)."""
        # the covering hints are generation defaults, not part of what the space accepts
        definition = {k: v for k, v in self.to_dict().items() if k != "covering"}
        canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), default=repr)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def describe_classes(self) -> dict[str, list[str]]:
        """``path -> [str(value class), ...]`` for documentation and CLI output."""
        return {p.path: [str(c) for c in p.value_classes] for p in self.parameters}


def _looks_like_json_schema(data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    if "$schema" in data:
        return True
    return "parameters" not in data and ("properties" in data or data.get("type") == "object")


#: What :func:`load_space` (and every API taking a space) accepts: a Space, a path to a space
#: file / JSON Schema / PICT model, or a space dict.
SpaceSource = Space | str | os.PathLike[str] | Mapping[str, Any]


def load_space(source: SpaceSource) -> Space:
    """Accept a Space, a path to a space file / JSON Schema / PICT model, or a space dict."""
    if isinstance(source, Space):
        return source
    if isinstance(source, Mapping):
        if _looks_like_json_schema(source):
            return Space.from_json_schema(source)
        return Space.from_dict(source)
    if isinstance(source, str | Path):
        return Space.load(source)
    raise ConfiglabError(f"cannot use {type(source).__name__} as a space")


def _shortest_present(container: Parameter) -> Any:
    """The representative of the container's shortest non-empty (or only present) class.

    Every container kind has a list/mapping class (records and maps their lengths, members
    the list), so ``present`` is never empty.
    """
    present = [c.value for c in container.value_classes
               if isinstance(c.value, list | dict)]
    return min([v for v in present if v] or present, key=len)


__all__ = ["IMPORTERS", "Space", "SpaceSource", "load_space"]
