"""Content-addressed snapshots of exact config states: capture, index, tags, diff, bundles and
integrity checks."""

from __future__ import annotations

from configlab.snapshots._store import (
    MIN_PREFIX,
    REDACTED,
    SECRET_NAME_RE,
    FileEntry,
    FileSource,
    Problem,
    Snapshot,
    SnapshotStore,
    StoredObject,
    VerifyReport,
    canonical_json,
    capture_env,
    open_index,
)

__all__ = [
    "MIN_PREFIX",
    "REDACTED",
    "SECRET_NAME_RE",
    "FileEntry",
    "FileSource",
    "Problem",
    "Snapshot",
    "SnapshotStore",
    "StoredObject",
    "VerifyReport",
    "canonical_json",
    "capture_env",
    "open_index",
]
