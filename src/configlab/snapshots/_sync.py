"""Moving snapshots between stores (``configlab store push|pull``), built on bundles.

A CI runner without network keeps a local store and pushes it to the team store at the end of
the job; a developer pulls the team store into a local one.  :func:`transfer` exports, into one
temporary bundle, every snapshot of the source that the target lacks (or whose tags it lacks)
and imports that bundle into the target: every object is verified against its hash on the way,
objects are written before the index rows that name them, and transferring again is a no-op.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from configlab.snapshots._store import SnapshotStore


@dataclass(frozen=True)
class TransferReport:
    """What :func:`transfer` copied."""

    snapshots: int  # snapshots in the source
    copied: tuple[str, ...]  # ids sent (new to the target, or with tags it lacked)


def _tags(store: SnapshotStore) -> dict[str, set[str]]:
    """Snapshot id -> its tags, for every snapshot of ``store``."""
    found: dict[str, set[str]] = {}
    with store._db() as conn:
        for (sid,) in conn.execute("SELECT id FROM snapshots"):
            found[str(sid)] = set()
        for sid, tag in conn.execute("SELECT snapshot_id, tag FROM snapshot_tags"):
            found.setdefault(str(sid), set()).add(str(tag))
    return found


def transfer(source: SnapshotStore, target: SnapshotStore) -> TransferReport:
    """Copy to ``target`` the snapshots (and tags) of ``source`` it does not have yet."""
    have = _tags(source)
    there = _tags(target)
    todo = tuple(sorted(sid for sid, tags in have.items() if sid not in there
                        or tags - there[sid]))
    if todo:
        with tempfile.TemporaryDirectory(prefix="configlab-transfer-") as work:
            bundle = source.export(todo, Path(work) / "transfer.bundle")
            target.import_(bundle)
    return TransferReport(len(have), todo)


__all__ = ["TransferReport", "transfer"]
