"""Results in Parquet files, read through DuckDB: counted where they lie, never loaded row by row.

A :class:`ResultDataset` names Parquet files in configlab's results layout (the columns of
:func:`configlab.integrations.exporters.parquet_table`: ``outcome``, ``duration``, ``test_id``,
``snapshot_id``, ``timestamp``, ``run_id``, ``metric.<name>`` and one column per config path),
usually the hive-partitioned directory ``configlab results compact`` writes.  The source is

* a local directory (every ``*.parquet`` below it, hive partitions ``<column>=<value>`` read as
  columns),
* a glob (``results/run_id=*/part-*.parquet``) or one file, or
* an ``s3://bucket/prefix`` URL (read through s3fs, configured by the standard AWS variables
  such as ``AWS_ENDPOINT_URL_S3``: DuckDB's own ``httpfs`` extension is downloaded on first use,
  which needs the internet).

The selection (:class:`configlab.results._select.Selection`) becomes the ``WHERE`` clause of a
DuckDB view, so every count reads only the selected rows and only the columns it needs.  Test id
patterns and ``--where`` conditions are decided by configlab's own code on the *distinct* values
of the columns they read (a few hundred values, not millions of rows), so they mean exactly what
they mean on a :class:`~configlab.results.ResultSet`.

Counting is :meth:`ResultDataset.value_counts` (``GROUP BY`` one column or one binned numeric
column) and :meth:`ResultDataset.pair_counts` (``GROUP BY`` two); a run is a non-skipped result
and a failure is ``fail`` or ``error``, as in :mod:`configlab.analysis`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configlab.errors import ConfiglabError, ConstraintError, ResultsError
from configlab.results._model import METRIC_PREFIX, RESERVED_COLUMNS, parse_cell
from configlab.results._select import Selection, _test_matches
from configlab.results._time import normalize_timestamp
from configlab.results.encoded import OUTCOME_NAMES
from configlab.storage import is_s3_url, s3_filesystem, split_s3_url
from configlab.tree import ABSENT  # the leaf: no constraint parser at start-up

#: DuckDB's memory limit for a dataset (DuckDB spills to disk beyond it): with Python and the
#: libraries around it, the process stays under 1 GiB.
DEFAULT_MEMORY_LIMIT = "512MB"
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
            "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "REAL")


def quote(name: str) -> str:
    """A column name as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def is_dataset_source(source: str | os.PathLike[str]) -> bool:
    """True when ``source`` names Parquet files for :class:`ResultDataset`: an ``s3://`` URL, a
    glob, or a directory that is not a store (no ``index.sqlite``)."""
    text = os.fspath(source)
    if is_s3_url(text):
        return True
    if any(char in text for char in "*?["):
        return not Path(text).exists()
    path = Path(text)
    return path.is_dir() and not (path / "index.sqlite").exists()


@dataclass(frozen=True)
class GroupKey:
    """What a count groups by: a config column, or a numeric column cut at ``edges``.

    With edges ``(e1, ..., ek)`` the groups are ``x <= e1``, ``e1 < x <= e2``, ...,
    ``x > ek`` (numbered 0..k).  A missing cell (the path is absent) is its own group,
    :data:`configlab.constraints.ABSENT`.
    """

    param: str
    edges: tuple[float, ...] = ()

    def sql(self) -> str:
        """The DuckDB expression of the group."""
        column = quote(self.param)
        if not self.edges:
            return column
        cases = " ".join(f"WHEN {column} <= {edge!r} THEN {i}" for i, edge in enumerate(self.edges))
        return f"(CASE WHEN {column} IS NULL THEN NULL {cases} ELSE {len(self.edges)} END)"


@dataclass(frozen=True)
class GroupCounts:
    """Runs (results not skipped), failures (``fail`` or ``error``) and results of one group."""

    value: Any
    runs: int
    failures: int
    results: int


class ResultDataset:
    """Parquet results read through DuckDB (see the module docstring).

    Args:
        source: a directory, a glob, one file or an ``s3://bucket/prefix`` URL.
        selection: which results to count (None: all).
        memory_limit: DuckDB's memory limit (it spills to a temporary directory beyond it).
        threads: DuckDB worker threads (default: one per core).

    Raises:
        ResultsError: no Parquet files, unreadable or corrupt files, no ``outcome`` column,
            unknown outcomes, or a malformed selection.
    """

    def __init__(self, source: str | os.PathLike[str], selection: Selection | None = None, *,
                 memory_limit: str = DEFAULT_MEMORY_LIMIT, threads: int | None = None) -> None:
        try:
            import duckdb
        except ImportError:  # pragma: no cover - duckdb is installed with configlab[scale]
            raise ResultsError(
                "reading Parquet datasets needs duckdb: pip install 'configlab[scale]'"
            ) from None
        self.source = os.fspath(source)
        self.selection = selection or Selection()
        self._duckdb = duckdb
        self._conn = duckdb.connect(":memory:")
        try:
            self._conn.execute(f"SET memory_limit = {_literal(memory_limit)}")
            self._conn.execute("SET TimeZone = 'UTC'")
            self._conn.execute("SET preserve_insertion_order = false")
            self._conn.execute("SET enable_progress_bar = false")
            if threads is not None:
                self._conn.execute(f"SET threads = {int(threads)}")
            self.pattern = self._pattern()
            self.files = self._files()
            self.columns = self._describe()
            self.text_columns = self._text_columns()
            self._select()
        except BaseException:
            self._conn.close()
            raise

    # -- set-up
    def _pattern(self) -> str:
        text = self.source
        if is_s3_url(text):
            try:
                bucket, prefix = split_s3_url(text)
                filesystem = s3_filesystem()
            except ConfiglabError as error:
                raise ResultsError(str(error)) from None
            # DuckDB reads s3:// through this fsspec filesystem (httpfs needs the internet)
            self._conn.register_filesystem(filesystem)
            base = f"s3://{bucket}/{prefix}".rstrip("/")
            return base if base.endswith(".parquet") or "*" in base else f"{base}/**/*.parquet"
        if any(char in text for char in "*?["):
            return text
        path = Path(text)
        if path.is_dir():
            return str(path / "**" / "*.parquet")
        if path.is_file():
            return str(path)
        raise ResultsError(f"{text}: no such file or directory")

    def _files(self) -> tuple[str, ...]:
        try:
            rows = self._conn.execute("SELECT file FROM glob(?)", [self.pattern]).fetchall()
        except self._duckdb.Error as error:
            raise ResultsError(f"{self.source}: cannot list Parquet files: "
                               f"{_first_line(error)}") from None
        files = tuple(sorted(str(row[0]) for row in rows))
        if not files:
            raise ResultsError(f"{self.source}: no Parquet files found (looked for {self.pattern})")
        return files

    @property
    def _read(self) -> str:
        files = ", ".join(_literal(f) for f in self.files)
        return (f"read_parquet([{files}], hive_partitioning = true, union_by_name = true,"
                " hive_types_autocast = false)")

    def _describe(self) -> dict[str, str]:
        rows = self._query(f"DESCRIBE SELECT * FROM {self._read}")
        columns = {str(row[0]): str(row[1]) for row in rows}
        if "outcome" not in columns:
            raise ResultsError(f"{self.source}: no 'outcome' column (is this a results table?)")
        return columns

    def _text_columns(self) -> frozenset[str]:
        """Config columns holding canonical JSON text (``configlab.text_columns`` metadata)."""
        rows = self._query(
            "SELECT DISTINCT value FROM parquet_kv_metadata(?)"
            " WHERE key = 'configlab.text_columns'",
            [list(self.files)])
        names: set[str] = set()
        for (raw,) in rows:
            try:
                names.update(json.loads(bytes(raw)))
            except (ValueError, TypeError):
                raise ResultsError(f"{self.source}: malformed configlab.text_columns "
                                   "metadata") from None
        return frozenset(names)

    def _select(self) -> None:
        """Create the ``selected`` view: the rows the selection keeps."""
        selection = self.selection
        bad = sorted(set(selection.outcomes) - set(OUTCOME_NAMES))
        if bad:
            raise ResultsError(f"--outcome: unknown outcome(s) {', '.join(bad)} "
                               f"(expected {', '.join(OUTCOME_NAMES)})")
        clauses: list[str] = []
        if selection.outcomes:
            clauses.append(f"outcome IN ({', '.join(map(_literal, selection.outcomes))})")
        if selection.run_ids:
            if "run_id" in self.columns:
                clauses.append(f"run_id IN ({', '.join(map(_literal, selection.run_ids))})")
            else:
                clauses.append("FALSE")
        for moment, op in ((selection.since, ">="), (selection.until, "<=")):
            if moment is not None:
                stamp = normalize_timestamp(moment, "--since" if op == ">=" else "--until")
                if "timestamp" not in self.columns:
                    clauses.append("FALSE")
                else:
                    clauses.append(f"TRY_CAST(\"timestamp\" AS TIMESTAMPTZ) {op} "
                                   f"CAST({_literal(str(stamp))} AS TIMESTAMPTZ)")
        base = " AND ".join(clauses) or "TRUE"
        if selection.test_ids:
            base = f"{base} AND {self._test_clause(base)}"
        source = f"(SELECT * FROM {self._read} WHERE {base})"
        if selection.where:
            source = self._where_join(source, selection.where)
        self._execute(f"CREATE OR REPLACE TEMP VIEW selected AS SELECT * FROM {source} s")

    def _test_clause(self, base: str) -> str:
        patterns = self.selection.test_ids
        if "test_id" not in self.columns:
            return "TRUE" if _test_matches("", patterns) else "FALSE"
        rows = self._query(
            f"SELECT DISTINCT coalesce(test_id, '') FROM {self._read} WHERE {base}")
        kept = [str(v) for (v,) in rows if _test_matches(str(v), patterns)]
        if not kept:
            return "FALSE"
        return f"coalesce(test_id, '') IN ({', '.join(map(_literal, kept))})"

    def _where_join(self, source: str, where: str) -> str:
        """``source`` semi-joined with the distinct combinations of the condition's columns
        that satisfy it (evaluated by the constraint language itself)."""
        # deferred: the constraint parser stays off the path of `configlab run` (start-up)
        from configlab.constraints import parse

        try:
            condition = parse(where)
        except ConstraintError as error:
            raise ResultsError(f"--where: {error}") from None
        used = [p for p in condition.params if p in self.columns]
        fixed: dict[str, Any] = {name: None for name in ("stdout", "stderr")
                                 if name not in self.columns}
        if not used:
            everything = condition.evaluate(fixed)
            return source if everything else f"(SELECT * FROM {source} t WHERE FALSE)"
        names = ", ".join(quote(p) for p in used)
        self._execute(
            f"CREATE OR REPLACE TEMP TABLE where_combos AS SELECT row_number() OVER () AS i, * "
            f"FROM (SELECT DISTINCT {names} FROM {source} t)")
        kept = []
        for row in self._query(f"SELECT i, {names} FROM where_combos"):
            env = dict(fixed)
            for path, value in zip(used, row[1:], strict=True):
                if value is not None:
                    env[path] = self._config_value(path, value)
            if condition.evaluate(env):
                kept.append(int(row[0]))
        self._execute("CREATE OR REPLACE TEMP TABLE where_kept AS "
                      "SELECT * FROM where_combos WHERE list_contains(?, i)", [kept])
        on = " AND ".join(f"t.{quote(p)} IS NOT DISTINCT FROM k.{quote(p)}" for p in used)
        return f"(SELECT t.* FROM {source} t SEMI JOIN where_kept k ON ({on}))"

    def _config_value(self, path: str, value: Any) -> Any:
        """A cell as the config value it stands for (text columns hold canonical cells)."""
        if path in self.text_columns and isinstance(value, str):
            return parse_cell(value, f"{self.source}: column {path!r}")
        return value

    # -- queries
    def _execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        try:
            self._conn.execute(sql, params)
        except self._duckdb.Error as error:
            raise ResultsError(
                f"{self.source}: cannot read Parquet: {_first_line(error)}") from None

    def _query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        try:
            return list(self._conn.execute(sql, params).fetchall())
        except self._duckdb.Error as error:
            raise ResultsError(
                f"{self.source}: cannot read Parquet: {_first_line(error)}") from None

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        """Rows of a DuckDB query over the view ``selected`` (the selected results)."""
        return self._query(query)

    @property
    def params(self) -> tuple[str, ...]:
        """The config columns (every column that is not an outcome field or a metric)."""
        return tuple(c for c in self.columns
                     if c not in RESERVED_COLUMNS and not c.startswith(METRIC_PREFIX))

    def is_numeric(self, param: str) -> bool:
        """True when ``param`` is a numeric (not boolean) column."""
        kind = self.columns.get(param, "")
        return kind in _NUMERIC or kind.startswith("DECIMAL")

    def totals(self) -> tuple[int, int, int]:
        """(selected results, runs (not skipped), failures)."""
        rows = self._query("SELECT 0, outcome, count(*) FROM selected GROUP BY outcome")
        runs, failures, results = _fold(rows, 1, self.source).get((0,), (0, 0, 0))
        return results, runs, failures

    def sample(self, params: Sequence[str], rows: int = 200_000,
               quantiles: int = 10) -> dict[str, tuple[int, tuple[float, ...]]]:
        """Per column: (distinct values, quantile cut points (numeric columns only)) of the
        first ``rows`` selected rows in file order: how to group a column without reading it
        all.  Exact statistics of rows in a fixed order, so the same files give the same cuts
        (DuckDB's approximate ones depend on how threads interleave)."""
        self._known(params)
        if not params:
            return {}
        cuts = [i / quantiles for i in range(1, quantiles)]
        parts = []
        for p in params:
            parts.append(f"count(DISTINCT {quote(p)})")
            parts.append(f"quantile_cont({quote(p)}, {cuts!r})" if self.is_numeric(p)
                         else "NULL")
        self._execute("SET preserve_insertion_order = true")
        try:
            row = self._query(
                f"SELECT {', '.join(parts)} FROM (SELECT * FROM selected LIMIT {int(rows)})")[0]
        finally:
            self._execute("SET preserve_insertion_order = false")
        out = {}
        for i, p in enumerate(params):
            points = row[2 * i + 1]
            edges = tuple(sorted({float(v) for v in points if v is not None})) if points else ()
            out[p] = (int(row[2 * i]), edges)
        return out

    def _known(self, params: Sequence[str]) -> None:
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            raise ResultsError(f"{self.source}: no parameter(s) {', '.join(unknown)} "
                               f"(columns: {', '.join(self.params) or 'none'})")

    def value_counts(self, key: GroupKey) -> list[GroupCounts]:
        """Runs and failures per value (or per bin) of one column: one ``GROUP BY``."""
        self._known([key.param])
        folded = _fold(self._query(
            f"SELECT {key.sql()} AS v, outcome, count(*) FROM selected GROUP BY v, outcome"),
            1, self.source)
        return sorted((GroupCounts(self._label_value(key, v), n, f, r)
                       for (v,), (n, f, r) in folded.items()),
                      key=lambda c: _sort_key(c.value))

    def pair_counts(self, first: GroupKey, second: GroupKey) -> list[tuple[Any, Any, int, int]]:
        """(value of ``first``, value of ``second``, runs, failures) of every combination that
        occurs: one ``GROUP BY`` of two columns."""
        self._known([first.param, second.param])
        folded = _fold(self._query(
            f"SELECT {first.sql()} AS a, {second.sql()} AS b, outcome, count(*) FROM selected"
            " GROUP BY a, b, outcome"), 2, self.source)
        # sorted: DuckDB returns groups in an order that depends on how its threads interleave,
        # and callers break ties by position
        return sorted(((self._label_value(first, a), self._label_value(second, b), n, f)
                       for (a, b), (n, f, _) in folded.items()),
                      key=lambda c: (_sort_key(c[0]), _sort_key(c[1])))

    def _label_value(self, key: GroupKey, value: Any) -> Any:
        if value is None:
            return ABSENT  # a missing cell: the path is absent (a config null is "null" text)
        if key.edges:
            return value
        return self._config_value(key.param, value)

    def close(self) -> None:
        """Close the DuckDB connection."""
        self._conn.close()

    def __enter__(self) -> ResultDataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResultDataset({self.source!r}, {len(self.files)} files)"


def _fold(rows: list[tuple[Any, ...]], width: int,
          source: str) -> dict[tuple[Any, ...], tuple[int, int, int]]:
    """(group..., outcome, count) rows -> group -> (runs, failures, results).  Grouping by
    the outcome and folding here is several times faster in DuckDB than filtered aggregates.

    Raises:
        ResultsError: an outcome that is not one of :data:`OUTCOME_NAMES` (or is missing).
    """
    out: dict[tuple[Any, ...], tuple[int, int, int]] = {}
    for row in rows:
        group, outcome, count = row[:width], row[width], int(row[width + 1])
        if outcome not in OUTCOME_NAMES:
            raise ResultsError(f"{source}: unknown outcome {outcome!r} in {count} result(s)"
                               f" (expected {', '.join(OUTCOME_NAMES)})")
        runs, failures, results = out.get(group, (0, 0, 0))
        if outcome != "skip":
            runs += count
        if outcome in ("fail", "error"):
            failures += count
        out[group] = (runs, failures, results + count)
    return out


def _sort_key(value: Any) -> tuple[int, Any]:
    """Absent first, then null, numbers/bools by value, everything else by its JSON text."""
    if value is ABSENT:
        return (0, 0)
    if value is None:
        return (1, 0)
    if isinstance(value, int | float):
        return (2, float(value))
    return (3, value if isinstance(value, str) else json.dumps(value, sort_keys=True))


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


__all__ = ["DEFAULT_MEMORY_LIMIT", "GroupCounts", "GroupKey", "ResultDataset", "is_dataset_source",
           "quote"]
