"""Content-addressed snapshots of exact config states: capture, index, tags, diff, bundles and
integrity checks."""

from __future__ import annotations

from configlab._internal.canonical import canonical_json
from configlab._internal.objectstore import StoredObject, open_index
from configlab.snapshots._gc import collect_garbage
from configlab.snapshots._model import (
    MIN_PREFIX,
    REDACTED,
    SECRET_NAME_RE,
    FileEntry,
    FileSource,
    Problem,
    Snapshot,
    VerifyReport,
    capture_env,
)
from configlab.snapshots._query import SnapshotQuery
from configlab.snapshots._query import select as select_snapshots
from configlab.snapshots._store import SnapshotStore
from configlab.snapshots._sync import transfer
from configlab.snapshots._tidy import DEFAULT_GRACE_S, remove_temp_files

__all__ = [
    "DEFAULT_GRACE_S",
    "MIN_PREFIX",
    "REDACTED",
    "SECRET_NAME_RE",
    "FileEntry",
    "FileSource",
    "Problem",
    "Snapshot",
    "SnapshotQuery",
    "SnapshotStore",
    "StoredObject",
    "VerifyReport",
    "canonical_json",
    "capture_env",
    "collect_garbage",
    "open_index",
    "remove_temp_files",
    "select_snapshots",
    "transfer",
]
