"""The ``covering:`` section of a space file: covering-generation defaults (:attr:`Space.hints`).

A PICT model carries sub-models (``{A, B} @ 3``), value weights (``y (3)``) and invalid values
(``~z``); the PICT importer keeps them as ``Space.hints``.  This module writes them into the
YAML/JSON space-file form and reads them back, so a PICT model converted to a space file keeps
them::

    covering:
      groups:
        - parameters: [a, b, c]
          strength: 3
      weights:
        b: {"y": 3}
      negative:
        b: [z]

Weights are keyed by the value-class label (a string, so the section is valid JSON); negative
values are written as values.  Reading accepts a value or a label in both places and stores the
value-class representative, exactly as the PICT importer does.  Paths must be parameters of the
space (no patterns: the section describes this space, not a family of them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from configlab.errors import SpaceError
from configlab.space._params import Parameter

#: Keys of the ``covering:`` section.
HINT_KEYS = ("groups", "weights", "negative")


def _param(params: Mapping[str, Parameter], path: Any, where: str) -> Parameter:
    if not isinstance(path, str) or path not in params:
        raise SpaceError(f"{where}: {path!r} is not a parameter of the space")
    return params[path]


def _value(param: Parameter, raw: Any, where: str) -> Any:
    """The representative value of the class ``raw`` (a value or a class label) falls in."""
    if isinstance(raw, str):
        for cls in param.value_classes:
            if cls.label == raw:
                return cls.value
    code = param.classify(raw)
    if code < 0:
        raise SpaceError(f"{where}: {raw!r} is not a value of {param.path!r}")
    return param.value_classes[code].value


def _groups(raw: Any, params: Mapping[str, Parameter], where: str) -> list[tuple[list[str], int]]:
    if not isinstance(raw, list):
        raise SpaceError(f"{where}: expected a list of {{parameters: [...], strength: N}}")
    out = []
    for n, item in enumerate(raw):
        at = f"{where}[{n}]"
        if not isinstance(item, Mapping) or set(item) != {"parameters", "strength"}:
            raise SpaceError(f"{at}: expected {{parameters: [path, ...], strength: N}}")
        paths, strength = item["parameters"], item["strength"]
        if not isinstance(paths, list) or not paths:
            raise SpaceError(f"{at}: 'parameters' must be a non-empty list of paths")
        if not isinstance(strength, int) or isinstance(strength, bool) or strength < 1:
            raise SpaceError(f"{at}: 'strength' must be a positive integer, got {strength!r}")
        out.append(([_param(params, p, at).path for p in paths], strength))
    return out


def _weights(raw: Any, params: Mapping[str, Parameter], where: str) -> dict[str, dict[Any, Any]]:
    if not isinstance(raw, Mapping):
        raise SpaceError(f"{where}: expected {{path: {{value: weight}}}}")
    out: dict[str, dict[Any, Any]] = {}
    for path, table in raw.items():
        param = _param(params, path, where)
        if not isinstance(table, Mapping):
            raise SpaceError(f"{where}.{path}: expected {{value: weight}}")
        for value, weight in table.items():
            if not isinstance(weight, int | float) or isinstance(weight, bool) or weight <= 0:
                raise SpaceError(
                    f"{where}.{path}: weight of {value!r} must be a positive number, "
                    f"got {weight!r}"
                )
            out.setdefault(param.path, {})[_value(param, value, f"{where}.{path}")] = weight
    return out


def _negative(raw: Any, params: Mapping[str, Parameter], where: str) -> dict[str, list[Any]]:
    if not isinstance(raw, Mapping):
        raise SpaceError(f"{where}: expected {{path: [value, ...]}}")
    out: dict[str, list[Any]] = {}
    for path, values in raw.items():
        param = _param(params, path, where)
        if not isinstance(values, list):
            raise SpaceError(f"{where}.{path}: expected a list of values")
        out[param.path] = [_value(param, v, f"{where}.{path}") for v in values]
    return out


def hints_from_dict(
    raw: Any, params: Mapping[str, Parameter], source: str
) -> dict[str, Any]:
    """The :attr:`Space.hints` of a space file's ``covering:`` section.

    Raises:
        SpaceError: the section is malformed or names an unknown parameter or value
            (the message names the file and the key).
    """
    where = f"{source}: covering"
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SpaceError(f"{where}: expected a mapping with keys {', '.join(HINT_KEYS)}")
    unknown = sorted(str(k) for k in set(raw) - set(HINT_KEYS))
    if unknown:
        raise SpaceError(f"{where}: unknown key(s) {unknown}")
    hints: dict[str, Any] = {}
    if raw.get("groups"):
        hints["groups"] = _groups(raw["groups"], params, f"{where}.groups")
    if raw.get("weights"):
        hints["weights"] = _weights(raw["weights"], params, f"{where}.weights")
    if raw.get("negative"):
        hints["negative"] = _negative(raw["negative"], params, f"{where}.negative")
    return hints


def _label(param: Parameter, value: Any) -> str:
    code = param.classify(value)
    return param.value_classes[code].label if code >= 0 else str(value)


def hints_to_dict(hints: Mapping[str, Any], params: Mapping[str, Parameter]) -> dict[str, Any]:
    """The ``covering:`` section for :attr:`Space.hints` (empty when there are none)."""
    out: dict[str, Any] = {}
    groups = hints.get("groups") or ()
    if groups:
        out["groups"] = [
            {"parameters": list(paths), "strength": int(strength)} for paths, strength in groups
        ]
    weights = hints.get("weights") or {}
    if weights:
        out["weights"] = {
            path: {_label(params[path], value): weight for value, weight in table.items()}
            for path, table in weights.items()
        }
    negative = hints.get("negative") or {}
    if negative:
        out["negative"] = {path: list(values) for path, values in negative.items()}
    return out
