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
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from configlab import tree as _tree
from configlab._internal.saferegex import SafePattern, compile_pattern
from configlab.constraints import ABSENT, Constraint, Node, parse, values_equal
from configlab.errors import ConfiglabError, ConstraintError, SpaceError
from configlab.space._hints import hints_from_dict, hints_to_dict

#: Default bounds for numbers declared without them (documented in the space-file reference).
DEFAULT_INT_MIN = -(2**31)
DEFAULT_INT_MAX = 2**31 - 1
DEFAULT_FLOAT_MIN = -1e9
DEFAULT_FLOAT_MAX = 1e9
DEFAULT_STRING_MAX = 64
#: At most this many power-of-two classes per integer parameter (spread over the exponents).
MAX_POWER_CLASSES = 4

Scalar = bool | int | float | str | None


@dataclass(frozen=True)
class ValueClass:
    """One finite class of values of a parameter, with a concrete representative ``value``."""

    label: str
    value: Any

    def __str__(self) -> str:
        if self.value is ABSENT:
            return self.label
        return f"{self.label} ({_show(self.value)})"


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, float) else repr(value)


@dataclass(frozen=True)
class Violation:
    """One reason a config is invalid: where, which rule, the offending value and a message."""

    path: str
    rule: str
    value: Any
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Parameter:
    """Base of every parameter kind.  Subclasses define the values they accept and their classes."""

    kind: ClassVar[str] = ""

    path: str
    optional: bool = False
    nullable: bool = False
    active_if: Constraint | None = None
    description: str = ""
    inferred: bool = False
    default: Any = None

    # -- overridden per kind
    def _base_classes(self) -> list[ValueClass]:
        raise NotImplementedError

    def _check(self, value: Any) -> str | None:
        """Return why ``value`` (not None/ABSENT) is not acceptable, or None."""
        raise NotImplementedError

    def _classify_present(self, value: Any) -> int:
        classes = self.value_classes
        for index, cls in enumerate(classes):
            if cls.value is not ABSENT and cls.value is not None and values_equal(cls.value, value):
                return index
        return -1

    def _spec(self) -> dict[str, Any]:
        return {}

    # -- shared behaviour
    @property
    def value_classes(self) -> tuple[ValueClass, ...]:
        """The finite value classes: boundaries and representatives, then null, then absent."""
        cached: tuple[ValueClass, ...] | None = self.__dict__.get("_classes")
        if cached is None:
            classes = self._base_classes()
            if self.nullable:
                classes.append(ValueClass("null", None))
            if self.optional or self.active_if is not None:
                classes.append(ValueClass("absent", ABSENT))
            cached = tuple(classes)
            object.__setattr__(self, "_classes", cached)
        return cached

    @property
    def conditional(self) -> bool:
        """Whether the parameter is only present when its ``active_if`` holds."""
        return self.active_if is not None

    def classify(self, value: Any) -> int:
        """Index of the value class ``value`` falls in; -1 when it fits none (invalid value)."""
        classes = self.value_classes
        if value is ABSENT:
            return len(classes) - 1 if classes and classes[-1].value is ABSENT else -1
        if value is None:
            for index, cls in enumerate(classes):
                if cls.label == "null":
                    return index
            return -1
        if self._check(value) is not None:
            return -1
        return self._classify_present(value)

    def check_value(self, value: Any) -> str | None:
        """Why ``value`` is not a valid present value of this parameter (None when it is)."""
        if value is ABSENT:
            return None if self.optional or self.conditional else "is required"
        if value is None:
            return None if self.nullable else "must not be null"
        return self._check(value)

    def to_dict(self) -> dict[str, Any]:
        """The canonical space-file form of this parameter."""
        spec: dict[str, Any] = {"type": self.kind, **self._spec()}
        if self.optional:
            spec["optional"] = True
        if self.nullable:
            spec["nullable"] = True
        if self.active_if is not None:
            spec["active_if"] = self.active_if.text
        if self.default is not None:
            spec["default"] = self.default
        if self.description:
            spec["description"] = self.description
        if self.inferred:
            spec["inferred"] = True
        return spec


@dataclass(frozen=True)
class BoolParam(Parameter):
    """A boolean switch: classes ``false`` and ``true``."""

    kind: ClassVar[str] = "bool"

    def _base_classes(self) -> list[ValueClass]:
        return [ValueClass("false", False), ValueClass("true", True)]

    def _check(self, value: Any) -> str | None:
        return None if isinstance(value, bool) else f"expected a boolean, got {_show_type(value)}"


def _show_type(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"[:80]


def _spread(items: list[int], limit: int) -> list[int]:
    """Pick ``limit`` items evenly, always the first and last: keeps classes few on wide ranges."""
    if len(items) <= limit:
        return items
    picked = {items[round(i * (len(items) - 1) / (limit - 1))] for i in range(limit)}
    return sorted(picked)


@dataclass(frozen=True)
class IntParam(Parameter):
    """An integer in ``[min, max]`` on a grid of ``step`` (from ``min``)."""

    kind: ClassVar[str] = "int"

    min: int = DEFAULT_INT_MIN
    max: int = DEFAULT_INT_MAX
    step: int = 1

    def __post_init__(self) -> None:
        if self.min > self.max:
            raise SpaceError(f"{self.path}: min {self.min} is greater than max {self.max}")
        if self.step < 1:
            raise SpaceError(f"{self.path}: step must be a positive integer, got {self.step}")

    def _on_grid(self, value: int) -> bool:
        return (value - self.min) % self.step == 0

    def _snap(self, value: int) -> int:
        return self.min + ((value - self.min) // self.step) * self.step

    def _base_classes(self) -> list[ValueClass]:
        lo, hi, step = self.min, self._snap(self.max), self.step
        found: dict[int, str] = {}

        def add(value: int, label: str) -> None:
            if lo <= value <= hi and self._on_grid(value) and value not in found:
                found[value] = label

        add(lo, "min")
        add(hi, "max")
        add(lo + step, "min+1")
        add(hi - step, "max-1")
        for special in (0, 1, -1):
            add(special, str(special))
        powers = [k for k in range(1, 63) if lo <= 2**k <= hi and self._on_grid(2**k)]
        for k in _spread(powers, MAX_POWER_CLASSES):
            add(2**k, f"2^{k}")
        add(self._snap(lo + (hi - lo) // 2), "nominal")
        return [ValueClass(found[value], value) for value in sorted(found)]

    def _check(self, value: Any) -> str | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return f"expected an integer, got {_show_type(value)}"
        if value < self.min or value > self.max:
            return f"{value} is outside [{self.min}, {self.max}]"
        if not self._on_grid(value):
            return f"{value} is not {self.min} + a multiple of {self.step}"
        return None

    def _classify_present(self, value: Any) -> int:
        return _nearest_numeric(self.value_classes, value)

    def _spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"min": self.min, "max": self.max}
        if self.step != 1:
            spec["step"] = self.step
        return spec


def _nearest_numeric(classes: Sequence[ValueClass], value: float) -> int:
    best, best_distance = -1, math.inf
    for index, cls in enumerate(classes):
        if _is_number(cls.value):
            distance = abs(cls.value - value)
            if distance < best_distance:
                best, best_distance = index, distance
    return best


@dataclass(frozen=True)
class FloatParam(Parameter):
    """A real number in ``[min, max]``; ``min+``/``max-`` are the adjacent representable floats."""

    kind: ClassVar[str] = "float"

    min: float = DEFAULT_FLOAT_MIN
    max: float = DEFAULT_FLOAT_MAX

    def __post_init__(self) -> None:
        if not (math.isfinite(self.min) and math.isfinite(self.max)):
            raise SpaceError(f"{self.path}: float bounds must be finite")
        if self.min > self.max:
            raise SpaceError(f"{self.path}: min {self.min} is greater than max {self.max}")

    def _base_classes(self) -> list[ValueClass]:
        lo, hi = float(self.min), float(self.max)
        found: dict[float, str] = {}

        def add(value: float, label: str) -> None:
            if lo <= value <= hi and value not in found:
                found[value] = label

        add(lo, "min")
        add(hi, "max")
        add(math.nextafter(lo, hi), "min+")
        add(math.nextafter(hi, lo), "max-")
        for special in (0.0, 1.0, -1.0):
            add(special, repr(special))
        add(lo + (hi - lo) / 2, "nominal")
        return [ValueClass(found[value], value) for value in sorted(found)]

    def _check(self, value: Any) -> str | None:
        if not _is_number(value):
            return f"expected a number, got {_show_type(value)}"
        if isinstance(value, float) and math.isnan(value):
            return "NaN is not a valid value"
        if value < self.min or value > self.max:
            return f"{value} is outside [{self.min}, {self.max}]"
        return None

    def _classify_present(self, value: Any) -> int:
        return _nearest_numeric(self.value_classes, value)

    def _spec(self) -> dict[str, Any]:
        return {"min": self.min, "max": self.max}


#: Longest string value configlab generates (a longer ``max_length`` gets a ``long-N`` class).
MAX_GENERATED_STRING = 65_536

#: Largest magnitude of an int parameter's bounds (what 64-bit applications read).
MAX_INT_BOUND = 2**63


def _shortened(text: str | None, width: int = 80) -> str | None:
    """``text`` cut to ``width`` characters (``...`` marks the cut) for error messages."""
    return text if text is None or len(text) <= width else text[:width] + "..."


def _short_number(value: int) -> str:
    """``value`` written out, or as ``~1e400`` when it is long."""
    if abs(value) < 10**30:
        return str(value)
    return f"{'-' if value < 0 else ''}~1e{int(math.log10(abs(value)))}"


def _choice_key(value: Any) -> tuple[str, Any]:
    """Hashable key with configuration equality: 1 == 1.0, but True != 1."""
    if isinstance(value, bool):
        return ("bool", value)
    if _is_number(value):
        return ("number", value)
    return (type(value).__name__, value)


@dataclass(frozen=True)
class ChoiceParam(Parameter):
    """One of an explicit list of scalar values (each value is its own class)."""

    kind: ClassVar[str] = "choice"

    values: tuple[Scalar, ...] = ()

    def __post_init__(self) -> None:
        if not self.values:
            raise SpaceError(f"{self.path}: a choice needs at least one value")
        seen: set[tuple[str, Any]] = set()  # linear, not pairwise: 20,000 values stay fast
        for value in self.values:
            if isinstance(value, dict | list):
                raise SpaceError(f"{self.path}: choice values must be scalars, got {value!r}")
            key = _choice_key(value)
            if key in seen:
                raise SpaceError(f"{self.path}: duplicate choice value {value!r}")
            seen.add(key)
        if None in self.values and not self.nullable:
            # ``null`` among the values makes the parameter nullable (one "null" class).
            object.__setattr__(self, "nullable", True)

    def _base_classes(self) -> list[ValueClass]:
        values = [v for v in self.values if v is not None]
        bare = [v if isinstance(v, str) else json.dumps(v) for v in values]
        # A label must name one class: where bare labels collide (the string "1" and the
        # number 1) or shadow the null/absent classes, strings are shown quoted.
        reserved = {"null", "absent"}
        counts = Counter(bare)
        return [
            ValueClass(
                json.dumps(v) if counts[label] > 1 or label in reserved else label, v
            )
            for v, label in zip(values, bare, strict=True)
        ]

    def _check(self, value: Any) -> str | None:
        keys: frozenset[tuple[str, Any]] | None = self.__dict__.get("_keys")
        if keys is None:
            keys = frozenset(_choice_key(v) for v in self.values)
            object.__setattr__(self, "_keys", keys)
        try:
            if _choice_key(value) in keys:
                return None
        except TypeError:  # an unhashable value (list, dict) is never a choice
            pass
        return f"{value!r} is not one of {list(self.values)!r}"

    def _spec(self) -> dict[str, Any]:
        return {"values": list(self.values)}


@dataclass(frozen=True)
class StringParam(Parameter):
    """A string with length bounds, an optional full-match regex pattern and example values."""

    kind: ClassVar[str] = "string"

    min_length: int = 0
    max_length: int = DEFAULT_STRING_MAX
    pattern: str | None = None
    examples: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.min_length < 0 or self.min_length > self.max_length:
            raise SpaceError(
                f"{self.path}: bad length bounds [{self.min_length}, {self.max_length}]"
            )
        if self.min_length > MAX_GENERATED_STRING:
            raise SpaceError(f"{self.path}: min_length {self.min_length} is larger than the "
                             f"{MAX_GENERATED_STRING} characters configlab generates")
        if self.pattern is not None:
            compile_pattern(self.pattern, where=self.path, error=SpaceError)
        for example in self.examples:
            problem = self._check(example)
            if problem is not None:
                raise SpaceError(f"{self.path}: example {example!r}: {problem}")
        _ = self.value_classes  # fail at definition time when no string can satisfy the rules

    def _base_classes(self) -> list[ValueClass]:
        from configlab.space._regex import longest_match, shortest_match

        candidates: list[tuple[str, str | None]] = []
        if self.pattern is None:
            candidates.append(
                ("empty" if self.min_length == 0 else "min-length", "x" * self.min_length)
            )
            nominal_length = min(max(self.min_length, 5), self.max_length)
            candidates.append(("nominal", "value"[:nominal_length].ljust(nominal_length, "x")))
            if self.max_length <= MAX_GENERATED_STRING:
                candidates.append(("max-length", "x" * self.max_length))
            else:  # max_length 10**9 would build a 1 GB string per config: stop at the cap
                candidates.append((f"long-{MAX_GENERATED_STRING}", "x" * MAX_GENERATED_STRING))
        else:
            longest = min(self.max_length, MAX_GENERATED_STRING)
            candidates.append(("pattern-shortest", shortest_match(self.pattern, self.min_length)))
            candidates.append(("pattern-longest", longest_match(self.pattern, longest)))
        for example in self.examples:
            candidates.append((f"example:{example}", example))
        classes: list[ValueClass] = []
        seen: list[str] = []
        for label, value in candidates:
            if value is None or value in seen or self._check(value) is not None:
                continue
            seen.append(value)
            classes.append(ValueClass(label, value))
        if not classes:
            raise SpaceError(
                f"{self.path}: no string satisfies pattern {_shortened(self.pattern)!r} within "
                f"length "
                f"[{self.min_length}, {self.max_length}]; add an example value"
            )
        return classes

    @property
    def _regex(self) -> SafePattern:
        # RE2 (linear time): `(a+)+$` against "aaaa...!" cannot hang a config check
        compiled: SafePattern | None = self.__dict__.get("_compiled")
        if compiled is None:
            compiled = compile_pattern(self.pattern or "", where=self.path, error=SpaceError)
            object.__setattr__(self, "_compiled", compiled)
        return compiled

    def _check(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return f"expected a string, got {_show_type(value)}"
        if not self.min_length <= len(value) <= self.max_length:
            return f"length {len(value)} is outside [{self.min_length}, {self.max_length}]"
        if self.pattern is not None and not self._regex.fullmatch(value):
            return f"{value!r} does not match pattern {self.pattern!r}"
        return None

    def _classify_present(self, value: Any) -> int:
        exact = super()._classify_present(value)
        if exact >= 0:
            return exact
        # Otherwise the class whose representative has the nearest length (ties: first).
        classes = self.value_classes
        best, best_distance = -1, math.inf
        for index, cls in enumerate(classes):
            if isinstance(cls.value, str) and not cls.label.startswith("example:"):
                distance = abs(len(cls.value) - len(value))
                if distance < best_distance:
                    best, best_distance = index, distance
        return best

    def _spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"min_length": self.min_length, "max_length": self.max_length}
        if self.pattern is not None:
            spec["pattern"] = self.pattern
        if self.examples:
            spec["examples"] = list(self.examples)
        return spec


@dataclass(frozen=True)
class ListParam(Parameter):
    """A list of scalars of one kind (``item``), with ``min_items``..``max_items`` elements."""

    kind: ClassVar[str] = "list"

    item: Parameter = field(default_factory=lambda: StringParam("item"))
    min_items: int = 0
    max_items: int = 8

    def __post_init__(self) -> None:
        if self.min_items < 0 or self.min_items > self.max_items:
            raise SpaceError(f"{self.path}: bad item bounds [{self.min_items}, {self.max_items}]")
        if isinstance(self.item, ListParam):
            raise SpaceError(f"{self.path}: lists of lists are not supported")

    def _items(self, count: int) -> list[Any]:
        values = [c.value for c in self.item.value_classes if c.value is not ABSENT]
        return [values[i % len(values)] for i in range(count)]

    def _base_classes(self) -> list[ValueClass]:
        lengths: dict[int, str] = {}
        for count, label in (
            (self.min_items, "empty" if self.min_items == 0 else "min-items"),
            (max(self.min_items, min(1, self.max_items)), "one"),
            (self.max_items, "max-items"),
        ):
            lengths.setdefault(count, label)
        return [ValueClass(label, self._items(count)) for count, label in sorted(lengths.items())]

    def _check(self, value: Any) -> str | None:
        if not isinstance(value, list):
            return f"expected a list, got {_show_type(value)}"
        if not self.min_items <= len(value) <= self.max_items:
            return f"{len(value)} items is outside [{self.min_items}, {self.max_items}]"
        for index, element in enumerate(value):
            problem = self.item.check_value(element)
            if problem is not None:
                return f"item {index}: {problem}"
        return None

    def _classify_present(self, value: Any) -> int:
        classes = self.value_classes
        best, best_distance = -1, math.inf
        for index, cls in enumerate(classes):
            if isinstance(cls.value, list):
                distance = abs(len(cls.value) - len(value))
                if distance < best_distance:
                    best, best_distance = index, distance
        return best

    def _spec(self) -> dict[str, Any]:
        item = self.item.to_dict()
        return {"item": item, "min_items": self.min_items, "max_items": self.max_items}


@dataclass(frozen=True)
class JsonParam(Parameter):
    """A structured value (map, array of objects, union, recursive part) as whole instances.

    ``values`` are ``(label, instance)`` pairs -- the value classes, each a complete valid
    value (e.g. ``min``, ``max``, ``branch:1``).  ``schema`` is a self-contained JSON Schema
    (local ``$ref`` s only) that accepted values must validate against; without it any JSON
    value is accepted.  Present values classify to the equal instance, else to the class of
    the same JSON type and nearest size.
    """

    kind: ClassVar[str] = "json"

    values: tuple[tuple[str, Any], ...] = ()
    schema: Any = None

    def __post_init__(self) -> None:
        if not self.values:
            raise SpaceError(f"{self.path}: a json parameter needs at least one value")
        labels = [label for label, _ in self.values]
        if len(set(labels)) != len(labels):
            raise SpaceError(f"{self.path}: duplicate value labels {labels}")
        for label, value in self.values:
            problem = self._check(value)
            if problem is not None:
                raise SpaceError(f"{self.path}: value {label!r}: {problem}")

    def _base_classes(self) -> list[ValueClass]:
        return [ValueClass(label, value) for label, value in self.values]

    def _validator(self) -> Any:
        cached = self.__dict__.get("_compiled")
        if cached is None:
            import jsonschema

            cls = jsonschema.validators.validator_for(
                self.schema, default=jsonschema.Draft202012Validator)
            try:
                cls.check_schema(self.schema)
            except jsonschema.SchemaError as error:
                raise SpaceError(f"{self.path}: invalid schema: {error.message}") from None
            cached = cls(self.schema, format_checker=cls.FORMAT_CHECKER)
            object.__setattr__(self, "_compiled", cached)
        return cached

    def _check(self, value: Any) -> str | None:
        if self.schema is None:
            return None
        error = next(iter(self._validator().iter_errors(value)), None)
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path)
        return f"{where + ': ' if where else ''}{error.message}"[:200]

    def _classify_present(self, value: Any) -> int:
        exact = super()._classify_present(value)
        if exact >= 0:
            return exact
        best, best_key = -1, (math.inf, math.inf)
        for index, cls in enumerate(self.value_classes):
            if cls.value is ABSENT or cls.value is None or type(cls.value) is not type(value):
                continue
            # Same discriminator first (equal scalar entries of a mapping), then nearest size.
            shared = sum(1 for k, v in cls.value.items() if not isinstance(v, dict | list)
                         and k in value and values_equal(value[k], v)) \
                if isinstance(value, dict) else 0
            key = (-shared, abs(_size(cls.value) - _size(value)))
            if key < best_key:
                best, best_key = index, key
        return best if best >= 0 else 0

    def _spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"values": {label: value for label, value in self.values}}
        if self.schema is not None:
            spec["schema"] = self.schema
        return spec


def _size(value: Any) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_size(v) for v in value.values())
    if isinstance(value, list):
        return len(value) + sum(_size(v) for v in value)
    return 1


PARAMETER_KINDS: dict[str, type[Parameter]] = {
    cls.kind: cls
    for cls in (BoolParam, IntParam, FloatParam, ChoiceParam, StringParam, ListParam, JsonParam)
}
_KIND_ALIASES = {
    "boolean": "bool",
    "integer": "int",
    "number": "float",
    "enum": "choice",
    "str": "string",
    "array": "list",
}


# --------------------------------------------------------------------------- parsing specs

_COMMON_KEYS = {"type", "optional", "nullable", "active_if", "description", "inferred", "default"}
_KIND_KEYS: dict[str, set[str]] = {
    "bool": set(),
    "int": {"min", "max", "step"},
    "float": {"min", "max"},
    "choice": {"values"},
    "string": {"min_length", "max_length", "pattern", "examples"},
    "list": {"item", "min_items", "max_items"},
    "json": {"values", "schema"},
}


def parameter_from_spec(path: str, spec: Any, known: Collection[str] | None = None) -> Parameter:
    """Build a parameter from its space-file form (a mapping with ``type``, or a shorthand).

    Shorthands: a list is a choice of those values; a bare kind name (``bool``) is that kind.
    ``active_if`` is parsed against ``known`` parameter paths when given.
    """
    if isinstance(spec, list):
        spec = {"type": "choice", "values": spec}
    elif isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, Mapping):
        raise SpaceError(f"{path}: a parameter must be a mapping with 'type', got {spec!r}")
    kind = _KIND_ALIASES.get(str(spec.get("type")), str(spec.get("type")))
    if kind not in PARAMETER_KINDS:
        raise SpaceError(
            f"{path}: unknown parameter type {spec.get('type')!r} "
            f"(expected one of {', '.join(PARAMETER_KINDS)})"
        )
    unknown = set(spec) - _COMMON_KEYS - _KIND_KEYS[kind]
    if unknown:
        raise SpaceError(f"{path}: unknown key(s) for a {kind} parameter: {sorted(unknown)}")
    kwargs: dict[str, Any] = {"path": path}
    for key in ("optional", "nullable", "inferred"):
        if key in spec:
            if not isinstance(spec[key], bool):
                raise SpaceError(f"{path}: {key} must be true or false")
            kwargs[key] = spec[key]
    if "description" in spec:
        kwargs["description"] = str(spec["description"])
    if "default" in spec:
        kwargs["default"] = spec["default"]
    if spec.get("active_if") is not None:
        try:
            kwargs["active_if"] = parse(str(spec["active_if"]), known, name=f"active_if({path})")
        except ConstraintError as error:
            raise SpaceError(f"{path}: active_if: {error}") from None
    try:
        if kind in ("int", "float"):
            number_type = int if kind == "int" else float
            for key in ("min", "max", "step"):
                if key in spec:
                    value = spec[key]
                    if not _is_number(value) or (
                        kind == "int" and isinstance(value, float) and not value.is_integer()
                    ):
                        raise SpaceError(
                            f"{path}: {key} must be a{'n integer' if kind == 'int' else ' number'}"
                        )
                    if isinstance(value, int) and abs(value) > MAX_INT_BOUND:
                        # 10**400 would overflow float arithmetic in the value classes
                        raise SpaceError(f"{path}: {key} {_short_number(value)} is outside "
                                         f"the supported range [-2^63, 2^63]")
                    kwargs[key] = number_type(value)
        elif kind == "choice":
            values = spec.get("values")
            if not isinstance(values, list):
                raise SpaceError(f"{path}: a choice needs a list of values")
            kwargs["values"] = tuple(values)
        elif kind == "string":
            for key in ("min_length", "max_length"):
                if key in spec:
                    if not isinstance(spec[key], int) or isinstance(spec[key], bool):
                        raise SpaceError(f"{path}: {key} must be an integer")
                    kwargs[key] = spec[key]
            if "pattern" in spec:
                kwargs["pattern"] = str(spec["pattern"])
            if "examples" in spec:
                examples = spec["examples"]
                if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
                    raise SpaceError(f"{path}: examples must be a list of strings")
                kwargs["examples"] = tuple(examples)
        elif kind == "json":
            values = spec.get("values")
            if not isinstance(values, Mapping) or not values:
                raise SpaceError(
                    f"{path}: a json parameter needs 'values': a mapping label -> value")
            kwargs["values"] = tuple((str(k), v) for k, v in values.items())
            if "schema" in spec:
                if not isinstance(spec["schema"], Mapping | bool):
                    raise SpaceError(f"{path}: schema must be a JSON Schema object")
                kwargs["schema"] = spec["schema"]
        elif kind == "list":
            kwargs["item"] = parameter_from_spec(f"{path}[]", spec.get("item", "string"))
            for key in ("min_items", "max_items"):
                if key in spec:
                    if not isinstance(spec[key], int) or isinstance(spec[key], bool):
                        raise SpaceError(f"{path}: {key} must be an integer")
                    kwargs[key] = spec[key]
        return PARAMETER_KINDS[kind](**kwargs)
    except TypeError as error:  # pragma: no cover - guarded by the key checks above
        raise SpaceError(f"{path}: {error}") from None


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
        known = set(paths)
        for p in paths:
            segments = _tree.split_path(p)
            for i in range(1, len(segments)):
                if _tree.join_path(segments[:i]) in known:
                    raise SpaceError(
                        f"{p}: nested under parameter {_tree.join_path(segments[:i])!r}"
                    )
        object.__setattr__(self, "_by_path", {p.path: p for p in self.parameters})
        # Pre-split paths: validation and extraction run in generation's hot loop.
        object.__setattr__(
            self, "_segments", tuple((p.path, _tree.split_path(p.path)) for p in self.parameters)
        )

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
        from configlab._internal import safeio

        location = Path(path)
        # regular files only (a FIFO or /dev/zero would hang), bounded, UTF-8 checked
        if fmt == "pict" or (fmt is None and location.suffix.lower() == ".pict"):
            text = safeio.read_text(location, what="space file", error=SpaceError)
            return IMPORTERS["pict"](text, source=str(location))
        from configlab import formats

        raw = safeio.read_bytes(location, what="space file", error=SpaceError)
        fmt = fmt or formats.detect_format(location, raw)
        if fmt in ("yaml", "yml"):
            # Space files are read with YAML 1.2 scalars: `values: [yes, no]` stays strings.
            from configlab.formats._common import decode
            from configlab.formats._yaml import loads_core

            data: Any = loads_core(decode(raw, str(location)), str(location))
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
        return env

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
        return all(constraint.evaluate(env) for constraint in self.constraints)

    def build(
        self, assignment: Mapping[str, Any], base: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Nested config from ``path -> value``; ABSENT removes the path; base keys carried."""
        unknown = [path for path in assignment if path not in self]
        if unknown:
            raise SpaceError(f"cannot build a config: unknown parameter(s) {unknown}")
        config: dict[str, Any] = _tree.deep_copy(dict(base)) if base is not None else {}
        for param in self.parameters:
            if param.path not in assignment:
                continue
            value = assignment[param.path]
            if value is ABSENT:
                _tree.delete_path(config, param.path)
            else:
                _tree.set_path(config, param.path, _tree.deep_copy(value))
        return config

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


__all__ = [
    "ABSENT",
    "PARAMETER_KINDS",
    "BoolParam",
    "ChoiceParam",
    "FloatParam",
    "IntParam",
    "JsonParam",
    "ListParam",
    "Parameter",
    "Space",
    "StringParam",
    "ValueClass",
    "Violation",
    "load_space",
    "parameter_from_spec",
]
