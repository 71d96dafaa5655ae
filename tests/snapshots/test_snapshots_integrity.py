"""Integrity of the snapshot store: corruption detection, crash atomicity, concurrent processes."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from configlab._internal.objectstore import INLINE_MAX
from configlab.errors import SnapshotCorruptedError, SnapshotError
from configlab.snapshots import Snapshot, SnapshotStore

#: Both storage paths: small objects inline in the index (default) and every object a file.
LAYOUTS = [pytest.param(INLINE_MAX, id="inline"), pytest.param(0, id="files")]


def is_inline(store: SnapshotStore, digest: str) -> bool:
    """Whether object ``digest`` is stored inline in the index."""
    row = store._conn().execute("SELECT 1 FROM object_blobs WHERE hash = ?", (digest,))
    return row.fetchone() is not None


def stored_frame(store: SnapshotStore, digest: str) -> bytes:
    """The stored (compressed) form of an object, wherever it is."""
    if is_inline(store, digest):
        row = store._conn().execute("SELECT data FROM object_blobs WHERE hash = ?", (digest,))
        return bytes(row.fetchone()[0])
    return store.objects.path_for(digest).read_bytes()


def replace_stored(store: SnapshotStore, digest: str, raw: bytes | None) -> None:
    """Overwrite (``raw``) or delete (None) the stored form of an object, wherever it is."""
    conn = store._conn()
    if is_inline(store, digest):
        if raw is None:
            conn.execute("DELETE FROM object_blobs WHERE hash = ?", (digest,))
        else:
            conn.execute("UPDATE object_blobs SET data = ? WHERE hash = ?", (raw, digest))
        return
    path = store.objects.path_for(digest)
    path.chmod(0o644)
    if raw is None:
        path.unlink()
    else:
        path.write_bytes(raw)


@pytest.fixture(params=LAYOUTS)
def filled(
    tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[SnapshotStore, Snapshot, Snapshot]:
    store = SnapshotStore(tmp_path / "store", inline_max=request.param)
    a = store.capture(
        files=[("app.yaml", b"a: 1\n" * 200), ("shared.json", b'{"s": 1}')],
        meta={"k": {"x": 1}},
        tags=["a"],
    )
    b = store.capture(files=[("app.yaml", b"a: 2\n" * 200), ("shared.json", b'{"s": 1}')])
    return store, a, b


def test_healthy_store_verifies(filled: tuple[SnapshotStore, Snapshot, Snapshot]) -> None:
    store = filled[0]
    report = store.verify()
    assert report.ok and report.snapshots_checked == 2 and report.objects_checked == 3
    assert report.corrupted_snapshots == ()
    assert report.to_text().endswith(": ok")
    assert report.to_dict()["ok"] is True


def test_flipped_byte_is_detected_on_read_and_by_verify(
    filled: tuple[SnapshotStore, Snapshot, Snapshot],
) -> None:
    store, a, b = filled
    digest = a.files["app.yaml"].hash
    assert is_inline(store, digest) == (store.objects.inline_max > 0)
    raw = bytearray(stored_frame(store, digest))
    raw[len(raw) // 2] ^= 0x55
    replace_stored(store, digest, bytes(raw))
    with pytest.raises(SnapshotCorruptedError, match=a.id):
        store.read_bytes(a, "app.yaml")
    with pytest.raises(SnapshotCorruptedError):
        store.read_tree(a, "app.yaml")
    assert store.read_bytes(b, "app.yaml") == b"a: 2\n" * 200  # others unaffected
    report = store.verify()
    assert not report.ok
    assert report.corrupted_snapshots == (a.id,)
    assert [(p.kind, p.name) for p in report.problems] in (
        [("corrupted", "app.yaml")],
        [("truncated", "app.yaml")],
    )
    assert "app.yaml" in report.to_text()


def test_truncated_and_missing_objects(filled: tuple[SnapshotStore, Snapshot, Snapshot]) -> None:
    store, a, b = filled
    digest = a.files["app.yaml"].hash
    replace_stored(store, digest, stored_frame(store, digest)[:10])
    replace_stored(store, b.files["shared.json"].hash, None)
    report = store.verify()
    kinds = sorted((p.kind, p.snapshot_id, p.name) for p in report.problems)
    assert kinds == sorted(
        [
            ("truncated", a.id, "app.yaml"),
            ("missing", a.id, "shared.json"),
            ("missing", b.id, "shared.json"),
        ]
    )
    assert report.corrupted_snapshots == tuple(sorted([a.id, b.id]))
    with pytest.raises(SnapshotCorruptedError, match="missing"):
        store.read_bytes(b, "shared.json")
    # saving the same content again repairs a missing object
    store.capture(files=[("x.json", b'{"s": 1}')])
    assert store.read_bytes(b, "shared.json") == b'{"s": 1}'


def _sql(store: SnapshotStore, statement: str, *params: Any) -> None:
    store._conn().execute(statement, params)


def test_broken_manifest_row(filled: tuple[SnapshotStore, Snapshot, Snapshot]) -> None:
    store, a, _b = filled
    _sql(
        store,
        "UPDATE snapshots SET manifest = replace(manifest, '\"x\":1', '\"x\":2') WHERE id = ?",
        a.id,
    )
    with pytest.raises(SnapshotCorruptedError, match="does not match its id"):
        store.get(a.id)
    with pytest.warns(RuntimeWarning, match="does not match its id"):
        assert store.list() == [_b]  # the damaged one is skipped, the others listed
    report = store.verify()
    assert [(p.kind, p.snapshot_id) for p in report.problems] == [("index", a.id)]


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            "DELETE FROM snapshot_files WHERE snapshot_id = :a AND name = 'app.yaml'",
            "file row missing",
        ),
        (
            "UPDATE snapshot_files SET size = size + 1"
            " WHERE snapshot_id = :a AND name = 'app.yaml'",
            "disagrees",
        ),
        (
            "UPDATE snapshot_files SET format = 'toml'"
            " WHERE snapshot_id = :a AND name = 'app.yaml'",
            "disagrees",
        ),
        (
            "INSERT INTO snapshot_files VALUES (:a, 'extra.json', :h, 1, 'json', NULL)",
            "not in the manifest",
        ),
        (
            "INSERT INTO snapshot_files VALUES (:z, 'extra.json', :h, 1, 'json', NULL)",
            "unknown snapshot",
        ),
        (
            "UPDATE snapshot_meta SET value = '2' WHERE snapshot_id = :a AND key = 'k.x'",
            "meta rows disagree",
        ),
        ("DELETE FROM snapshot_meta WHERE snapshot_id = :a", "meta rows disagree"),
        ("INSERT INTO snapshot_meta VALUES (:z, 'k', '1')", "meta rows of an unknown"),
        ("INSERT INTO snapshot_tags VALUES ('orphan', :z, '2020')", "unknown snapshot"),
    ],
)
def test_broken_index_rows_are_reported(
    filled: tuple[SnapshotStore, Snapshot, Snapshot], statement: str, expected: str
) -> None:
    store, a, _b = filled
    ghost = "f" * 64
    store._conn().execute(statement, {"a": a.id, "z": ghost, "h": a.files["app.yaml"].hash})
    report = store.verify()
    assert not report.ok
    assert len(report.problems) == 1
    problem = report.problems[0]
    assert expected in problem.detail and problem.kind == "index"
    assert problem.snapshot_id in (a.id, ghost)


def test_file_rows_of_a_snapshot_with_broken_manifest_are_not_double_reported(
    filled: tuple[SnapshotStore, Snapshot, Snapshot],
) -> None:
    store, a, _b = filled
    _sql(store, "UPDATE snapshots SET manifest = manifest || ' ' WHERE id = ?", a.id)
    _sql(store, "INSERT INTO snapshot_files VALUES (?, 'extra', ?, 1, NULL, NULL)", a.id, "0" * 64)
    report = store.verify()
    assert [p.kind for p in report.problems] == ["index"]


# -- crash atomicity --------------------------------------------------------------------------

_SAVER = textwrap.dedent(
    """
    import os, sys
    from configlab.snapshots import SnapshotStore
    store = SnapshotStore(sys.argv[1])
    big = os.urandom(1024) * 3000          # 3 MB, compressible, new content every round
    i = 0
    while True:
        store.capture(
            files=[("big.bin", big + str(i).encode()), ("small.json", b'{"i": %d}' % i)],
            meta={"i": i},
            check=False,
        )
        i += 1
        if i == 2:
            print("saving", flush=True)
    """
)


def test_process_killed_mid_save_leaves_whole_snapshots_only(tmp_path: Path) -> None:
    root = tmp_path / "store"
    script = tmp_path / "saver.py"
    script.write_text(_SAVER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for delay in (0.05, 0.13, 0.31):
        proc = subprocess.Popen(
            [sys.executable, str(script), str(root)], stdout=subprocess.PIPE, env=env
        )
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"saving\n"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        store = SnapshotStore(root)
        report = store.verify()
        assert report.ok, report.to_text()
        snaps = store.list()
        assert snaps, "the saver should have completed some snapshots"
        for snap in snaps:
            i = snap.meta["i"]
            assert store.read_bytes(snap, "small.json") == b'{"i": %d}' % i
            assert store.read_bytes(snap, "big.bin").endswith(str(i).encode())
        store.close()


# -- concurrency ------------------------------------------------------------------------------


def _worker(root: str, worker: int, queue: Any) -> None:
    try:
        store = SnapshotStore(root)
        ids = []
        for round_ in range(3):
            snap = store.capture(
                files=[
                    ("app.json", b'{"worker": %d, "round": %d}' % (worker, round_)),
                    ("shared.yaml", b"common: true\n"),
                ],
                meta={"worker": worker, "round": round_},
                tags=["concurrent"],
            )
            ids.append(snap.id)
            assert store.read_tree(snap, "app.json") == {"worker": worker, "round": round_}
        for other in store.find(tag="concurrent")[:5]:
            store.read_bytes(other, "app.json")  # must never see a half-written snapshot
        queue.put((worker, ids, None))
    except BaseException as error:  # reported to the parent
        queue.put((worker, [], repr(error)))


def test_hundred_processes_save_and_read_at_once(tmp_path: Path) -> None:
    root = str(tmp_path / "store")
    SnapshotStore(root).list()  # create the index once (as a first user would)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [context.Process(target=_worker, args=(root, n, queue)) for n in range(100)]
    for process in processes:
        process.start()
    results = [queue.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    errors = [r for r in results if r[2]]
    assert errors == []
    store = SnapshotStore(root)
    snaps = {s.id: s for s in store.list()}
    assert len(snaps) == 300
    assert {sid for _, ids, _ in results for sid in ids} == set(snaps)
    for snap in snaps.values():
        worker, round_ = snap.meta["worker"], snap.meta["round"]
        assert store.read_tree(snap, "app.json") == {"worker": worker, "round": round_}
    assert len(list(store.objects.iter_hashes())) == 301
    assert not (Path(root) / "objects").exists()  # every object was small: all inline
    assert store.verify().ok


@pytest.mark.parametrize("inline_max", [INLINE_MAX, 0])
def test_read_tree_checks_the_hash_computed_while_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inline_max: int
) -> None:
    import configlab._internal.objectstore as objectstore

    monkeypatch.setattr(objectstore, "PARALLEL_HASH_MIN", 10)
    store = SnapshotStore(tmp_path / "s", inline_max=inline_max)
    good = store.capture(files=[("a.json", b'{"a": 1}   ')])
    other = store.capture(files=[("a.json", b'{"a": 2}   ')])
    broken = store.capture(files=[("a.json", b'{"a": [}   ')])
    assert store.read_tree(good) == {"a": 1}
    digest = good.files["a.json"].hash
    replace_stored(store, digest, stored_frame(store, other.files["a.json"].hash))
    with pytest.raises(SnapshotCorruptedError, match=f"{good.id} file 'a.json'.*does not match"):
        store.read_tree(good)  # parses fine, but it is not the stored content
    replace_stored(store, digest, stored_frame(store, broken.files["a.json"].hash))
    with pytest.raises(SnapshotCorruptedError, match="does not match"):
        store.read_tree(good)  # damage wins over the parse error it causes
    assert store.get(good.id).files["a.json"].parse_error is None  # not recorded as a parse error
    replace_stored(store, digest, None)
    with pytest.raises(SnapshotCorruptedError, match=f"{good.id} file 'a.json'.*missing"):
        store.read_tree(good)


# -- damaged index rows and tables (audit fixes) -----------------------------------------------


def test_one_bad_manifest_row_does_not_hide_the_others(
    filled: tuple[SnapshotStore, Snapshot, Snapshot],
) -> None:
    store, a, b = filled
    _sql(store, "UPDATE snapshots SET manifest = '{bad' WHERE id = ?", a.id)
    skipped: list[tuple[str, str]] = []
    listed = store.list(on_corrupted=lambda sid, error: skipped.append((sid, str(error))))
    assert [s.id for s in listed] == [b.id]
    assert skipped == [(a.id, f"snapshot {a.id}: index manifest does not match its id")]
    with pytest.warns(RuntimeWarning, match=f"skipped damaged snapshot {a.id}"):
        assert [s.id for s in store.find()] == [b.id]
    with pytest.warns(RuntimeWarning):
        assert store.find(tag="a") == []
    with pytest.raises(SnapshotCorruptedError, match="does not match its id"):
        store.get(a.id)
    assert [(p.kind, p.snapshot_id) for p in store.verify().problems] == [("index", a.id)]


@pytest.mark.parametrize(
    "table", ["snapshots", "snapshot_files", "snapshot_tags", "snapshot_meta", "object_blobs"]
)
def test_a_dropped_table_is_damage_not_a_new_store(
    filled: tuple[SnapshotStore, Snapshot, Snapshot], table: str
) -> None:
    store, a, _b = filled
    root = store.root
    _sql(store, f"DROP TABLE {table}")
    store.close()
    reopened = SnapshotStore(root, inline_max=store.objects.inline_max)
    report = reopened.verify()
    assert not report.ok
    assert any(
        p.kind == "index" and p.snapshot_id is None and f"table {table} is missing" in p.detail
        for p in report.problems
    )
    if table == "object_blobs":
        with pytest.raises(SnapshotError, match="object_blobs"):
            reopened.read_bytes(a.id, "shared.json")
    else:
        with pytest.raises(SnapshotCorruptedError, match=f"{table}.* missing"):
            reopened.find(meta={"k": {"x": 1}})
    reopened.close()
    again = SnapshotStore(root)  # still not recreated behind the user's back
    assert not again.verify().ok
    again.close()


def test_a_store_from_before_inline_objects_is_upgraded(tmp_path: Path) -> None:
    import sqlite3

    store = SnapshotStore(tmp_path / "old", inline_max=0)
    snap = store.capture(files=[("a.json", b'{"a": 1}')], tags=["t"])
    store._conn().execute("DROP TABLE object_blobs")
    store._conn().execute("PRAGMA user_version = 0")
    store.close()
    reopened = SnapshotStore(tmp_path / "old")
    assert reopened.verify().ok
    assert reopened.get("t").id == snap.id
    reopened.close()
    with sqlite3.connect(tmp_path / "old" / "index.sqlite") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    # a whole set of tables dropped from a stamped store is not taken for a new store
    with sqlite3.connect(tmp_path / "old" / "index.sqlite") as conn:
        for table in ("snapshots", "snapshot_files", "snapshot_tags", "snapshot_meta"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DROP TABLE object_blobs")
    assert len(SnapshotStore(tmp_path / "old").verify().problems) == 5


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        ("yesterday", "is not an ISO 8601 timestamp"),
        (b"\x00", "is not a timestamp"),
        ("2024-01-02", "is not in the stored form"),
    ],
)
def test_created_must_be_a_timestamp(
    filled: tuple[SnapshotStore, Snapshot, Snapshot], created: object, expected: str
) -> None:
    store, a, _b = filled
    _sql(store, "UPDATE snapshots SET created = ? WHERE id = ?", created, a.id)
    report = store.verify()
    assert [(p.kind, p.snapshot_id) for p in report.problems] == [("index", a.id)]
    assert expected in report.problems[0].detail


def test_restore_of_a_damaged_object_names_snapshot_and_file(
    filled: tuple[SnapshotStore, Snapshot, Snapshot], tmp_path: Path
) -> None:
    store, a, _b = filled
    digest = a.files["app.yaml"].hash
    raw = bytearray(stored_frame(store, digest))
    raw[len(raw) // 2] ^= 0x55
    replace_stored(store, digest, bytes(raw))
    with pytest.raises(SnapshotCorruptedError) as caught:
        store.restore(a.id, tmp_path / "out")
    assert a.id in str(caught.value) and "'app.yaml'" in str(caught.value)
    assert not (tmp_path / "out" / "app.yaml").exists()


def test_an_index_that_cannot_be_set_up_is_a_snapshot_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import configlab.snapshots._store as snapshots

    def locked(conn: sqlite3.Connection) -> tuple[str, ...]:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(snapshots, "_ensure_schema", locked)
    with pytest.raises(SnapshotError, match="database is locked"):
        SnapshotStore(tmp_path / "st").list()
