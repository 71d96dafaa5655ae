"""Encoding results against a space: value-class codes per parameter, outcome codes and metric
columns as an :class:`~configlab.results.encoded.EncodedResults` (what coverage and analysis
read).  Split out of :mod:`configlab.results._model`; it reads only the attributes of a result,
so it needs no runtime import of that module.
"""

from __future__ import annotations

import operator
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from configlab import tree as _tree
from configlab._internal.canonical import canonical_json
from configlab.results.encoded import EncodedResults
from configlab.tree import ABSENT

if TYPE_CHECKING:  # pragma: no cover
    from configlab.space import Space


class EncodableResult(Protocol):
    """What encoding reads of a :class:`~configlab.results.Result` (a structural type, so this
    module does not import the results model, which imports it)."""

    @property
    def config(self) -> Mapping[str, Any]: ...
    @property
    def outcome_code(self) -> int: ...
    @property
    def duration(self) -> float | None: ...
    @property
    def metrics(self) -> Mapping[str, float]: ...
    @property
    def config_key(self) -> str: ...
    @property
    def test_id(self) -> str: ...


def _value_key(value: Any) -> Any:
    """A hashable cache key for a value that is not a str/int/float/bool (lists, dicts, ...)."""
    if value is None or value is ABSENT:
        return value
    return ("json", canonical_json(value))


def _reader(path: tuple[str, ...]) -> Any:
    """A fast ``config -> value at path (or ABSENT)`` function for a split path."""
    def read(config: Any) -> Any:
        node = config
        for segment in path:
            if isinstance(node, Mapping) and segment in node:
                node = node[segment]
            else:
                return ABSENT
        return node

    return read


_SIMPLE_TYPES = frozenset({str, int, float, bool})
_PLAIN_MARKERS = frozenset({type(None), type(ABSENT)})


def _top_level_columns(configs: Sequence[Mapping[str, Any]],
                       params: Sequence[Any], routed: Collection[str] = ()
                       ) -> dict[int, Sequence[Any]]:
    """Values of the top-level (one-segment) parameters, read row by row (cache friendly)."""
    wanted = [(column, _tree.split_path(p.path)) for column, p in enumerate(params)
              if p.path not in routed]
    wanted = [(column, path) for column, path in wanted if len(path) == 1]
    if not wanted:
        return {}
    keys = [path[0] for _, path in wanted]
    getter = operator.itemgetter(*keys, keys[0])  # always returns a tuple
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for config in configs:
        try:
            append(getter(config))
        except KeyError:
            append((*[config.get(key, ABSENT) for key in keys], None))
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in keys]
    return {column: columns[i] for i, (column, _) in enumerate(wanted)}


def encode_results(results: Sequence[EncodableResult], space: Space) -> EncodedResults:
    """Encode ``results`` against ``space`` (see :meth:`ResultSet.encode`)."""
    import numpy as np

    n_rows, params = len(results), space.parameters
    codes = np.empty((n_rows, len(params)), dtype=np.int32)
    numeric: dict[str, np.ndarray[Any, np.dtype[np.float64]]] = {}
    configs = [r.config for r in results]
    simple = _SIMPLE_TYPES
    # element parameters and member factors are read through their containers
    routed = {p.path for p in params if space.routed(p.path)}
    top = _top_level_columns(configs, params, routed)
    for column, param in enumerate(params):
        path = _tree.split_path(param.path)
        if column in top:
            values = top[column]
        else:
            read = space.reader(param.path) if param.path in routed else _reader(path)
            values = [read(config) for config in configs]
        classify = param.classify
        kinds = set(map(type, values))
        if len(kinds & simple) <= 1 and kinds <= simple | _PLAIN_MARKERS:
            # one scalar type (plus null/absent): values themselves are safe dictionary keys
            by_value = {value: classify(value) for value in set(values)}
            codes[:, column] = [by_value[value] for value in values]
        else:
            cache: dict[Any, int] = {}
            column_codes: list[int] = []
            append = column_codes.append
            for value in values:
                kind = type(value)
                key = (kind, value) if kind in simple else _value_key(value)
                code = cache.get(key)
                if code is None:
                    code = cache[key] = classify(value)
                append(code)
            codes[:, column] = column_codes
        if param.kind in ("int", "float"):
            numeric[param.path] = np.array(
                [v if type(v) is int or type(v) is float else np.nan for v in values],
                dtype=np.float64,
            )
    outcomes = np.fromiter((r.outcome_code for r in results), dtype=np.int8, count=n_rows)
    names = {name for r in results for name in r.metrics}
    if any(r.duration is not None for r in results):
        names.add("duration")
    metric_names = sorted(names)
    metrics: dict[str, np.ndarray[Any, np.dtype[np.float64]]] = {}
    for name in metric_names:
        series = np.full(n_rows, np.nan)
        for row, result in enumerate(results):
            if name == "duration" and result.duration is not None:
                series[row] = result.duration
            elif name in result.metrics:
                series[row] = result.metrics[name]
        metrics[name] = series
    return EncodedResults(
        params=space.paths,
        class_labels=tuple(tuple(c.label for c in p.value_classes) for p in params),
        codes=codes,
        outcomes=outcomes,
        metrics=metrics,
        numeric=numeric,
        config_keys=tuple(r.config_key for r in results),
        test_ids=tuple(r.test_id for r in results),
    )


__all__ = ["EncodableResult", "encode_results"]
