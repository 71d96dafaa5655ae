"""The space model (parameters, value classes, constraints, validation) and its importers from
JSON Schema, PICT and example configs."""

from __future__ import annotations

from configlab.space._model import (
    ABSENT,
    PARAMETER_KINDS,
    BoolParam,
    ChoiceParam,
    FloatParam,
    IntParam,
    JsonParam,
    ListParam,
    Parameter,
    Space,
    StringParam,
    ValueClass,
    Violation,
    load_space,
    parameter_from_spec,
)

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
