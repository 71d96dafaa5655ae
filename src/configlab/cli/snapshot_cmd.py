"""``configlab snapshot``: capture, list, show, restore, tag, diff, export, import, verify, gc."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import click

from configlab import redaction
from configlab.cli._output import STDOUT, emit_json, output_option
from configlab.cli._store_options import store_options
from configlab.errors import SnapshotCorruptedError, SnapshotError
from configlab.snapshots import (
    DEFAULT_GRACE_S,
    Snapshot,
    SnapshotQuery,
    SnapshotStore,
    remove_temp_files,
    select_snapshots,
)
from configlab.storage import StoreLocation
from configlab.treediff import TreeDiff

_STORE_OPTION = store_options


def _opened(store_path: StoreLocation) -> SnapshotStore:
    """The store, closed when the command ends (a team store's connection is not left to
    the garbage collector, whose warning would land in a later command's output)."""
    store = SnapshotStore(store_path)
    click.get_current_context().call_on_close(store.close)
    return store


def _shown(snapshot: Snapshot) -> dict[str, Any]:
    """The JSON form of ``snapshot`` as shown: env values and metadata redacted.

    Stored env values were redacted at capture by name; this also covers values captured
    with an older rule set or ``--allow-secret``, URL passwords and secret metadata keys.
    """
    rules = redaction.current()
    data = snapshot.to_dict()
    data["env"] = {name: rules.value(name, value) for name, value in snapshot.env.items()}
    data["meta"] = rules.tree(dict(snapshot.meta))
    return data


def _redacted_diff(result: TreeDiff) -> TreeDiff:
    """``result`` with the old/new values of secret-looking paths redacted."""
    rules = redaction.current()
    if not rules.enabled:
        return result
    return TreeDiff(tuple(
        dataclasses.replace(entry, old=rules.value(entry.path, entry.old),
                            new=rules.value(entry.path, entry.new))
        for entry in result.entries
    ))


def _line(snapshot: Snapshot) -> str:
    names = ", ".join(sorted(snapshot.files)) or "-"
    tags = f" [{', '.join(snapshot.tags)}]" if snapshot.tags else ""
    return f"{snapshot.short_id}  {snapshot.created}  {names}{tags}"


def _query_options(function: Any) -> Any:
    """The selection options shared by export, restore, verify and tag."""
    options = [
        click.option("--tag", "q_tag", default=None,
                     help="Only snapshots with this tag (a tag given as REF selects all of them)."),
        click.option("--test", "q_test", default=None,
                     help="Only snapshots of results of this test id (fnmatch pattern)."),
        click.option("--run", "q_run", default=None, help="Only snapshots of results of this run."),
        click.option("--outcome", "q_outcome", default=None,
                     help="Only snapshots of results with this outcome (pass/fail/error/skip)."),
        click.option("--where", "q_where", default=None,
                     help="Only snapshots whose config satisfies this constraint expression."),
        click.option("--latest", "q_latest", is_flag=True,
                     help="Act on the most recent matching snapshot only."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _select(store: SnapshotStore, refs: tuple[str, ...], options: dict[str, Any],
            *, default_all: bool = False) -> list[Snapshot]:
    """The snapshots REFS and the query options select (every snapshot only if allowed)."""
    query = SnapshotQuery(refs=refs, tag=options["q_tag"], test=options["q_test"],
                          run=options["q_run"], outcome=options["q_outcome"],
                          where=options["q_where"], latest=options["q_latest"])
    if query.empty and not (default_all or query.latest):
        raise SnapshotError("name snapshots: REF..., or --tag/--test/--run/--outcome/--where")
    return select_snapshots(store, query)


def _parse_meta(pairs: tuple[str, ...]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SnapshotError(f"--meta {pair!r}: expected KEY=VALUE")
        meta[key] = value
    return meta


@click.group()
def snapshot() -> None:
    """Capture, store and recreate exact configuration states."""


@snapshot.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--env", "env", multiple=True, help="Environment variable name or glob to record.")
@click.option(
    "--allow-secret",
    "allow_secrets",
    multiple=True,
    help="Record this secret-looking variable (name or glob) unredacted.",
)
@click.option("--tag", "tags", multiple=True, help="Tag to give the snapshot.")
@click.option("--meta", "meta", multiple=True, help="Metadata KEY=VALUE (string value).")
@click.option("--no-check", is_flag=True, help="Do not parse the files at capture time.")
@click.option("--each", is_flag=True,
              help="One snapshot per FILE (a generated suite in one call); prints 'ID FILE' "
                   "lines.")
@output_option("--json", "json_out", "the snapshot as JSON (--each: a list)")
@_STORE_OPTION
def capture(
    files: tuple[str, ...],
    env: tuple[str, ...],
    allow_secrets: tuple[str, ...],
    tags: tuple[str, ...],
    meta: tuple[str, ...],
    no_check: bool,
    each: bool,
    json_out: str | None,
    store_path: StoreLocation,
) -> None:
    """Capture FILES (and selected environment variables) as a snapshot; print its id."""
    if each and not files:
        raise SnapshotError("--each needs at least one FILE")
    store = _opened(store_path)
    groups = [[file] for file in files] if each else [list(files)]
    taken = [
        store.capture(
            files=group,
            env=list(env),
            meta=_parse_meta(meta),
            tags=list(tags),
            allow_secrets=list(allow_secrets),
            check=not no_check,
        )
        for group in groups
    ]
    if json_out is not None:
        shown = [_shown(snap) for snap in taken]
        emit_json(json_out, shown if each else shown[0])
        return
    for group, snap in zip(groups, taken, strict=True):
        click.echo(f"{snap.id} {group[0]}" if each else snap.id)
        for name, entry in sorted(snap.files.items()):
            if entry.parse_error:
                click.echo(
                    f"warning: {name}: stored, but does not parse: {entry.parse_error}", err=True
                )


@snapshot.command(name="list")
@click.option("--tag", default=None, help="Only snapshots with this tag.")
@output_option("--json", "json_out", "the snapshots as JSON")
@_STORE_OPTION
def list_(tag: str | None, json_out: str | None, store_path: StoreLocation) -> None:
    """List snapshots, oldest first (a damaged snapshot is skipped with a warning on stderr)."""

    def skipped(snapshot_id: str, error: SnapshotCorruptedError) -> None:
        click.echo(f"warning: skipped damaged snapshot {snapshot_id[:12]}: {error}", err=True)

    found = _opened(store_path).list(tag=tag, on_corrupted=skipped)
    if json_out is not None:
        emit_json(json_out, [_shown(s) for s in found])
        return
    for snap in found:
        click.echo(_line(snap))


@snapshot.command()
@click.argument("ref")
@output_option("--json", "json_out", "the snapshot as JSON")
@_STORE_OPTION
def show(ref: str, json_out: str | None, store_path: StoreLocation) -> None:
    """Show one snapshot (REF: id, unique id prefix or tag)."""
    snap = _opened(store_path).get(ref)
    shown = _shown(snap)
    if json_out is not None:
        emit_json(json_out, shown)
        return
    click.echo(f"id:      {snap.id}")
    click.echo(f"created: {snap.created}")
    click.echo(f"tags:    {', '.join(snap.tags) or '-'}")
    click.echo("files:")
    for name, entry in sorted(snap.files.items()):
        problem = f"  (parse error: {entry.parse_error})" if entry.parse_error else ""
        click.echo(
            f"  {name}  {entry.format or '?'}  {entry.size} bytes  {entry.hash[:12]}{problem}"
        )
    if snap.env:
        click.echo("env:")
        for key, value in sorted(shown["env"].items()):
            click.echo(f"  {key}={value}")
    if snap.meta:
        click.echo("meta:")
        for key, value in sorted(shown["meta"].items()):
            click.echo(f"  {key}: {json.dumps(value, ensure_ascii=False)}")


@snapshot.command()
@click.argument("args", nargs=-1, required=True, metavar="[REF]... DIRECTORY")
@_query_options
@_STORE_OPTION
def restore(args: tuple[str, ...], store_path: StoreLocation, **query: Any) -> None:
    """Write the files of the selected snapshots into DIRECTORY, byte for byte.

    One snapshot is written into DIRECTORY itself; several go to DIRECTORY/<short id>/ each.
    A tag as REF selects every snapshot with that tag (--latest: the newest only).
    """
    *refs, directory = args
    store = _opened(store_path)
    chosen = _select(store, tuple(refs), query)
    for snap in chosen:
        target = Path(directory) if len(chosen) == 1 else Path(directory) / snap.short_id
        for path in store.restore(snap.id, target):
            click.echo(str(path))


@snapshot.command()
@click.argument("args", nargs=-1, required=True, metavar="[REF]... TAG")
@click.option("--remove", is_flag=True, help="Remove the tag instead of adding it.")
@_query_options
@_STORE_OPTION
def tag(args: tuple[str, ...], remove: bool, store_path: StoreLocation, **query: Any) -> None:
    """Give the selected snapshots the tag TAG (or remove it with --remove)."""
    *refs, new_tag = args
    store = _opened(store_path)
    for snap in _select(store, tuple(refs), query):
        done = store.untag(snap.id, new_tag) if remove else store.tag(snap.id, new_tag)
        click.echo(_line(done))


@snapshot.command()
@click.argument("a")
@click.argument("b")
@click.option("--name", default=None, help="Compare only this file of both snapshots.")
@output_option("--json", "json_out", "the entries as JSON")
@click.option("--patch", "as_patch", is_flag=True, help="Print an RFC 6902 JSON Patch.")
@_STORE_OPTION
def diff(
    a: str, b: str, name: str | None, json_out: str | None, as_patch: bool,
    store_path: StoreLocation,
) -> None:
    """Structural diff of the configs of snapshots A and B."""
    result = _redacted_diff(_opened(store_path).diff(a, b, name=name))
    if as_patch:
        emit_json(json_out or STDOUT, result.to_json_patch())
    elif json_out is not None:
        emit_json(json_out, result.to_dicts())
    else:
        click.echo(result.to_text())


@snapshot.command(name="export")
@click.argument("refs", nargs=-1)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Bundle file.")
@_query_options
@_STORE_OPTION
def export_(refs: tuple[str, ...], output: str, store_path: StoreLocation, **query: Any) -> None:
    """Export the selected snapshots with their contents into one portable bundle file.

    A tag as REF exports every snapshot with that tag (--latest: the newest only).
    """
    store = _opened(store_path)
    chosen = _select(store, refs, query)
    path = store.export([snap.id for snap in chosen], output)
    click.echo(f"{path} ({len(chosen)} snapshot{'s' if len(chosen) != 1 else ''})")


@snapshot.command(name="import")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False))
@_STORE_OPTION
def import_(bundle: str, store_path: StoreLocation) -> None:
    """Import a bundle written by ``snapshot export`` (verifying every hash)."""
    for snapshot_id in _opened(store_path).import_(bundle):
        click.echo(snapshot_id)


@snapshot.command()
@click.argument("refs", nargs=-1)
@output_option("--json", "json_out", "the report as JSON")
@_query_options
@_STORE_OPTION
def verify(
    refs: tuple[str, ...], json_out: str | None, store_path: StoreLocation, **query: Any
) -> None:
    """Check every stored object and index row (or only the selected snapshots' files);
    exit 1 when anything is damaged."""
    store = _opened(store_path)
    if refs or any(value not in (None, False) for value in query.values()):
        problems = _verify_selected(store, _select(store, refs, query), json_out)
        if problems:
            sys.exit(1)
        return
    report = store.verify()
    if json_out is not None:
        emit_json(json_out, report.to_dict())
    else:
        click.echo(report.to_text())
    if not report.ok:
        sys.exit(1)


def _verify_selected(store: SnapshotStore, chosen: list[Snapshot], json_out: str | None) -> int:
    """Read back every file of each chosen snapshot (hashes checked); the number damaged."""
    rows = []
    for snap in chosen:
        problem = None
        try:
            for name in sorted(snap.files):
                store.read_bytes(snap.id, name)
        except SnapshotCorruptedError as error:
            problem = str(error)
        rows.append({"id": snap.id, "ok": problem is None, "problem": problem})
    damaged = sum(not row["ok"] for row in rows)
    if json_out is not None:
        emit_json(json_out, {"checked": len(rows), "damaged": damaged, "snapshots": rows})
    else:
        for row in rows:
            click.echo(f"{str(row['id'])[:12]}  {'ok' if row['ok'] else row['problem']}")
        click.echo(f"checked {len(rows)} snapshot(s): "
                   + ("ok" if not damaged else f"{damaged} damaged"))
    return damaged


@snapshot.command()
@click.option("--delete", is_flag=True, help="Remove the files (default: only list them).")
@click.option("--grace", type=float, default=DEFAULT_GRACE_S, show_default=True,
              help="Keep temporary files younger than this many seconds (a running save).")
@output_option("--json", "json_out", "the report as JSON")
@_STORE_OPTION
def gc(delete: bool, grace: float, json_out: str | None, store_path: StoreLocation) -> None:
    """Remove the temporary files that interrupted saves left in the store (dry run default)."""
    if store_path.is_postgres or store_path.objects:
        raise SnapshotError(
            f"{store_path}: temporary files exist only in a local store; `configlab store gc`"
            " finds the unreferenced objects of a team store"
        )
    report = remove_temp_files(store_path.root, dry_run=not delete, grace=grace)
    if json_out is not None:
        emit_json(json_out, {"dry_run": report.dry_run,
                    "removed": [dataclasses.asdict(t) for t in report.removed],
                    "kept": [dataclasses.asdict(t) for t in report.kept]})
    else:
        click.echo(report.to_text())
