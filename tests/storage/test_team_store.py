"""The team store: SnapshotStore and ResultStore on PostgreSQL + S3 (real servers), concurrent
writers, crashes, and moving snapshots between stores."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from configlab.errors import ResultsError, SnapshotCorruptedError, SnapshotError
from configlab.results import Result, ResultSet, ResultStore
from configlab.snapshots import SnapshotStore
from configlab.storage import StoreLocation, resolve
from configlab.storage.s3 import S3ObjectFiles, split_s3_url
from tests.team_workload import check_store, expected_ids, run_writers


def test_snapshot_store_on_postgres_and_s3(pg_url: str, s3_url: str, tmp_path: Path) -> None:
    store = SnapshotStore(pg_url, objects=s3_url)
    assert "objects on s3://" in repr(store)
    big = os.urandom(100_000)
    first = store.capture(files=[("app.yaml", b"port: 1\n"), ("blob.bin", big)],
                          meta={"labels": {"team": "qa"}}, tags=["nightly"])
    second = store.save_config({"port": 2}, "app.yaml", tags=["nightly"])
    again = store.capture(files=[("app.yaml", b"port: 1\n"), ("blob.bin", big)],
                          meta={"labels": {"team": "qa"}})
    assert again.id == first.id
    assert store.read_bytes(first, "blob.bin") == big
    assert store.read_tree(second) == {"port": 2}
    assert store.resolve("nightly") == second.id
    assert [s.id for s in store.find(meta={"labels.team": "qa"})] == [first.id]
    assert store.tag(first, "keep").tags == ("keep", "nightly")
    assert store.untag(first, "keep").tags == ("nightly",)
    assert sorted(p.name for p in store.restore(first, tmp_path / "out")) == ["app.yaml",
                                                                              "blob.bin"]
    assert store.diff(first.id, second.id, name="app.yaml").to_text()
    assert len(store.list()) == 2
    report = store.verify()
    assert report.ok and report.snapshots_checked == 2
    # the big file is an S3 object, the small ones are inline in PostgreSQL
    files = S3ObjectFiles(s3_url)
    assert sorted(files.hashes()) == [first.files["blob.bin"].hash]
    bucket, _ = split_s3_url(s3_url)
    import boto3

    boto3.client("s3").put_object(Bucket=bucket, Key=files.key(first.files["blob.bin"].hash),
                                  Body=b"garbage")
    report = store.verify()
    assert [(p.kind, p.snapshot_id, p.name) for p in report.problems] == [
        ("corrupted", first.id, "blob.bin")
    ]
    with pytest.raises(SnapshotCorruptedError):
        store.read_bytes(first, "blob.bin")
    files.delete(first.files["blob.bin"].hash)
    assert [p.kind for p in store.verify().problems] == ["missing"]
    store.close()


def test_bundles_move_between_local_and_team_store(pg_url: str, s3_url: str,
                                                  tmp_path: Path) -> None:
    local = SnapshotStore(tmp_path / "local")
    big = os.urandom(80_000)
    snap = local.capture(files=[("a.json", b'{"a": 1}'), ("b.bin", big)], tags=["ci"])
    bundle = local.export([snap], tmp_path / "x.bundle")
    team = SnapshotStore(pg_url, objects=s3_url)
    assert team.import_(bundle) == [snap.id]
    assert team.import_(bundle) == [snap.id]  # again: a no-op
    assert team.read_bytes(snap.id, "b.bin") == big and team.get("ci").id == snap.id
    back = team.export([snap.id], tmp_path / "back.bundle")
    other = SnapshotStore(tmp_path / "other")
    assert other.import_(back) == [snap.id] and other.verify().ok


def test_postgres_without_s3_keeps_every_object_inline(pg_url: str) -> None:
    store = SnapshotStore(pg_url)
    big = os.urandom(200_000)
    snap = store.capture(files=[("blob.bin", big)])
    assert store.objects.get_inline(snap.files["blob.bin"].hash) == big
    assert store.verify().ok


def test_result_store_on_postgres(pg_url: str) -> None:
    store = ResultStore(pg_url)
    results = [Result(config={"a": i}, outcome="pass" if i else "fail", run_id="r1",
                      duration=0.5, metrics={"mem": 1.0 * i}) for i in range(5)]
    assert store.record_many(results) == 5
    store.record(Result(config={"a": 9}, outcome="error", run_id="r2"))
    assert store.count() == 6
    assert store.load(run_id="r1") == ResultSet(results)
    assert len(ResultSet.from_store(pg_url)) == 6
    assert len(ResultSet.from_store(resolve(pg_url, environ={}))) == 6
    assert len(ResultSet.from_store(SnapshotStore(pg_url))) == 6
    assert "postgresql://" in repr(store)
    store.close()


def test_unreachable_team_store_is_a_clear_error(pg_server: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", "nope")
    url = f"postgresql://configlab:secret@127.0.0.1:{pg_server.port}/configlab"
    with pytest.raises(SnapshotError, match="cannot open the store index") as caught:
        SnapshotStore(url).list()
    assert "secret" not in str(caught.value)
    with pytest.raises(ResultsError, match="results store") as caught:
        ResultStore(url).count()
    assert "secret" not in str(caught.value)
    with pytest.raises(ResultsError, match="expected postgresql://"):
        ResultStore("postgresql:/nope")


def test_concurrent_writers_on_the_team_store(pg_url: str, s3_url: str, s3_server: Any,
                                              tmp_path: Path) -> None:
    location = StoreLocation(pg_url, s3_url)
    env = {**s3_server.env(), "PGPASSWORD": os.environ["PGPASSWORD"]}
    run = run_writers(location, 6, 15, tmp_path, env=env)
    figures = check_store(location, run, 6, 15)
    assert figures["snapshots"] == expected_ids(6, 15)
    assert figures["results"] == 6 * 15


def test_killed_writers_leave_no_partial_snapshot(pg_url: str, s3_url: str, s3_server: Any,
                                                  tmp_path: Path) -> None:
    location = StoreLocation(pg_url, s3_url)
    env = {**s3_server.env(), "PGPASSWORD": os.environ["PGPASSWORD"]}
    run = run_writers(location, 6, 20, tmp_path, kill=2, env=env)
    assert len(run.killed) == 2
    assert all(len(run.acked[w]) < 20 for w in run.killed)
    check_store(location, run, 6, 20)
