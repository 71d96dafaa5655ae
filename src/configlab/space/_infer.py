"""Infer a :class:`~configlab.space._model.Space` from example configs (black-box use).

Per leaf path (first-seen order across the examples): the kind from the non-null values seen
(bool; int; int+float -> float; strings with at most :data:`CHOICE_LIMIT` distinct values of
which at least one repeats -> choice, else string; lists of scalars -> list; any other mix of at
most :data:`CHOICE_LIMIT` distinct scalars -> choice), the observed range / lengths / values,
``optional`` when some example lacks the path, ``nullable`` when ``null`` was seen, and
``inferred=True``.  Every example validates against the inferred space.

XML structure read by :mod:`configlab.formats` is never varied: the root element's name
(top-level ``#root``) and namespace declarations (``@xmlns``, ``@xmlns:PREFIX``) are a choice of
exactly the strings seen, even in a single example (else one example would make them free
strings and generated files would name another root element or namespace).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from configlab import tree as _tree
from configlab.constraints import values_equal
from configlab.errors import SpaceError
from configlab.space._model import Space
from configlab.space._params import (
    DEFAULT_STRING_MAX,
    BoolParam,
    ChoiceParam,
    FloatParam,
    IntParam,
    ListParam,
    Parameter,
    StringParam,
)
from configlab.space._params import (
    is_json_number as _is_number,
)

#: At most this many distinct values make a choice parameter.
CHOICE_LIMIT = 10
#: A string parameter keeps at most this many observed values as examples.
EXAMPLE_LIMIT = 5
#: With at most this many distinct observed numbers, the range is widened to
#: ``[min(0, 10 x smallest), max(10 x largest, 1)]`` -- so 0, powers of two and ten times the
#: value are value classes -- instead of being pinned to what was seen; strings keep their
#: examples with lengths ``0..max(64, longest)``.
FEW_VALUES = 2
#: Switch words of key-value files (redis.conf ``appendonly no``, sshd_config ``UsePAM yes``):
#: a string seen only as words of one pair is that two-valued choice, not free text.
SWITCHES = (("yes", "no"), ("on", "off"))


@dataclass
class _Observed:
    values: list[Any] = field(default_factory=list)  # non-null values, in order
    present: int = 0
    null: bool = False
    as_mapping: bool = False


def _distinct(values: Iterable[Any]) -> list[Any]:
    """Distinct values under ``values_equal``, in first-seen order.

    Hashable values are equal under ``values_equal`` exactly when their keys are: numbers by
    value (``1`` and ``1.0`` share a key, as they share a hash, while ``True`` does not), any
    other value by type and value.  So only unhashable values (lists) need the pairwise
    ``values_equal`` pass, among themselves: linear in the number of examples, where a pass
    over every distinct value was quadratic (10,000 distinct floats took 40 s).
    """
    found: list[Any] = []
    keys: set[tuple[Any, Any]] = set()
    unhashable: list[Any] = []
    for value in values:
        kind: Any = "number" if _is_number(value) else type(value)
        try:
            key = (kind, value)
            if key in keys:
                continue
            keys.add(key)
        except TypeError:  # unhashable (lists): compared with the other unhashable values
            if any(values_equal(value, seen) for seen in unhashable):
                continue
            unhashable.append(value)
        found.append(value)
    return found


def _float_bounds(numbers: list[int | float]) -> tuple[float, float]:
    """Float bounds that still contain every observed number (large ints round outward)."""
    low, high = min(numbers), max(numbers)
    try:
        lo, hi = float(low), float(high)
    except OverflowError:
        return -math.inf, math.inf
    if lo > low:
        lo = math.nextafter(lo, -math.inf)
    if hi < high:
        hi = math.nextafter(hi, math.inf)
    return lo, hi


def infer_parameter(path: str, values: list[Any], warnings: list[str], **common: Any
                  ) -> Parameter | None:
    """The parameter inferred for the non-null scalar ``values`` seen at ``path`` (None, with a
    warning appended to ``warnings``, when none fits); ``common`` holds the shared parameter
    fields (``optional``, ``nullable``, ...).  :meth:`Space.infer` and the columnar results
    reader both infer through it, so they agree."""
    if not values:
        return ChoiceParam(path, values=(None,), **common)
    if all(isinstance(v, bool) for v in values):
        return BoolParam(path, **common)
    if all(_is_number(v) for v in values):
        if any(isinstance(v, float) and not math.isfinite(v) for v in values):
            warnings.append(f"{path}: non-finite numbers seen; not modelled")
            return None
        few = len(_distinct(values)) <= FEW_VALUES
        if all(isinstance(v, int) for v in values):
            if few:  # one or two values say little about the range: widen it (see FEW_VALUES)
                return IntParam(path, min=min(0, 10 * min(values)),
                                max=max(10 * max(values), 1), **common)
            return IntParam(path, min=min(values), max=max(values), **common)
        lo, hi = _float_bounds(values)
        if few and math.isfinite(lo * 10) and math.isfinite(hi * 10):
            lo, hi = min(0.0, 10 * lo), max(10 * hi, 1.0)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            warnings.append(f"{path}: numbers beyond the float range; not modelled")
            return None
        return FloatParam(path, min=lo, max=hi, **common)
    distinct = _distinct(values)
    few = len(distinct) <= CHOICE_LIMIT
    if all(isinstance(v, str) for v in values):
        if few and len(distinct) < len(values):
            return ChoiceParam(path, values=tuple(distinct), **common)
        switch = next((pair for pair in SWITCHES if set(distinct) <= set(pair)), None)
        if switch is not None:  # "no" seen once: the other state is "yes", not "" or "xxxxx"
            return ChoiceParam(path, values=switch, **common)
        lengths = [len(v) for v in values]
        if len(distinct) <= FEW_VALUES:  # keep the examples, do not pin the length
            return StringParam(path, min_length=0,
                               max_length=max(DEFAULT_STRING_MAX, *lengths),
                               examples=tuple(distinct[:EXAMPLE_LIMIT]), **common)
        return StringParam(path, min_length=min(lengths), max_length=max(lengths),
                           examples=tuple(distinct[:EXAMPLE_LIMIT]), **common)
    if few and not any(isinstance(v, float) and math.isnan(v) for v in distinct):
        return ChoiceParam(path, values=tuple(distinct), **common)
    warnings.append(f"{path}: {len(distinct)} distinct values of mixed types; not modelled")
    return None


def _list_param(path: str, lists: list[list[Any]], warnings: list[str], **common: Any
                ) -> Parameter | None:
    elements = [item for value in lists for item in value]
    if any(isinstance(item, dict | list) for item in elements):
        warnings.append(f"{path}: lists of objects or lists are not modelled")
        return None
    non_null = [item for item in elements if item is not None]
    item_nullable = len(non_null) < len(elements)
    if not elements:
        item: Parameter | None = StringParam(f"{path}[]", max_length=0)
    else:
        item = infer_parameter(f"{path}[]", non_null, warnings, nullable=item_nullable)
    if item is None:
        return None
    sizes = [len(value) for value in lists]
    return ListParam(path, item=item, min_items=min(sizes), max_items=max(sizes), **common)


def _structural(path: str) -> bool:
    """Whether ``path`` holds XML structure (root name, namespace declaration), not a value."""
    if path == "#root":
        return True
    last = path.rpartition(".")[2]
    return last == "@xmlns" or last.startswith("@xmlns:")


#: leaf types that are never mappings (skips the slow abstract isinstance check)
_SCALARS = frozenset({str, int, float, bool, list, type(None)})


def _walk(node: Mapping[Any, Any], prefix: tuple[str, ...], seen: dict[str, _Observed],
          warnings: list[str], paths: dict[tuple[str, ...], str] | None = None) -> None:
    # ``paths`` caches the dotted path of each key sequence: every example repeats them
    if paths is None:
        paths = {}
    for key, value in node.items():
        if type(key) is not str or key == "" or "`" in key:
            where = _tree.join_path(prefix) or "<root>"
            message = f"{where}: key {key!r} cannot be addressed by a path; not modelled"
            if message not in warnings:
                warnings.append(message)
            continue
        segments = (*prefix, key)
        path = paths.get(segments)
        if path is None:
            path = paths[segments] = _tree.join_path(segments)
        observed = seen.get(path)
        if observed is None:
            observed = seen[path] = _Observed()
        if type(value) is dict or (type(value) not in _SCALARS and isinstance(value, Mapping)):
            observed.as_mapping = True
            _walk(value, segments, seen, warnings, paths)
            continue
        observed.present += 1
        if value is None:
            observed.null = True
        else:
            observed.values.append(value)


def infer_space(configs: Iterable[Mapping[str, Any]], *, name: str = "inferred") -> Space:
    """Infer a space from example configs (nested mappings); see the module docstring.

    Raises :class:`SpaceError` when there is no example, an example is not a mapping, or no
    leaf could be modelled.
    """
    examples = list(configs) if not isinstance(configs, Mapping) else [configs]
    if not examples:
        raise SpaceError("cannot infer a space from no configs")
    seen: dict[str, _Observed] = {}
    warnings: list[str] = []
    paths: dict[tuple[str, ...], str] = {}
    for index, config in enumerate(examples):
        if not isinstance(config, Mapping):
            raise SpaceError(
                f"config #{index + 1} is a {type(config).__name__}, not a mapping"
            )
        _walk(config, (), seen, warnings, paths)
    parameters: list[Parameter] = []
    for path, observed in seen.items():
        if observed.present == 0:
            continue  # only ever an object: its leaves are the parameters
        if observed.as_mapping:
            warnings.append(f"{path}: both an object and a value in the examples; not modelled")
            continue
        common: dict[str, Any] = {
            "optional": observed.present < len(examples),
            "nullable": observed.null,
            "inferred": True,
        }
        lists = [v for v in observed.values if type(v) is list or isinstance(v, list)]
        if observed.values and _structural(path) and all(type(v) is str
                                                          for v in observed.values):
            param: Parameter | None = ChoiceParam(
                path, values=tuple(_distinct(observed.values)), **common)
        elif lists and len(lists) == len(observed.values):
            param = _list_param(path, lists, warnings, **common)
        elif lists or any(type(v) not in _SCALARS and isinstance(v, Mapping)
                          for v in observed.values):
            warnings.append(f"{path}: lists mixed with other values; not modelled")
            continue
        else:
            param = infer_parameter(path, observed.values, warnings, **common)
        if param is not None:
            parameters.append(param)
    if not parameters:
        raise SpaceError(
            "no parameter could be inferred from the configs"
            + (f" ({'; '.join(warnings[:3])})" if warnings else "")
        )
    return Space(tuple(parameters), (), name=name, warnings=tuple(warnings))


__all__ = ["CHOICE_LIMIT", "EXAMPLE_LIMIT", "infer_space"]
