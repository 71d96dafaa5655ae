"""``configlab results``: operations on the results table of a store.

* ``results compact --out DIR|s3://bucket/prefix`` writes the store's results as hive-partitioned
  Parquet (by ``run_id`` unless ``--partition-by``), for DuckDB and other columnar readers.
"""

from __future__ import annotations

import json

import click

from configlab.cli._store_options import store_options
from configlab.storage import StoreLocation


@click.group()
def results() -> None:
    """Operations on the results table of a store (compact to partitioned Parquet)."""


@results.command()
@click.option("--out", "target", required=True, metavar="DIR|URL",
              help="Target directory or s3://bucket/prefix.")
@click.option("--partition-by", default="run_id", show_default=True,
              help="Column whose values name the partitions.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@store_options
def compact(target: str, partition_by: str, as_json: bool, store_path: StoreLocation) -> None:
    """Write the store's results as partitioned Parquet (local directory or s3://)."""
    from configlab.integrations.compact import compact_results

    report = compact_results(store_path, target, partition_by=partition_by)
    if as_json:
        click.echo(json.dumps({"target": report.target, "rows": report.rows,
                               "columns": report.columns,
                               "partitions": list(report.partitions)}, indent=2))
        return
    click.echo(f"wrote {report.rows} result(s), {report.columns} column(s), in"
               f" {len(report.partitions)} partition(s) of {partition_by} to {report.target}")


__all__ = ["results"]
