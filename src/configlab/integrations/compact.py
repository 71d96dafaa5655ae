"""``configlab results compact``: the results table of a store as partitioned Parquet.

A team store accumulates results from every CI runner in its index; analysing millions of rows
is faster from columnar files.  :func:`compact_results` writes the store's results (the columns
of :func:`configlab.integrations.exporters.parquet_table`: outcome, duration, test/snapshot/run
ids, ``metric.*`` and one column per config path) as hive-partitioned Parquet,
``<target>/<column>=<value>/part-0.parquet`` (partitioned by ``run_id`` by default; a result
without one goes to ``__HIVE_DEFAULT_PARTITION__``), to a local directory or to
``s3://bucket/prefix`` (through s3fs, configured by the standard AWS variables such as
``AWS_ENDPOINT_URL_S3``).  DuckDB reads it back with
``read_parquet('<target>/**/*.parquet', hive_partitioning = true, union_by_name = true)``.
File names are fixed, so the same results give the same files; compacting again replaces the
partitions it writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from configlab.errors import IntegrationError
from configlab.integrations.exporters import parquet_table
from configlab.results import ResultSet, ResultStore
from configlab.storage import StoreLocation, is_s3_url, s3_filesystem, split_s3_url


@dataclass(frozen=True)
class CompactReport:
    """What :func:`compact_results` wrote."""

    target: str
    rows: int
    partitions: tuple[str, ...]  # partition values, sorted
    columns: int


def _filesystem(target: str) -> tuple[Any, str]:
    """(pyarrow-compatible filesystem or None, path within it) for a local path or s3:// URL."""
    if not is_s3_url(target):
        return None, os.fspath(target)
    bucket, prefix = split_s3_url(target)
    return s3_filesystem(), f"{bucket}/{prefix}".rstrip("/")


def compact_results(
    store: str | os.PathLike[str] | StoreLocation | ResultSet,
    target: str | os.PathLike[str],
    *,
    partition_by: str = "run_id",
) -> CompactReport:
    """Write the results of ``store`` (or a ResultSet) to ``target`` as partitioned Parquet."""
    import pyarrow.parquet as pq

    if isinstance(store, ResultSet):
        results = store
    else:
        with ResultStore(store) as opened:
            results = opened.load()
    table = parquet_table(results)
    if partition_by not in table.column_names:
        raise IntegrationError(
            f"cannot partition by {partition_by!r}: not a results column"
            f" (columns: {', '.join(table.column_names)})"
        )
    destination = os.fspath(target)
    filesystem, path = _filesystem(destination)
    try:
        if filesystem is None:
            os.makedirs(path, exist_ok=True)
        pq.write_to_dataset(
            table,
            root_path=path,
            partition_cols=[partition_by],
            filesystem=filesystem,
            basename_template="part-{i}.parquet",
            existing_data_behavior="delete_matching",
        )
    except OSError as error:
        raise IntegrationError(f"{destination}: cannot write Parquet: {error}") from None
    values = sorted({str(v) if v is not None else "__HIVE_DEFAULT_PARTITION__"
                     for v in table.column(partition_by).to_pylist()})
    return CompactReport(destination, table.num_rows, tuple(values), table.num_columns)


__all__ = ["CompactReport", "compact_results"]
