"""The result set on columns and the result store.

:class:`ResultSet` is an ordered sequence of :class:`~configlab.results.Result` s held as
columns (see :mod:`configlab.results._frame`), read from JSON Lines, CSV, a pandas/polars data
frame or the results table of a store, and turned into the numeric form analyses work on with
:meth:`ResultSet.encode`.  :class:`ResultStore` appends results to ``<store>/index.sqlite`` (or
PostgreSQL) and is safe to use from many processes at once.

Example::

    results = ResultSet.from_jsonl("results.jsonl")
    encoded = results.encode(space)          # EncodedResults: value-class codes, outcomes, metrics
    ResultStore(".configlab").record_many(results)
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from configlab import storage
from configlab import tree as _tree
from configlab._internal import safeio
from configlab._internal.canonical import canonical_json
from configlab._internal.objectstore import ThreadConnections
from configlab._internal.safeio import write_output
from configlab.errors import ConfiglabError, ResultsError
from configlab.results._model import (
    BOOKKEEPING_FIELDS,
    METRIC_PREFIX,
    RESERVED_COLUMNS,
    Result,
    _epoch,
    _frame_cell,
    _is_missing,
    _plain,
    _result_from_row,
    _rows,
    format_cell,
    record_dict,
)
from configlab.results._select import Selection
from configlab.results._time import normalize_timestamp
from configlab.results.encoded import EncodedResults
from configlab.storage import StoreLocation, is_postgres_url
from configlab.tree import ABSENT

if TYPE_CHECKING:  # pragma: no cover
    from configlab._internal.objectstore import IndexConnection
    from configlab.results import _frame
    from configlab.space import Space


# --------------------------------------------------------------------------- ResultSet


class ResultSet(Sequence[Result]):
    """An ordered, appendable sequence of :class:`Result` s with readers, writers and encoding.

    The results are held as columns (a Polars frame: one column per field, metric and config
    leaf; see :mod:`configlab.results._frame`), not as a Python object per row: indexing and
    iteration build :class:`Result` objects on demand, and :meth:`select`, :meth:`encode`
    and :meth:`infer_space` work on the columns.  Appended results wait in a buffer and are
    folded into the columns, all at once, by the first operation that reads the columns, so
    appending one at a time stays O(1) amortised.  Building the columns imports Polars, so a
    set that is only appended to, counted and iterated (``configlab run``) never does.
    """

    def __init__(self, results: Iterable[Result] = ()) -> None:
        self._table: _frame.Table | None = None
        self._pending: list[Result] = []
        self.extend(results)

    @classmethod
    def _of(cls, table: _frame.Table) -> ResultSet:
        results = cls.__new__(cls)
        results._table = table
        results._pending = []
        return results

    def _columns(self) -> _frame.Table:
        """The columns, with the buffered results folded in."""
        frame = _frame_module()
        if self._table is None or self._pending:
            pending = self._pending
            taken = pending[: len(pending)]
            # one list operation: a result another thread appends meanwhile stays buffered
            del pending[: len(taken)]
            parts = [] if self._table is None else [self._table]
            parts.append(frame.from_records(r._record() for r in taken))
            self._table = frame.concat(parts)
        return self._table

    # -- sequence protocol
    def __len__(self) -> int:
        return (0 if self._table is None else self._table.height) + len(self._pending)

    @overload
    def __getitem__(self, index: int) -> Result: ...

    @overload
    def __getitem__(self, index: slice) -> ResultSet: ...

    def __getitem__(self, index: int | slice) -> Result | ResultSet:
        if isinstance(index, slice):
            return ResultSet._of(_frame_module().rows_slice(self._columns(), index))
        size = len(self)
        position = index + size if index < 0 else index
        if not 0 <= position < size:
            raise IndexError("result index out of range")
        folded = 0 if self._table is None else self._table.height
        if position >= folded:
            return self._pending[position - folded]
        assert self._table is not None
        record = _frame_module().records(self._table, position, position + 1)[0]
        return Result._trusted(*record)

    def __iter__(self) -> Iterator[Result]:
        table, pending = self._table, list(self._pending)
        if table is not None:
            frame = _frame_module()
            for start in range(0, table.height, frame.BLOCK):
                for record in frame.records(table, start, start + frame.BLOCK):
                    yield Result._trusted(*record)
        yield from pending

    def _records(self) -> Iterator[tuple[Any, ...]]:
        """Every result's fields (:data:`configlab.results._frame.FIELDS` order), in order."""
        table, pending = self._table, list(self._pending)
        if table is not None:
            frame = _frame_module()
            for start in range(0, table.height, frame.BLOCK):
                yield from frame.records(table, start, start + frame.BLOCK)
        for result in pending:
            yield result._record()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResultSet):
            return NotImplemented
        if len(self) != len(other):
            return False
        verdict: bool | None = _frame_module().equal(self._columns(), other._columns())
        if verdict is None:  # loose value equality (1 == 1.0): compare the rows
            return all(a == b for a, b in zip(self, other, strict=True))
        return verdict

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Iterable[Result]) -> ResultSet:
        combined = ResultSet._of(self._columns())
        combined.extend(other)
        return combined

    def __repr__(self) -> str:
        return f"ResultSet({len(self)} results)"

    def append(self, result: Result) -> None:
        """Add one result at the end (buffered: folded into the columns when they are read)."""
        if not isinstance(result, Result):
            raise ResultsError(f"expected a Result, got {type(result).__name__}")
        self._pending.append(result)

    def extend(self, results: Iterable[Result]) -> None:
        """Add results at the end, in order (another set's columns are concatenated)."""
        if isinstance(results, ResultSet):
            if len(results):
                frame = _frame_module()
                self._table = frame.concat([self._columns(), results._columns()])
            return
        for result in results:
            self.append(result)

    def select(
        self,
        *,
        test_id: str | Sequence[str] | None = None,
        run_id: str | Sequence[str] | None = None,
        outcome: str | Sequence[str] | None = None,
        since: Any = None,
        until: Any = None,
        where: str | None = None,
    ) -> ResultSet:
        """The results of some tests, runs, outcomes, a time range and/or a config condition
        in the constraint language (``where="db == 'postgres' and workers > 2"``); test ids
        may be shell-style patterns.  See :mod:`configlab.results._select`.  Filters run on
        the columns; a ``where`` condition is evaluated once per distinct combination of the
        values it reads.

        Raises:
            ResultsError: an unknown outcome, a malformed time or condition.
        """
        def many(value: str | Sequence[str] | None) -> tuple[str, ...]:
            if value is None:
                return ()
            return (value,) if isinstance(value, str) else tuple(value)

        selection = Selection(many(test_id), many(run_id), many(outcome), since, until, where)
        frame = _frame_module()
        table = self._columns()
        return ResultSet._of(frame.filtered(table, frame.selection_mask(table, selection)))

    @property
    def configs(self) -> list[Mapping[str, Any]]:
        """The config of every result, in order (rebuilt from the columns)."""
        return [r.config for r in self]

    # -- readers
    @classmethod
    def from_jsonl(cls, path: str | os.PathLike[str]) -> ResultSet:
        """Read JSON Lines: one result object per line (blank lines are skipped).

        The common shape (every row with the same scalar config leaves, known fields) is read
        by Arrow's JSON reader straight to columns; any other shape, and any malformed line,
        is read line by line, which also gives the exact error (see
        :func:`configlab.results._readcols.jsonl_table`).

        Raises:
            ResultsError: unreadable file, or a malformed line (names file and line).
        """
        location = Path(path)
        table = _read_columns("jsonl", location)
        if table is not None:
            return cls._of(table)
        results = cls()
        try:
            # a regular file only: a FIFO or /dev/zero is refused before reading
            with (safeio.open_input(location, what="results file", error=ResultsError) as raw,
                  io.TextIOWrapper(raw, encoding="utf-8") as handle):
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    where = f"{location}:{number}"
                    try:
                        data = json.loads(line)
                    except json.JSONDecodeError as error:
                        raise ResultsError(f"{where}: malformed JSON: {error.msg}") from None
                    except (ValueError, RecursionError) as error:  # huge int, deep nesting
                        raise ResultsError(f"{where}: malformed JSON: "
                                           f"{safeio.json_problem(error)}") from None
                    results.append(Result.from_dict(data, where=where))
        except OSError as error:
            raise ResultsError(f"{location}: cannot read results: {error.strerror}") from None
        except UnicodeDecodeError as error:
            raise ResultsError(f"{location}: not UTF-8 text: {error.reason}") from None
        return results

    @classmethod
    def from_csv(cls, path: str | os.PathLike[str]) -> ResultSet:
        """Read CSV: ``outcome``, ``duration``, ``test_id``, ``snapshot_id``, ``timestamp``,
        ``run_id``, ``metric.<name>`` columns; every other column is a dotted config path.

        Cells are typed canonically (``true``, ``null``, ``42``, ``0.5``; JSON for quoted
        strings, lists and objects); an empty cell means the path is absent.  A file without
        empty cells, dotted columns or mixed columns is read straight to columns.
        """
        import csv  # here, not at the top: `configlab run` imports this module (start-up)

        location = Path(path)
        table = _read_columns("csv", location)
        if table is not None:
            return cls._of(table)
        results = cls()
        try:
            with (safeio.open_input(location, what="results file", error=ResultsError) as raw,
                  io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle):
                reader = csv.DictReader(handle, strict=True)
                header = reader.fieldnames or []
                if "outcome" not in header:
                    raise ResultsError(f"{location}:1: the CSV header has no 'outcome' column")
                if len(set(header)) != len(header):
                    raise ResultsError(f"{location}:1: duplicate column names in the CSV header")
                for record in reader:
                    where = f"{location}:{reader.line_num}"
                    if None in record:
                        raise ResultsError(f"{where}: more cells than header columns")
                    results.append(_result_from_row(record, where, text_cells=True))
        except OSError as error:
            raise ResultsError(f"{location}: cannot read results: {error.strerror}") from None
        except UnicodeDecodeError as error:
            raise ResultsError(f"{location}: not UTF-8 text: {error.reason}") from None
        except csv.Error as error:
            raise ResultsError(f"{location}: malformed CSV: {error}") from None
        return results

    @classmethod
    def from_dataframe(cls, frame: Any) -> ResultSet:
        """Read a pandas or polars data frame with the CSV columns (typed values kept).

        In config columns a missing cell (None/NaN/NA) means the path is absent and the string
        ``"null"`` (:data:`NULL_CELL`) means it is present with value null; a string starting
        with ``"`` is a JSON-quoted string (so ``'"null"'`` is the string ``null``).  A float
        column that only holds whole numbers and has missing cells (pandas' int-with-NaN
        upcast) is read as integers.

        Raises:
            ResultsError: not a data frame, no ``outcome`` column, or a bad cell (names the row
                and column).
        """
        module = type(frame).__module__.split(".")[0]
        if module == "polars":
            records = list(frame.to_dicts())
            columns = list(frame.columns)
        elif module == "pandas" and hasattr(frame, "to_dict"):
            columns = [str(c) for c in frame.columns]
            records = [dict(zip(columns, row, strict=True))
                       for row in frame.itertuples(index=False)]
        else:
            raise ResultsError(
                f"expected a pandas or polars DataFrame, got {type(frame).__name__}"
            )
        if "outcome" not in columns:
            raise ResultsError("data frame: no 'outcome' column")
        upcast = [c for c in columns if _whole_float_column(records, c)]
        results = cls()
        for number, record in enumerate(records):
            for column in upcast:
                value = record[column]
                if not _is_missing(value):
                    record[column] = int(value)
            results.append(_result_from_row(record, f"data frame row {number}", text_cells=False))
        return results

    @classmethod
    def from_store(cls, store: Any = ".configlab", *, run_id: str | None = None,
                   since: Any = None, output: bool = True) -> ResultSet:
        """Read the results table of a store (a directory, a ``postgresql://`` URL, a
        :class:`configlab.storage.StoreLocation`, a :class:`ResultStore` or a SnapshotStore);
        ``output=False`` leaves the output tails out (see :meth:`ResultStore.load`)."""
        root = (store if isinstance(store, str | os.PathLike | StoreLocation)
                else getattr(store, "location", None))
        if not isinstance(root, str | os.PathLike | StoreLocation):
            raise ResultsError(f"expected a store or a store directory, got {store!r}")
        if isinstance(root, StoreLocation):
            location: str | os.PathLike[str] | StoreLocation = root
        elif is_postgres_url(os.fspath(root)):
            location = os.fspath(root)
        else:
            location = Path(root)
            if not (location / "index.sqlite").is_file():
                raise ResultsError(f"{location}: no store index (index.sqlite) found")
        result_store = ResultStore(location)
        try:
            return result_store.load(run_id=run_id, since=since, output=output)
        finally:
            result_store.close()

    # -- writers
    def to_jsonl(self, path: str | os.PathLike[str]) -> Path:
        """Write JSON Lines (one canonical JSON object per result); returns the path."""
        location = Path(path)
        # from the records, without a Result (or a copy of its config) per row
        text = "".join(canonical_json(record_dict(*record)) + "\n" for record in self._records())
        write_output(location, text, what="results file", error=ResultsError)
        return location

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write CSV in the :meth:`from_csv` layout (reads back to an equal ResultSet)."""
        location = Path(path)
        buffer = io.StringIO()
        writer = _CsvWriter(buffer)
        by_columns = _frame_module().csv_columns(self._columns()) if len(self) else None
        if by_columns is not None:  # each distinct value of a column spelled once
            header, cells = by_columns
            writer.writerow(header)
            writer.writerows(zip(*cells, strict=True))
            write_output(location, buffer.getvalue(), what="results file", error=ResultsError)
            return location
        columns, rows = _rows(list(self))
        writer.writerow(columns)
        for row in rows:
            cells = []
            for column in columns:
                value = row.get(column, ABSENT)
                if value is ABSENT or (column in RESERVED_COLUMNS and value in (None, "")):
                    cells.append("")
                elif column in RESERVED_COLUMNS or column.startswith(METRIC_PREFIX):
                    cells.append(repr(value) if isinstance(value, float) else str(value))
                else:
                    cells.append(format_cell(value))
            writer.writerow(cells)
        write_output(location, buffer.getvalue(), what="results file", error=ResultsError)
        return location

    def to_dataframe(self) -> Any:
        """A pandas DataFrame with the CSV columns (lists/objects kept as Python values).

        Config cells keep their Python type, except that null is written ``"null"`` (an absent
        path is a missing cell) and strings that would read back differently are JSON-quoted
        (see :meth:`from_dataframe`), so ``ResultSet.from_dataframe(rs.to_dataframe()) == rs``.
        """
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is installed with the test extra
            raise ResultsError("to_dataframe needs pandas: pip install pandas") from None
        results = list(self)
        columns, rows = _rows(results)
        for result, row in zip(results, rows, strict=True):
            for path, value in _tree.flatten(result.config).items():
                row[path] = _frame_cell(value)
        return pd.DataFrame.from_records(rows, columns=columns)

    # -- analysis
    def infer_space(self, *, name: str = "inferred") -> Space:
        """A space inferred from the configs of these results (:meth:`Space.infer`), from
        each config leaf's distinct values."""
        if not len(self):
            raise ResultsError("cannot infer a space from an empty result set")
        space: Space = _frame_module().infer(self._columns(), name=name)
        return space

    def encode(self, space: Space) -> EncodedResults:
        """Encode against ``space``: value-class codes per parameter, outcomes, metrics.

        Each distinct value of a config leaf is classified once and the codes are mapped onto
        the column (numeric classes by a vectorised nearest class).  Codes are -1 where a
        value fits no class.  Equal configs get equal
        :attr:`~configlab.results.encoded.EncodedResults.config_hashes`.
        """
        encoded: EncodedResults = _frame_module().encode(self._columns(), space)
        return encoded

    @classmethod
    def _from_store_rows(cls, rows: Sequence[tuple[Any, ...]], *, where: str) -> ResultSet:
        """Rows of the store's results table (see :meth:`ResultStore.load`) as a set."""
        return cls._of(_frame_module().stored_records(rows, where=where))


def _frame_module() -> Any:
    """:mod:`configlab.results._frame`, imported on first use: it loads Polars and numpy,
    which ``configlab run`` (it imports this module) must not load at start-up."""
    from configlab.results import _frame

    return _frame


def parquet_columns(path: str | os.PathLike[str]) -> ResultSet | None:
    """A Parquet results table (:func:`configlab.integrations.exporters.to_parquet`'s layout)
    read straight to a set's columns, or None when it needs the row reader
    (:func:`configlab.integrations.ingest.from_parquet`, which calls this first)."""
    table = _read_columns("parquet", Path(path))
    return None if table is None else ResultSet._of(table)


def _read_columns(kind: str, location: Path) -> Any:
    """``location`` read straight to columns, or None when it needs the row reader."""
    if not location.is_file():
        return None
    # deferred: Polars and pyarrow (see _frame_module)
    from configlab.results import _readcols

    return _readcols.read_table(kind, location)


def _whole_float_column(records: Sequence[Mapping[str, Any]], column: str) -> bool:
    if column in RESERVED_COLUMNS or column in BOOKKEEPING_FIELDS or column.startswith(
            METRIC_PREFIX):
        return False
    seen_missing = seen_number = False
    for record in records:
        value = _plain(record[column])
        if _is_missing(value):
            seen_missing = True
        elif isinstance(value, float) and value.is_integer():
            seen_number = True
        else:
            return False
    return seen_missing and seen_number



# --------------------------------------------------------------------------- ResultStore

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS results (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT,
        test_id TEXT NOT NULL DEFAULT '',
        outcome TEXT NOT NULL,
        duration REAL,
        config TEXT NOT NULL,
        metrics TEXT NOT NULL DEFAULT '{}',
        snapshot_id TEXT,
        timestamp TEXT,
        recorded_at TEXT NOT NULL,
        ts REAL NOT NULL,
        stdout TEXT,
        stderr TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS results_run ON results (run_id)",
    "CREATE INDEX IF NOT EXISTS results_ts ON results (ts)",
)
#: Columns added to the results table after it was first released (a store written before gets
#: them the next time it is opened, unless this process cannot write to it): the output tails.
_ADDED_COLUMNS = ("stdout", "stderr")
#: Every column :meth:`ResultStore.load` reads, in the order of the :class:`Result` it builds.
_LOAD_COLUMNS = ("run_id", "test_id", "outcome", "duration", "config", "metrics", "snapshot_id",
                 "timestamp", *_ADDED_COLUMNS)


def _table_columns(conn: IndexConnection) -> frozenset[str] | None:
    """The columns of the results table, or None when there is none (one cheap query)."""
    try:
        cursor = conn.execute("SELECT * FROM results LIMIT 0")
    except sqlite3.Error:
        return None
    return frozenset(str(column[0]) for column in cursor.description)


def _upgrade_schema(conn: IndexConnection) -> frozenset[str]:
    """Create the results table, or add the columns it lacks, as the only writer; its columns.

    Run only when :func:`_table_columns` found the table missing or old, so an up-to-date store
    costs one query to open.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        # asked again now that no other writer can change it (and without a failing statement,
        # which would abort a PostgreSQL transaction)
        exists = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", ("results",)
        ).fetchone()
        if exists is None:
            for statement in _SCHEMA:
                conn.execute(statement)
        else:
            present = {str(c[0]) for c in conn.execute("SELECT * FROM results LIMIT 0").description}
            for name in _ADDED_COLUMNS:
                if name not in present:
                    conn.execute(f"ALTER TABLE results ADD COLUMN {name} TEXT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    columns = _table_columns(conn)
    assert columns is not None
    return columns


class ResultStore:
    """Append-only results table in the store's index (shared with the snapshot store):
    ``<path>/index.sqlite``, or PostgreSQL when ``path`` is a ``postgresql://`` URL or a
    :class:`configlab.storage.StoreLocation`.

    Safe for many processes appending at once: one ``BEGIN IMMEDIATE`` transaction per
    :meth:`record_many` batch (SQLite WAL with a busy timeout; on PostgreSQL the same queueing).
    Each process (and thread) uses its own connection.
    """

    def __init__(self, path: str | os.PathLike[str] | StoreLocation = ".configlab") -> None:
        try:
            self.location = storage.resolve(path, environ={})
        except ConfiglabError as error:
            raise ResultsError(f"results store: {error}") from None
        self.root = self.location.root
        self._connections = ThreadConnections(self._open)
        #: whether the results table has the output-tail columns (set when a connection opens)
        self._output_columns = True

    def __repr__(self) -> str:
        return f"ResultStore({str(self.location)!r})"

    def _conn(self) -> IndexConnection:
        return self._connections.get()

    def _open(self) -> IndexConnection:
        try:
            conn = self.location.connect()
        except ConfiglabError as error:
            raise ResultsError(f"results store {self.location}: {error}") from None
        columns = _table_columns(conn)
        if columns is None or not columns.issuperset(_ADDED_COLUMNS):
            try:
                columns = _upgrade_schema(conn)
            except sqlite3.Error as error:
                if columns is None:  # no results table and none can be created
                    conn.close()
                    raise ResultsError(f"results store {self.location}: {error}") from None
                # an older table in a store this process cannot change (read-only): readable,
                # without output tails; writing fails as it would anyway
        self._output_columns = columns.issuperset(_ADDED_COLUMNS)
        return conn

    @contextlib.contextmanager
    def _db(self) -> Iterator[IndexConnection]:
        try:
            yield self._conn()
        except sqlite3.Error as error:
            raise ResultsError(
                f"results store {self.location.index_display}: {error}"
            ) from None

    def close(self) -> None:
        """Close this thread's connection (reopened on next use)."""
        self._connections.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, result: Result) -> None:
        """Append one result (one transaction)."""
        self.record_many([result])

    def record_many(self, results: Iterable[Result]) -> int:
        """Append results in one transaction (all or none); returns how many were written."""
        now = datetime.now(UTC).isoformat()
        rows = []
        for result in results:
            if not isinstance(result, Result):
                raise ResultsError(f"expected a Result, got {type(result).__name__}")
            stamp = result.timestamp or now
            rows.append((
                result.run_id, result.test_id, result.outcome, result.duration,
                canonical_json(result.config), canonical_json(dict(result.metrics)),
                result.snapshot_id, result.timestamp, now, _epoch(stamp),
                result.stdout, result.stderr,
            ))
        if not rows:
            return 0
        with self._db() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT INTO results (run_id, test_id, outcome, duration, config, metrics,"
                    " snapshot_id, timestamp, recorded_at, ts, stdout, stderr)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return len(rows)

    def load(self, run_id: str | None = None, since: Any = None, *,
             output: bool = True) -> ResultSet:
        """Results in recording order, optionally of one run and/or at or after ``since``.

        ``since`` is a datetime, ISO text or epoch seconds; it is compared with each result's
        timestamp (or the time it was recorded when it has none).  ``output=False`` leaves the
        output tails out (up to 128 KiB a result: coverage and analysis do not need them).
        """
        where: list[str] = []
        params: list[Any] = []
        if run_id is not None:
            where.append("run_id = ?")
            params.append(run_id)
        if since is not None:
            stamp = normalize_timestamp(since, "since")
            assert stamp is not None
            where.append("ts >= ?")
            params.append(_epoch(stamp))
        return self._select(where, params, output)

    def _select(self, where: Sequence[str], params: Sequence[Any], output: bool) -> ResultSet:
        """The results meeting every condition of ``where``, in recording order."""
        sql = "SELECT {columns} FROM results"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        with self._db() as conn:
            with_tails = output and self._output_columns
            columns = _LOAD_COLUMNS if with_tails else (*_LOAD_COLUMNS[:-2], "NULL", "NULL")
            records = conn.execute(sql.format(columns=", ".join(columns)), params).fetchall()
        # straight to columns: each stored JSON text decoded once, no Result per row
        return ResultSet._from_store_rows(records, where=f"results store {self.location}")

    def run_ids(self) -> list[str | None]:
        """The distinct run ids of the stored results (None for results without one), in the
        order of each run's first recorded result."""
        with self._db() as conn:
            rows = conn.execute(
                "SELECT run_id FROM results GROUP BY run_id ORDER BY min(id)").fetchall()
        return [None if row[0] is None else str(row[0]) for row in rows]

    def load_run(self, run_id: str | None) -> ResultSet:
        """The results of one run in recording order; ``None``: the results without a run id
        (which :meth:`load` cannot select, its ``None`` meaning every run)."""
        if run_id is None:
            return self._select(["run_id IS NULL"], [], output=True)
        return self._select(["run_id = ?"], [run_id], output=True)

    def count(self) -> int:
        """Number of results stored."""
        with self._db() as conn:
            return int(conn.execute("SELECT count(*) FROM results").fetchone()[0])





class _CsvWriter:
    """``csv.writer`` with ``\n`` line ends that also quotes cells holding a lone ``\r``.

    The csv module quotes a cell only for the characters of its own line terminator, so with
    ``\n`` a ``\r`` went out bare and read back as a line break (a cell split in two); rows
    with such a cell are written with every cell quoted, which any CSV reader reads back.
    """

    def __init__(self, buffer: io.StringIO) -> None:
        import csv  # here, not at the top: `configlab run` imports this module (start-up)

        self._plain = csv.writer(buffer, lineterminator="\n")
        self._quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row: Sequence[str]) -> None:
        """Write one row."""
        quoted = any("\r" in cell for cell in row)
        (self._quoted if quoted else self._plain).writerow(row)

    def writerows(self, rows: Iterable[Sequence[str]]) -> None:
        """Write rows in order."""
        for row in rows:
            self.writerow(row)

__all__ = ["ResultSet", "ResultStore", "parquet_columns"]
