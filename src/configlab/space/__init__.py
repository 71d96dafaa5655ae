"""The space model (parameters, value classes, constraints, validation) and its importers from
JSON Schema, PICT and example configs."""

from __future__ import annotations

from configlab.space import _model
from configlab.space._elements import (
    MapParam,
    MemberParam,
    MembersParam,
    RecordsParam,
    Route,
    set_member,
)
from configlab.space._infer import infer_parameter, infer_space
from configlab.space._json_schema import space_from_json_schema
from configlab.space._model import Space, SpaceSource, load_space
from configlab.space._params import (
    ABSENT,
    PARAMETER_KINDS,
    BoolParam,
    ChoiceParam,
    FloatParam,
    IntParam,
    JsonParam,
    ListParam,
    Parameter,
    StringParam,
    ValueClass,
    Violation,
    parameter_from_spec,
)
from configlab.space._pict import space_from_pict, space_to_pict

# Space.load / from_json_schema / infer call the importers through this table: the importers
# build Spaces (they import _model), so the face wires them in instead of _model importing them.
_model.IMPORTERS.update(json_schema=space_from_json_schema, pict=space_from_pict, infer=infer_space)

__all__ = [
    "ABSENT",
    "PARAMETER_KINDS",
    "BoolParam",
    "ChoiceParam",
    "FloatParam",
    "IntParam",
    "JsonParam",
    "ListParam",
    "MapParam",
    "MemberParam",
    "MembersParam",
    "Parameter",
    "RecordsParam",
    "Route",
    "Space",
    "SpaceSource",
    "StringParam",
    "ValueClass",
    "Violation",
    "infer_parameter",
    "load_space",
    "parameter_from_spec",
    "set_member",
    "space_to_pict",
]
