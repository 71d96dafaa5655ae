"""Results files read straight to the columns of a :class:`~configlab.results.ResultSet`.

JSON Lines are parsed by Arrow's JSON reader (Polars' when Arrow cannot), CSV by Polars' CSV
reader, through the readers of :mod:`configlab.results._columns`.  What those readers cannot
tell apart is settled from the lines themselves, only for the rows concerned: a null or
missing config key (null vs absent), and a whole float such as ``1.0`` (Arrow reads ``1`` and
``1.0`` alike; the row reader keeps an int apart from a float).  Those rows' lines are parsed
again with orjson, and a leaf whose values turn out to mix types becomes a JSON column.  Any
other shape the column readers cannot take -- lists, a key both an object and a value, bad
values, unknown fields -- raises :class:`FastPathUnavailable`, and the set is read line by
line, which keeps the exact semantics and error messages.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from configlab import tree as _tree
from configlab.errors import ConfiglabError
from configlab.results._columns import FastPathUnavailable, _read_arrow, _typed
from configlab.results._frame import (
    OPTIONAL_TEXT,
    OUTCOME_TYPE,
    Leaf,
    Table,
    _as_json,
    _config_name,
    _metric_name,
    normalized_stamps,
)
from configlab.results._model import (
    _RESULT_KEYS,
    BOOKKEEPING_FIELDS,
    METRIC_PREFIX,
    RESERVED_COLUMNS,
    parse_cell,
)
from configlab.results.encoded import OUTCOME_NAMES
from configlab.tree import ABSENT


def read_table(kind: str, path: Path) -> Table | None:
    """``path`` (``kind`` ``"jsonl"``, ``"csv"`` or ``"parquet"``) as columns, or None when it
    needs the row reader."""
    reader = {"jsonl": jsonl_table, "csv": csv_table, "parquet": parquet_table}[kind]
    try:
        return reader(path)
    except FastPathUnavailable:
        return None


# --------------------------------------------------------------------------- JSON lines


class _Lines:
    """The parsed lines of some rows (non-blank lines, numbered from 0 as the readers number
    rows), read in one pass over the file."""

    def __init__(self, path: Path, height: int) -> None:
        self.path, self.height = path, height
        self.rows: dict[int, Any] = {}

    def load(self, wanted: set[int]) -> None:
        wanted = wanted - set(self.rows)
        if not wanted:
            return
        ends = _line_ends(self.path)
        if len(ends) == self.height:  # no blank line: row i is line i
            with self.path.open("rb") as handle:
                for row in sorted(wanted):
                    start = int(ends[row - 1]) + 1 if row else 0
                    self.rows[row] = _parse(os.pread(handle.fileno(), int(ends[row]) - start,
                                                     start))
            return
        row = -1
        with self.path.open("rb") as handle:
            for line in handle:
                if not line.strip():
                    continue
                row += 1
                if row in wanted:
                    self.rows[row] = _parse(line)
        if row + 1 != self.height:
            raise FastPathUnavailable("the readers count rows differently")

    def config_value(self, row: int, segments: tuple[str, ...]) -> Any:
        """The exact value at ``segments`` of row's config, or ABSENT."""
        data = self.rows[row]
        node = data.get("config") if isinstance(data, dict) else None
        if not isinstance(node, dict):
            raise FastPathUnavailable("a row without a config object")
        for depth, segment in enumerate(segments):
            if not isinstance(node, dict):
                raise FastPathUnavailable("a key both an object and a value")
            if segment not in node:
                if depth and not node:  # an empty object where others have keys
                    raise FastPathUnavailable("an empty object beside a non-empty one")
                return ABSENT
            node = node[segment]
        if isinstance(node, dict | list):
            raise FastPathUnavailable("an object or list where others have a value")
        return node

    def field(self, row: int, *path: str) -> Any:
        """The exact top-level (or ``metrics``) value, or ABSENT."""
        node: Any = self.rows[row]
        for segment in path:
            if not isinstance(node, dict) or segment not in node:
                return ABSENT
            node = node[segment]
        return node


def _parse(line: bytes) -> Any:
    # the row reader's own parser (orjson reads an int beyond 64 bits as a float): the values
    # must be exactly the ones it would see
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        raise FastPathUnavailable("a malformed line") from None


#: bytes scanned at once for line ends
_CHUNK = 32 << 20


def _line_ends(path: Path) -> np.ndarray[Any, Any]:
    """The offset where each line of ``path`` ends (its newline, or the end of the file),
    lines holding only whitespace included: numpy over the bytes, in chunks, instead of a
    Python loop per line (1,000,000 lines: ~0.2 s instead of ~0.9 s)."""
    parts = []
    size = path.stat().st_size
    # read into one reusable buffer: a memory map of the whole file would count every page of
    # it in the process's resident memory (+680 MB at 1,000,000 results)
    raw = bytearray(_CHUNK)
    buffer = np.frombuffer(raw, dtype=np.uint8)
    with path.open("rb", buffering=0) as handle:
        offset = 0
        while count := handle.readinto(raw):
            parts.append(np.flatnonzero(buffer[:count] == 10) + offset)
            offset += count
    ends = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    if size and (not len(ends) or ends[-1] != size - 1):
        ends = np.append(ends, size)  # a last line without a newline
    return ends


def _config_leaves(series: pl.Series, prefix: tuple[str, ...],
                   out: list[tuple[tuple[str, ...], pl.Series]]) -> None:
    if not isinstance(series.dtype, pl.Struct):
        if not (series.dtype in (pl.Boolean, pl.String, pl.Null) or series.dtype.is_integer()
                or series.dtype.is_float()):
            raise FastPathUnavailable(f"{series.dtype} values")
        out.append((prefix, series))
        return
    frame = series.struct.unnest()
    if not frame.columns:
        raise FastPathUnavailable("an empty object")
    for name in frame.columns:
        _config_leaves(frame.get_column(name), (*prefix, name), out)


def _suspect(series: pl.Series) -> np.ndarray[Any, Any]:
    """Rows whose cell the column reader may have read differently from the row reader."""
    suspect = series.is_null()
    if series.dtype.is_float():
        suspect = suspect | (series == series.floor()).fill_null(False)
    return np.flatnonzero(suspect.to_numpy())


def _settled(series: pl.Series, rows: np.ndarray[Any, Any], values: list[Any]
             ) -> tuple[pl.Series, bool]:
    """``series`` with the cells of ``rows`` replaced by their exact ``values`` (ABSENT or
    JSON values): native when every value keeps the column's type, else a JSON column."""
    native: dict[Any, type] = {pl.Boolean: bool, pl.String: str, pl.Int64: int,
                               pl.Float64: float}
    if series.dtype.is_integer():
        series = series.cast(pl.Int64)
    elif series.dtype.is_float():
        series = series.cast(pl.Float64)
    texts = [None if v is ABSENT else json.dumps(v, sort_keys=True, separators=(",", ":"),
                                                   ensure_ascii=False) for v in values]
    if series.dtype == pl.Null:  # null or missing in every row: only the lines know which
        cells: list[str | None] = [None] * series.len()
        for row, text in zip(rows.tolist(), texts, strict=True):
            cells[row] = text
        return pl.Series(cells, dtype=pl.String), True
    kind = native.get(series.dtype)
    present = [v for v in values if v is not ABSENT]
    cleared = (series.scatter(rows, pl.Series([None] * len(rows), dtype=series.dtype))
               if len(rows) else series)
    if kind is not None and all(type(v) is kind for v in present):
        settled = pl.Series([None if v is ABSENT else v for v in values], dtype=series.dtype)
        fixed = cleared.scatter(rows, settled) if len(rows) else cleared
        return fixed, False
    base = _as_json(cleared)
    return base.scatter(rows, pl.Series(texts, dtype=pl.String)), True


def _first_seen(leaves: list[tuple[tuple[str, ...], pl.Series, bool]], lines: _Lines
                ) -> list[tuple[tuple[str, ...], pl.Series, bool]]:
    """Leaves in the order the row reader first meets them: by the first row holding each,
    then by that row's own key order."""
    firsts = [int(series.is_not_null().arg_max() or 0) for _, series, _ in leaves]
    lines.load(set(firsts) - set(lines.rows))
    order: dict[int, dict[tuple[str, ...], int]] = {}
    for row in set(firsts):
        walk: dict[tuple[str, ...], int] = {}
        _key_order(lines.field(row, "config"), (), walk)
        order[row] = walk
    keyed = []
    for (segments, series, is_json), first in zip(leaves, firsts, strict=True):
        position = order[first].get(segments)
        if position is None:
            raise FastPathUnavailable("a leaf missing from its first row")
        keyed.append(((first, position), (segments, series, is_json)))
    return [leaf for _, leaf in sorted(keyed, key=lambda item: item[0])]


def _key_order(node: Any, prefix: tuple[str, ...], out: dict[tuple[str, ...], int]) -> None:
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        segments = (*prefix, key)
        if isinstance(value, dict) and value:
            _key_order(value, segments, out)
        else:
            out.setdefault(segments, len(out))


def jsonl_table(path: Path) -> Table:
    """A JSON Lines results file as columns (see the module docstring).

    Raises:
        FastPathUnavailable: the file needs the row reader.
    """
    # Arrow's reader only: it refuses a key whose type changes between rows, where Polars'
    # reader would turn 1 and "x" into the strings "1" and "x"
    frame = _read_arrow(path)
    if frame is None:
        raise FastPathUnavailable("Arrow's JSON reader cannot read it")
    if not set(frame.columns) <= _RESULT_KEYS or not {"config", "outcome"} <= set(frame.columns):
        raise FastPathUnavailable("unknown or missing result fields")
    lines = _Lines(path, frame.height)
    found: list[tuple[tuple[str, ...], pl.Series]] = []
    _config_leaves(frame.get_column("config"), (), found)
    if any(s == "" or "`" in s for segments, _ in found for s in segments):
        raise FastPathUnavailable("a key that cannot be addressed by a path")
    metric_struct = frame.get_column("metrics") if "metrics" in frame.columns else None
    metric_series: dict[str, pl.Series] = {}
    if metric_struct is not None:
        if not isinstance(metric_struct.dtype, pl.Struct):
            raise FastPathUnavailable("metrics is not an object in every row")
        metric_series = {name: metric_struct.struct.field(name)
                         for name in metric_struct.struct.fields}
    bookkeeping = {name: frame.get_column(name) for name in BOOKKEEPING_FIELDS
                   if name in frame.columns}
    if set(bookkeeping) & set(metric_series):
        raise FastPathUnavailable("a bookkeeping field also given as a metric")
    for series in (*metric_series.values(), *bookkeeping.values()):
        if not (series.dtype.is_numeric() or series.dtype == pl.Null):
            raise FastPathUnavailable("a metric that is not a number")
    suspects = [_suspect(series) for _, series in found]
    metric_nulls = {name: np.flatnonzero(series.is_null().to_numpy())
                    for name, series in (*metric_series.items(), *bookkeeping.items())}
    # one pass over the file: the suspect rows, and each leaf's first non-null row (where the
    # row reader first meets it, unless a suspect row before it holds a JSON null)
    firsts = {int(series.is_not_null().arg_max() or 0) for _, series in found}
    lines.load({int(r) for rows in (*suspects, *metric_nulls.values()) for r in rows} | firsts)
    for name, rows in metric_nulls.items():
        where = ("metrics", name) if name in metric_series else (name,)
        if any(lines.field(int(r), *where) is not ABSENT for r in rows):
            raise FastPathUnavailable(f"metric {name!r} is null in some row")
    leaves = []
    for (segments, series), rows in zip(found, suspects, strict=True):
        values = [lines.config_value(int(r), segments) for r in rows]
        fixed, is_json = _settled(series, rows, values)
        if fixed.null_count() < fixed.len():
            leaves.append((segments, fixed, is_json))
    leaves = _first_seen(leaves, lines)
    metrics = {**metric_series, **bookkeeping}
    return _assemble(frame, leaves, metrics)


def _text(frame: pl.DataFrame, name: str) -> pl.Series:
    if name not in frame.columns:
        return pl.Series(name, [None] * frame.height, dtype=pl.String)
    series = frame.get_column(name)
    if series.dtype == pl.Null:
        return series.cast(pl.String)
    if series.dtype != pl.String:
        raise FastPathUnavailable(f"{name} is not a string in every row")
    return series


def _assemble(frame: pl.DataFrame, leaves: list[tuple[tuple[str, ...], pl.Series, bool]],
              metrics: Mapping[str, pl.Series]) -> Table:
    """The table of ``frame``'s result fields, ``leaves`` and ``metrics``."""
    outcome = frame.get_column("outcome")
    if outcome.dtype in (pl.Categorical, pl.Enum):
        outcome = outcome.cast(pl.String)
    if outcome.dtype != pl.String or outcome.null_count() or not set(
            outcome.unique().to_list()) <= set(OUTCOME_NAMES):
        raise FastPathUnavailable("an outcome the row reader rejects")
    duration = frame.get_column("duration") if "duration" in frame.columns else pl.Series(
        [None] * frame.height, dtype=pl.Float64)
    if not (duration.dtype.is_numeric() or duration.dtype == pl.Null):
        raise FastPathUnavailable("duration is not a number")
    columns = {
        "outcome": outcome.cast(OUTCOME_TYPE).alias("outcome"),
        "duration": duration.cast(pl.Float64).alias("duration"),
        "test_id": _text(frame, "test_id").fill_null("").alias("test_id"),
    }
    for name in OPTIONAL_TEXT:
        columns[name] = _text(frame, name).alias(name)
    try:
        columns["timestamp"] = normalized_stamps(columns["timestamp"])
    except ConfiglabError:  # the row reader says which line
        raise FastPathUnavailable("a malformed timestamp") from None
    kept = []
    numbers = [columns["duration"]]
    for name, series in metrics.items():
        if series.null_count() < series.len():
            columns[_metric_name(name)] = series.cast(pl.Float64).alias(_metric_name(name))
            numbers.append(columns[_metric_name(name)])
            kept.append(name)
    if any(not number.drop_nulls().is_finite().all() for number in numbers):
        raise FastPathUnavailable("a duration or metric that is not finite")
    for index, (_, series, _) in enumerate(leaves):
        columns[_config_name(index)] = series.alias(_config_name(index))
    return Table(pl.DataFrame(columns),
                 tuple(Leaf(segments, is_json) for segments, _, is_json in leaves), tuple(kept))


# --------------------------------------------------------------------------- CSV


def _csv_header(path: Path) -> list[str]:
    """The header row as the row reader reads it (Polars renames duplicate names)."""
    import csv  # deferred: only CSV files read here

    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle), [])


def csv_table(path: Path) -> Table:
    """A flat CSV results file (:meth:`ResultSet.from_csv`'s layout) as columns, when no
    config cell is empty, no column is dotted (nested) and no column mixes types.

    Raises:
        FastPathUnavailable: the file needs the row reader.
    """
    try:
        raw = pl.read_csv(path, infer_schema=False)
    except Exception as error:  # any Polars failure means "use the row reader"
        raise FastPathUnavailable(f"polars cannot read it: {error}") from None
    if "outcome" not in raw.columns or raw.columns != _csv_header(path):
        raise FastPathUnavailable("no outcome column, or duplicate column names")
    leaves: list[tuple[tuple[str, ...], pl.Series, bool]] = []
    metrics: dict[str, pl.Series] = {}
    for name in raw.columns:
        series = raw.get_column(name)
        if name in RESERVED_COLUMNS:
            continue
        if name.startswith(METRIC_PREFIX) or name in BOOKKEEPING_FIELDS:
            try:
                metrics[name.removeprefix(METRIC_PREFIX)] = series.cast(pl.Float64, strict=True)
            except Exception:  # a text metric: the row reader says where
                raise FastPathUnavailable(f"{name}: not a number in every row") from None
        else:
            if series.null_count() or not name or "." in name or "`" in name:
                raise FastPathUnavailable(f"{name}: an empty cell or a nested path")
            leaves.append(((name,), _typed(name, series), False))
    if any(name in BOOKKEEPING_FIELDS and METRIC_PREFIX + name in raw.columns
           for name in metrics):
        raise FastPathUnavailable("a metric given twice")
    if "duration" in raw.columns:
        try:
            raw = raw.with_columns(pl.col("duration").cast(pl.Float64, strict=True))
        except Exception:  # the row reader reports the cell
            raise FastPathUnavailable("duration is not a number in every row") from None
    return _assemble(raw, leaves, metrics)


# --------------------------------------------------------------------------- Parquet


def _text_leaf(name: str, series: pl.Series) -> tuple[pl.Series, bool]:
    """A config column of canonical text cells (``configlab.text_columns``) as a leaf: each
    distinct cell typed once by :func:`~configlab.results.parse_cell`; native when every value
    has one scalar type, else JSON text."""
    texts = series.drop_nulls().unique(maintain_order=True).to_list()
    try:
        values = [parse_cell(text, name) for text in texts]
    except ConfiglabError:
        raise FastPathUnavailable(f"{name}: a cell the row reader rejects") from None
    kinds = {type(v) for v in values}
    native = {bool: pl.Boolean, int: pl.Int64, float: pl.Float64, str: pl.String}
    kind = next(iter(kinds)) if len(kinds) == 1 else None
    if kind in native and (kind is not int or all(-(2**63) <= v < 2**63 for v in values)):
        return series.replace_strict(texts, values, default=None, return_dtype=native[kind]), \
            False
    spelled = [json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
               for v in values]
    return series.replace_strict(texts, spelled, default=None, return_dtype=pl.String), True


def parquet_table(path: Path) -> Table:
    """A Parquet results table (:func:`configlab.integrations.exporters.to_parquet`'s
    layout) as columns: typed config columns as they are (a missing cell: absent), text columns
    typed once per distinct cell, ``metric.<name>`` columns as metrics.

    Raises:
        FastPathUnavailable: the file needs the row reader (``ingest.from_parquet``).
    """
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow comes with the scale/test extras
        raise FastPathUnavailable("pyarrow is not installed") from None
    try:
        metadata = pq.read_schema(path).metadata or {}
        text_columns = set(json.loads(metadata.get(b"configlab.text_columns", b"[]")))
        frame = pl.read_parquet(path)
        frame = frame.with_columns(pl.col(pl.Categorical).cast(pl.String))
    except Exception as error:  # any failure means "use the row reader" (exact errors)
        raise FastPathUnavailable(f"cannot read it: {error}") from None
    if "outcome" not in frame.columns:
        raise FastPathUnavailable("no outcome column")
    leaves: list[tuple[tuple[str, ...], pl.Series, bool]] = []
    metrics: dict[str, pl.Series] = {}
    for name in frame.columns:
        series = frame.get_column(name)
        if name in RESERVED_COLUMNS or series.null_count() == series.len():
            continue
        if name.startswith(METRIC_PREFIX):
            if not series.dtype.is_numeric():
                raise FastPathUnavailable(f"{name} is not a number")
            metrics[name.removeprefix(METRIC_PREFIX)] = series
            continue
        try:
            segments = _tree.split_path(name)
        except ConfiglabError:
            raise FastPathUnavailable(f"{name}: not a path") from None
        if name in text_columns:
            if series.dtype != pl.String:
                raise FastPathUnavailable(f"{name}: a text column that is not text")
            typed, is_json = _text_leaf(name, series)
        elif series.dtype in (pl.Boolean, pl.String) or series.dtype.is_integer() or (
                series.dtype.is_float()):
            typed, is_json = series, False
            if series.dtype.is_integer():
                typed = series.cast(pl.Int64)
            elif series.dtype.is_float():
                typed = series.cast(pl.Float64)
        else:
            raise FastPathUnavailable(f"{name}: {series.dtype} values")
        leaves.append((segments, typed, is_json))
    paths = {segments for segments, _, _ in leaves}
    if len(paths) < len(leaves) or any(segments[:k] in paths for segments in paths
                                       for k in range(1, len(segments))):
        raise FastPathUnavailable("a path that is also another's parent")
    return _assemble(frame, leaves, metrics)


__all__ = ["csv_table", "jsonl_table", "parquet_table", "read_table"]
