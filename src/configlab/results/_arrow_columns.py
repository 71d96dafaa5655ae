"""JSON Lines results encoded from the Arrow table itself, without importing Polars.

:mod:`configlab.results._columns` reads a JSON Lines file with Arrow's reader and encodes it
with Polars.  Importing Polars costs 0.2-0.25 s of CPU (its 170 MB runtime library mapped and
relocated, plus ``importlib.metadata``), a tenth of ``configlab analyze``'s 2 s budget on
100,000 results, so the common shape is encoded here from the Arrow table with
:mod:`pyarrow.compute` and NumPy: config leaves of one scalar type without nulls, string
outcomes, numeric metrics, optional text fields without timestamps.  Anything else (a
timestamp column to check, nulls, other types) returns None and takes the Polars path, which
decides as before.  The result equals the Polars path's (tested), apart from the config hash
values, which only need to be equal for equal configs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from configlab import tree as _tree
from configlab.results._column_infer import (
    _NUMBERS_IN_FULL,
    FastPathUnavailable,
    _first_seen_order,
    _nearest_codes,
    code_matrix,
    infer_columns,
)
from configlab.results._model import _OUTCOME_CODE, _RESULT_KEYS, BOOKKEEPING_FIELDS
from configlab.results.encoded import EncodedResults
from configlab.space import Space

#: text fields whose only check is their type (a timestamp is parsed: the Polars path)
_TEXT = ("test_id", "snapshot_id", "run_id", "stdout", "stderr")


class _Column:
    """One config leaf: the chunked Arrow array and what the encoding asks of it."""

    def __init__(self, array: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        self.array = array
        self.kind = array.type
        self.is_bool = pa.types.is_boolean(self.kind)
        self.is_integer = pa.types.is_int64(self.kind)
        self.is_float = pa.types.is_float64(self.kind)
        self.is_numeric = self.is_integer or self.is_float
        self._values: npt.NDArray[Any] | None = None
        self._index: npt.NDArray[np.int32] | None = None
        if pa.types.is_string(self.kind):
            # one hash pass for both the distinct values and each row's position among them
            encoded = pc.dictionary_encode(array.combine_chunks())
            #: distinct values in first-seen order (Arrow's hash kernels keep that order)
            self.distinct = encoded.dictionary
            self._index = np.frombuffer(encoded.indices.buffers()[1], dtype=np.int32)[
                encoded.indices.offset : encoded.indices.offset + len(encoded.indices)]
        else:
            self.distinct = pc.unique(array)

    def values(self) -> npt.NDArray[Any]:
        """The column as one NumPy array."""
        if self._values is None:
            self._values = _numpy(self.array)
        return self._values

    def index(self) -> npt.NDArray[np.int32]:
        """Position of each row's value in :attr:`distinct`."""
        import pyarrow.compute as pc

        if self._index is None:
            self._index = np.asarray(_numpy(pc.index_in(self.array, value_set=self.distinct)),
                                     dtype=np.int32)
        return self._index


#: NumPy types of the Arrow types read here
_NUMPY_TYPES = {"int64": np.int64, "double": np.float64, "int32": np.int32, "int8": np.int8}


def _bits(buffer: Any, offset: int, length: int) -> npt.NDArray[np.bool_]:
    """An Arrow bitmap (validity or booleans) as booleans."""
    packed = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(packed, bitorder="little")[offset : offset + length].view(np.bool_)


def _numpy(chunked: Any) -> npt.NDArray[Any]:
    """A chunked Arrow array of numbers or booleans as one NumPy array, read from its buffers
    (nulls become NaN in a float column).  ``to_numpy`` would do the same but imports pandas
    on first use (0.15-0.25 s of CPU), which nothing else here needs."""
    name = str(chunked.type)
    parts = []
    for chunk in chunked.chunks:
        validity, data = chunk.buffers()[:2]
        if name == "bool":
            part: npt.NDArray[Any] = _bits(data, chunk.offset, len(chunk)).copy()
        else:
            dtype = _NUMPY_TYPES[name]
            part = np.frombuffer(data, dtype=dtype)[chunk.offset : chunk.offset + len(chunk)]
        if chunk.null_count:
            if name != "double":
                raise ValueError(f"nulls in a {name} column")  # pragma: no cover - checked
            part = np.where(_bits(validity, chunk.offset, len(chunk)), part, np.nan)
        parts.append(part)
    if not parts:
        return np.zeros(0, dtype=np.bool_ if name == "bool" else _NUMPY_TYPES[name])
    return np.concatenate(parts)


def _observed(column: _Column) -> list[Any]:
    """``_column_infer._observed`` of an Arrow column (the same values, in the same order)."""
    import pyarrow.compute as pc

    distinct = column.distinct
    many = len(distinct) > _NUMBERS_IN_FULL
    if many and column.is_numeric and (
            not column.is_float or bool(pc.all(pc.is_finite(distinct)).as_py())):
        bounds = pc.min_max(column.array)
        values = [*distinct.slice(0, _NUMBERS_IN_FULL).to_pylist(),
                  bounds["min"].as_py(), bounds["max"].as_py()]
    else:
        values = distinct.to_pylist()
    if len(distinct) < len(column.array):
        values.append(values[0])
    return values


def _leaves(array: Any, prefix: tuple[str, ...], out: list[tuple[tuple[str, ...], Any]]
            ) -> bool:
    """The scalar leaves of a (chunked) struct column; False when one is not encodable here."""
    import pyarrow as pa

    for i in range(array.type.num_fields):
        name = array.type.field(i).name
        child = pa.chunked_array([chunk.field(i) for chunk in array.chunks],
                                 type=array.type.field(i).type)
        segments = (*prefix, name)
        if pa.types.is_struct(child.type):
            if child.null_count or not _leaves(child, segments, out):
                return False
            continue
        if child.null_count or not (pa.types.is_boolean(child.type)
                                    or pa.types.is_int64(child.type)
                                    or pa.types.is_float64(child.type)
                                    or pa.types.is_string(child.type)):
            return False
        if any(s == "" or "`" in s for s in segments):
            return False
        out.append((segments, child))
    return True


def _float_column(array: Any) -> npt.NDArray[np.float64] | None:
    """A numeric (or all-null) column as float64 with NaN for nulls; None otherwise."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = array.type
    if not (pa.types.is_int64(kind) or pa.types.is_float64(kind)):
        return None
    return np.asarray(_numpy(pc.cast(array, pa.float64())), dtype=np.float64)


def _metrics(table: Any) -> dict[str, npt.NDArray[np.float64]] | None:
    """``_columns._metrics`` of the Arrow table; None for a shape left to the Polars path."""
    import pyarrow as pa

    out: dict[str, npt.NDArray[np.float64]] = {}
    names = table.column_names
    if "duration" in names:
        duration = table.column("duration")
        if duration.null_count < table.num_rows:
            values = _float_column(duration)
            if values is None:
                return None
            out["duration"] = values
    if "metrics" in names:
        metrics = table.column("metrics")
        if not pa.types.is_struct(metrics.type) or metrics.null_count:
            return None
        for i in range(metrics.type.num_fields):
            name = metrics.type.field(i).name
            values = _float_column(pa.chunked_array([c.field(i) for c in metrics.chunks],
                                                    type=metrics.type.field(i).type))
            if values is None or name in out:
                return None
            out[name] = values
    for name in BOOKKEEPING_FIELDS:
        if name in names:
            values = _float_column(table.column(name))
            if values is None or name in out:
                return None
            out[name] = values
    return dict(sorted(out.items()))


def _mix(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64's finaliser: every input bit reaches every output bit."""
    x = values + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.asarray(x ^ (x >> np.uint64(31)), dtype=np.uint64)


def _text_hashes(distinct: list[str]) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of each text (BLAKE2b: the same in every run and file)."""
    return np.array([int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(),
                                    "little") for text in distinct], dtype=np.uint64)


def _config_hash(columns: list[tuple[str, _Column]], n_rows: int) -> npt.NDArray[np.uint64]:
    """A 64-bit key per row, equal for equal configs and the same in every file: each
    column's value (its bits for numbers, a hash of it for text) mixed and folded column by
    column."""
    key = np.zeros(n_rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for _, column in columns:
            if column.is_integer:
                bits = column.values().view(np.uint64)
            elif column.is_float:
                # -0.0 == 0.0 as JSON numbers compare
                bits = (column.values() + 0.0).view(np.uint64)
            elif column.is_bool:
                bits = column.values().astype(np.uint64)
            else:
                bits = _text_hashes(column.distinct.to_pylist())[column.index()]
            key *= np.uint64(0x100000001B3)
            key ^= _mix(bits)
    return key


def _codes(column: _Column, param: Any) -> npt.NDArray[np.int32]:
    """Value-class codes of a column: nearest class for numbers where the parameter allows
    it, else ``classify`` once per distinct value."""
    if column.is_numeric:
        fast = _nearest_codes(column.values(), column.is_integer, param)
        if fast is not None:
            return fast
    table = np.array([param.classify(v) for v in column.distinct.to_pylist()], dtype=np.int32)
    if column.is_bool:
        # the distinct values' positions without hashing: False/True as 0/1
        position = np.zeros(2, dtype=np.int32)
        for i, value in enumerate(column.distinct.to_pylist()):
            position[int(value)] = i
        return np.asarray(table[position[column.values().astype(np.int8)]], dtype=np.int32)
    return np.asarray(table[column.index()], dtype=np.int32)


def encode_table(table: Any, path: Path, space: Space | None
                 ) -> tuple[EncodedResults, Space] | None:
    """Encode the Arrow ``table`` of a JSON Lines file, or None when its shape is left to the
    Polars path (see the module docstring).

    Raises:
        FastPathUnavailable: the file needs the row reader (as the Polars path would say).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    names = set(table.column_names)
    if names - _RESULT_KEYS or "config" not in names or "outcome" not in names:
        raise FastPathUnavailable("unknown or missing result fields")
    config = table.column("config")
    if not pa.types.is_struct(config.type) or config.null_count:
        return None
    if "timestamp" in names or any(
            name in names and not (pa.types.is_string(table.column(name).type)
                                   or pa.types.is_null(table.column(name).type))
            for name in _TEXT):
        return None
    leaves: list[tuple[tuple[str, ...], Any]] = []
    if not _leaves(config, (), leaves):
        return None
    metrics = _metrics(table)
    outcome = table.column("outcome")
    if metrics is None or not pa.types.is_string(outcome.type) or outcome.null_count:
        return None
    outcome_distinct = pc.unique(outcome)
    outcome_names = outcome_distinct.to_pylist()
    if set(outcome_names) - set(_OUTCOME_CODE):
        return None
    columns = _first_seen_order(
        [(_tree.join_path(segments), _Column(array)) for segments, array in leaves], path)
    if space is None:
        space = infer_columns(columns, observed=_observed)
    if any(space.routed(p.path) for p in space.parameters):
        return None
    n = table.num_rows
    codes, numeric = code_matrix(
        space, columns, n, _codes,
        lambda column: (column.values().astype(np.float64) if column.is_numeric
                        else np.full(n, np.nan)))
    outcome_table = np.array([_OUTCOME_CODE[name] for name in outcome_names], dtype=np.int8)
    # (pa.array() of a Python list would import pandas, to check for pandas objects)
    outcomes = outcome_table[_numpy(pc.index_in(outcome, value_set=outcome_distinct))]
    test_ids: tuple[str, ...] = ()
    if "test_id" in names:
        test_ids = tuple("" if t is None else t for t in table.column("test_id").to_pylist())
    return (
        EncodedResults(
            params=space.paths,
            class_labels=tuple(tuple(c.label for c in p.value_classes) for p in space.parameters),
            codes=codes,
            outcomes=np.asarray(outcomes, dtype=np.int8),
            metrics=metrics,
            numeric=numeric,
            config_hashes=_config_hash(columns, n),
            test_ids=test_ids,
        ),
        space,
    )


__all__ = ["encode_table"]
