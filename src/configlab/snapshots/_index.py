"""The snapshot tables of the SQLite index: schema, rows of one snapshot, and their checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from configlab._internal.canonical import canonical_json
from configlab._internal.objectstore import BLOB_SCHEMA, IndexConnection
from configlab.errors import SnapshotError
from configlab.snapshots._model import (
    FileEntry,
    Snapshot,
    _decode_manifest,
    _timestamp,
)
from configlab.tree import join_path

#: ``PRAGMA user_version`` of an index whose snapshot tables were created (or checked) by this
#: code: from then on a missing table is damage, never a new store.
SCHEMA_VERSION = 1
#: The tables of the snapshot index.
_TABLES = ("snapshots", "snapshot_files", "snapshot_tags", "snapshot_meta", "object_blobs")

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS snapshots (
        id TEXT PRIMARY KEY,
        created TEXT NOT NULL,
        manifest TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS snapshots_created ON snapshots (created)",
    """CREATE TABLE IF NOT EXISTS snapshot_files (
        snapshot_id TEXT NOT NULL,
        name TEXT NOT NULL,
        hash TEXT NOT NULL,
        size INTEGER NOT NULL,
        format TEXT,
        parse_error TEXT,
        PRIMARY KEY (snapshot_id, name))""",
    "CREATE INDEX IF NOT EXISTS snapshot_files_hash ON snapshot_files (hash)",
    """CREATE TABLE IF NOT EXISTS snapshot_tags (
        tag TEXT NOT NULL,
        snapshot_id TEXT NOT NULL,
        tagged TEXT NOT NULL,
        PRIMARY KEY (tag, snapshot_id))""",
    "CREATE INDEX IF NOT EXISTS snapshot_tags_id ON snapshot_tags (snapshot_id)",
    """CREATE TABLE IF NOT EXISTS snapshot_meta (
        snapshot_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (snapshot_id, key))""",
    "CREATE INDEX IF NOT EXISTS snapshot_meta_kv ON snapshot_meta (key, value)",
    BLOB_SCHEMA,
)


def _meta_rows(meta: Mapping[str, Any]) -> dict[str, str]:
    """Query rows for ``meta``: every key at every depth (dotted path) -> canonical JSON value."""
    rows: dict[str, str] = {}
    stack: list[tuple[tuple[str, ...], Any]] = [((), meta)]
    while stack:
        prefix, node = stack.pop()
        for key, value in node.items():
            segments = (*prefix, key)
            rows[join_path(segments)] = canonical_json(value)
            if isinstance(value, dict):
                stack.append((segments, value))
    return rows


def _schema_state(conn: IndexConnection) -> tuple[int, tuple[str, ...]]:
    """``(PRAGMA user_version, the snapshot tables missing)`` of an index."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    present = {
        str(row[0])
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?, ?, ?, ?)",
            _TABLES,
        )
    }
    return version, tuple(name for name in _TABLES if name not in present)


def _ensure_schema(conn: IndexConnection) -> tuple[str, ...]:
    """Create the tables of a new store; return the tables missing from an existing one.

    A new store has none of the tables and no schema version; a store written before inline
    objects existed (no version, only ``object_blobs`` missing) gets that table.  Either way the
    index is then stamped with :data:`SCHEMA_VERSION`.  In any other store a missing table is
    damage (its rows are lost): it is *not* recreated, so that :meth:`SnapshotStore.verify`
    reports it and every operation that needs it raises SnapshotCorruptedError.
    """
    version, missing = _schema_state(conn)
    if version >= SCHEMA_VERSION and not missing:
        return ()
    conn.execute("BEGIN IMMEDIATE")
    try:
        version, missing = _schema_state(conn)  # again, now that no other writer can change it
        fresh = len(missing) == len(_TABLES)
        if version < SCHEMA_VERSION and (fresh or missing in ((), ("object_blobs",))):
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            missing = ()
    except BaseException:  # pragma: no cover - DDL on a locked-for-us database does not fail
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return missing


def _created_problem(created: object) -> str | None:
    """Why a stored ``created`` value is wrong, None when it is a timestamp in the stored form."""
    if not isinstance(created, str):
        return f"created value {created!r} is not a timestamp"
    try:
        canonical = _timestamp(created, "created")
    except SnapshotError:
        return f"created value {created!r} is not an ISO 8601 timestamp"
    if canonical != created:
        return f"created value {created!r} is not in the stored form ({canonical})"
    return None


def _snapshot(
    sid: str,
    created: str,
    manifest: str,
    errors: Mapping[tuple[str, str], str | None],
    tags: Mapping[str, Sequence[str]],
) -> Snapshot:
    """A Snapshot from its index data (the manifest is checked against the id)."""
    files, env, meta = _decode_manifest(sid, manifest)
    entries = {
        name: FileEntry(e.hash, e.size, e.format, errors.get((sid, name)))
        for name, e in files.items()
    }
    return Snapshot(
        id=sid,
        files=MappingProxyType(entries),
        env=MappingProxyType(env),
        meta=MappingProxyType(meta),
        tags=tuple(tags.get(sid, ())),
        created=created,
    )


def _insert_snapshot(
    conn: IndexConnection,
    snapshot_id: str,
    created: str,
    manifest: str,
    files: Mapping[str, FileEntry],
    meta: Mapping[str, Any],
) -> bool:
    """Insert a snapshot's rows; False (and nothing written) when it is already stored."""
    cursor = conn.execute(
        "INSERT OR IGNORE INTO snapshots (id, created, manifest) VALUES (?, ?, ?)",
        (snapshot_id, created, manifest),
    )
    if cursor.rowcount != 1:
        return False  # already stored: content-derived ids make this a no-op
    conn.executemany(
        "INSERT INTO snapshot_files (snapshot_id, name, hash, size, format, parse_error)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (snapshot_id, name, e.hash, e.size, e.format, e.parse_error)
            for name, e in sorted(files.items())
        ],
    )
    conn.executemany(
        "INSERT INTO snapshot_meta (snapshot_id, key, value) VALUES (?, ?, ?)",
        [(snapshot_id, key, value) for key, value in sorted(_meta_rows(meta).items())],
    )
    return True
