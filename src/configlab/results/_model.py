"""Test results: what ran (the config), what happened (the outcome) and what was measured.

A :class:`Result` is one execution of one test under one configuration; this module also holds
the cells of the flat (CSV / data-frame) form and the row readers of that form.  The set of
results (:class:`~configlab.results.ResultSet`, on columns) and the result store are in
:mod:`configlab.results._set`.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from configlab import tree as _tree
from configlab._internal.canonical import canonical_json
from configlab.errors import ConfiglabError, ResultsError
from configlab.results._encode import encode_results
from configlab.results._time import normalize_timestamp
from configlab.results.encoded import OUTCOME_NAMES

if TYPE_CHECKING:  # pragma: no cover

    pass

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
        """Stable sha256 of the canonical JSON of :attr:`config` (computed at construction, or
        on first use for a result rebuilt from a :class:`ResultSet`'s columns)."""
        key = self.__dict__.get("_config_key")
        if key is None:
            key = config_key(self.config)
            object.__setattr__(self, "_config_key", key)
        return str(key)

    @classmethod
    def _trusted(cls, config: Mapping[str, Any], outcome: str, duration: float | None,
                 metrics: Mapping[str, float], test_id: str, snapshot_id: str | None,
                 timestamp: str | None, run_id: str | None, stdout: str | None,
                 stderr: str | None) -> Result:
        """A result from values a :class:`ResultSet` checked when it stored them (rebuilt
        from its columns without checking them again)."""
        result = object.__new__(cls)
        for name, value in (("config", config), ("outcome", outcome), ("duration", duration),
                            ("metrics", metrics), ("test_id", test_id),
                            ("snapshot_id", snapshot_id), ("timestamp", timestamp),
                            ("run_id", run_id), ("stdout", stdout), ("stderr", stderr)):
            object.__setattr__(result, name, value)
        return result

    def _record(self) -> tuple[Any, ...]:
        """The fields in :data:`configlab.results._frame.FIELDS` order."""
        return (self.config, self.outcome, self.duration, self.metrics, self.test_id,
                self.snapshot_id, self.timestamp, self.run_id, self.stdout, self.stderr)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (the JSON Lines record); None fields are left out."""
        return record_dict(_tree.deep_copy(dict(self.config)), *self._record()[1:])

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


def record_dict(config: Mapping[str, Any], outcome: str, duration: float | None,
                metrics: Mapping[str, float], test_id: str, *texts: str | None
                ) -> dict[str, Any]:
    """The JSON Lines record of a result's fields (:meth:`Result.to_dict`; ``texts`` are
    snapshot_id, timestamp, run_id, stdout, stderr); None fields are left out.  ``config`` is
    used as it is (the caller copies it when it must)."""
    data: dict[str, Any] = {"config": config, "outcome": outcome}
    if duration is not None:
        data["duration"] = duration
    if metrics:
        data["metrics"] = dict(metrics)
    if test_id:
        data["test_id"] = test_id
    for key, value in zip(("snapshot_id", "timestamp", "run_id", "stdout", "stderr"), texts,
                          strict=True):
        if value is not None:
            data[key] = value
    return data


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



__all__ = [
    "BOOKKEEPING_FIELDS",
    "METRIC_PREFIX",
    "NULL_CELL",
    "OUTCOMES",
    "RESERVED_COLUMNS",
    "Result",
    "canonical_json",
    "config_key",
    "encode_results",
    "format_cell",
    "normalize_timestamp",
    "parse_cell",
]
