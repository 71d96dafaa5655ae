"""``configlab snapshot``: capture, list, show, restore, tag, diff, export, import and verify."""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

import click

from configlab import redaction
from configlab.cli._store_options import store_options
from configlab.errors import SnapshotCorruptedError, SnapshotError
from configlab.snapshots import Snapshot, SnapshotStore
from configlab.storage import StoreLocation
from configlab.treediff import TreeDiff

_STORE_OPTION = store_options


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


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
@click.option("--json", "as_json", is_flag=True, help="Print the snapshot as JSON.")
@_STORE_OPTION
def capture(
    files: tuple[str, ...],
    env: tuple[str, ...],
    allow_secrets: tuple[str, ...],
    tags: tuple[str, ...],
    meta: tuple[str, ...],
    no_check: bool,
    as_json: bool,
    store_path: StoreLocation,
) -> None:
    """Capture FILES (and selected environment variables) as a snapshot; print its id."""
    store = SnapshotStore(store_path)
    snap = store.capture(
        files=list(files),
        env=list(env),
        meta=_parse_meta(meta),
        tags=list(tags),
        allow_secrets=list(allow_secrets),
        check=not no_check,
    )
    if as_json:
        _echo_json(_shown(snap))
        return
    click.echo(snap.id)
    for name, entry in sorted(snap.files.items()):
        if entry.parse_error:
            click.echo(
                f"warning: {name}: stored, but does not parse: {entry.parse_error}", err=True
            )


@snapshot.command(name="list")
@click.option("--tag", default=None, help="Only snapshots with this tag.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_STORE_OPTION
def list_(tag: str | None, as_json: bool, store_path: StoreLocation) -> None:
    """List snapshots, oldest first (a damaged snapshot is skipped with a warning on stderr)."""

    def skipped(snapshot_id: str, error: SnapshotCorruptedError) -> None:
        click.echo(f"warning: skipped damaged snapshot {snapshot_id[:12]}: {error}", err=True)

    found = SnapshotStore(store_path).list(tag=tag, on_corrupted=skipped)
    if as_json:
        _echo_json([_shown(s) for s in found])
        return
    for snap in found:
        click.echo(_line(snap))


@snapshot.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_STORE_OPTION
def show(ref: str, as_json: bool, store_path: StoreLocation) -> None:
    """Show one snapshot (REF: id, unique id prefix or tag)."""
    snap = SnapshotStore(store_path).get(ref)
    shown = _shown(snap)
    if as_json:
        _echo_json(shown)
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
@click.argument("ref")
@click.argument("directory", type=click.Path(file_okay=False))
@_STORE_OPTION
def restore(ref: str, directory: str, store_path: StoreLocation) -> None:
    """Write the files of snapshot REF into DIRECTORY, byte for byte."""
    for path in SnapshotStore(store_path).restore(ref, directory):
        click.echo(str(path))


@snapshot.command()
@click.argument("ref")
@click.argument("tag")
@click.option("--remove", is_flag=True, help="Remove the tag instead of adding it.")
@_STORE_OPTION
def tag(ref: str, tag: str, remove: bool, store_path: StoreLocation) -> None:
    """Give snapshot REF the tag TAG (or remove it with --remove)."""
    store = SnapshotStore(store_path)
    snap = store.untag(ref, tag) if remove else store.tag(ref, tag)
    click.echo(_line(snap))


@snapshot.command()
@click.argument("a")
@click.argument("b")
@click.option("--name", default=None, help="Compare only this file of both snapshots.")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
@click.option("--patch", "as_patch", is_flag=True, help="Print an RFC 6902 JSON Patch.")
@_STORE_OPTION
def diff(
    a: str, b: str, name: str | None, as_json: bool, as_patch: bool, store_path: StoreLocation
) -> None:
    """Structural diff of the configs of snapshots A and B."""
    result = _redacted_diff(SnapshotStore(store_path).diff(a, b, name=name))
    if as_patch:
        _echo_json(result.to_json_patch())
    elif as_json:
        _echo_json(result.to_dicts())
    else:
        click.echo(result.to_text())


@snapshot.command(name="export")
@click.argument("refs", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Bundle file.")
@_STORE_OPTION
def export_(refs: tuple[str, ...], output: str, store_path: StoreLocation) -> None:
    """Export snapshots REFS... with their contents into one portable bundle file."""
    path = SnapshotStore(store_path).export(list(refs), output)
    click.echo(str(path))


@snapshot.command(name="import")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False))
@_STORE_OPTION
def import_(bundle: str, store_path: StoreLocation) -> None:
    """Import a bundle written by ``snapshot export`` (verifying every hash)."""
    for snapshot_id in SnapshotStore(store_path).import_(bundle):
        click.echo(snapshot_id)


@snapshot.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_STORE_OPTION
def verify(as_json: bool, store_path: StoreLocation) -> None:
    """Check every stored object and index row; exit 1 when anything is damaged."""
    report = SnapshotStore(store_path).verify()
    if as_json:
        _echo_json(report.to_dict())
    else:
        click.echo(report.to_text())
    if not report.ok:
        sys.exit(1)
