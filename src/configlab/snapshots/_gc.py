"""Garbage collection of a snapshot store: objects no snapshot names any more.

Snapshots are never deleted, so unreferenced objects come from writers that stopped between
storing an object and recording the snapshot that names it (a killed CI job, a failed import):
by design an object is written *before* the index row naming it, so a crash leaves at worst an
unreferenced object, never a dangling reference.  :func:`collect_garbage` finds them and, when
asked (``dry_run=False``), deletes them:

* an object file (local or on S3) is deleted only when it is older than ``grace`` seconds (one
  hour by default): a younger one may belong to a writer that is about to record its snapshot;
* every deletion happens inside an exclusive index write transaction that checks again that no
  snapshot names the object, so no snapshot recorded meanwhile can lose its content.

Run it when writers are quiet: a writer that found an old unreferenced object already stored
(and so did not write it again) in the instant before the sweep deletes it would record a
snapshot naming a missing object; ``configlab snapshot verify`` reports such a case.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from configlab.errors import SnapshotError

if TYPE_CHECKING:  # pragma: no cover
    from configlab.snapshots._store import SnapshotStore

#: Default age (seconds) below which an unreferenced object file is kept.
DEFAULT_GRACE_S = 3600.0


@dataclass(frozen=True)
class GcReport:
    """What :func:`collect_garbage` found (and deleted unless ``dry_run``)."""

    objects: int  # objects in the store before the sweep
    unreferenced: tuple[str, ...]  # hashes no snapshot names
    young: tuple[str, ...]  # unreferenced files kept because they are within the grace period
    deleted: tuple[str, ...]  # hashes deleted (empty on a dry run)
    dry_run: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "objects": self.objects,
            "unreferenced": list(self.unreferenced),
            "young": list(self.young),
            "deleted": list(self.deleted),
            "dry_run": self.dry_run,
        }

    def to_text(self) -> str:
        """One human-readable summary."""
        verb = "would delete" if self.dry_run else "deleted"
        count = len(self.unreferenced) - len(self.young) if self.dry_run else len(self.deleted)
        lines = [
            f"{self.objects} object(s), {len(self.unreferenced)} unreferenced;"
            f" {verb} {count}, kept {len(self.young)} within the grace period"
        ]
        if self.dry_run and count:
            lines.append("dry run: nothing deleted (pass --delete to delete)")
        return "\n".join(lines)


def collect_garbage(
    store: SnapshotStore,
    *,
    dry_run: bool = True,
    grace: float = DEFAULT_GRACE_S,
    now: float | None = None,
) -> GcReport:
    """Find the objects of ``store`` that no snapshot names; delete them unless ``dry_run``.

    ``grace``: unreferenced object *files* younger than this many seconds are kept (inline
    objects are written in the transaction of their snapshot, so they have no such window).
    """
    if grace < 0:
        raise SnapshotError(f"grace must be >= 0 seconds, got {grace}")
    moment = time.time() if now is None else now
    with store._db() as conn:
        referenced = {str(row[0]) for row in conn.execute("SELECT hash FROM snapshot_files")}
        inline = {str(row[0]) for row in conn.execute("SELECT hash FROM object_blobs")}
    every = list(store.objects.iter_hashes())
    unreferenced = [digest for digest in every if digest not in referenced]
    young: list[str] = []
    candidates: list[str] = []
    for digest in unreferenced:
        if digest in inline:
            candidates.append(digest)
        elif moment - store.objects.modified(digest) < grace:
            young.append(digest)
        else:
            candidates.append(digest)
    deleted: list[str] = []
    if not dry_run:
        for digest in candidates:
            with store._write() as conn:
                # read first: on a server index this takes the writers' lock exclusively
                if conn.execute(
                    "SELECT 1 FROM snapshot_files WHERE hash = ? LIMIT 1", (digest,)
                ).fetchone():
                    continue  # a snapshot recorded meanwhile names it
                store.objects.delete(digest)
            deleted.append(digest)
    return GcReport(len(every), tuple(unreferenced), tuple(young), tuple(deleted), dry_run)


__all__ = ["DEFAULT_GRACE_S", "GcReport", "collect_garbage"]
