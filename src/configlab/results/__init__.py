"""Test results tied to configurations: the ResultSet table, its cells and encoding, and the
result store."""

from __future__ import annotations

from configlab.results._model import (
    BOOKKEEPING_FIELDS,
    METRIC_PREFIX,
    NULL_CELL,
    OUTCOMES,
    RESERVED_COLUMNS,
    Result,
    ResultSet,
    ResultStore,
    canonical_json,
    config_key,
    encode_results,
    format_cell,
    normalize_timestamp,
    parse_cell,
)

__all__ = [
    "BOOKKEEPING_FIELDS",
    "METRIC_PREFIX",
    "NULL_CELL",
    "OUTCOMES",
    "RESERVED_COLUMNS",
    "Result",
    "ResultSet",
    "ResultStore",
    "canonical_json",
    "config_key",
    "encode_results",
    "format_cell",
    "normalize_timestamp",
    "parse_cell",
]
