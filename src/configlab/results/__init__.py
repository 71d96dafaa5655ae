"""Test results tied to configurations: the ResultSet table, its cells and encoding, and the
result store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from configlab._internal.lazy import lazy_attributes
from configlab.results._model import (
    BOOKKEEPING_FIELDS,
    METRIC_PREFIX,
    NULL_CELL,
    OUTCOMES,
    RESERVED_COLUMNS,
    Result,
    canonical_json,
    config_key,
    encode_results,
    format_cell,
    normalize_timestamp,
    parse_cell,
)
from configlab.results._select import Selection
from configlab.results._set import ResultSet, ResultStore, parquet_columns
from configlab.results._sync import copy_results

if TYPE_CHECKING:  # pragma: no cover
    from configlab.results._columns import (
        FastPathUnavailable,
        encode_columns,
        encode_csv,
        encode_jsonl,
        encode_parquet,
    )
    from configlab.results._dataset import (
        GroupCounts,
        GroupKey,
        ResultDataset,
        is_dataset_source,
    )

#: Public names imported on first use: the columnar reader loads numpy and polars, the
#: dataset reader the S3 and DuckDB glue, and ``configlab run`` imports this package (start-up).
_LAZY: dict[str, str] = {
    "GroupCounts": "configlab.results._dataset",
    "GroupKey": "configlab.results._dataset",
    "ResultDataset": "configlab.results._dataset",
    "is_dataset_source": "configlab.results._dataset",
    "FastPathUnavailable": "configlab.results._columns",
    "encode_columns": "configlab.results._columns",
    "encode_csv": "configlab.results._columns",
    "encode_jsonl": "configlab.results._columns",
    "encode_parquet": "configlab.results._columns",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())


__all__ = [
    "BOOKKEEPING_FIELDS",
    "METRIC_PREFIX",
    "NULL_CELL",
    "OUTCOMES",
    "RESERVED_COLUMNS",
    "FastPathUnavailable",
    "GroupCounts",
    "GroupKey",
    "Result",
    "ResultDataset",
    "ResultSet",
    "ResultStore",
    "Selection",
    "canonical_json",
    "config_key",
    "copy_results",
    "encode_columns",
    "encode_csv",
    "encode_jsonl",
    "encode_parquet",
    "encode_results",
    "format_cell",
    "is_dataset_source",
    "normalize_timestamp",
    "parquet_columns",
    "parse_cell",
]
