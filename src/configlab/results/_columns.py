"""JSON Lines results straight to columns, inferred and encoded without a Python object per row.

:func:`encode_jsonl` reads a results file with Polars' native JSON reader, infers the space
from each config column's distinct values (the same space :meth:`ResultSet.infer_space` infers:
the parameter builders of :mod:`configlab.space._infer` see each column's distinct values in
first-seen order, plus one repeat when the column has one), and encodes each column by
classifying its distinct values once.  ``configlab analyze`` uses it for ``.jsonl`` files.

It handles the common shape — every row has the same config keys with scalar, non-null values
(nested objects are fine), and only known result fields — and raises :class:`FastPathUnavailable`
otherwise (a null or missing key, which Polars cannot tell apart; lists; mixed types; malformed
rows), so the caller falls back to the row reader, which also gives the exact error messages.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from configlab import tree as _tree
from configlab.errors import ConfiglabError, ResultsError
from configlab.results._column_infer import (
    FastPathUnavailable as FastPathUnavailable,
)
from configlab.results._column_infer import _first_seen_order as _first_seen_order
from configlab.results._column_infer import _nearest_codes as _nearest_codes
from configlab.results._column_infer import code_matrix
from configlab.results._column_infer import infer_columns as infer_columns
from configlab.results._model import (
    _OUTCOME_CODE,
    _RESULT_KEYS,
    BOOKKEEPING_FIELDS,
    METRIC_PREFIX,
    RESERVED_COLUMNS,
    normalize_timestamp,
    parse_cell,
)
from configlab.results.encoded import EncodedResults
from configlab.space import Space


def _leaves(frame: Any, prefix: tuple[str, ...], out: list[tuple[tuple[str, ...], Any]]) -> None:
    import polars as pl

    for name in frame.columns:
        series = frame.get_column(name)
        segments = (*prefix, name)
        if isinstance(series.dtype, pl.Struct):
            _leaves(series.struct.unnest(), segments, out)
        else:
            out.append((segments, series))


#: result fields that hold text
_TEXT_FIELDS = ("test_id", "snapshot_id", "run_id", "timestamp", "stdout", "stderr", "outcome")


def _plain_arrow_type(kind: Any) -> bool:
    """True for the JSON types both readers agree on: booleans, int64, doubles, strings,
    nulls, and objects of those."""
    import pyarrow as pa

    if pa.types.is_struct(kind):
        return all(_plain_arrow_type(kind.field(i).type) for i in range(kind.num_fields))
    return bool(pa.types.is_boolean(kind) or pa.types.is_int64(kind)
                or pa.types.is_float64(kind) or pa.types.is_string(kind)
                or pa.types.is_null(kind))


#: bytes of JSON lines per parsing block (Arrow's default 1 MiB makes 700 blocks of a 700 MB
#: file, each with its own builders)
_BLOCK = 4 << 20


def _arrow_pool() -> Any:
    """Arrow's jemalloc pool with freed memory kept for reuse (None: Arrow's default pool).

    The JSON reader allocates and frees gigabytes while parsing; Arrow's default pools hand
    freed pages back to the system at once, and touching fresh pages again is paid in system
    time, which on a virtual machine returning free memory to its host cost more than the
    parsing itself (1,000,000 results x 50: 6.9 s of system time for 3.9 s of user time with
    the default pool, 0.6-1.3 s with this one, wall 27 s -> 8 s)."""
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(-1)
    except (NotImplementedError, AttributeError):  # pragma: no cover - a build without jemalloc
        return None
    return pool


def _read_arrow(path: Path) -> Any:
    """The file read by pyarrow's JSON reader as a Polars frame (:func:`_read_arrow_table`),
    or None."""
    table = _read_arrow_table(path)
    if table is None:
        return None
    import polars as pl  # deferred: as in the rest of this module

    return pl.from_arrow(table)


def _read_arrow_table(path: Path) -> Any:
    """The file read by pyarrow's JSON reader (half the CPU of Polars' whole-file inference
    on 100,000 x 50 results) as an Arrow table, or None when pyarrow is missing, fails, or
    inferred a type Polars' reader would not (timestamps from date-like strings): Polars reads
    it then."""
    try:
        # deferred: pyarrow is an optional extra, and only this reader needs it
        import pyarrow as pa
        import pyarrow.json as pa_json
    except ImportError:  # pragma: no cover - pyarrow comes with the scale/test extras
        return None
    # deferred: as in the rest of this module (orjson: only analyze reads here)
    import orjson

    # text fields stay text (pyarrow would make date-like strings timestamps): those the
    # first row has are declared; any other that turns out typed sends the file to Polars
    try:
        with path.open("rb") as handle:
            first = orjson.loads(handle.readline())
        text = [name for name in _TEXT_FIELDS if isinstance(first, dict) and name in first]
        options = pa_json.ParseOptions(
            explicit_schema=pa.schema([(name, pa.string()) for name in text]),
            unexpected_field_behavior="infer",
        )
        # a memory map, not the path: Arrow then parses the page cache in place instead of
        # copying the file into fresh buffers, and file pages fault in 64 KiB at a time
        # (100,000 x 50 results, 74 MB: system time 0.15-0.28 s -> 0.05-0.08 s)
        with pa.memory_map(str(path)) as source:
            table = pa_json.read_json(source, parse_options=options,
                                      read_options=pa_json.ReadOptions(block_size=_BLOCK),
                                      memory_pool=_arrow_pool())
    except Exception:  # any pyarrow or first-line failure: Polars' reader decides
        return None
    if not all(_plain_arrow_type(field.type) for field in table.schema):
        return None
    return table


def _read(path: Path, table: Any) -> Any:
    """The Polars frame of the file: from its Arrow ``table``, or Polars' own reader."""
    try:
        import polars as pl
    except ImportError:  # pragma: no cover - polars is a dependency; a broken install falls back
        raise FastPathUnavailable("polars is not installed") from None

    frame: Any = None if table is None else pl.from_arrow(table)
    if frame is None:
        try:
            frame = pl.read_ndjson(path, infer_schema_length=None)
        except Exception as error:  # any Polars failure means "use the row reader"
            raise FastPathUnavailable(f"polars cannot read it: {error}") from None
    unknown = set(frame.columns) - _RESULT_KEYS
    if unknown or "config" not in frame.columns or "outcome" not in frame.columns:
        raise FastPathUnavailable("unknown or missing result fields")
    if not isinstance(frame.schema["config"], pl.Struct):
        raise FastPathUnavailable("config is not an object in every row")
    return frame


def _check_column(series: Any, segments: tuple[str, ...]) -> None:
    """A config column the fast path can encode: scalar, one type, no missing cell."""
    import polars as pl

    if series.null_count():
        raise FastPathUnavailable(f"{'.'.join(segments)}: null or missing in some rows")
    if not (series.dtype == pl.Boolean or series.dtype == pl.String
            or series.dtype.is_integer() or series.dtype.is_float()):
        raise FastPathUnavailable(f"{'.'.join(segments)}: {series.dtype} values")
    if any(s == "" or "`" in s for s in segments):
        raise FastPathUnavailable("a key that cannot be addressed by a path")


def _columns(frame: Any) -> list[tuple[str, Any]]:
    leaves: list[tuple[tuple[str, ...], Any]] = []
    _leaves(frame.get_column("config").struct.unnest(), (), leaves)
    columns = []
    for segments, series in leaves:
        _check_column(series, segments)
        columns.append((_tree.join_path(segments), series))
    return columns


def _numeric_codes(series: Any, param: Any) -> npt.NDArray[np.int32] | None:
    """Value-class codes of a numeric Polars column (:func:`_nearest_codes`)."""
    return _nearest_codes(series.to_numpy(), series.dtype.is_integer(), param)


def _codes(series: Any, classify: Any) -> npt.NDArray[np.int32]:
    import polars as pl

    distinct = series.unique(maintain_order=True)
    mapping = {value: classify(value) for value in distinct.to_list()}
    if series.dtype == pl.Boolean:
        # polars cannot replace booleans by integers: go through 0/1
        table = np.array([mapping.get(False, 0), mapping.get(True, 0)], dtype=np.int32)
        return np.asarray(table[series.cast(pl.Int8).to_numpy()], dtype=np.int32)
    codes = series.replace_strict(mapping, return_dtype=pl.Int32)
    return np.asarray(codes.to_numpy(), dtype=np.int32)


def encode_jsonl(path: str | Path, space: Space | None = None) -> tuple[EncodedResults, Space]:
    """Read, infer (when ``space`` is None) and encode a JSON Lines results file by columns.

    Raises:
        FastPathUnavailable: the file needs the row reader (see the module docstring).
    """
    table = _read_arrow_table(Path(path))
    if table is not None:
        # deferred: the Arrow-only encoder imports this module
        from configlab.results._arrow_columns import encode_table

        done = encode_table(table, Path(path), space)
        if done is not None:
            return done
    frame = _read(Path(path), table)
    columns = _first_seen_order(_columns(frame), Path(path))
    metrics = _metrics(frame)
    return _encode(frame, columns, metrics, _config_hash(columns, frame.height), space)


def encode_csv(path: str | Path, space: Space | None = None) -> tuple[EncodedResults, Space]:
    """Read, infer (when ``space`` is None) and encode a flat CSV results file by columns
    (the layout :meth:`ResultSet.from_csv` reads): each column's distinct cells are typed once
    with the row reader's :func:`~configlab.results._model.parse_cell`.

    Raises:
        FastPathUnavailable: the file needs the row reader: empty cells (absent paths), dotted
        (nested) columns, JSON cells, columns mixing types, a malformed row.
    """
    frame, columns = _read_csv(Path(path))
    return _encode(frame, columns, _metrics(frame), _config_hash(columns, frame.height), space)


def _typed(name: str, series: Any) -> Any:
    """A CSV column of text cells as the typed column the row reader would see."""
    import polars as pl

    distinct = series.unique(maintain_order=True).to_list()
    try:
        values = [parse_cell(text, name) for text in distinct]
    except ConfiglabError:
        raise FastPathUnavailable(f"{name}: a cell the row reader rejects") from None
    kinds = {type(v) for v in values}
    if kinds == {str} and values == distinct:
        return series
    if kinds == {str}:  # JSON-quoted cells ('"42"', '"null"'): the strings they spell
        return series.replace_strict(distinct, values, return_dtype=pl.String)
    dtype = {frozenset({bool}): pl.Boolean, frozenset({int}): pl.Int64,
             frozenset({float}): pl.Float64}.get(frozenset(kinds))
    if dtype is None:
        raise FastPathUnavailable(f"{name}: mixed or structured values")
    return series.replace_strict(dict(zip(distinct, values, strict=True)), return_dtype=dtype)


def _read_csv(path: Path) -> tuple[Any, list[tuple[str, Any]]]:
    try:
        import polars as pl
    except ImportError:  # pragma: no cover - polars is a dependency; a broken install falls back
        raise FastPathUnavailable("polars is not installed") from None

    try:
        raw = pl.read_csv(path, infer_schema=False)
    except Exception as error:  # any Polars failure means "use the row reader"
        raise FastPathUnavailable(f"polars cannot read it: {error}") from None
    if "outcome" not in raw.columns or raw.height == 0:
        raise FastPathUnavailable("no outcome column or no rows")
    columns: list[tuple[str, Any]] = []
    metrics: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for name in raw.columns:
        series = raw.get_column(name)
        if name in RESERVED_COLUMNS:
            fields[name] = series
        elif name.startswith(METRIC_PREFIX) or name in BOOKKEEPING_FIELDS:
            try:
                value = series.cast(pl.Float64, strict=True)
            except Exception:  # a text metric: the row reader says where
                raise FastPathUnavailable(f"{name}: not a number in every row") from None
            if name in BOOKKEEPING_FIELDS:
                fields[name] = value
            else:
                metrics[name.removeprefix(METRIC_PREFIX)] = value
        else:
            if series.null_count() or not name or "." in name or "`" in name:
                raise FastPathUnavailable(f"{name}: an empty cell or a nested path")
            columns.append((name, _typed(name, series)))
    if "duration" in fields:
        try:
            fields["duration"] = fields["duration"].cast(pl.Float64, strict=True)
        except Exception:  # the row reader reports the cell
            raise FastPathUnavailable("duration is not a number in every row") from None
    if not columns:
        raise FastPathUnavailable("no config column")
    data = {"config": pl.struct([c.alias(n) for n, c in columns], eager=True), **fields}
    if metrics:
        data["metrics"] = pl.struct([c.alias(n) for n, c in metrics.items()], eager=True)
    frame = pl.DataFrame(data)
    return frame, columns


def encode_parquet(path: str | Path, space: Space | None = None) -> tuple[EncodedResults, Space]:
    """Read, infer (when ``space`` is None) and encode a Parquet results table (the layout of
    :func:`configlab.integrations.exporters.to_parquet`) by columns.

    Raises:
        FastPathUnavailable: the file needs the row reader: columns holding canonical text
            (mixed types, nulls, lists), missing cells, unknown columns, or unreadable.
    """
    try:
        import polars as pl
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - both installed with the scale/test extras
        raise FastPathUnavailable("polars or pyarrow is not installed") from None
    try:
        metadata = pq.read_schema(path).metadata or {}
        frame = pl.read_parquet(path)
        # dictionary-encoded strings (pyarrow, DuckDB and Spark write them) are strings here
        frame = frame.with_columns(pl.col(pl.Categorical).cast(pl.String))
    except Exception as error:  # any failure means "use the row reader" (exact errors)
        raise FastPathUnavailable(f"cannot read it: {error}") from None
    if metadata.get(b"configlab.text_columns", b"[]") != b"[]":
        raise FastPathUnavailable("config columns holding canonical text")
    if "outcome" not in frame.columns:
        raise FastPathUnavailable("no outcome column")
    config = [c for c in frame.columns if c not in RESERVED_COLUMNS
              and c not in BOOKKEEPING_FIELDS and not c.startswith(METRIC_PREFIX)]
    columns = []
    for name in config:
        series = frame.get_column(name)
        _check_column(series, (name,))
        columns.append((name, series))
    metrics = _flat_metrics(frame)
    return _encode(frame, columns, metrics, _config_hash(columns, frame.height), space)


def _config_hash(columns: Sequence[tuple[str, Any]], n_rows: int) -> npt.NDArray[np.uint64]:
    """A 64-bit key per row, equal for equal configs: each config column's Polars hash, folded
    column by column (hashing the config struct at once built a row encoding of every
    column first: ~2 s of mostly system time per 1,000,000 x 50)."""
    key = np.zeros(n_rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for _, series in columns:
            key *= np.uint64(0x100000001B3)  # FNV-1 style fold: the column order matters
            key ^= series.hash(seed=0).to_numpy()
    return key


def _encode(frame: Any, columns: list[tuple[str, Any]],
            metrics: dict[str, npt.NDArray[np.float64]], config_hash: Any,
            space: Space | None) -> tuple[EncodedResults, Space]:
    """Encode config ``columns`` of ``frame`` (outcome, test ids and text fields read from it)."""
    import polars as pl

    outcome = frame.get_column("outcome")
    if outcome.dtype == pl.Categorical or outcome.dtype == pl.Enum:
        outcome = outcome.cast(pl.String)
    if outcome.dtype != pl.String or outcome.null_count():
        raise FastPathUnavailable("outcome is not a string in every row")
    bad = set(outcome.unique().to_list()) - set(_OUTCOME_CODE)
    if bad:
        raise FastPathUnavailable(f"unknown outcomes {sorted(bad)}")
    if space is None:
        space = infer_columns(columns)
    if any(space.routed(p.path) for p in space.parameters):
        raise FastPathUnavailable("element parameters are read through their containers")
    n = frame.height

    def codes_of(series: Any, param: Any) -> npt.NDArray[np.int32]:
        fast = _numeric_codes(series, param) if series.dtype.is_numeric() else None
        return fast if fast is not None else _codes(series, param.classify)

    def numbers_of(series: Any) -> npt.NDArray[np.float64]:
        if series.dtype == pl.Boolean or series.dtype == pl.String:
            return np.full(n, np.nan)
        return series.cast(pl.Float64).to_numpy().astype(np.float64)  # type: ignore[no-any-return]

    codes, numeric = code_matrix(space, columns, n, codes_of, numbers_of)
    outcomes = np.asarray(
        outcome.replace_strict(_OUTCOME_CODE, return_dtype=pl.Int8).to_numpy(), dtype=np.int8
    )
    _check_text_fields(frame)
    test_ids: tuple[str, ...] = ()
    if "test_id" in frame.columns:
        test_ids = tuple(frame.get_column("test_id").cast(pl.String).fill_null("").to_list())
    return (
        EncodedResults(
            params=space.paths,
            class_labels=tuple(tuple(c.label for c in p.value_classes) for p in space.parameters),
            codes=codes,
            outcomes=outcomes,
            metrics=metrics,
            numeric=numeric,
            config_hashes=config_hash,
            test_ids=test_ids,
        ),
        space,
    )


def _flat_metrics(frame: Any) -> dict[str, npt.NDArray[np.float64]]:
    """``duration``, ``metric.<name>`` and bookkeeping (``exit_status``, ...) columns of a flat
    (Parquet) results table."""
    import polars as pl

    out: dict[str, npt.NDArray[np.float64]] = {}
    for name in frame.columns:
        if (name != "duration" and name not in BOOKKEEPING_FIELDS
                and not name.startswith(METRIC_PREFIX)):
            continue
        series = frame.get_column(name)
        if not (series.dtype.is_numeric() or series.dtype == pl.Null):
            raise FastPathUnavailable(f"{name} is not a number")
        if name == "duration" and series.null_count() == frame.height:
            continue
        key = name.removeprefix(METRIC_PREFIX)
        if key in out:
            raise FastPathUnavailable("a metric named duration")
        out[key] = series.cast(pl.Float64).fill_null(np.nan).to_numpy()
    return dict(sorted(out.items()))


def _check_text_fields(frame: Any) -> None:
    """The row reader's checks of the fields analysis does not use (errors stay errors)."""
    import polars as pl

    for name in ("test_id", "snapshot_id", "run_id", "timestamp", "stdout", "stderr"):
        if name in frame.columns and frame.schema[name] not in (pl.String, pl.Null):
            raise FastPathUnavailable(f"{name} is not a string in every row")
    if "timestamp" in frame.columns:
        stamps = frame.get_column("timestamp").drop_nulls().unique()
        # a million distinct times cost seconds in Python: Polars parses the plain ISO forms,
        # and Python's own parser judges only what Polars could not read
        try:
            unparsed = stamps.filter(
                stamps.str.to_datetime(strict=False, time_zone="UTC").is_null())
        except Exception:  # no format Polars can infer: Python judges them all
            unparsed = stamps
        for value in unparsed.to_list():
            try:
                normalize_timestamp(value)
            except ResultsError:
                # the row reader reports it with the file and line
                raise FastPathUnavailable("a malformed timestamp") from None


def _metrics(frame: Any) -> dict[str, npt.NDArray[np.float64]]:
    import polars as pl

    out: dict[str, npt.NDArray[np.float64]] = {}
    if "duration" in frame.columns:
        duration = frame.get_column("duration")
        if not (duration.dtype.is_numeric() or duration.dtype == pl.Null):
            raise FastPathUnavailable("duration is not a number")
        if duration.null_count() < frame.height:
            out["duration"] = duration.cast(pl.Float64).fill_null(np.nan).to_numpy()
    if "metrics" in frame.columns:
        metrics = frame.get_column("metrics")
        if not isinstance(metrics.dtype, pl.Struct):
            raise FastPathUnavailable("metrics is not an object in every row")
        for name in metrics.struct.fields:
            series = metrics.struct.field(name)
            if not series.dtype.is_numeric():
                raise FastPathUnavailable(f"metric {name!r} is not a number")
            if name == "duration" and "duration" in out:
                raise FastPathUnavailable("a metric named duration")
            out[name] = series.cast(pl.Float64).fill_null(np.nan).to_numpy()
    for name in BOOKKEEPING_FIELDS:
        # a runner's top-level exit status / wall time is a metric (as the row reader reads it)
        if name in frame.columns:
            series = frame.get_column(name)
            if not series.dtype.is_numeric() or name in out:
                raise FastPathUnavailable(f"{name} is not a number, or also a metric")
            out[name] = series.cast(pl.Float64).fill_null(np.nan).to_numpy()
    return dict(sorted(out.items()))


def encode_columns(path: str | os.PathLike[str], space: Space | None = None
                   ) -> tuple[EncodedResults, Space] | None:
    """A JSON lines, flat CSV or Parquet results file read straight to columns and encoded (no
    Python object per row), or None when the file needs the row readers (an unusual shape:
    missing keys, nulls, lists, mixed types; those readers also give the exact error
    messages)."""
    text = os.fspath(path)
    reader = (encode_parquet if text.endswith(".parquet")
              else encode_csv if text.endswith(".csv") else encode_jsonl)
    if not text.endswith((".jsonl", ".parquet", ".csv")) or not Path(text).is_file():
        return None
    try:
        return reader(text, space)
    except FastPathUnavailable:
        return None


__all__ = ["FastPathUnavailable", "encode_columns", "encode_csv", "encode_jsonl",
           "encode_parquet", "infer_columns"]
