"""``configlab store``: move snapshots and results between stores, collect garbage.

* ``store push URL [--remote-objects S3URL]`` copies the local store (``--store``) into the
  store at URL (typically the team store, at the end of a CI job that ran offline);
* ``store pull URL [--remote-objects S3URL]`` copies the store at URL into the local store;
* ``store gc [--delete] [--grace SECONDS]`` lists (deletes with ``--delete``) objects that no
  snapshot names.
"""

from __future__ import annotations

import click

from configlab import storage
from configlab.cli._output import emit_json, output_option
from configlab.cli._store_options import OBJECTS_HELP, store_options
from configlab.results import ResultStore, copy_results
from configlab.snapshots import SnapshotStore, collect_garbage, remove_temp_files, transfer
from configlab.storage import StoreLocation

_REMOTE_OBJECTS = click.option(
    "--remote-objects", default=None, metavar="URL",
    help="Where the objects of the store at URL live (s3://bucket/prefix).",
)


@click.group()
def store() -> None:
    """Move snapshots and results between stores; garbage-collect unreferenced objects."""


def _copy(source: StoreLocation, target: StoreLocation, json_out: str | None) -> None:
    with SnapshotStore(source) as src, SnapshotStore(target) as dst:
        report = transfer(src, dst)
    with ResultStore(source) as results_src, ResultStore(target) as results_dst:
        results = copy_results(results_src, results_dst)
    if json_out is not None:
        emit_json(json_out, {"from": str(source), "to": str(target),
                             "snapshots": report.snapshots, "copied": list(report.copied),
                             "results": results})
        return
    click.echo(f"copied {len(report.copied)} of {report.snapshots} snapshot(s) and {results}"
               f" result(s) from {source} to {target}")


@store.command()
@click.argument("url")
@_REMOTE_OBJECTS
@output_option("--json", "json_out", "what was copied, as JSON")
@store_options
def push(url: str, remote_objects: str | None, json_out: str | None,
         store_path: StoreLocation) -> None:
    """Copy the snapshots and results of --store that the store at URL lacks into it."""
    _copy(store_path, storage.resolve(url, remote_objects, environ={}), json_out)


@store.command()
@click.argument("url")
@_REMOTE_OBJECTS
@output_option("--json", "json_out", "what was copied, as JSON")
@store_options
def pull(url: str, remote_objects: str | None, json_out: str | None,
         store_path: StoreLocation) -> None:
    """Copy the snapshots and results of the store at URL that --store lacks into it."""
    _copy(storage.resolve(url, remote_objects, environ={}), store_path, json_out)


@store.command()
@click.option("--delete", is_flag=True, help="Delete the unreferenced objects (default: list).")
@click.option("--grace", type=float, default=3600.0, show_default=True,
              help="Keep unreferenced object files younger than this many seconds.")
@output_option("--json", "json_out", "the report as JSON")
@store_options
def gc(delete: bool, grace: float, json_out: str | None, store_path: StoreLocation) -> None:
    """Find objects no snapshot names and temporary files of killed saves; delete them with
    --delete."""
    with SnapshotStore(store_path) as opened:
        report = collect_garbage(opened, dry_run=not delete, grace=grace)
        # and the temporary files of saves killed mid-write (local object directories only)
        temps = (None if opened.location.is_postgres
                 else remove_temp_files(opened.root, dry_run=not delete, grace=grace))
    if json_out is not None:
        data = report.to_dict()
        if temps is not None:
            data["temp_files"] = {"removed": [t.path for t in temps.removed],
                                  "kept": [t.path for t in temps.kept]}
        emit_json(json_out, data)
    else:
        click.echo(report.to_text())
        if temps is not None:
            click.echo(temps.to_text())


__all__ = ["OBJECTS_HELP", "store"]
