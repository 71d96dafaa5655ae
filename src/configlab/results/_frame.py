"""The columns behind :class:`~configlab.results.ResultSet`: one Polars column per result field,
per metric and per config leaf, instead of a Python :class:`~configlab.results.Result` per row.

Why Polars (and not a pyarrow ``Table``): the columnar readers, the space inference over
distinct values and the encoding in :mod:`configlab.results._columns` already work on Polars
series, Polars is a core dependency (pyarrow is an optional extra), and Polars gives the
kernels the set needs -- filters, ``unique``, ``replace_strict``, hashing, concatenation --
over Arrow memory.

The layout (:class:`Table`):

* ``outcome`` (an ``Enum`` of the four outcomes), ``duration`` (Float64, null = unknown),
  ``test_id`` (text, never null), ``snapshot_id``, ``timestamp`` (normalised ISO 8601 UTC),
  ``run_id``, ``stdout``, ``stderr`` (text, null = none);
* one Float64 column per metric (null = the result did not report it);
* one column per config *leaf* (a path whose value is not a non-empty mapping), in the order
  the leaves were first seen.  A leaf whose values all have one scalar type (bool, int within
  64 bits, float, str) is a native column with null = absent; any other leaf (null values,
  lists, empty mappings, mixed types -- ``1`` next to ``1.5`` stays an int next to a float) is
  a *JSON column*: the canonical JSON text of each value, null = absent.

So a config comes back exactly (types, null apart from absent, ints apart from floats), except
that its keys come back in the set's first-seen leaf order rather than each row's own order,
and tuples come back as lists (the JSON data a config is).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from configlab import tree as _tree
from configlab._internal.canonical import canonical_json
from configlab.errors import ResultsError, SpaceError
from configlab.results._column_infer import _observed
from configlab.results._columns import _numeric_codes
from configlab.results._encode import encode_results
from configlab.results._model import (
    METRIC_PREFIX,
    RESERVED_COLUMNS,
    Result,
    _number,
    format_cell,
)
from configlab.results._select import Selection, _environment, _test_matches, criteria
from configlab.results._time import normalize_timestamp
from configlab.results.encoded import OUTCOME_NAMES, EncodedResults
from configlab.space import Space, infer_parameter
from configlab.tree import ABSENT

#: The result fields, in the order of a record tuple (see :data:`Record`).
FIELDS = ("config", "outcome", "duration", "metrics", "test_id", "snapshot_id", "timestamp",
          "run_id", "stdout", "stderr")
#: text fields that may be null
OPTIONAL_TEXT = ("snapshot_id", "timestamp", "run_id", "stdout", "stderr")
OUTCOME_TYPE = pl.Enum(list(OUTCOME_NAMES))
#: A result as a plain tuple in :data:`FIELDS` order (what the columns are built from and
#: materialised to; :class:`~configlab.results.Result` is built from it by the set).
Record = tuple[Mapping[str, Any], str, float | None, Mapping[str, float], str, str | None,
               str | None, str | None, str | None, str | None]

_INT64 = (-(2**63), 2**63 - 1)
#: exact Python type -> native column type
_NATIVE = {bool: pl.Boolean, int: pl.Int64, float: pl.Float64, str: pl.String}
#: rows materialised at once when iterating (bounded memory, one column slice per block)
BLOCK = 4096


@dataclass(frozen=True)
class Leaf:
    """One config leaf column: its path segments (the config's own keys) and whether its cells
    are canonical JSON text (see the module docstring)."""

    segments: tuple[Any, ...]
    json: bool

    @property
    def path(self) -> str:
        """The dotted path (:func:`configlab.tree.join_path`)."""
        return _tree.join_path(tuple(str(s) for s in self.segments))


def _config_name(index: int) -> str:
    return f"config:{index}"


def _metric_name(name: str) -> str:
    return f"metric:{name}"


@dataclass(frozen=True)
class Table:
    """Results as columns: the frame, its config leaves (frame columns ``config:<i>``) and its
    metric names (frame columns ``metric:<name>``), both in first-seen order."""

    frame: pl.DataFrame
    leaves: tuple[Leaf, ...]
    metrics: tuple[str, ...]

    @property
    def height(self) -> int:
        """Number of results."""
        return int(self.frame.height)

    def leaf_series(self, index: int) -> pl.Series:
        """The column of leaf ``index``."""
        return self.frame.get_column(_config_name(index))

    def metric_series(self, name: str) -> pl.Series:
        """The column of metric ``name``."""
        return self.frame.get_column(_metric_name(name))


# --------------------------------------------------------------------------- building


def _field_columns(outcomes: Sequence[Any], durations: Sequence[Any], test_ids: Sequence[Any],
                   texts: Mapping[str, Sequence[Any]]) -> dict[str, pl.Series]:
    try:
        outcome = pl.Series("outcome", outcomes, dtype=pl.String).cast(OUTCOME_TYPE)
    except Exception:  # polars raises its own InvalidOperationError: say which outcome
        bad = sorted({str(o) for o in outcomes} - set(OUTCOME_NAMES))
        raise ResultsError(
            f"outcome must be one of {', '.join(OUTCOME_NAMES)}, got {bad[:3]}") from None
    columns = {
        "outcome": outcome,
        "duration": pl.Series("duration", durations, dtype=pl.Float64),
        "test_id": pl.Series("test_id", test_ids, dtype=pl.String),
    }
    for name in OPTIONAL_TEXT:
        columns[name] = pl.Series(name, texts[name], dtype=pl.String)
    return columns


def _leaf_column(values: list[Any]) -> tuple[pl.Series, bool]:
    """A config leaf's cells (ABSENT where missing) as a native or a JSON column."""
    kinds = {type(v) for v in values}
    kinds.discard(type(ABSENT))
    if len(kinds) == 1:
        kind = next(iter(kinds))
        dtype = _NATIVE.get(kind)
        present = [None if v is ABSENT else v for v in values]
        if dtype is not None and (kind is not int or (_INT64[0] <= min(
                v for v in present if v is not None) and max(
                v for v in present if v is not None) <= _INT64[1])):
            return pl.Series(present, dtype=dtype), False
    return pl.Series([None if v is ABSENT else canonical_json(v) for v in values],
                     dtype=pl.String), True


#: leaf types that are never mappings (skips the slow abstract isinstance check)
_PLAIN = frozenset({str, int, float, bool, list, type(None)})


def _walk(node: Mapping[Any, Any], prefix: tuple[Any, ...], row: int, n: int,
          cells: dict[tuple[Any, ...], list[Any]]) -> None:
    for key, value in node.items():
        segments = (*prefix, key)
        kind = type(value)
        if kind is dict or (kind not in _PLAIN and isinstance(value, Mapping)):
            if value:
                _walk(value, segments, row, n, cells)
                continue
            value = {}  # an empty mapping is a leaf (as in configlab.tree.iter_leaves)
        column = cells.get(segments)
        if column is None:
            column = cells[segments] = [ABSENT] * n
        column[row] = value


def from_records(records: Iterable[Record]) -> Table:
    """Columns of ``records`` (one Python pass over them; the readers that can avoid it do)."""
    rows = list(records)
    n = len(rows)
    cells: dict[tuple[Any, ...], list[Any]] = {}
    metric_cells: dict[str, list[float | None]] = {}
    outcomes, durations, test_ids = [], [], []
    texts: dict[str, list[Any]] = {name: [] for name in OPTIONAL_TEXT}
    for index, (config, outcome, duration, metrics, test_id, snapshot_id, stamp, run_id,
                stdout, stderr) in enumerate(rows):
        _walk(config, (), index, n, cells)
        for name, value in metrics.items():
            column = metric_cells.get(name)
            if column is None:
                column = metric_cells[name] = [None] * n
            column[index] = value
        outcomes.append(outcome)
        durations.append(duration)
        test_ids.append(test_id)
        for name, text in zip(OPTIONAL_TEXT, (snapshot_id, stamp, run_id, stdout, stderr),
                              strict=True):
            texts[name].append(text)
    columns = _field_columns(outcomes, durations, test_ids, texts)
    for name, values in metric_cells.items():
        columns[_metric_name(name)] = pl.Series(values, dtype=pl.Float64)
    leaves = []
    for index, (segments, values) in enumerate(cells.items()):
        series, is_json = _leaf_column(values)
        columns[_config_name(index)] = series
        leaves.append(Leaf(segments, is_json))
    return Table(pl.DataFrame(columns), tuple(leaves), tuple(metric_cells))


def empty() -> Table:
    """A table of no results."""
    return from_records(())


def stored_records(rows: Iterable[tuple[Any, ...]], *, where: str) -> Table:
    """Columns of result-store rows ``(run_id, test_id, outcome, duration, config JSON,
    metrics JSON, snapshot_id, timestamp, stdout, stderr)``: the JSON texts are decoded once
    each and the values checked as :class:`~configlab.results.Result` checks them."""
    import orjson  # deferred: only store reads decode here, and orjson is not on run's path

    records: list[Record] = []
    append = records.append
    for run, test, outcome, duration, config, metrics, snapshot, stamp, out, err in rows:
        try:
            tree = orjson.loads(config)
            measured = orjson.loads(metrics)
        except orjson.JSONDecodeError:
            # NaN / Infinity tokens (a YAML .nan in a config) are not standard JSON
            tree, measured = json.loads(config), json.loads(metrics)
        if not isinstance(tree, dict) or not isinstance(measured, dict):
            raise ResultsError(f"{where}: a stored config or metrics is not a JSON object")
        append((tree, outcome, duration, measured, test or "", snapshot, stamp, run, out, err))
    for record in records:
        for name, value in record[3].items():
            _number(value, f"{where}: metric {name!r}")
    return from_records(records)


# --------------------------------------------------------------------------- combining


def _as_json(series: pl.Series) -> pl.Series:
    """A native leaf column as a JSON column (each distinct value written once)."""
    if series.dtype == pl.Boolean:
        return series.cast(pl.String)  # "true" / "false", nulls kept
    distinct = series.drop_nulls().unique(maintain_order=True)
    texts = [canonical_json(v) for v in distinct.to_list()]
    if not texts:
        return pl.Series(series.name, [None] * series.len(), dtype=pl.String)
    return series.replace_strict(distinct, texts, default=None, return_dtype=pl.String)


def concat(tables: Sequence[Table]) -> Table:
    """The results of ``tables`` one after the other (leaves aligned by path; a leaf native
    in one part and JSON or of another type in another becomes a JSON column)."""
    tables = [t for t in tables if t.height or t.leaves or t.metrics]
    if not tables:
        return empty()
    if len(tables) == 1:
        return tables[0]
    kinds: dict[tuple[Any, ...], set[Any]] = {}
    for table in tables:
        for index, leaf in enumerate(table.leaves):
            kind = "json" if leaf.json else table.leaf_series(index).dtype
            kinds.setdefault(leaf.segments, set()).add(kind)
    order = {segments: i for i, segments in enumerate(kinds)}
    as_json = {segments for segments, seen in kinds.items() if len(seen) > 1 or "json" in seen}
    metrics = tuple(dict.fromkeys(name for t in tables for name in t.metrics))
    dtypes = {segments: next(iter(seen)) for segments, seen in kinds.items()}
    parts = []
    for table in tables:
        columns = [table.frame.get_column(name) for name in ("outcome", "duration", "test_id",
                                                              *OPTIONAL_TEXT)]
        for name in metrics:
            columns.append(table.metric_series(name) if name in table.metrics else
                           pl.Series(_metric_name(name), [None] * table.height,
                                     dtype=pl.Float64))
        present = {leaf.segments: i for i, leaf in enumerate(table.leaves)}
        for segments, position in order.items():
            found = present.get(segments)
            dtype = pl.String if segments in as_json else dtypes[segments]
            if found is None:
                series = pl.Series([None] * table.height, dtype=dtype)
            else:
                series = table.leaf_series(found)
                if segments in as_json and not table.leaves[found].json:
                    series = _as_json(series)
            columns.append(series.alias(_config_name(position)))
        parts.append(pl.DataFrame(columns))
    leaves = tuple(Leaf(segments, segments in as_json) for segments in order)
    return Table(pl.concat(parts, how="vertical", rechunk=False), leaves, metrics)


def _pruned(table: Table, frame: pl.DataFrame) -> Table:
    """``frame`` (rows of ``table``) without the leaves and metrics no row has any more."""
    keep = [i for i in range(len(table.leaves))
            if frame.get_column(_config_name(i)).null_count() < frame.height]
    metrics = tuple(m for m in table.metrics
                    if frame.get_column(_metric_name(m)).null_count() < frame.height)
    if len(keep) == len(table.leaves) and len(metrics) == len(table.metrics):
        return Table(frame, table.leaves, table.metrics)
    columns = [frame.get_column(n) for n in ("outcome", "duration", "test_id", *OPTIONAL_TEXT)]
    columns += [frame.get_column(_metric_name(m)) for m in metrics]
    columns += [frame.get_column(_config_name(old)).alias(_config_name(new))
                for new, old in enumerate(keep)]
    return Table(pl.DataFrame(columns), tuple(table.leaves[i] for i in keep), metrics)


def rows_slice(table: Table, index: slice) -> Table:
    """The rows ``table[index]`` (any step)."""
    start, stop, step = index.indices(table.height)
    if step == 1:
        frame = table.frame.slice(start, max(0, stop - start))
    else:
        frame = table.frame[np.arange(start, stop, step)]
    return _pruned(table, frame)


def filtered(table: Table, mask: pl.Series) -> Table:
    """The rows where ``mask`` is true."""
    return _pruned(table, table.frame.filter(mask))


# --------------------------------------------------------------------------- materialising


def _decoder() -> Callable[[str], Any]:
    cache: dict[str, Any] = {}

    def decode(text: str) -> Any:
        # a distinct text is parsed once; mutable values are copied per row
        value = cache.get(text)
        if value is None and text not in cache:
            value = cache[text] = json.loads(text)
        return _tree.deep_copy(value) if isinstance(value, dict | list) else value

    return decode


def records(table: Table, start: int = 0, stop: int | None = None) -> list[Record]:
    """Rows ``start:stop`` as record tuples (configs rebuilt from the leaf columns)."""
    stop = table.height if stop is None else stop
    frame = table.frame.slice(start, max(0, stop - start))
    n = frame.height
    decode = _decoder()
    configs: list[dict[Any, Any]] = [{} for _ in range(n)]
    for index, leaf in enumerate(table.leaves):
        values = frame.get_column(_config_name(index)).to_list()
        *parents, last = leaf.segments
        if not parents and not leaf.json:  # the common leaf: one dictionary store per row
            for config, value in zip(configs, values, strict=True):
                if value is not None:
                    config[last] = value
            continue
        for row, value in enumerate(values):
            if value is None:
                continue
            node = configs[row]
            for segment in parents:
                child = node.get(segment)
                if child is None:
                    child = node[segment] = {}
                node = child
            node[last] = decode(value) if leaf.json else value
    metric_values = [(name, frame.get_column(_metric_name(name)).to_list())
                     for name in table.metrics]
    metrics: list[dict[str, float]] = [{} for _ in range(n)]
    for name, values in metric_values:
        for row, value in enumerate(values):
            if value is not None:
                metrics[row][name] = value
    fields = [frame.get_column(name).cast(pl.String).to_list() if name == "outcome"
              else frame.get_column(name).to_list()
              for name in ("outcome", "duration", "test_id", *OPTIONAL_TEXT)]
    return [(configs[row], fields[0][row], fields[1][row], metrics[row], fields[2][row],
             *(column[row] for column in fields[3:]))
            for row in range(n)]


def equal(left: Table, right: Table) -> bool | None:
    """True/False when the columns decide it, None when rows must be compared as values
    (a JSON or differently typed leaf can hold ``1`` on one side and ``1.0`` on the other,
    which :class:`~configlab.results.Result` equality calls equal)."""
    if left.height != right.height:
        return False
    same_layout = left.leaves == right.leaves and left.metrics == right.metrics and all(
        left.leaf_series(i).dtype == right.leaf_series(i).dtype for i in range(len(left.leaves)))
    if same_layout and left.frame.equals(right.frame, null_equal=True):
        return True
    if same_layout and not any(leaf.json for leaf in left.leaves):
        return False
    return None


# --------------------------------------------------------------------------- analysis


def _configs(table: Table) -> list[Mapping[str, Any]]:
    return [record[0] for record in records(table)]


def _addressable(table: Table) -> bool:
    """Whether every leaf has a dotted path of its own that no other leaf extends (what
    the columnar inference and encoding assume; anything else takes the row algorithms)."""
    paths = set()
    for leaf in table.leaves:
        if any(type(s) is not str or s == "" or "`" in s for s in leaf.segments):
            return False
        paths.add(leaf.segments)
    return not any(leaf.segments[:k] in paths for leaf in table.leaves
                   for k in range(1, len(leaf.segments)))


def infer(table: Table, *, name: str) -> Space:
    """The space :meth:`configlab.space.Space.infer` infers from the configs, from each leaf's
    distinct values (:func:`configlab.results._column_infer.infer_columns`' reading of them), or
    from the rebuilt configs when a leaf holds lists or mappings."""
    if not _addressable(table):
        return Space.infer(_configs(table), name=name)
    observed = []
    for index, leaf in enumerate(table.leaves):
        series = table.leaf_series(index)
        common = {"optional": series.null_count() > 0, "nullable": False, "inferred": True}
        if leaf.json:
            _, values = json_values(series)
            if any(isinstance(v, dict | list) for v in values):
                return Space.infer(_configs(table), name=name)
            common["nullable"] = None in values
            kept = series.drop_nulls()
            kept = kept.filter(kept != "null")
            values = [v for v in values if v is not None]
            if values and len(values) < kept.len():
                values.append(values[0])
        else:
            values = _observed(series.drop_nulls()) if series.null_count() < series.len() else []
        observed.append((leaf.path, values, common))
    warnings: list[str] = []
    parameters = []
    for path, values, common in observed:
        param = infer_parameter(path, values, warnings, **common)
        if param is not None:
            parameters.append(param)
    if not parameters:
        raise SpaceError("no parameter could be inferred from the configs")
    return Space(tuple(parameters), (), name=name, warnings=tuple(warnings))


def _codes(series: pl.Series, is_json: bool, param: Any) -> npt.NDArray[np.int32]:
    """Value-class codes of one leaf column: each distinct value classified once."""
    absent = param.classify(ABSENT)
    if not is_json and series.dtype.is_numeric():
        if not series.null_count():
            fast = _numeric_codes(series, param)
        else:
            fast = _numeric_codes(series.fill_null(0), param)
            if fast is not None:
                fast[series.is_null().to_numpy()] = absent
        if fast is not None:
            return fast
    if is_json:
        texts, values = json_values(series)
    else:
        distinct = series.drop_nulls().unique(maintain_order=True)
        texts, values = distinct.to_list(), distinct.to_list()
    codes = [param.classify(v) for v in values]
    if series.dtype == pl.Boolean:
        table = np.array([absent, absent, absent], dtype=np.int32)
        for value, code in zip(values, codes, strict=True):
            table[int(value)] = code
        physical = series.cast(pl.Int8).fill_null(2).to_numpy()
        return np.asarray(table[physical], dtype=np.int32)
    if not texts:
        return np.full(series.len(), absent, dtype=np.int32)
    mapped = series.replace_strict(texts, codes, default=None, return_dtype=pl.Int32)
    return np.asarray(mapped.fill_null(absent).to_numpy(), dtype=np.int32)


def _numbers(series: pl.Series, is_json: bool) -> npt.NDArray[np.float64]:
    """Raw numeric values of a leaf (NaN where absent, null or not a number)."""
    if not is_json:
        if series.dtype in (pl.Int64, pl.Float64):
            return float_array(series)
        return np.full(series.len(), math.nan)
    texts, values = json_values(series)
    numbers = [float(v) if type(v) is int or type(v) is float else math.nan for v in values]
    if not texts:
        return np.full(series.len(), math.nan)
    return float_array(series.replace_strict(texts, numbers, default=None,
                                             return_dtype=pl.Float64))


def _hashes(table: Table) -> npt.NDArray[np.uint64]:
    """A 64-bit key per row, equal for equal configs (each leaf's Polars hash, folded)."""
    key = np.zeros(table.height, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for index in range(len(table.leaves)):
            key *= np.uint64(0x100000001B3)  # FNV-1 style fold: the column order matters
            key ^= table.leaf_series(index).hash(seed=0).to_numpy()
    return key


def encode(table: Table, space: Space) -> EncodedResults:
    """Encode against ``space`` by columns (see :meth:`ResultSet.encode`); element parameters
    and member factors, read through their containers, take the row encoder."""
    params = space.parameters
    if not _addressable(table) or any(space.routed(p.path) for p in params):
        rows = [Result._trusted(*record) for record in records(table)]
        # the same row keys as the columnar encoding gives (no sha256 text per row)
        return dataclasses.replace(encode_results(rows, space), config_keys=(),
                                   config_hashes=_hashes(table))
    by_path = {leaf.path: i for i, leaf in enumerate(table.leaves)}
    n = table.height
    # filled a parameter at a time into a column-major matrix (a contiguous row per
    # parameter): writing 1,000,000 strided cells per parameter into a row-major one cost
    # ~1 s of 3 at 1,000,000 x 50, and the analyses and coverage read it by column anyway
    # (their ``ascontiguousarray(codes.T)`` is then free)
    by_param = np.empty((len(params), n), dtype=np.int32)
    numeric: dict[str, npt.NDArray[np.float64]] = {}
    for column, param in enumerate(params):
        index = by_path.get(param.path)
        if index is None:
            by_param[column] = param.classify(ABSENT)
            if param.kind in ("int", "float"):
                numeric[param.path] = np.full(n, math.nan)
            continue
        series, is_json = table.leaf_series(index), table.leaves[index].json
        by_param[column] = _codes(series, is_json, param)
        if param.kind in ("int", "float"):
            numeric[param.path] = _numbers(series, is_json)
    metrics: dict[str, npt.NDArray[np.float64]] = {}
    duration = table.frame.get_column("duration")
    if "duration" in table.metrics:  # a metric of that name fills where the field is unknown
        duration = duration.fill_null(table.metric_series("duration"))
    if duration.null_count() < n:
        metrics["duration"] = float_array(duration)
    for name in table.metrics:
        if name != "duration":
            metrics[name] = float_array(table.metric_series(name))
    outcomes = table.frame.get_column("outcome").to_physical().to_numpy().astype(np.int8)
    return EncodedResults(
        params=space.paths,
        class_labels=tuple(tuple(c.label for c in p.value_classes) for p in params),
        codes=by_param.T,
        outcomes=outcomes,
        metrics=dict(sorted(metrics.items())),
        numeric=numeric,
        config_hashes=_hashes(table),
        test_ids=tuple(table.frame.get_column("test_id").to_list()),
    )


# --------------------------------------------------------------------------- selection


def selection_mask(table: Table, selection: Selection) -> pl.Series:
    """Which rows ``selection`` keeps (:func:`configlab.results._select.select`'s meaning),
    by column filters; a ``where`` condition is evaluated once per distinct combination of the
    values it reads.

    Raises:
        ResultsError: an unknown outcome, a malformed time or ``where`` condition.
    """
    since, until, condition = criteria(selection)
    frame = table.frame
    mask = pl.repeat(True, frame.height, eager=True)
    if selection.test_ids:
        ids = frame.get_column("test_id")
        chosen = [t for t in ids.unique().to_list() if _test_matches(t, selection.test_ids)]
        mask &= ids.is_in(chosen)
    if selection.run_ids:
        mask &= frame.get_column("run_id").is_in(list(selection.run_ids)).fill_null(False)
    if selection.outcomes:
        mask &= frame.get_column("outcome").cast(pl.String).is_in(list(selection.outcomes))
    stamps = frame.get_column("timestamp")
    # stored stamps are normalised (ISO 8601, +00:00): their text order is their time order
    for bound, keep in ((since, stamps.__ge__), (until, stamps.__le__)):
        if bound is not None:
            mask &= keep(normalize_timestamp(bound)).fill_null(False)
    if condition is not None:
        mask &= _where_mask(table, condition)
    return mask


def _where_mask(table: Table, condition: Any) -> pl.Series:
    by_path = {leaf.path: i for i, leaf in enumerate(table.leaves)}
    if any(name in by_path for name in ("stdout", "stderr") if name in condition.params):
        # a config leaf named like an output tail wins where present: row by row
        rows = [Result._trusted(*record) for record in records(table)]
        return pl.Series([condition.evaluate(_environment(r)) for r in rows], dtype=pl.Boolean)
    keys: dict[str, pl.Series] = {}
    decoders: dict[str, Callable[[Any], Any]] = {}
    for k, name in enumerate(condition.params):
        index = by_path.get(name)
        if name in ("stdout", "stderr"):
            keys[f"k{k}"] = table.frame.get_column(name)
        elif index is not None:
            keys[f"k{k}"] = table.leaf_series(index)
            if table.leaves[index].json:
                decoders[f"k{k}"] = _decoder()
    if not keys:
        return pl.repeat(condition.evaluate({}), table.height, eager=True)
    names = {f"k{k}": name for k, name in enumerate(condition.params)}
    key = pl.DataFrame([s.alias(n) for n, s in keys.items()]).with_row_index("__row")
    groups = key.group_by(list(keys), maintain_order=True).agg("__row")
    verdicts = []
    for row in groups.select(list(keys)).iter_rows(named=True):
        env = {names[n]: decoders[n](v) if n in decoders else v
               for n, v in row.items() if v is not None or names[n] in ("stdout", "stderr")}
        verdicts.append(condition.evaluate(env))
    decided = groups.with_columns(pl.Series("__keep", verdicts, dtype=pl.Boolean))
    kept = decided.select("__row", "__keep").explode("__row").sort("__row")
    return kept.get_column("__keep")


# --------------------------------------------------------------------------- CSV


def _spelled(series: pl.Series, spell: Callable[[Any], str]) -> list[str]:
    """Each cell's text (``""`` where null), ``spell`` called once per distinct value; floats
    holding NaN or -0.0 (which a distinct-value map would merge) are spelled cell by cell."""
    if series.dtype == pl.Boolean:
        texts = {value: spell(value) for value in (False, True)}
        return [("" if v is None else texts[v]) for v in series.to_list()]
    if series.dtype == pl.Float64:
        values = series.to_numpy()
        zero = values == 0
        if np.isnan(values).any() or np.signbit(values[zero]).any():
            return ["" if v is None else spell(v) for v in series.to_list()]
    distinct = series.drop_nulls().unique(maintain_order=True)
    if not distinct.len():
        return [""] * series.len()
    texts_of = [spell(value) for value in distinct.to_list()]
    spelled = series.replace_strict(distinct, texts_of, default=None, return_dtype=pl.String)
    return list(spelled.fill_null("").to_list())


def csv_columns(table: Table) -> tuple[list[str], list[list[str]]] | None:
    """The header and the cell texts, column by column, of :meth:`ResultSet.to_csv`, each
    distinct value of a column spelled once; None when a config path collides with a result
    or metric column (the row writer then decides)."""
    paths = [leaf.path for leaf in table.leaves]
    if len(set(paths)) < len(paths) or any(
            p in RESERVED_COLUMNS or p.startswith(METRIC_PREFIX) for p in paths):
        return None
    metrics = sorted(table.metrics)
    header = [*RESERVED_COLUMNS, *(METRIC_PREFIX + name for name in metrics), *paths]
    frame = table.frame
    columns = [frame.get_column("outcome").cast(pl.String).to_list(),
               _spelled(frame.get_column("duration"), repr)]
    columns += [frame.get_column(name).fill_null("").to_list()
                for name in RESERVED_COLUMNS[2:]]
    columns += [_spelled(table.metric_series(name), repr) for name in metrics]
    for index, leaf in enumerate(table.leaves):
        spell = ((lambda text: format_cell(json.loads(text))) if leaf.json else format_cell)
        columns.append(_spelled(table.leaf_series(index), spell))
    return header, columns


# --------------------------------------------------------------------------- helpers


def json_values(series: pl.Series) -> tuple[list[str], list[Any]]:
    """The distinct texts of a JSON column (first-seen order, nulls left out) and their
    values."""
    texts = series.drop_nulls().unique(maintain_order=True).to_list()
    return texts, [json.loads(text) for text in texts]


def float_array(series: pl.Series) -> npt.NDArray[np.float64]:
    """A Float64-castable column as float64 with NaN for nulls."""
    return np.asarray(series.cast(pl.Float64).fill_null(math.nan).to_numpy(), dtype=np.float64)


def normalized_stamps(series: pl.Series) -> pl.Series:
    """Text timestamps in :func:`~configlab.results.normalize_timestamp`'s form, by columns:
    plain UTC forms (``2024-05-01T10:00:00``, ``...Z``, ``...+00:00``, 1-6 fraction digits)
    are rewritten by Polars string kernels once their date is checked; every other distinct
    value goes through :func:`normalize_timestamp` (which raises on a malformed one)."""
    pattern = (r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:[0-5]\d)(?:\.(\d{1,6}))?(?:Z|\+00:00)?$")
    text = series.cast(pl.String)
    # the common columns in one step (a tenth of the memory of the general path below):
    # every stamp naive whole seconds, or every stamp already in the normalised form
    seconds = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:[0-5]\d"
    for form, suffix in ((seconds + "$", "+00:00"), (seconds + r"\+00:00$", "")):
        if text.str.contains(form).fill_null(True).all():
            checked = text.str.slice(0, 19).str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S",
                                                         strict=False)
            if checked.null_count() == text.null_count():
                return (text + suffix).alias(series.name)
    parts = text.str.extract_groups(pattern)
    base = parts.struct.field("1")
    fraction = parts.struct.field("2")
    checked = base.str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S", strict=False)
    plain = base.is_not_null() & checked.is_not_null()
    digits = fraction.str.pad_end(6, "0")
    whole = fraction.is_null() | (digits == "000000")
    fast = pl.select(
        pl.when(whole).then(base + "+00:00").otherwise(base + "." + digits + "+00:00")
    ).to_series()
    out = pl.select(pl.when(plain).then(fast).otherwise(None)).to_series()
    rest = text.filter(~plain.fill_null(False) & text.is_not_null()).unique(maintain_order=True)
    if rest.len():
        values = rest.to_list()
        done = [normalize_timestamp(v) for v in values]
        slow = text.replace_strict(values, done, default=None, return_dtype=pl.String)
        out = pl.select(pl.coalesce(out, slow)).to_series()
    return out.alias(series.name)


__all__ = ["BLOCK", "FIELDS", "Leaf", "Record", "Table", "concat", "empty", "equal", "filtered",
           "float_array", "from_records", "json_values", "normalized_stamps", "records",
           "rows_slice", "stored_records"]
