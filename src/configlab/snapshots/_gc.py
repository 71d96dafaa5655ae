"""Garbage collection of a snapshot store: objects no snapshot names any more.

Snapshots are never deleted, so unreferenced objects come from writers that stopped between
storing an object and recording the snapshot that names it (a killed CI job, a failed import):
by design an object is written *before* the index row naming it, so a crash leaves at worst an
unreferenced object, never a dangling reference.  :func:`collect_garbage` finds them and, when
asked (``dry_run=False``), deletes them.  It is safe to run while writers are busy:

* before a writer writes *or reuses* an object file it commits a **lease** on the object's hash
  in the index (:meth:`ObjectStore.lease`), then looks for or writes the file, then records its
  snapshot;
* every deletion happens inside an exclusive index write transaction (SQLite's single writer;
  on PostgreSQL the writers' advisory lock taken exclusively) that checks again that no
  snapshot names the object and that no lease younger than ``grace`` seconds covers it;
* so a lease committed before that transaction keeps the object, and a sweep that committed
  first has already deleted it when the writer looks for it (or writes it conditionally), so
  the writer stores it again: no snapshot can name a deleted object;
* in addition an object file younger than ``grace`` is never deleted, and leases older than
  ``grace`` are removed by the sweep.

The rule for operators: ``grace`` (one hour by default) must exceed the longest time one save
takes from its lease to its snapshot row, plus the clock skew between hosts (lease times are
written by the writers' clocks, object ages come from the object storage).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from configlab.errors import SnapshotError

if TYPE_CHECKING:  # pragma: no cover
    from configlab._internal.objectstore import IndexConnection
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
        leased = _leases(conn, moment, grace)
    every = list(store.objects.iter_hashes())
    unreferenced = [digest for digest in every if digest not in referenced]
    young: list[str] = []
    candidates: list[str] = []
    for digest in unreferenced:
        if digest in inline:
            candidates.append(digest)
        elif digest in leased or moment - store.objects.modified(digest) < grace:
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
                if digest in _leases(conn, moment, grace, digest):
                    young.append(digest)  # a writer leased it meanwhile: it may record it soon
                    continue
                store.objects.delete(digest)
            deleted.append(digest)
        with store._write() as conn:  # expired leases (the read first takes the lock)
            if _has_leases(conn):
                conn.execute("DELETE FROM object_leases WHERE taken <= ?", (moment - grace,))
    return GcReport(len(every), tuple(unreferenced), tuple(young), tuple(deleted), dry_run)


def _has_leases(conn: IndexConnection) -> bool:
    """Whether the index has a lease table (created by the first lease of a writer)."""
    return conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", ("object_leases",)
    ).fetchone() is not None


def _leases(
    conn: IndexConnection, moment: float, grace: float, digest: str | None = None
) -> set[str]:
    """The hashes (or only ``digest``) under a lease younger than ``grace`` at ``moment``."""
    if not _has_leases(conn):
        return set()
    since = moment - grace
    if digest is None:
        rows = conn.execute("SELECT hash FROM object_leases WHERE taken > ?", (since,))
    else:
        rows = conn.execute(
            "SELECT hash FROM object_leases WHERE hash = ? AND taken > ?", (digest, since)
        )
    return {str(row[0]) for row in rows}


__all__ = ["DEFAULT_GRACE_S", "GcReport", "collect_garbage"]
