"""Moving snapshots between stores (``configlab store push|pull``), streamed in batches.

A CI runner without network keeps a local store and pushes it to the team store at the end of
the job; a developer pulls the team store into a local one.  :func:`transfer` copies every
snapshot of the source that the target lacks (or whose tags it lacks) store to store, in
batches of :data:`BATCH` snapshots, with the checks of a bundle import
(:mod:`configlab.snapshots._bundle`) but without building a bundle first:

* a small object (under 64 KiB) is read verified from the source and inserted in the batch's
  index transaction, as inline objects always are;
* a larger one the target lacks is streamed from the source (decompressed in
  :data:`~configlab._internal.objectstore.CHUNK` pieces) into the target, which verifies it
  against its hash, before that transaction;
* so objects are in the target before the index rows naming them, a batch appears whole or
  not at all, and transferring again is a no-op.

Memory stays bounded by one batch of snapshot records (and their small objects) plus one chunk
of content, whatever the size of the store; nothing is written to a temporary bundle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, cast

from configlab._internal.objectstore import INLINE_MAX, ObjectStore, StagedObject
from configlab.snapshots._bundle import _VerifyingReader
from configlab.snapshots._index import _insert_snapshot
from configlab.snapshots._model import _manifest

if TYPE_CHECKING:  # pragma: no cover
    from configlab.snapshots._store import SnapshotStore

#: Snapshots copied per index transaction of the target.
BATCH = 200


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


def copy_object(source: ObjectStore, target: ObjectStore, digest: str, size: int) -> None:
    """Stream object ``digest`` from ``source`` into ``target``, verified against its hash.

    Raises SnapshotCorruptedError (storing nothing) when the source copy is missing or damaged.
    """
    inline = source.get_inline(digest, size)  # verified; None when it is a file
    if inline is not None:
        target.put_bytes(inline)
        return
    with _VerifyingReader(source, digest) as reader:
        target.put_stream(cast(IO[bytes], reader), size, expected=digest)


def transfer(source: SnapshotStore, target: SnapshotStore, *,
             batch: int = BATCH) -> TransferReport:
    """Copy to ``target`` the snapshots (and tags) of ``source`` it does not have yet."""
    have = _tags(source)
    there = _tags(target)
    todo = tuple(sorted(sid for sid, tags in have.items() if sid not in there
                        or tags - there[sid]))
    sent: set[str] = set()  # objects this transfer already put into the target
    small = min(target.objects.inline_max, INLINE_MAX)
    for start in range(0, len(todo), batch):
        ids = todo[start : start + batch]
        snapshots = source._load(f"s.id IN ({', '.join('?' * len(ids))})", ids)
        staged: list[StagedObject] = []
        for snap in snapshots:
            for entry in snap.files.values():
                if entry.hash in sent:
                    continue
                sent.add(entry.hash)
                if entry.size < small:
                    data = source.objects.get_bytes(entry.hash, entry.size)
                    staged.append(target.objects.stage(data))
                elif not target.objects.has(entry.hash):
                    copy_object(source.objects, target.objects, entry.hash, entry.size)
        with target._write() as conn:
            target.objects.insert_staged(conn, staged)
            for snap in snapshots:
                text = _manifest(snap.files, snap.env, snap.meta)  # as verified by _load
                _insert_snapshot(conn, snap.id, snap.created, text, snap.files, snap.meta)
                for tag in snap.tags:
                    conn.execute(
                        "INSERT OR IGNORE INTO snapshot_tags (tag, snapshot_id, tagged)"
                        " VALUES (?, ?, ?)",
                        (tag, snap.id, snap.created),
                    )
    return TransferReport(len(have), todo)


__all__ = ["BATCH", "TransferReport", "copy_object", "transfer"]
