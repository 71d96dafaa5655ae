"""Test results: what ran (the config), what happened (the outcome) and what was measured.

A :class:`Result` is one execution of one test under one configuration.  A :class:`ResultSet`
is an ordered sequence of them, read from JSON Lines, CSV, a pandas/polars data frame or the
results table of a store, and turned into the numeric form analyses work on with
:meth:`ResultSet.encode`.  :class:`ResultStore` appends results to ``<store>/index.sqlite`` and
is safe to use from many processes at once.

Example::

    results = ResultSet.from_jsonl("results.jsonl")
    encoded = results.encode(space)          # EncodedResults: value-class codes, outcomes, metrics
    ResultStore(".configlab").record_many(results)
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
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
from configlab.results._encode import encode_results
from configlab.results._select import Selection, select
from configlab.results._time import normalize_timestamp
from configlab.results.encoded import OUTCOME_NAMES, EncodedResults
from configlab.storage import StoreLocation, is_postgres_url
from configlab.tree import ABSENT

if TYPE_CHECKING:  # pragma: no cover

    from configlab._internal.objectstore import IndexConnection
    from configlab.space import Space

#: The outcomes a result may have.
OUTCOMES = OUTCOME_NAMES
#: Non-config columns of the CSV / data-frame form (``metric.<name>`` columns are metrics).
RESERVED_COLUMNS = ("outcome", "duration", "test_id", "snapshot_id", "timestamp", "run_id")
METRIC_PREFIX = "metric."
#: What a test runner records about the run itself, not about the config: read as metrics
#: wherever they appear (a CSV column, a top-level JSON field), never as config parameters,
#: and never explained by the analysis (the exit status *is* the outcome again).
BOOKKEEPING_FIELDS = ("exit_status", "exit_code", "returncode", "wall_time", "wall_s")
#: How a config ``null`` is spelled in a data-frame cell (as in CSV); a missing cell is absent.
NULL_CELL = "null"
_OUTCOME_CODE = {name: code for code, name in enumerate(OUTCOMES)}
_RESULT_KEYS = frozenset(
    {"config", "outcome", "duration", "metrics", "test_id", "snapshot_id", "timestamp", "run_id",
     "stdout", "stderr", *BOOKKEEPING_FIELDS}
)


# --------------------------------------------------------------------------- helpers


def config_key(config: Mapping[str, Any]) -> str:
    """Stable sha256 (hex) of the canonical JSON of a config: equal configs, equal keys."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ResultsError(f"{what} must be a number, got {value!r}")
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise ResultsError(f"{what} must be a finite number, got {value!r}")
    return number


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _optional_str(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ResultsError(f"{what} must be a string, got {value!r}")
    return value


# --------------------------------------------------------------------------- Result


@dataclass(frozen=True)
class Result:
    """One test execution: the config it ran under, its outcome, duration and metrics.

    Attributes:
        config: the nested configuration the test ran with.
        outcome: ``"pass"``, ``"fail"``, ``"error"`` or ``"skip"``.
        duration: seconds, or None when unknown.
        metrics: free-form numeric measurements (``{"latency_ms": 12.5}``).
        test_id: the test's identifier ("" when unknown).
        snapshot_id: id of the snapshot of the configuration state, if any.
        timestamp: ISO 8601 UTC time of the run, if known.
        run_id: identifier of the test run (CI job, session) the result belongs to.
        stdout: the last part of what the command wrote to stdout (``configlab run``, ``exec``,
            ``ci`` and the pytest plugin keep the last 64 KiB; the store has it as a column),
            if kept.
        stderr: the same for stderr.
    """

    config: Mapping[str, Any]
    outcome: str
    duration: float | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    test_id: str = ""
    snapshot_id: str | None = None
    timestamp: str | None = None
    run_id: str | None = None
    stdout: str | None = None
    stderr: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.config, Mapping):
            raise ResultsError(f"config must be a mapping, got {type(self.config).__name__}")
        try:
            text = canonical_json(self.config)
        except (TypeError, ValueError) as error:
            raise ResultsError(f"config is not JSON data: {error}") from None
        # the key is computed once here (the config is treated as immutable from now on)
        object.__setattr__(self, "_config_key", hashlib.sha256(text.encode()).hexdigest())
        if self.outcome not in _OUTCOME_CODE:
            raise ResultsError(
                f"outcome must be one of {', '.join(OUTCOMES)}, got {self.outcome!r}"
            )
        if self.duration is not None:
            object.__setattr__(self, "duration", _number(self.duration, "duration"))
        if not isinstance(self.metrics, Mapping):
            raise ResultsError(f"metrics must be a mapping, got {self.metrics!r}")
        metrics = {}
        for name, value in self.metrics.items():
            if not isinstance(name, str) or not name:
                raise ResultsError(f"metric names must be non-empty strings, got {name!r}")
            metrics[name] = _number(value, f"metric {name!r}")
        object.__setattr__(self, "metrics", metrics)
        if self.test_id is None:
            object.__setattr__(self, "test_id", "")
        if not isinstance(self.test_id, str):
            raise ResultsError(f"test_id must be a string, got {self.test_id!r}")
        _optional_str(self.snapshot_id, "snapshot_id")
        _optional_str(self.run_id, "run_id")
        _optional_str(self.stdout, "stdout")
        _optional_str(self.stderr, "stderr")
        object.__setattr__(self, "timestamp", normalize_timestamp(self.timestamp))

    def __hash__(self) -> int:
        return hash(canonical_json(self.to_dict()))

    @property
    def outcome_code(self) -> int:
        """The outcome as an :data:`configlab.results._model.encoded.PASS`-style code."""
        return _OUTCOME_CODE[self.outcome]

    @property
    def config_key(self) -> str:
        """Stable sha256 of the canonical JSON of :attr:`config` (computed at construction)."""
        return str(self.__dict__["_config_key"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (the JSON Lines record); None fields are left out."""
        data: dict[str, Any] = {
            "config": _tree.deep_copy(dict(self.config)),
            "outcome": self.outcome,
        }
        if self.duration is not None:
            data["duration"] = self.duration
        if self.metrics:
            data["metrics"] = dict(self.metrics)
        if self.test_id:
            data["test_id"] = self.test_id
        for key in ("snapshot_id", "timestamp", "run_id", "stdout", "stderr"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "result") -> Result:
        """Build a result from its JSON form; errors name ``where`` (e.g. ``file.jsonl:3``)."""
        if not isinstance(data, Mapping):
            raise ResultsError(f"{where}: expected a JSON object, got {type(data).__name__}")
        unknown = sorted(set(data) - _RESULT_KEYS)
        if unknown:
            raise ResultsError(f"{where}: unknown field(s) {unknown}")
        if "config" not in data or "outcome" not in data:
            raise ResultsError(f"{where}: a result needs 'config' and 'outcome'")
        metrics = data.get("metrics") or {}
        extra = [key for key in BOOKKEEPING_FIELDS if key in data]
        if extra and isinstance(metrics, Mapping):
            # a runner's top-level exit status / wall time: a metric, like the others
            metrics = {**metrics, **{key: data[key] for key in extra}}
        try:
            return cls(
                config=data["config"],
                outcome=data["outcome"],
                duration=data.get("duration"),
                metrics=metrics,
                test_id=data.get("test_id") or "",
                snapshot_id=data.get("snapshot_id"),
                timestamp=data.get("timestamp"),
                run_id=data.get("run_id"),
                stdout=data.get("stdout"),
                stderr=data.get("stderr"),
            )
        except ResultsError as error:
            raise ResultsError(f"{where}: {error}") from None


# --------------------------------------------------------------------------- cells (CSV / frames)


def format_cell(value: Any) -> str:
    """Canonical CSV text of a config value (strings that would read back typed are JSON-quoted)."""
    # imported here: loading every codec would slow the start of `configlab run`
    from configlab.formats import format_scalar, infer_scalar

    if isinstance(value, str):
        if value == "" or infer_scalar(value) != value or value[:1] in ('"', "[", "{"):
            return json.dumps(value, ensure_ascii=False)
        return value
    if isinstance(value, list | dict):
        return canonical_json(value)
    return format_scalar(value)


def parse_cell(text: str, where: str) -> Any:
    """Typed value of a CSV cell: canonical scalars, JSON strings/lists/objects, else text."""
    if text[:1] in ('"', "[", "{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ResultsError(f"{where}: malformed JSON value {text!r}: {error.msg}") from None
    # deferred: see format_cell (start-up of `configlab run`)
    from configlab.formats import infer_scalar

    return infer_scalar(text)


def _plain(value: Any) -> Any:
    """numpy / pandas scalars and arrays -> plain Python values."""
    # numpy is imported lazily (start-up time of `configlab run`); a numpy value implies it is
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        return value.item()
    if np is not None and isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _frame_cell(value: Any) -> Any:
    """Data-frame cell of a config value: null -> ``"null"`` (as in CSV), colliding strings quoted.

    A missing cell means absent, so null needs a spelling of its own: the CSV one.  Strings that
    would read back as that marker or as a JSON-quoted string (``"null"``, ``'"q"'``) are
    JSON-quoted; every other value (numbers, bools, lists, other strings) is kept as it is.
    """
    if value is None:
        return NULL_CELL
    if isinstance(value, str) and (value == NULL_CELL or value[:1] == '"'):
        return json.dumps(value, ensure_ascii=False)
    return value


def _frame_value(value: Any, where: str) -> Any:
    """Config value of a (non-missing) data-frame cell: the inverse of :func:`_frame_cell`."""
    if isinstance(value, str):
        if value == NULL_CELL:
            return None
        if value[:1] == '"':
            try:
                return json.loads(value)
            except json.JSONDecodeError as error:
                raise ResultsError(
                    f"{where}: malformed JSON string {value!r}: {error.msg}"
                ) from None
    return value


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def _result_from_row(row: Mapping[str, Any], where: str, *, text_cells: bool) -> Result:
    """A result from one flat row (CSV record or data-frame row)."""
    config: dict[str, Any] = {}
    metrics: dict[str, float] = {}
    fields: dict[str, Any] = {}
    for column, raw in row.items():
        if text_cells:
            if raw is None or raw == "":
                continue
            value: Any = raw
        else:
            value = _plain(raw)
            if _is_missing(value):
                continue
        if column in RESERVED_COLUMNS:
            fields[column] = value
        elif column.startswith(METRIC_PREFIX) or column in BOOKKEEPING_FIELDS:
            name = column.removeprefix(METRIC_PREFIX)
            if text_cells:
                try:
                    metrics[name] = float(value)
                except ValueError:
                    raise ResultsError(
                        f"{where}: metric {name!r} must be a number, got {value!r}"
                    ) from None
            else:
                metrics[name] = value
        else:
            if text_cells:
                value = parse_cell(value, f"{where}: column {column!r}")
            else:
                value = _frame_value(value, f"{where}: column {column!r}")
            try:
                _tree.set_path(config, column, value)
            except ConfiglabError as error:
                raise ResultsError(f"{where}: column {column!r}: {error}") from None
    if "outcome" not in fields:
        raise ResultsError(f"{where}: missing outcome")
    duration = fields.get("duration")
    if text_cells and duration is not None:
        try:
            duration = float(duration)
        except ValueError:
            raise ResultsError(f"{where}: duration must be a number, got {duration!r}") from None
    try:
        return Result(
            config=config,
            outcome=str(fields["outcome"]),
            duration=duration,
            metrics=metrics,
            test_id=str(fields.get("test_id", "")),
            snapshot_id=None if fields.get("snapshot_id") is None else str(fields["snapshot_id"]),
            timestamp=fields.get("timestamp"),
            run_id=None if fields.get("run_id") is None else str(fields["run_id"]),
        )
    except ResultsError as error:
        raise ResultsError(f"{where}: {error}") from None


def _rows(results: Sequence[Result]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns (deterministic) and flat rows of the CSV / data-frame form."""
    config_columns: dict[str, None] = {}
    metric_names: dict[str, None] = {}
    flats = []
    for result in results:
        flat = _tree.flatten(result.config)
        flats.append(flat)
        for path in flat:
            config_columns.setdefault(path, None)
        for name in result.metrics:
            metric_names.setdefault(name, None)
    columns = [
        *RESERVED_COLUMNS,
        *(METRIC_PREFIX + name for name in sorted(metric_names)),
        *config_columns,
    ]
    rows = []
    for result, flat in zip(results, flats, strict=True):
        row: dict[str, Any] = {
            "outcome": result.outcome,
            "duration": result.duration,
            "test_id": result.test_id,
            "snapshot_id": result.snapshot_id,
            "timestamp": result.timestamp,
            "run_id": result.run_id,
        }
        for name, value in result.metrics.items():
            row[METRIC_PREFIX + name] = value
        row.update(flat)
        rows.append(row)
    return columns, rows


# --------------------------------------------------------------------------- ResultSet


class ResultSet(Sequence[Result]):
    """An ordered, appendable sequence of :class:`Result` s with readers, writers and encoding."""

    def __init__(self, results: Iterable[Result] = ()) -> None:
        self._results: list[Result] = []
        self.extend(results)

    # -- sequence protocol
    def __len__(self) -> int:
        return len(self._results)

    @overload
    def __getitem__(self, index: int) -> Result: ...

    @overload
    def __getitem__(self, index: slice) -> ResultSet: ...

    def __getitem__(self, index: int | slice) -> Result | ResultSet:
        if isinstance(index, slice):
            return ResultSet(self._results[index])
        return self._results[index]

    def __iter__(self) -> Iterator[Result]:
        return iter(self._results)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResultSet):
            return NotImplemented
        return self._results == other._results

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Iterable[Result]) -> ResultSet:
        combined = ResultSet(self._results)
        combined.extend(other)
        return combined

    def __repr__(self) -> str:
        return f"ResultSet({len(self._results)} results)"

    def append(self, result: Result) -> None:
        """Add one result at the end."""
        if not isinstance(result, Result):
            raise ResultsError(f"expected a Result, got {type(result).__name__}")
        self._results.append(result)

    def extend(self, results: Iterable[Result]) -> None:
        """Add results at the end, in order."""
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
        may be shell-style patterns.  See :mod:`configlab.results._select`.

        Raises:
            ResultsError: an unknown outcome, a malformed time or condition.
        """
        def many(value: str | Sequence[str] | None) -> tuple[str, ...]:
            if value is None:
                return ()
            return (value,) if isinstance(value, str) else tuple(value)

        selection = Selection(many(test_id), many(run_id), many(outcome), since, until, where)
        return ResultSet(select(self._results, selection))

    @property
    def configs(self) -> list[Mapping[str, Any]]:
        """The config of every result, in order."""
        return [r.config for r in self._results]

    # -- readers
    @classmethod
    def from_jsonl(cls, path: str | os.PathLike[str]) -> ResultSet:
        """Read JSON Lines: one result object per line (blank lines are skipped).

        Raises:
            ResultsError: unreadable file, or a malformed line (names file and line).
        """
        location = Path(path)
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
        strings, lists and objects); an empty cell means the path is absent.
        """
        import csv  # here, not at the top: `configlab run` imports this module (start-up)

        location = Path(path)
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
        text = "".join(canonical_json(r.to_dict()) + "\n" for r in self._results)
        write_output(location, text, what="results file", error=ResultsError)
        return location

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write CSV in the :meth:`from_csv` layout (reads back to an equal ResultSet)."""
        import csv  # here, not at the top: `configlab run` imports this module (start-up)

        location = Path(path)
        columns, rows = _rows(self._results)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
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
        columns, rows = _rows(self._results)
        for result, row in zip(self._results, rows, strict=True):
            for path, value in _tree.flatten(result.config).items():
                row[path] = _frame_cell(value)
        return pd.DataFrame.from_records(rows, columns=columns)

    # -- analysis
    def infer_space(self, *, name: str = "inferred") -> Space:
        """A space inferred from the configs of these results (:meth:`Space.infer`)."""
        # deferred: jsonschema and re2; `configlab run` imports this module (start-up)
        from configlab.space import Space

        if not self._results:
            raise ResultsError("cannot infer a space from an empty result set")
        return Space.infer([r.config for r in self._results], name=name)

    def encode(self, space: Space) -> EncodedResults:
        """Encode against ``space``: value-class codes per parameter, outcomes, metrics.

        Each distinct value of a parameter is classified once (cached), so millions of rows
        cost one dictionary lookup per cell.  Codes are -1 where a value fits no class.
        """
        return encode_results(self._results, space)


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
        results = ResultSet()
        for record in records:
            run, test, outcome, duration, config, metrics, snapshot, stamp, out, err = record
            results.append(Result(
                config=json.loads(config), outcome=outcome, duration=duration,
                metrics=json.loads(metrics), test_id=test, snapshot_id=snapshot,
                timestamp=stamp, run_id=run, stdout=out, stderr=err,
            ))
        return results

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


__all__ = [
    "NULL_CELL",
    "OUTCOMES",
    "Result",
    "ResultSet",
    "ResultStore",
    "canonical_json",
    "config_key",
    "encode_results",
    "normalize_timestamp",
]
