"""Parameters of a configuration space: the kinds (bool, int, float, choice, string, list,
json), their finite value classes and checks, and :func:`parameter_from_spec` (the space-file form).

Split out of :mod:`configlab.space._model` (which keeps :class:`~configlab.space._model.Space`):
a parameter knows nothing about the space it belongs to.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from configlab._internal.saferegex import SafePattern, compile_pattern
from configlab.constraints import ABSENT, Constraint, parse, values_equal
from configlab.errors import ConstraintError, SpaceError
from configlab.space._regex import longest_match, shortest_match

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


def is_json_number(value: Any) -> bool:
    """Whether ``value`` is a JSON number (``bool`` is not, although Python says so)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


_is_number = is_json_number


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

    @staticmethod
    def spec_kwargs(path: str, spec: Mapping[str, Any]) -> dict[str, Any]:
        """Constructor arguments from the kind's own space-file keys (kinds added with
        :func:`register_kind` override it; the built-in kinds are read in
        :func:`parameter_from_spec`)."""
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
        # number 1) or shadow the null/absent classes, strings are shown quoted; so is the
        # empty string, which would otherwise print as nothing ("save=" in a coverage table)
        reserved = {"null", "absent", ""}
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
_BUILTIN_KINDS = frozenset(PARAMETER_KINDS)
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


def register_kind(cls: type[Parameter], keys: Collection[str]) -> None:
    """Add a parameter kind defined in another module (its space-file ``keys`` besides the
    common ones); the class reads them with a ``spec_kwargs(path, spec)`` static method."""
    PARAMETER_KINDS[cls.kind] = cls
    _KIND_KEYS[cls.kind] = set(keys)


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
        elif kind not in _BUILTIN_KINDS:
            kwargs.update(PARAMETER_KINDS[kind].spec_kwargs(path, spec))
        return PARAMETER_KINDS[kind](**kwargs)
    except TypeError as error:  # pragma: no cover - guarded by the key checks above
        raise SpaceError(f"{path}: {error}") from None


__all__ = [
    "ABSENT",
    "DEFAULT_FLOAT_MAX",
    "DEFAULT_FLOAT_MIN",
    "DEFAULT_INT_MAX",
    "DEFAULT_INT_MIN",
    "DEFAULT_STRING_MAX",
    "MAX_GENERATED_STRING",
    "MAX_INT_BOUND",
    "MAX_POWER_CLASSES",
    "PARAMETER_KINDS",
    "BoolParam",
    "ChoiceParam",
    "FloatParam",
    "IntParam",
    "JsonParam",
    "ListParam",
    "Parameter",
    "Scalar",
    "StringParam",
    "ValueClass",
    "Violation",
    "is_json_number",
    "parameter_from_spec",
    "register_kind",
]
