"""Column inference shared by the Polars and the Arrow-only encoders of results files.

:func:`infer_columns` infers the space the row reader's :meth:`Space.infer` infers, from each
config column's distinct values; :func:`_nearest_codes` classifies a numeric column by nearest
value class.  Both encoders (:mod:`configlab.results._columns` with Polars,
:mod:`configlab.results._arrow_columns` without) sit on this module, which imports neither.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from configlab import tree as _tree
from configlab.constraints import ABSENT
from configlab.errors import SpaceError
from configlab.space import FloatParam, IntParam, Space, infer_parameter


class FastPathUnavailable(Exception):
    """The file needs the row-by-row reader (the reason is the message)."""


def _first_seen_order(columns: list[tuple[str, Any]], path: Path) -> list[tuple[str, Any]]:
    """Columns in the order of the first row's keys (the order the row reader infers in);
    every row has every key here, so the first row names them all."""
    import orjson

    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                first = orjson.loads(line)
                break
        else:  # pragma: no cover - polars read at least one row
            raise FastPathUnavailable("no rows")
    config = first.get("config") if isinstance(first, dict) else None
    if not isinstance(config, dict):
        raise FastPathUnavailable("the first row has no config object")
    order = {leaf: i for i, (leaf, _) in enumerate(_tree.iter_leaves(config))}
    if set(order) != {name for name, _ in columns}:
        raise FastPathUnavailable("the first row does not have every config key")
    return sorted(columns, key=lambda item: order[item[0]])


#: distinct numbers of a column handed to the inference as they are; beyond this, a summary
_NUMBERS_IN_FULL = 16


def _observed(series: Any) -> list[Any]:
    """The values the inference needs: distinct values in first-seen order, plus a repeat of
    the first one when some value repeats.

    A numeric column with many distinct (finite) values is summarised: its first
    :data:`_NUMBERS_IN_FULL` distinct values, its minimum and its maximum.  A number
    parameter is inferred from its kind, its range and whether it has more than a few distinct
    values, which the summary keeps; a million distinct floats cost seconds as Python
    objects."""
    distinct_series = series.unique(maintain_order=True)
    many = distinct_series.len() > _NUMBERS_IN_FULL
    if many and series.dtype.is_numeric() and (
            not series.dtype.is_float()
            or distinct_series.is_finite().all()):
        distinct = [*distinct_series.head(_NUMBERS_IN_FULL).to_list(), series.min(),
                    series.max()]
    else:
        distinct = distinct_series.to_list()
    if distinct_series.len() < series.len():
        distinct.append(distinct[0])
    return list(distinct)


def infer_columns(columns: Sequence[tuple[str, Any]], *, name: str = "inferred",
                  observed: Callable[[Any], list[Any]] | None = None) -> Space:
    """The space :func:`configlab.space.Space.infer` infers from the same rows (``observed``
    gives a column's values for the inference: :func:`_observed` of Polars series by
    default)."""
    observe = _observed if observed is None else observed
    warnings: list[str] = []
    parameters = []
    for path, series in columns:
        param = infer_parameter(path, observe(series), warnings, optional=False,
                              nullable=False, inferred=True)
        if param is not None:
            parameters.append(param)
    if not parameters:
        raise SpaceError("no parameter could be inferred from the configs")
    return Space(tuple(parameters), (), name=name, warnings=tuple(warnings))


#: (values x classes) distances computed at once when classifying a numeric column
_NEAREST_ELEMENTS = 2_000_000


def _nearest_codes(raw: npt.NDArray[Any], is_integer: bool, param: Any
                   ) -> npt.NDArray[np.int32] | None:
    """Value-class codes of a numeric column's values by vectorised nearest class (what
    ``classify`` does value by value); None when the parameter needs ``classify``."""
    if type(param) is FloatParam:
        grid = False
    elif type(param) is IntParam and getattr(param, "step", 1) == 1 and is_integer:
        grid = True
    else:
        return None
    values = raw.astype(np.float64)
    classes = [(i, float(c.value)) for i, c in enumerate(param.value_classes)
               if isinstance(c.value, int | float) and not isinstance(c.value, bool)]
    if not classes or (grid and max(abs(param.min), abs(param.max)) > 2**52):
        return None
    index = np.array([i for i, _ in classes], dtype=np.int32)
    points = np.array([v for _, v in classes])
    # nearest class of every value directly, in chunks: with a handful of classes this is
    # cheaper than finding the distinct values first (a sort and a binary search per value)
    out = np.empty(values.size, dtype=np.int32)
    step = max(1, _NEAREST_ELEMENTS // points.size)
    for start in range(0, values.size, step):
        part = values[start : start + step]
        nearest = index[np.argmin(np.abs(part[:, None] - points[None, :]), axis=1)]
        valid = (part >= param.min) & (part <= param.max) & ~np.isnan(part)
        out[start : start + step] = np.where(valid, nearest, -1)
    return out


def code_matrix(space: Space, columns: Sequence[tuple[str, Any]], n_rows: int,
                codes_of: Callable[[Any, Any], npt.NDArray[np.int32]],
                numbers_of: Callable[[Any], npt.NDArray[np.float64]],
                ) -> tuple[npt.NDArray[np.int32], dict[str, npt.NDArray[np.float64]]]:
    """The (rows x parameters) value-class codes of ``space`` read from config ``columns``
    (by path; a parameter without a column is absent in every row), and the values of its
    number parameters (NaN where absent).  ``codes_of(column, param)`` classifies one column
    and ``numbers_of(column)`` reads it as floats: the Polars and the Arrow-only encoders
    differ only there."""
    by_path = dict(columns)
    codes = np.empty((n_rows, len(space.parameters)), dtype=np.int32)
    numeric: dict[str, npt.NDArray[np.float64]] = {}
    for j, param in enumerate(space.parameters):
        column = by_path.get(param.path)
        if column is None:
            codes[:, j] = param.classify(ABSENT)
        else:
            codes[:, j] = codes_of(column, param)
        if param.kind in ("int", "float"):
            numeric[param.path] = (np.full(n_rows, np.nan) if column is None
                                   else numbers_of(column))
    return codes, numeric
