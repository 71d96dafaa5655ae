"""Test results tied to configurations: the ResultSet table, its cells and encoding, and the
result store."""

from __future__ import annotations

from configlab.results._dataset import ResultDataset, is_dataset_source
from configlab.results._model import (
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
from configlab.results._select import Selection

__all__ = [
    "METRIC_PREFIX",
    "NULL_CELL",
    "OUTCOMES",
    "RESERVED_COLUMNS",
    "Result",
    "ResultDataset",
    "ResultSet",
    "ResultStore",
    "Selection",
    "canonical_json",
    "config_key",
    "encode_results",
    "format_cell",
    "is_dataset_source",
    "normalize_timestamp",
    "parse_cell",
]
