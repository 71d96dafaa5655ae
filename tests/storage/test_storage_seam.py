"""The storage seam on real servers: object files on S3 (moto) and the index on PostgreSQL."""

from __future__ import annotations

import io
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import zstandard

from configlab._internal.objectstore import BLOB_SCHEMA, ObjectStore, hash_bytes, open_index
from configlab.errors import SnapshotCorruptedError, SnapshotError
from configlab.storage import StoreLocation, resolve
from configlab.storage.postgres import PgIndexConnection, redact
from configlab.storage.s3 import S3ObjectFiles, split_s3_url


def _client() -> Any:
    import boto3

    return boto3.client("s3")


def test_s3_objects_round_trip(s3_url: str) -> None:
    files = S3ObjectFiles(s3_url)
    store = ObjectStore("unused", files=files)
    big = os.urandom(100_000)
    stored = store.put_bytes(big)
    assert store.put_bytes(big) == stored  # content addressing: stored once
    assert store.get_bytes(stored.hash, stored.size) == big
    assert store.has(stored.hash) and not store.has("0" * 64)
    streamed = store.put_stream(io.BytesIO(b"y" * 300_000), 300_000)
    again = store.put_stream(io.BytesIO(b"y" * 300_000), 300_000, expected=streamed.hash)
    assert again == streamed
    assert list(store.iter_hashes()) == sorted([stored.hash, streamed.hash])
    sink = io.BytesIO()
    assert store.copy_to(streamed.hash, sink, streamed.size) == 300_000
    assert sink.getvalue() == b"y" * 300_000
    assert store.check(stored.hash, stored.size) == ("ok", "")
    bucket, prefix = split_s3_url(s3_url)
    key = f"{prefix}/objects/{stored.hash[:2]}/{stored.hash[2:]}"
    assert files.key(stored.hash) == key
    frame = _client().get_object(Bucket=bucket, Key=key)["Body"].read()
    assert zstandard.ZstdDecompressor().decompress(frame) == big
    store.delete(streamed.hash)
    assert store.check(streamed.hash)[0] == "missing"
    with pytest.raises(SnapshotCorruptedError, match="is missing"):
        store.get_bytes(streamed.hash)
    with pytest.raises(SnapshotError, match="not local files"):
        store.path_for(stored.hash)
    with pytest.raises(SnapshotError, match="malformed object hash"):
        files.key("../etc")
    with pytest.raises(SnapshotCorruptedError, match="expected"):
        store.put_stream(io.BytesIO(b"z" * 200_000), 200_000, expected="0" * 64)


def test_s3_write_is_conditional_and_damage_is_found(s3_url: str) -> None:
    files = S3ObjectFiles(s3_url)
    store = ObjectStore("unused", files=files)
    content = os.urandom(100_000)
    stored = store.put_bytes(content)
    other = zstandard.ZstdCompressor().compress(b"b" * 100_000)
    files.put(stored.hash, other)  # If-None-Match: the existing object is kept
    assert store.get_bytes(stored.hash) == content
    bucket, _ = split_s3_url(s3_url)
    _client().put_object(Bucket=bucket, Key=files.key(stored.hash), Body=other)  # damage it
    assert store.check(stored.hash, stored.size)[0] == "corrupted"
    frame = zstandard.ZstdCompressor().compress(content)
    _client().put_object(Bucket=bucket, Key=files.key(stored.hash), Body=frame[:5000])
    assert store.check(stored.hash, stored.size)[0] == "truncated"
    # keys that are not objects are ignored when listing
    _client().put_object(Bucket=bucket, Key=files.key(stored.hash)[:-3] + "/x", Body=b"")
    _client().put_object(Bucket=bucket, Key=f"{files.location.split('/', 3)[3]}README", Body=b"")
    assert list(store.iter_hashes()) == [stored.hash]


def test_unreachable_s3_gives_clear_errors(tmp_path: Path) -> None:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3", endpoint_url="http://127.0.0.1:9", aws_access_key_id="x",
        aws_secret_access_key="x", region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2),
    )
    files = S3ObjectFiles("s3://team/prefix", client=client)
    store = ObjectStore(tmp_path, files=files)
    digest = "a" * 64
    with pytest.raises(SnapshotError, match="cannot reach object"):
        store.has(digest)
    with pytest.raises(SnapshotError, match="cannot list the objects"):
        list(store.iter_hashes())
    with pytest.raises(SnapshotError, match="cannot delete object"):
        store.delete(digest)
    with pytest.raises(SnapshotError, match="cannot reach object"):
        store.modified(digest)
    with pytest.raises(SnapshotCorruptedError, match="cannot be read"):
        store.get_bytes(digest)
    with pytest.raises(SnapshotCorruptedError, match="cannot be read"):
        store.copy_to(digest, io.BytesIO())


def test_s3_write_failures_are_snapshot_errors(s3_server: Any, monkeypatch: Any) -> None:
    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    store = ObjectStore("unused", files=S3ObjectFiles("s3://no-such-bucket-here/x"))
    with pytest.raises(SnapshotError, match="cannot write object"):
        store.put_bytes(b"q" * 100_000)
    with pytest.raises(SnapshotError, match="cannot write object"):
        store.put_stream(io.BytesIO(b"r" * 100_000), 100_000)


def test_local_delete_removes_inline_and_file_copies(tmp_path: Path) -> None:
    conn = open_index(tmp_path)
    conn.execute(BLOB_SCHEMA)
    store = ObjectStore(tmp_path, index=lambda: conn, inline_max=1000)
    small, big = store.put_bytes(b"small"), store.put_bytes(b"b" * 5000)
    store.delete(small.hash)
    store.delete(big.hash)
    store.delete(big.hash)  # already gone: no error
    assert not store.has(small.hash) and not store.has(big.hash)
    conn.close()
    with pytest.raises(SnapshotError, match="cannot delete object"):
        store.delete(small.hash)
    with pytest.raises(SnapshotError, match="malformed object hash"):
        store.delete("nope")


def test_local_spool_failure_leaves_nothing(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    stored = store.put_stream(io.BytesIO(b"s" * 2000), 2000)
    incoming = tmp_path / "objects" / ".incoming"
    (tmp_path / "objects" / stored.hash[:2]).chmod(0o500)  # publishing cannot rename into it
    try:
        other = b"t" * 2000
        digest = hash_bytes(other)
        (tmp_path / "objects" / digest[:2]).mkdir(exist_ok=True)
        (tmp_path / "objects" / digest[:2]).chmod(0o500)
        if os.geteuid() == 0:  # root ignores directory permissions: break the path instead
            (tmp_path / "objects" / digest[:2]).chmod(0o700)
            (tmp_path / "objects" / digest[:2]).rmdir()
            (tmp_path / "objects" / digest[:2]).write_text("not a directory")
        with pytest.raises(SnapshotError, match="cannot write object"):
            store.put_stream(io.BytesIO(other), 2000)
    finally:
        (tmp_path / "objects" / stored.hash[:2]).chmod(0o700)
    assert list(incoming.iterdir()) == []


# -- the PostgreSQL index ---------------------------------------------------------------------


def test_postgres_index_speaks_the_index_sql(pg_url: str) -> None:
    conn = PgIndexConnection(pg_url)
    conn.execute("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v INTEGER, w REAL, b BLOB)")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY AUTOINCREMENT, x TEXT)"
    )
    assert conn.execute("PRAGMA user_version").fetchone() == (0,)
    conn.execute("PRAGMA user_version = 4")
    assert conn.execute("PRAGMA user_version").fetchone() == (4,)
    assert conn.execute("PRAGMA journal_mode = WAL").fetchall() == []
    conn.execute("BEGIN IMMEDIATE")
    insert = conn.execute("INSERT OR IGNORE INTO kv (k, v, w, b) VALUES (?, ?, ?, ?)",
                          ("a", 2**40, 0.5, b"\x00\x01"))
    assert insert.rowcount == 1
    assert conn.execute("INSERT OR IGNORE INTO kv (k, v) VALUES (?, ?)", ("a", 1)).rowcount == 0
    conn.execute("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", ("a", 7))
    conn.execute("INSERT OR REPLACE INTO kv (k) VALUES (?)", ("b",))
    conn.executemany("INSERT INTO log (x) VALUES (?)", [("100%",), ("?",)])
    assert conn.executemany("INSERT INTO log (x) VALUES (?)", []).rowcount == 0
    conn.execute("COMMIT")
    assert conn.execute("SELECT k, v, w, b FROM kv WHERE 1 ORDER BY k").fetchall() == [
        ("a", 7, 0.5, b"\x00\x01"), ("b", None, None, None)
    ]
    assert [row for row in conn.execute("SELECT x FROM log WHERE x LIKE '%' ORDER BY id")] == [
        ("100%",), ("?",)
    ]
    tables = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?, ?)",
        ("kv", "log", "missing"),
    ).fetchall()
    assert sorted(tables) == [("kv",), ("log",)]
    conn.execute("BEGIN")
    row = conn.execute("SELECT count(*) FROM kv").fetchone()
    assert row == (2,) and conn.execute("SELECT 1 WHERE 1 = 0").fetchone() is None
    conn.execute("ROLLBACK")
    with pytest.raises(sqlite3.IntegrityError, match="duplicate key"):
        conn.execute("INSERT INTO kv (k) VALUES (?)", ("a",))
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT nope FROM kv")
    with pytest.raises(sqlite3.OperationalError, match="no primary key"):
        conn.execute("CREATE TABLE IF NOT EXISTS nokey (x TEXT)")
        conn.execute("INSERT OR REPLACE INTO nokey (x) VALUES (?)", ("x",))
    with pytest.raises(sqlite3.DatabaseError):
        conn.executemany("INSERT INTO kv (k, v) VALUES (?, ?)", [("z", "not a number")])
    conn.close()


def test_postgres_password_is_never_shown(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", "wrong-password")
    location = resolve(pg_url)
    with pytest.raises(SnapshotError) as caught:
        location.connect()
    assert "password authentication failed" in str(caught.value)
    secret_url = pg_url.replace("configlab@", "configlab:hunter2@") + "?password=hunter3"
    with pytest.raises(SnapshotError) as caught:
        resolve(secret_url).connect()
    assert "hunter" not in str(caught.value) and "***" in str(caught.value)
    assert "hunter" not in str(resolve(secret_url)) + resolve(secret_url).index_display


def test_redact_and_resolve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert redact("postgresql://u:pw@h:5432/db?sslmode=require&password=x") == (
        "postgresql://u:***@h:5432/db?sslmode=require&password=***"
    )
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
    assert redact("postgresql:///db?service=team") == "postgresql:///db?service=team"
    monkeypatch.delenv("CONFIGLAB_STORE", raising=False)
    monkeypatch.delenv("CONFIGLAB_OBJECTS", raising=False)
    assert resolve() == StoreLocation(".configlab")
    assert resolve(default=tmp_path).root == tmp_path
    monkeypatch.setenv("CONFIGLAB_STORE", "postgresql://u@h/db")
    monkeypatch.setenv("CONFIGLAB_OBJECTS", "s3://bucket/team")
    location = resolve()
    assert location == StoreLocation("postgresql://u@h/db", "s3://bucket/team")
    assert location.is_postgres and location.root == Path(".")
    assert str(location) == "postgresql://u@h/db (objects on s3://bucket/team)"
    assert location.inline_max(10) == 10
    assert resolve(location) is location
    assert resolve(location, "s3://other/x").objects == "s3://other/x"
    assert resolve("postgresql://u@h/db", objects=None).inline_max(10) == 10
    monkeypatch.delenv("CONFIGLAB_OBJECTS")
    assert resolve("postgresql://u@h/db").inline_max(10) > 1 << 40  # all inline without S3
    assert resolve(tmp_path).index_display == str(tmp_path / "index.sqlite")
    assert isinstance(resolve(tmp_path, "s3://b").object_files(), S3ObjectFiles)
    with pytest.raises(SnapshotError, match="expected postgresql://"):
        resolve("postgresql:/h/db")
    with pytest.raises(SnapshotError, match="not an S3 URL"):
        resolve(tmp_path, "/local/objects")
    with pytest.raises(SnapshotError, match="names no bucket"):
        resolve(tmp_path, "s3:///x")
