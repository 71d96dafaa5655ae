"""``configlab store``: move snapshots and results between stores, collect garbage.

* ``store push URL [--remote-objects S3URL]`` copies the local store (``--store``) into the
  store at URL (typically the team store, at the end of a CI job that ran offline);
* ``store pull URL [--remote-objects S3URL]`` copies the store at URL into the local store;
* ``store gc [--delete] [--grace SECONDS]`` lists (deletes with ``--delete``) objects that no
  snapshot names.
"""

from __future__ import annotations

import json

import click

from configlab import storage
from configlab.cli._store_options import OBJECTS_HELP, store_options
from configlab.results import ResultStore
from configlab.results._sync import copy_results
from configlab.snapshots import SnapshotStore
from configlab.snapshots._gc import collect_garbage
from configlab.snapshots._sync import transfer
from configlab.snapshots._tidy import remove_temp_files
from configlab.storage import StoreLocation

_REMOTE_OBJECTS = click.option(
    "--remote-objects", default=None, metavar="URL",
    help="Where the objects of the store at URL live (s3://bucket/prefix).",
)


@click.group()
def store() -> None:
    """Move snapshots and results between stores; garbage-collect unreferenced objects."""


def _copy(source: StoreLocation, target: StoreLocation, as_json: bool) -> None:
    with SnapshotStore(source) as src, SnapshotStore(target) as dst:
        report = transfer(src, dst)
    with ResultStore(source) as results_src, ResultStore(target) as results_dst:
        results = copy_results(results_src, results_dst)
    if as_json:
        click.echo(json.dumps({"from": str(source), "to": str(target),
                               "snapshots": report.snapshots, "copied": list(report.copied),
                               "results": results}, indent=2))
        return
    click.echo(f"copied {len(report.copied)} of {report.snapshots} snapshot(s) and {results}"
               f" result(s) from {source} to {target}")


@store.command()
@click.argument("url")
@_REMOTE_OBJECTS
@click.option("--json", "as_json", is_flag=True, help="Print what was copied as JSON.")
@store_options
def push(url: str, remote_objects: str | None, as_json: bool,
         store_path: StoreLocation) -> None:
    """Copy the snapshots and results of --store that the store at URL lacks into it."""
    _copy(store_path, storage.resolve(url, remote_objects, environ={}), as_json)


@store.command()
@click.argument("url")
@_REMOTE_OBJECTS
@click.option("--json", "as_json", is_flag=True, help="Print what was copied as JSON.")
@store_options
def pull(url: str, remote_objects: str | None, as_json: bool,
         store_path: StoreLocation) -> None:
    """Copy the snapshots and results of the store at URL that --store lacks into it."""
    _copy(storage.resolve(url, remote_objects, environ={}), store_path, as_json)


@store.command()
@click.option("--delete", is_flag=True, help="Delete the unreferenced objects (default: list).")
@click.option("--grace", type=float, default=3600.0, show_default=True,
              help="Keep unreferenced object files younger than this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@store_options
def gc(delete: bool, grace: float, as_json: bool, store_path: StoreLocation) -> None:
    """Find objects no snapshot names and temporary files of killed saves; delete them with
    --delete."""
    with SnapshotStore(store_path) as opened:
        report = collect_garbage(opened, dry_run=not delete, grace=grace)
        # and the temporary files of saves killed mid-write (local object directories only)
        temps = (None if opened.location.is_postgres
                 else remove_temp_files(opened.root, dry_run=not delete, grace=grace))
    if as_json:
        data = report.to_dict()
        if temps is not None:
            data["temp_files"] = {"removed": [t.path for t in temps.removed],
                                  "kept": [t.path for t in temps.kept]}
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(report.to_text())
        if temps is not None:
            click.echo(temps.to_text())


__all__ = ["OBJECTS_HELP", "store"]
