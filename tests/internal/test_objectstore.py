"""Tests for configlab._internal.objectstore: content addressing, verification, the index."""

from __future__ import annotations

import io
import os
import sqlite3
from pathlib import Path

import pytest
import zstandard

from configlab._internal.objectstore import (
    BLOB_SCHEMA,
    ObjectStore,
    _classify,
    hash_bytes,
    is_object_hash,
    open_index,
)
from configlab.errors import SnapshotCorruptedError, SnapshotError


def _writable(path: Path) -> Path:
    path.chmod(0o644)
    return path


def test_put_and_get_round_trip_and_dedup(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    data = b"db:\n  port: 5432\n" * 100
    first = store.put_bytes(data)
    second = store.put_bytes(data)
    assert first == second
    assert first.hash == hash_bytes(data) and first.size == len(data)
    assert store.get_bytes(first.hash, first.size) == data
    assert store.get_bytes(first.hash) == data
    path = store.path_for(first.hash)
    assert path == tmp_path / "objects" / first.hash[:2] / first.hash[2:]
    assert zstandard.ZstdDecompressor().decompress(path.read_bytes()) == data
    assert list(store.iter_hashes()) == [first.hash]
    assert oct(path.stat().st_mode & 0o777) == "0o444"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]


def test_empty_content_and_non_durable_store(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path, durable=False)
    stored = store.put_bytes(b"")
    assert store.get_bytes(stored.hash, 0) == b""
    assert store.has(stored.hash)


def test_put_stream_matches_put_bytes(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    data = os.urandom(3 * 1024 * 1024 + 17)
    streamed = store.put_stream(io.BytesIO(data), len(data))
    assert streamed.hash == hash_bytes(data) and streamed.size == len(data)
    assert store.get_bytes(streamed.hash, len(data)) == data
    again = store.put_stream(io.BytesIO(data), len(data), expected=streamed.hash)
    assert again == streamed
    assert not list((tmp_path / "objects" / ".incoming").iterdir())
    sink = io.BytesIO()
    assert store.copy_to(streamed.hash, sink, len(data)) == len(data)
    assert sink.getvalue() == data


def test_put_stream_threaded_for_large_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import configlab._internal.objectstore as objectstore

    monkeypatch.setattr(objectstore, "THREADED_MIN", 1024)
    store = ObjectStore(tmp_path)
    data = b"x" * 100_000
    stored = store.put_stream(io.BytesIO(data), len(data))
    assert store.get_bytes(stored.hash) == data


def test_put_stream_refuses_wrong_hash_or_size(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    data = b"hello world"
    with pytest.raises(SnapshotCorruptedError, match="expected"):
        store.put_stream(io.BytesIO(data), len(data), expected="0" * 64)
    with pytest.raises(SnapshotCorruptedError, match="declared 20 bytes"):
        store.put_stream(io.BytesIO(data), 20)
    assert list(store.iter_hashes()) == []
    assert not list((tmp_path / "objects" / ".incoming").iterdir())


def test_write_failures_are_snapshot_errors(tmp_path: Path) -> None:
    (tmp_path / "objects").write_text("not a directory")
    store = ObjectStore(tmp_path)
    with pytest.raises(SnapshotError, match="cannot write object"):
        store.put_bytes(b"a")
    with pytest.raises(SnapshotError, match="cannot write an object"):
        store.put_stream(io.BytesIO(b"a"), 1)
    assert list(store.iter_hashes()) == []


def test_malformed_hashes(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    assert not is_object_hash("abc")
    assert not is_object_hash("G" * 64)
    assert is_object_hash("a" * 64)
    with pytest.raises(SnapshotError, match="malformed object hash"):
        store.path_for("../../etc/passwd")


def test_missing_truncated_and_corrupted_objects(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    data = bytes(range(256)) * 400
    good = store.put_bytes(data)
    assert store.check(good.hash, good.size) == ("ok", "")

    missing = hash_bytes(b"never stored")
    with pytest.raises(SnapshotCorruptedError, match="missing"):
        store.get_bytes(missing)
    with pytest.raises(SnapshotCorruptedError, match="missing"):
        store.copy_to(missing, io.BytesIO())
    assert store.check(missing, 1)[0] == "missing"

    path = _writable(store.path_for(good.hash))
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(SnapshotCorruptedError, match="truncated"):
        store.get_bytes(good.hash, good.size)
    assert store.check(good.hash, good.size)[0] == "truncated"
    assert store.check(good.hash)[0] == "truncated"

    flipped = bytearray(raw)
    flipped[-3] ^= 0xFF
    path.write_bytes(bytes(flipped))
    with pytest.raises(SnapshotCorruptedError, match="corrupted"):
        store.get_bytes(good.hash, good.size)
    assert store.check(good.hash, good.size)[0] == "corrupted"

    path.write_bytes(b"garbage, not zstd")
    with pytest.raises(SnapshotCorruptedError, match="corrupted"):
        store.get_bytes(good.hash)
    with pytest.raises(SnapshotCorruptedError, match="corrupted"):
        store.copy_to(good.hash, io.BytesIO())
    assert store.check(good.hash)[0] == "corrupted"


def test_content_swapped_for_other_valid_content(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    a = store.put_bytes(b"a" * 50)
    b = store.put_bytes(b"b" * 50)
    _writable(store.path_for(a.hash)).write_bytes(store.path_for(b.hash).read_bytes())
    with pytest.raises(SnapshotCorruptedError, match="does not match its hash"):
        store.get_bytes(a.hash, a.size)
    with pytest.raises(SnapshotCorruptedError, match="does not match its hash"):
        store.copy_to(a.hash, io.BytesIO(), a.size)
    assert store.check(a.hash, a.size)[0] == "corrupted"
    # a frame of a different length: the size check catches it
    c = store.put_bytes(b"c" * 80)
    _writable(store.path_for(a.hash)).write_bytes(store.path_for(c.hash).read_bytes())
    with pytest.raises(SnapshotCorruptedError, match="80 bytes instead of 50"):
        store.get_bytes(a.hash, a.size)
    with pytest.raises(SnapshotCorruptedError, match="80 bytes instead of 50"):
        store.copy_to(a.hash, io.BytesIO(), a.size)


def test_unreadable_object_is_reported(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    stored = store.put_bytes(b"x")
    path = store.path_for(stored.hash)
    path.unlink()
    path.mkdir()
    with pytest.raises(SnapshotCorruptedError, match="is a directory, not a file"):
        store.get_bytes(stored.hash)
    assert store.check(stored.hash)[0] == "corrupted"
    path.rmdir()
    os.mkfifo(path)  # a FIFO planted in the store must not hang a reader (issue 18)
    assert store.check(stored.hash) == (
        "corrupted", f"object {stored.hash} is a FIFO (named pipe), not a file")
    path.unlink()
    path.symlink_to(path)  # a symlink loop: ELOOP
    with pytest.raises(SnapshotCorruptedError, match="cannot be read"):
        store.get_bytes(stored.hash)


def test_classify_tells_truncation_from_damage() -> None:
    frame = zstandard.ZstdCompressor().compress(os.urandom(5000))
    assert _classify(frame) == "corrupted"  # a whole frame that decodes: damage is elsewhere
    assert _classify(frame[:100]) == "truncated"
    assert _classify(b"\x00" * 20) == "corrupted"


def test_iter_hashes_skips_temporaries_and_strays(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    assert list(store.iter_hashes()) == []
    stored = store.put_bytes(b"content")
    sub = store.path_for(stored.hash).parent
    (sub / ".tmp-abc").write_bytes(b"partial")
    (tmp_path / "objects" / "README").write_text("stray file")
    (tmp_path / "objects" / "zz").mkdir()
    (tmp_path / "objects" / ".incoming").mkdir()
    assert list(store.iter_hashes()) == [stored.hash]


def test_open_index_sets_wal_and_is_shared(tmp_path: Path) -> None:
    conn = open_index(tmp_path / "store")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 60_000
    conn.execute("CREATE TABLE results (x INTEGER)")
    conn.execute("INSERT INTO results VALUES (1)")
    conn.close()
    again = open_index(tmp_path / "store")
    assert again.execute("SELECT x FROM results").fetchall() == [(1,)]
    assert again.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again.close()
    assert isinstance(again, sqlite3.Connection)


def test_open_index_errors_are_snapshot_errors(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(SnapshotError, match="cannot open the store index"):
        open_index(tmp_path / "file")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "index.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(SnapshotError, match="cannot open the store index"):
        open_index(tmp_path / "bad")


def test_directories_removed_behind_the_stores_back(tmp_path: Path) -> None:
    import shutil

    store = ObjectStore(tmp_path)
    first = store.put_bytes(b"one")
    shutil.rmtree(tmp_path / "objects")
    again = store.put_bytes(b"one")
    assert store.get_bytes(again.hash) == b"one" and again == first
    store.put_stream(io.BytesIO(b"two"), 3)
    shutil.rmtree(tmp_path / "objects" / hash_bytes(b"two")[:2])
    assert store.get_bytes(store.put_stream(io.BytesIO(b"two"), 3).hash) == b"two"


# -- inline objects (kept in the index) -------------------------------------------------------


def _indexed(tmp_path: Path, inline_max: int = 1024) -> tuple[ObjectStore, sqlite3.Connection]:
    conn = open_index(tmp_path)
    conn.execute(BLOB_SCHEMA)
    return ObjectStore(tmp_path, index=lambda: conn, inline_max=inline_max), conn


def test_small_objects_are_inline_and_large_ones_files(tmp_path: Path) -> None:
    store, conn = _indexed(tmp_path)
    small, large = b"s" * 1023, os.urandom(1024)
    a, b = store.put_bytes(small), store.put_bytes(large)
    assert store.put_bytes(small) == a  # stored once
    assert conn.execute("SELECT hash, size FROM object_blobs").fetchall() == [(a.hash, 1023)]
    assert not store.path_for(a.hash).exists() and store.path_for(b.hash).is_file()
    assert store.has(a.hash) and store.has(b.hash) and not store.has(hash_bytes(b"x"))
    assert list(store.iter_hashes()) == sorted([a.hash, b.hash])
    assert store.get_bytes(a.hash, 1023) == small and store.get_bytes(b.hash) == large
    assert store.get_inline(a.hash) == small and store.get_inline(b.hash) is None
    sink = io.BytesIO()
    assert store.copy_to(a.hash, sink, 1023) == 1023 and sink.getvalue() == small
    assert store.check(a.hash, 1023) == ("ok", "") and store.check(b.hash) == ("ok", "")
    staged = store.stage(b"t")
    assert staged.frame is not None and store.stage(large).frame is None
    ObjectStore.insert_staged(conn, [staged])
    assert store.get_bytes(staged.hash, 1) == b"t"
    streamed = store.put_stream(io.BytesIO(b"u" * 10), 10, expected=hash_bytes(b"u" * 10))
    assert store.get_inline(streamed.hash, 10) == b"u" * 10


def test_inline_objects_are_read_whatever_inline_max(tmp_path: Path) -> None:
    store, conn = _indexed(tmp_path)
    stored = store.put_bytes(b"small")
    files_only = ObjectStore(tmp_path, index=lambda: conn, inline_max=0)
    assert files_only.get_bytes(stored.hash, 5) == b"small"
    big = files_only.put_bytes(b"small too")
    assert files_only.path_for(big.hash).is_file() and store.get_bytes(big.hash) == b"small too"
    assert ObjectStore(tmp_path).inline_max == 0  # no index: every object is a file


def test_put_stream_inline_refuses_wrong_hash_or_size(tmp_path: Path) -> None:
    store, _conn = _indexed(tmp_path)
    with pytest.raises(SnapshotCorruptedError, match="expected"):
        store.put_stream(io.BytesIO(b"hello"), 5, expected="0" * 64)
    with pytest.raises(SnapshotCorruptedError, match=r"declared 20 bytes \(5 read\)"):
        store.put_stream(io.BytesIO(b"hello"), 20)
    with pytest.raises(SnapshotCorruptedError, match=r"declared 2 bytes \(5 read\)"):
        store.put_stream(io.BytesIO(b"hello"), 2)
    assert list(store.iter_hashes()) == []


def test_damaged_inline_objects(tmp_path: Path) -> None:
    store, conn = _indexed(tmp_path)
    data = bytes(range(256)) * 3
    good = store.put_bytes(data)
    other = store.put_bytes(b"q" * len(data))
    raw = conn.execute("SELECT data FROM object_blobs WHERE hash = ?", (good.hash,)).fetchone()[0]

    def put(frame: bytes) -> None:
        conn.execute("UPDATE object_blobs SET data = ? WHERE hash = ?", (frame, good.hash))

    put(raw[: len(raw) // 2])
    with pytest.raises(SnapshotCorruptedError, match=r"inline object .* is truncated"):
        store.get_bytes(good.hash, good.size)
    assert store.check(good.hash, good.size)[0] == "truncated"
    put(b"garbage, not zstd")
    with pytest.raises(SnapshotCorruptedError, match="corrupted"):
        store.copy_to(good.hash, io.BytesIO())
    assert store.check(good.hash)[0] == "corrupted"
    put(zstandard.ZstdCompressor().compress(b"q" * len(data)))  # other valid content
    with pytest.raises(SnapshotCorruptedError, match="does not match its hash"):
        store.get_inline(good.hash, good.size)
    assert store.check(good.hash, good.size)[0] == "corrupted"
    put(zstandard.ZstdCompressor().compress(b"short"))
    assert store.check(good.hash, good.size)[0] == "truncated"
    put(zstandard.ZstdCompressor().compress(data + b"more"))
    assert store.check(good.hash, good.size)[0] == "corrupted"
    conn.execute("DELETE FROM object_blobs WHERE hash = ?", (good.hash,))
    assert store.check(good.hash, good.size)[0] == "missing"
    assert store.get_bytes(other.hash) == b"q" * len(data)  # others unaffected


def test_index_failures_are_snapshot_errors(tmp_path: Path) -> None:
    store, conn = _indexed(tmp_path)
    conn.execute("DROP TABLE object_blobs")
    with pytest.raises(SnapshotError, match=r"cannot write object .* to the index"):
        store.put_bytes(b"x")
    assert not conn.in_transaction  # rolled back
    with pytest.raises(SnapshotError, match="cannot read the object index"):
        store.get_bytes(hash_bytes(b"x"))


@pytest.mark.parametrize("inline_max", [0, 1 << 20])
def test_get_bytes_deferred_verifies_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inline_max: int
) -> None:
    import configlab._internal.objectstore as objectstore

    store, conn = _indexed(tmp_path, inline_max)
    good, other = store.put_bytes(b"a" * 5000), store.put_bytes(b"b" * 5000)
    small = store.put_bytes(b"tiny")
    monkeypatch.setattr(objectstore, "PARALLEL_HASH_MIN", 1000)
    data, confirm = store.get_bytes_deferred(good.hash, 5000)
    assert data == b"a" * 5000
    confirm()
    data, confirm = store.get_bytes_deferred(small.hash)
    assert data == b"tiny"
    confirm()
    swapped = zstandard.ZstdCompressor().compress(b"b" * 5000)  # right size, other content
    if inline_max:
        conn.execute("UPDATE object_blobs SET data = ? WHERE hash = ?", (swapped, good.hash))
    else:
        _writable(store.path_for(good.hash)).write_bytes(swapped)
    data, confirm = store.get_bytes_deferred(good.hash, 5000)
    with pytest.raises(SnapshotCorruptedError, match="does not match its hash"):
        confirm()
    monkeypatch.setattr(objectstore, "PARALLEL_HASH_MIN", 1 << 30)
    with pytest.raises(SnapshotCorruptedError, match="does not match its hash"):
        store.get_bytes_deferred(good.hash, 5000)
    with pytest.raises(SnapshotCorruptedError, match="4 bytes instead of 5"):
        store.get_bytes_deferred(small.hash, 5)
    assert store.get_bytes_deferred(other.hash)[0] == b"b" * 5000


def test_inline_row_under_a_malformed_hash_is_refused(tmp_path: Path) -> None:
    store, conn = _indexed(tmp_path)
    frame = zstandard.ZstdCompressor().compress(b"x")
    conn.execute("INSERT INTO object_blobs VALUES ('../x', 1, ?)", (frame,))
    with pytest.raises(SnapshotError, match="malformed object hash"):
        store.get_bytes("../x")


def test_switch_to_wal_waits_for_a_connection_that_holds_the_database(tmp_path: Path) -> None:
    import threading

    from configlab._internal.objectstore import enable_wal

    path = tmp_path / "index.sqlite"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")  # what a concurrent first open does for a moment
    switcher = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        enable_wal(switcher, patience=0.1)  # held longer than its patience: the error stands
    releaser = threading.Timer(0.3, holder.execute, args=("COMMIT",))
    releaser.start()
    enable_wal(switcher)  # retried until the holder let go
    releaser.join()
    assert switcher.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert switcher.execute("PRAGMA busy_timeout").fetchone()[0] == 60_000
    holder.close()
    switcher.close()
