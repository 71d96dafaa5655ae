"""Test results tied to configurations: the ResultSet table, its cells and encoding, and the
result store."""

from __future__ import annotations

from configlab.results._model import (
    NULL_CELL,
    OUTCOMES,
    Result,
    ResultSet,
    ResultStore,
    canonical_json,
    config_key,
    encode_results,
    normalize_timestamp,
)

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
