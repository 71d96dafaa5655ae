"""``configlab results``: merge the results of shards and check them; compact to Parquet.

``configlab results merge``: join the results of the shards of one run, and check them.

    configlab results merge shard-1.jsonl shard-2.jsonl shard-3.jsonl --into .configlab
    configlab results merge .configlab --run-id gh-123-1          # shards wrote one shared store

Every source is a store directory or a results file (JSON lines, CSV, ...).  The results of
each run id are checked: every config of the suite ran exactly once (the suite size and the
shard count travel with the results of ``exec --shard``; ``--suite`` names the suite
explicitly), every shard sent results.  Exit code: 0 complete, 1 a config missing or
duplicated or a shard absent, 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from configlab.cli._output import emit_json, output_option
from configlab.cli._store_options import store_options
from configlab.errors import ResultsError
from configlab.execution import check_complete, load_suite
from configlab.integrations.compact import compact_results
from configlab.integrations.ingest import load_results
from configlab.results import ResultSet, ResultStore
from configlab.storage import StoreLocation


@click.group("results")
def results() -> None:
    """Results of a store: merge shards, check completeness, compact to Parquet."""


def _expected_ids(suite: str | None, test_name: str) -> list[str] | None:
    if suite is None:
        return None

    return [f"{test_name}[{item.name}]" for item in load_suite(suite)]


@results.command("merge")
@click.argument("sources", nargs=-1, required=True)
@click.option("--run-id", default=None, help="Only this run (default: every run found).")
@click.option("--into", "into", default=None,
              help="Store directory to record the merged results in.")
@click.option("--jsonl", "jsonl_path", default=None, type=click.Path(dir_okay=False),
              help="Write the merged results as JSON lines here.")
@click.option("--suite", default=None,
              help="The suite the shards ran (directory or JSON lines): every config of it "
                   "must appear exactly once.")
@click.option("--name", "test_name", default="exec", show_default=True,
              help="With --suite: the test name the shards used (results <name>[<config>]).")
@click.option("--no-check", is_flag=True, help="Merge without the completeness check.")
def merge(sources: tuple[str, ...], run_id: str | None, into: str | None,
          jsonl_path: str | None, suite: str | None, test_name: str, no_check: bool) -> None:
    """Merge the results of SOURCES (stores or result files) and check every run is complete."""
    if into is not None and any(Path(s).resolve() == Path(into).resolve() for s in sources):
        raise ResultsError(f"--into {into} is also a source: its results would be doubled")
    merged = ResultSet()
    for source in sources:
        found = load_results(source)
        merged.extend(r for r in found if run_id is None or r.run_id == run_id)
    if not merged:
        raise ResultsError(f"no results{f' of run {run_id}' if run_id else ''} in "
                           f"{', '.join(sources)}")
    expected = _expected_ids(suite, test_name)
    runs: dict[Any, list[Any]] = {}
    for result in merged:
        runs.setdefault(result.run_id, []).append(result)
    complete = True
    for run, rows in runs.items():
        check = check_complete([r.test_id for r in rows], [r.metrics for r in rows], expected)
        shards = (f" across {len(check.shards_seen)} shard(s)" if check.shards_seen else "")
        if no_check or check.ok:
            click.echo(f"configlab results: run {run}: {check.found} config(s){shards}"
                       + ("" if no_check else ", each exactly once"), err=True)
            continue
        complete = False
        for problem in check.problems():
            click.echo(f"configlab results: run {run}: {problem}", err=True)
    if into is not None:
        with ResultStore(into) as store:
            store.record_many(merged)
    if jsonl_path is not None:
        merged.to_jsonl(jsonl_path)
    click.echo(f"configlab results: merged {len(merged)} result(s) from {len(sources)} "
               f"source(s)" + (f" into {into}" if into else ""), err=True)
    click.get_current_context().exit(0 if complete else 1)


@results.command()
@click.option("--out", "target", required=True, metavar="DIR|URL",
              help="Target directory or s3://bucket/prefix.")
@click.option("--partition-by", default="run_id", show_default=True,
              help="Column whose values name the partitions.")
@output_option("--json", "json_out", "the report as JSON")
@store_options
def compact(target: str, partition_by: str, json_out: str | None,
            store_path: StoreLocation) -> None:
    """Write the store's results as hive-partitioned Parquet (local directory or s3://)."""
    report = compact_results(store_path, target, partition_by=partition_by)
    if json_out is not None:
        emit_json(json_out, {"target": report.target, "rows": report.rows,
                             "columns": report.columns, "partitions": list(report.partitions)})
        return
    click.echo(f"wrote {report.rows} result(s), {report.columns} column(s), in"
               f" {len(report.partitions)} partition(s) of {partition_by} to {report.target}")
