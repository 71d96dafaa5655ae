"""The team store from the command line and the operations built on it: store URLs in every
snapshot command, ``store push|pull``, ``store gc``, ``results compact`` (real servers)."""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from configlab.cli import cli
from configlab.errors import SnapshotError
from configlab.results import Result, ResultSet, ResultStore
from configlab.results._sync import copy_results
from configlab.snapshots import SnapshotStore
from configlab.snapshots._gc import collect_garbage
from configlab.snapshots._sync import transfer
from configlab.storage import StoreLocation
from configlab.storage.s3 import S3ObjectFiles


def run(*args: str, code: int = 0) -> str:
    """Invoke the CLI in-process; the command must close every store connection it opened
    (one left to the garbage collector warns later, inside another command's output)."""
    gc.collect()  # what the test itself dropped is not the command's
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    leaked = [str(w.message) for w in caught if "still open" in str(w.message)]
    assert not leaked, (args, leaked)
    assert result.exit_code == code, result.output
    return result.output


def test_snapshot_commands_take_store_urls(pg_url: str, s3_url: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("app.yaml").write_text("db:\n  port: 1\n")
    Path("big.bin").write_bytes(os.urandom(90_000))
    team = ["--store", pg_url, "--objects", s3_url]
    sid = run("snapshot", "capture", "app.yaml", "big.bin", "--tag", "ci", *team).strip()
    assert len(sid) == 64
    monkeypatch.setenv("CONFIGLAB_STORE", pg_url)  # the variables name the store instead
    monkeypatch.setenv("CONFIGLAB_OBJECTS", s3_url)
    assert sid[:12] in run("snapshot", "list")
    assert "ok" in run("snapshot", "verify").lower()
    assert "configlab store gc" in run("snapshot", "gc", code=2)
    run("snapshot", "restore", "ci", str(tmp_path / "out"))
    assert (tmp_path / "out" / "big.bin").read_bytes() == Path("big.bin").read_bytes()
    monkeypatch.setenv("PGPASSWORD", "wrong")
    output = run("snapshot", "list", code=2)
    assert output.startswith("configlab: error:") and "password" in output
    assert len(output.strip().splitlines()) == 1


def test_store_push_and_pull(pg_url: str, s3_url: str, tmp_path: Path) -> None:
    local = tmp_path / "local"
    store = SnapshotStore(local)
    first = store.save_config({"a": 1}, "app.yaml", tags=["nightly"])
    store.capture(files=[("big.bin", os.urandom(70_000))])
    results = ResultStore(local)
    results.record_many([Result(config={"a": 1}, outcome="pass", run_id="r1",
                                snapshot_id=first.id)] * 2
                        + [Result(config={"a": 2}, outcome="fail")])
    pushed = json.loads(run("store", "push", pg_url, "--remote-objects", s3_url,
                            "--store", str(local), "--json"))
    assert len(pushed["copied"]) == 2 and pushed["results"] == 3
    again = run("store", "push", pg_url, "--remote-objects", s3_url, "--store", str(local))
    assert again.startswith("copied 0 of 2 snapshot(s) and 0 result(s)")
    store.tag(first, "release")  # a new tag travels with the next push
    assert "copied 1 of 2" in run("store", "push", pg_url, "--remote-objects", s3_url,
                                  "--store", str(local))
    team = SnapshotStore(pg_url, objects=s3_url)
    assert team.get("release").id == first.id and team.verify().ok
    assert ResultStore(pg_url).count() == 3
    other = tmp_path / "other"
    assert "copied 2 of 2 snapshot(s) and 3 result(s)" in run(
        "store", "pull", pg_url, "--remote-objects", s3_url, "--store", str(other))
    assert SnapshotStore(other).verify().ok
    assert ResultSet.from_store(other) == ResultSet.from_store(local)


def test_transfer_and_copy_are_idempotent(tmp_path: Path) -> None:
    a, b = SnapshotStore(tmp_path / "a"), SnapshotStore(tmp_path / "b")
    a.save_config({"x": 1}, "x.yaml")
    assert transfer(a, b).copied and transfer(a, b).copied == ()
    source, target = ResultStore(tmp_path / "a"), ResultStore(tmp_path / "b")
    source.record_many([Result(config={"x": 1}, outcome="pass")] * 3)
    target.record(Result(config={"x": 1}, outcome="pass"))
    assert copy_results(source, target) == 2 and copy_results(source, target) == 0
    assert target.count() == 3


def test_copy_results_goes_run_by_run(tmp_path: Path) -> None:
    """Results are compared and copied one run at a time (memory bounded by the largest run);
    results without a run id form a run of their own, two identical runs stay two."""
    source, target = ResultStore(tmp_path / "a"), ResultStore(tmp_path / "b")
    same = Result(config={"x": 1}, outcome="pass", run_id="r2")
    source.record_many([Result(config={"x": 1}, outcome="fail"), same, same,
                        Result(config={"x": 2}, outcome="pass", run_id="r1")])
    target.record_many([same, Result(config={"x": 1}, outcome="fail", run_id="r1")])
    assert source.run_ids() == [None, "r2", "r1"]  # in order of their first result
    assert [r.outcome for r in source.load_run(None)] == ["fail"]
    loaded: list[str | None] = []
    original = ResultStore.load_run

    def spy(store: ResultStore, run_id: str | None) -> ResultSet:
        loaded.append(run_id)
        return original(store, run_id)

    ResultStore.load_run = spy  # type: ignore[method-assign]
    try:
        assert copy_results(source, target) == 3
    finally:
        ResultStore.load_run = original  # type: ignore[method-assign]
    assert loaded == [None, None, "r2", "r2", "r1", "r1"]  # target, then source, per run
    assert sorted((r.run_id or "", r.outcome, r.config["x"]) for r in target.load()) == [
        ("", "fail", 1), ("r1", "fail", 1), ("r1", "pass", 2), ("r2", "pass", 1),
        ("r2", "pass", 1)]
    assert copy_results(source, target) == 0


def test_gc_finds_and_deletes_unreferenced_objects(pg_url: str, s3_url: str) -> None:
    store = SnapshotStore(pg_url, objects=s3_url)
    kept = store.capture(files=[("big.bin", os.urandom(80_000)), ("a.yaml", b"a: 1\n")])
    orphan_file = store.objects.put_bytes(os.urandom(90_000))  # a killed writer's leftovers
    orphan_inline = store.objects.put_bytes(b"small leftover")
    report = collect_garbage(store)
    assert report.dry_run and report.deleted == ()
    assert sorted(report.unreferenced) == sorted([orphan_file.hash, orphan_inline.hash])
    assert report.young == (orphan_file.hash,)  # within the grace period
    assert "would delete 1, kept 1" in report.to_text() and "--delete" in report.to_text()
    deleted = collect_garbage(store, dry_run=False, grace=60, now=time.time() + 120)
    assert sorted(deleted.deleted) == sorted([orphan_file.hash, orphan_inline.hash])
    assert "deleted 2" in deleted.to_text() and deleted.to_dict()["dry_run"] is False
    assert not store.objects.has(orphan_file.hash) and not store.objects.has(orphan_inline.hash)
    assert store.verify().ok and store.read_bytes(kept, "a.yaml") == b"a: 1\n"
    assert sorted(S3ObjectFiles(s3_url).hashes()) == [kept.files["big.bin"].hash]
    with pytest.raises(SnapshotError, match="grace"):
        collect_garbage(store, grace=-1)


def test_gc_keeps_an_object_named_meanwhile(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "s", inline_max=10)
    data = b"content of a snapshot being recorded right now"
    orphan = store.objects.put_bytes(data)  # stored, its snapshot not recorded yet

    class Racing:
        """The store, with a writer recording the snapshot just before the sweep deletes."""

        def __init__(self, inner: SnapshotStore) -> None:
            self.inner = inner
            self.objects = inner.objects
            self.raced = False

        def _db(self) -> Any:
            return self.inner._db()

        def _write(self) -> Any:
            if not self.raced:
                self.raced = True
                self.inner.capture(files=[("f.txt", data)])
            return self.inner._write()

    report = collect_garbage(Racing(store), dry_run=False, grace=0)  # type: ignore[arg-type]
    assert report.unreferenced == (orphan.hash,) and report.deleted == ()
    assert store.verify().ok and store.read_bytes(store.list()[0]) == data


def test_store_gc_command(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "s")
    store.save_config({"a": 1}, "a.yaml")
    orphan = store.objects.put_bytes(os.urandom(70_000))
    listed = json.loads(run("store", "gc", "--store", str(tmp_path / "s"), "--json"))
    assert listed["unreferenced"] == [orphan.hash] and listed["young"] == [orphan.hash]
    text = run("store", "gc", "--delete", "--grace", "0", "--store", str(tmp_path / "s"))
    assert "deleted 1" in text and not store.objects.has(orphan.hash)


def test_results_compact_to_local_and_s3(pg_url: str, s3_url: str, tmp_path: Path) -> None:
    import pyarrow.dataset as ds

    store = ResultStore(pg_url)
    store.record_many(
        [Result(config={"db": {"pool": i}, "tls": i % 2 == 0}, outcome="pass" if i else "fail",
                run_id=f"run{i % 3}", duration=0.1 * i, metrics={"mem": 1.0})
         for i in range(30)]
        + [Result(config={"db": {"pool": 99}}, outcome="skip")]
    )
    out = tmp_path / "parquet"
    report = json.loads(run("results", "compact", "--store", pg_url, "--out", str(out),
                            "--json"))
    assert report["rows"] == 31
    assert report["partitions"] == ["__HIVE_DEFAULT_PARTITION__", "run0", "run1", "run2"]
    assert sorted(p.name for p in out.iterdir()) == [
        "run_id=__HIVE_DEFAULT_PARTITION__", "run_id=run0", "run_id=run1", "run_id=run2"]
    table = ds.dataset(out, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 31
    assert sorted(table.column("db.pool").to_pylist()) == [*range(30), 99]
    first = (out / "run_id=run0" / "part-0.parquet").read_bytes()
    run("results", "compact", "--store", pg_url, "--out", str(out))  # again: same files
    assert (out / "run_id=run0" / "part-0.parquet").read_bytes() == first
    text = run("results", "compact", "--store", pg_url, "--out", s3_url + "/results")
    assert "wrote 31 result(s)" in text and "4 partition(s)" in text
    import s3fs

    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": os.environ["AWS_ENDPOINT_URL_S3"]})
    bucket = s3_url[len("s3://"):].split("/")[0]
    found = fs.find(f"{bucket}/team/results")
    assert len(found) == 4 and all(path.endswith("part-0.parquet") for path in found)
    output = run("results", "compact", "--store", pg_url, "--out", str(out),
                 "--partition-by", "nope", code=2)
    assert "cannot partition by 'nope'" in output


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """Every (name, command) of the CLI, lazy commands and subcommands included."""
    import click

    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))
        else:
            yield " ".join((*prefix, name)), command


def test_every_command_naming_a_store_takes_objects() -> None:
    from configlab.cli import _store_options

    named = {name: {opt for p in command.params for opt in p.opts}
             for name, command in _commands(cli)}
    with_store = sorted(name for name, opts in named.items() if "--store" in opts)
    assert {"run", "report", "ingest", "analyze", "spec verify", "spec show", "exec",
            "snapshot capture", "store push", "results compact"} <= set(with_store)
    assert [name for name in with_store if "--objects" not in named[name]] == []
    for name, command in _commands(cli):  # one shared option, not copies
        for param in command.params:
            if "--objects" in param.opts:
                assert param.help == _store_options.OBJECTS_HELP, name


def _big_spec(tmp_path: Path) -> Path:
    """The demo spec as a JSON file over the inline threshold (so it goes to S3)."""
    data = Path(__file__).parent.parent / "data" / "specs"
    (tmp_path / "space.yaml").write_bytes((data / "space.yaml").read_bytes())
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({
        "name": "demo-app", "version": 1, "space": "space.yaml", "description": "x" * 70_000,
        "rules": [{"id": "small-cache-ok",
                   "when": "cache.enabled == true and cache.size <= 32 and fault == 'none'",
                   "expect": [{"exit_code": 0}]}],
    }))
    return spec


def test_store_commands_put_large_objects_on_s3(pg_url: str, s3_url: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """run, ingest, report, analyze, spec verify and spec show on PostgreSQL + S3."""

    monkeypatch.chdir(tmp_path)
    team = ["--store", pg_url, "--objects", s3_url]
    on_s3 = S3ObjectFiles(s3_url)
    big = {"db": {"pool": 4}, "blob": "x" * 100_000}  # over the inline threshold
    Path("big.json").write_text(json.dumps(big))
    run("run", *team, "--config", "big.json", "--snapshot", "--test-id", "t::run", "--",
        sys.executable, "-c", "pass")
    store = SnapshotStore(pg_url, objects=s3_url)
    (snap,) = store.list()
    assert sorted(on_s3.hashes()) == [snap.files["big.json"].hash]
    (recorded,) = ResultStore(pg_url).load()
    assert recorded.snapshot_id == snap.id and recorded.config == big
    # ingest resolves a report's snapshot link through the store's S3 objects
    Path("junit.xml").write_text(
        '<testsuite name="s" tests="1"><testcase classname="t" name="linked" time="0.5">'
        f'<properties><property name="configlab.snapshot_id" value="{snap.id}"/>'
        '</properties><failure message="boom"/></testcase></testsuite>'
    )
    text = run("ingest", "junit.xml", *team, "--record")
    assert "1 linked to a config" in text
    results = ResultStore(pg_url).load()
    assert [r.outcome for r in results] == ["pass", "fail"]
    assert results[1].config == big
    # without --objects the same link cannot be resolved: the option is what reached S3
    monkeypatch.delenv("CONFIGLAB_OBJECTS", raising=False)
    assert "error" in run("ingest", "junit.xml", "--store", pg_url, code=2)
    monkeypatch.setenv("CONFIGLAB_OBJECTS", s3_url)  # and the variable does the same
    assert "1 linked to a config" in run("ingest", "junit.xml", "--store", pg_url)
    monkeypatch.delenv("CONFIGLAB_OBJECTS")
    run("report", "--results", "junit.xml", *team, "--to", "jsonl", "-o", "out.jsonl")
    exported = ResultSet.from_jsonl("out.jsonl")
    assert [r.config for r in exported] == [big]
    # spec verify keeps configs and the spec (its big source file on S3) in the team store
    spec = _big_spec(tmp_path)
    app = f"{sys.executable} {Path(__file__).parent.parent / 'data' / 'specs' / 'app.py'}"
    out = run("spec", "verify", str(spec), "--run", app + " {config}", "--max-per-rule", "1",
              "--no-progress", *team)
    assert "OK: demo-app@1" in out
    shown = json.loads(run("spec", "show", "spec:demo-app@1", *team))
    assert shown["name"] == "demo-app"
    spec_hash = store.get("spec:demo-app@1").files["source/spec.json"].hash
    assert spec_hash in set(on_s3.hashes())
    assert store.verify().ok
    # analyze reads the team store's results (the spec's checks; the big config left out:
    # analysing a 100 KB string value is slow, not the store's business)
    text = run("analyze", "--results", pg_url, *team, "--test-id", "spec:*", "--json", "-")
    assert json.loads(text)["summary"]["n_rows"] == 1


def test_gc_keeps_an_object_leased_after_the_first_look(tmp_path: Path) -> None:
    """A writer leases an old orphan after the sweep listed the leases but before it decides
    on that object: the decision, taken under the write lock, sees the lease and keeps it."""
    store = SnapshotStore(tmp_path / "s")
    orphan = store.objects.put_bytes(os.urandom(100_000))
    _age(store, orphan.hash, 7200)

    class Leasing:
        """The store, with a writer leasing the orphan just before the sweep's decision."""

        def __init__(self, inner: SnapshotStore) -> None:
            self.inner = inner
            self.objects = inner.objects

        def _db(self) -> Any:
            return self.inner._db()

        def _write(self) -> Any:
            self.objects.lease(orphan.hash)
            return self.inner._write()

    report = collect_garbage(Leasing(store), dry_run=False, grace=3600)  # type: ignore[arg-type]
    assert report.deleted == () and report.young == (orphan.hash,)
    assert store.objects.has(orphan.hash)


def _age(store: SnapshotStore, digest: str, seconds: float) -> None:
    """Make object ``digest`` (a local file) and its lease look ``seconds`` old."""
    path = store.objects.path_for(digest)
    then = time.time() - seconds
    os.utime(path, (then, then))
    with store._write() as conn:
        conn.execute("UPDATE object_leases SET taken = taken - ?", (seconds,))


def _sweep_while_paused(location: StoreLocation, data: bytes, pause: str, grace: float,
                        env: dict[str, str] | None = None) -> Any:
    """A writer process saving ``data`` stops at ``pause``; a sweep runs; the writer goes on."""
    import multiprocessing

    from tests.team_workload import paused_writer

    context = multiprocessing.get_context("fork")
    reached, go = context.Event(), context.Event()
    writer = context.Process(target=paused_writer,
                             args=(location, data, pause, reached, go, env or {}))
    writer.start()
    try:
        assert reached.wait(120), "the writer did not reach its pause"
        report = collect_garbage(SnapshotStore(location), dry_run=False, grace=grace)
    finally:
        go.set()
        writer.join(120)
    assert writer.exitcode == 0
    return report


def test_gc_beside_a_writer_reusing_an_old_object(tmp_path: Path) -> None:
    """The documented race, made safe: a writer found an old unreferenced object (so did not
    write it again) and is about to record its snapshot when the sweep runs."""
    store = SnapshotStore(tmp_path / "s")
    data = os.urandom(100_000)
    orphan = store.objects.put_bytes(data)  # a killed writer's leftover, two hours old
    _age(store, orphan.hash, 7200)
    assert collect_garbage(store).unreferenced == (orphan.hash,)  # due for deletion
    report = _sweep_while_paused(store.location, data, "record", grace=3600)
    assert report.deleted == () and report.young == (orphan.hash,)  # the writer's lease
    assert store.verify().ok and store.read_bytes(store.list()[0]) == data
    # the other order: the sweep deletes the object first, the writer then stores it again
    other = SnapshotStore(tmp_path / "t")
    orphan = other.objects.put_bytes(data)
    _age(other, orphan.hash, 7200)
    report = _sweep_while_paused(other.location, data, "lease", grace=3600)
    assert report.deleted == (orphan.hash,)
    assert other.verify().ok and other.read_bytes(other.list()[0]) == data
    # expired leases are removed by the sweep
    with other._db() as conn:
        assert conn.execute("SELECT count(*) FROM object_leases").fetchone()[0] == 1
    collect_garbage(other, dry_run=False, grace=60, now=time.time() + 120)
    with other._db() as conn:
        assert conn.execute("SELECT count(*) FROM object_leases").fetchone()[0] == 0


def test_gc_beside_a_writer_on_the_team_store(pg_url: str, s3_url: str, s3_server: Any) -> None:
    """The same race on PostgreSQL + S3, where the writer's conditional write finds the object
    (412) and the sweep decides under the exclusive advisory lock."""
    location = StoreLocation(pg_url, s3_url)
    store = SnapshotStore(location)
    data = os.urandom(100_000)
    orphan = store.objects.put_bytes(data)
    with store._write() as conn:  # the leftover's own lease is long expired
        conn.execute("UPDATE object_leases SET taken = taken - 7200")
    time.sleep(3.5)  # S3 keeps its own clock: the object is now older than a 3 s grace
    env = {**s3_server.env(), "PGPASSWORD": os.environ["PGPASSWORD"]}
    report = _sweep_while_paused(location, data, "record", grace=3, env=env)
    assert report.deleted == () and report.young == (orphan.hash,)
    assert store.verify().ok and store.read_bytes(store.list()[0]) == data


def test_leases_on_a_damaged_or_lease_free_index(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "s")
    store.objects.put_bytes(b"small and inline")  # no object file, so no lease table yet
    report = collect_garbage(store, dry_run=False, grace=0)
    assert len(report.deleted) == 1
    with store._db() as conn:  # a lease table of the wrong shape is reported, not ignored
        conn.execute("CREATE TABLE object_leases (other TEXT)")
    with pytest.raises(SnapshotError, match=r"cannot lease object .* object_leases"):
        store.objects.put_bytes(os.urandom(70_000))


def test_transfer_streams_objects_in_batches(tmp_path: Path) -> None:
    from configlab.errors import SnapshotCorruptedError

    source = SnapshotStore(tmp_path / "a", inline_max=1_000_000)  # big content inline here
    big, other = os.urandom(200_000), os.urandom(150_000)
    first = source.capture(files=[("big.bin", big), ("a.yaml", b"a: 1\n")])
    second = source.capture(files=[("big.bin", big), ("b.yaml", b"b: 2\n")], tags=["t"])
    third = source.capture(files=[("other.bin", other)])
    target = SnapshotStore(tmp_path / "b")
    target.objects.put_bytes(other)  # already there: not sent again
    report = transfer(source, target, batch=2)
    assert report.copied == tuple(sorted([first.id, second.id, third.id]))
    assert target.verify().ok and target.get("t").id == second.id
    assert target.objects.path_for(first.files["big.bin"].hash).is_file()  # a file there
    assert target.read_bytes(third) == other
    # a damaged source object stops the transfer before the rows naming it are written
    damaged = SnapshotStore(tmp_path / "c")
    snap = damaged.capture(files=[("x.bin", os.urandom(90_000))])
    path = damaged.objects.path_for(snap.files["x.bin"].hash)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[:-10])
    fresh = SnapshotStore(tmp_path / "d")
    with pytest.raises(SnapshotCorruptedError):
        transfer(damaged, fresh)
    assert fresh.list() == [] and fresh.verify().ok


_PEAK = """
import json, resource, subprocess, sys
code = subprocess.run(json.loads(sys.argv[1])).returncode
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
"""


def _peak_mib(argv: list[str]) -> int:
    """Peak resident memory (MiB) of ``argv`` run in its own process (which must succeed)."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", _PEAK, json.dumps(argv)], env=env,
                         capture_output=True, text=True, check=True).stdout.splitlines()[-1].split()
    assert out[0] == "0", out
    return int(out[1])


def test_store_push_memory_stays_bounded(tmp_path: Path) -> None:
    """Pushing 40 MB of objects costs a bounded amount of memory over the bare imports."""
    source = SnapshotStore(tmp_path / "src", durable=False)
    for index in range(300):
        source.save_config({"port": index}, "app.yaml")
    for index in range(8):  # 8 x 5 MB, incompressible
        source.capture(files=[(f"blob{index}.bin", os.urandom(5 * 1024 * 1024))], check=False)
    python = [sys.executable, "-c"]
    bare = _peak_mib([*python, "import configlab.cli.store_cmd, configlab.snapshots,"
                      " configlab.results, configlab.results._sync"])
    pushed = _peak_mib([*python, "from configlab.cli import main; main()", "store", "push",
                        str(tmp_path / "dst"), "--store", str(tmp_path / "src")])
    assert SnapshotStore(tmp_path / "dst").verify().snapshots_checked == 308
    # one 5 MB object held whole would already be +5 MiB per copy; generous: +40 MiB
    assert pushed - bare < 40, (bare, pushed)


def test_verify_streams_objects_on_s3(pg_url: str, s3_url: str) -> None:
    """``verify`` re-hashes a 24 MB object on S3 without holding it (or its frame) whole."""
    import tracemalloc

    store = SnapshotStore(pg_url, objects=s3_url)
    snap = store.capture(files=[("big.bin", os.urandom(24 * 1024 * 1024))], check=False)
    tracemalloc.start()
    try:
        report = store.verify()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok and report.objects_checked == 1
    assert peak < 8 * 1024 * 1024, peak  # a whole copy would be 24 MB
    assert snap.files["big.bin"].hash in set(S3ObjectFiles(s3_url).hashes())
