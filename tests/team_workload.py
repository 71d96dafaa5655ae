"""Concurrent writers into one store, and the checks run afterwards (tests and benchmark).

Each writer process saves ``count`` snapshots and ``count`` results.  Every fifth config is the
same for all writers (20 % identical configs, deduplicated by content), every tenth snapshot
also carries a 100 KB file (stored as an object file, on S3 for a team store).  A writer
appends the id of every snapshot it saved to its *ack file* after the store returned, so that
after a crash "0 lost" means: every acknowledged snapshot and result is in the store.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configlab.results import Result, ResultStore
from configlab.snapshots import SnapshotStore
from configlab.storage import StoreLocation

BIG = 100_000


def config_for(writer: int, index: int) -> dict[str, Any]:
    """The config a writer saves at ``index`` (shared by all writers when index % 5 == 0)."""
    owner = "shared" if index % 5 == 0 else f"w{writer}"
    return {"server": {"port": 8000 + index, "owner": owner}, "db": {"pool": index % 7}}


def big_file(writer: int, index: int) -> bytes | None:
    """The 100 KB file of every tenth snapshot (deterministic, incompressible)."""
    if index % 10 != 3:
        return None
    return random.Random(f"{writer}/{index}").randbytes(BIG)


def expected_ids(writers: int, count: int) -> int:
    """How many distinct configs ``writers`` x ``count`` saves produce."""
    shared = len([i for i in range(count) if i % 5 == 0])
    return shared + writers * (count - shared)


def _writer(
    location: StoreLocation, writer: int, count: int, ack: str, ready: Any, start: Any,
    env: dict[str, str], hold: Any = None,
) -> None:
    os.environ.update(env)
    snapshots = SnapshotStore(location, durable=False)
    results = ResultStore(location)
    snapshots.find(tag="warm-up")  # connect (process start-up, not part of the write phase)
    results.count()
    ready.release()
    with open(ack, "a", encoding="utf-8") as acks:
        start.wait()
        for index in range(count):
            if hold is not None and index == count - 1:
                # a victim never finishes: it waits here until it is killed, so the kill always
                # lands mid-run however the two cores are shared (a timing-based kill did not)
                hold.wait()
            config = config_for(writer, index)
            big = big_file(writer, index)
            if big is None:
                snap = snapshots.save_config(config, "app.yaml")
            else:
                from configlab import formats

                snap = snapshots.capture(
                    files=[("app.yaml", formats.dumps(config, "yaml")), ("blob.bin", big)],
                    check=False,
                )
            results.record(Result(config=config, outcome="pass" if index % 3 else "fail",
                                  snapshot_id=snap.id, run_id=f"w{writer}",
                                  test_id=f"t{index}", duration=0.001 * index))
            acks.write(f"{snap.id}\n")
            acks.flush()


@dataclass
class WriteRun:
    """What a concurrent write run did."""

    seconds: float  # write phase (from the start signal until every writer ended)
    acked: dict[int, list[str]]  # writer -> snapshot ids acknowledged, in order
    killed: tuple[int, ...]


def run_writers(
    location: StoreLocation,
    writers: int,
    count: int,
    workdir: Path,
    *,
    kill: int = 0,
    env: dict[str, str] | None = None,
    timeout: float = 600.0,
) -> WriteRun:
    """Run ``writers`` processes of ``count`` saves each; SIGKILL ``kill`` of them mid-run."""
    context = multiprocessing.get_context("fork")
    start = context.Event()
    ready = context.Semaphore(0)
    acks = [workdir / f"ack-{w}.txt" for w in range(writers)]
    victims = list(range(1, writers, max(1, writers // kill)))[:kill] if kill else []
    never = context.Event()  # victims wait on it before their last save; it is never set
    processes = []
    for writer in range(writers):
        process = context.Process(
            target=_writer,
            args=(location, writer, count, str(acks[writer]), ready, start, dict(env or {}),
                  never if writer in victims else None),
        )
        process.start()
        processes.append(process)
    for _ in processes:  # every process imported and connected before the clock starts
        while not ready.acquire(timeout=1):
            if not all(p.is_alive() for p in processes):
                raise RuntimeError("a writer died before the start")
    began = time.perf_counter()
    start.set()
    if kill:
        deadline = time.monotonic() + timeout
        for victim in victims:  # kill each once it is well into its run
            while _lines(acks[victim]) < max(2, count // 3) and time.monotonic() < deadline:
                time.sleep(0.005)
            pid = processes[victim].pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
    for process in processes:
        process.join(timeout)
        if process.is_alive():
            process.kill()
            raise RuntimeError("a writer did not finish in time")
    seconds = time.perf_counter() - began
    for number, process in enumerate(processes):
        if number not in victims and process.exitcode != 0:
            raise RuntimeError(f"writer {number} failed with exit code {process.exitcode}")
    acked = {w: acks[w].read_text().split() if acks[w].exists() else [] for w in range(writers)}
    return WriteRun(seconds, acked, tuple(victims))


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def check_store(location: StoreLocation, run: WriteRun, writers: int, count: int) -> dict[str, Any]:
    """Check a store after :func:`run_writers`; returns figures, raises AssertionError."""
    store = SnapshotStore(location)
    results = ResultStore(location)
    stored = {s.id for s in store.list()}
    acked = {sid for ids in run.acked.values() for sid in ids}
    lost = acked - stored
    assert not lost, f"{len(lost)} acknowledged snapshot(s) lost"
    if not run.killed:
        assert len(stored) == expected_ids(writers, count) == len(acked), (
            len(stored), expected_ids(writers, count), len(acked))
    loaded = results.load()
    per_run: dict[str, int] = {}
    for result in loaded:
        per_run[result.run_id or ""] = per_run.get(result.run_id or "", 0) + 1
        assert result.snapshot_id in stored, f"result names unknown snapshot {result.snapshot_id}"
    for writer, ids in run.acked.items():
        have = per_run.get(f"w{writer}", 0)
        if writer in run.killed:  # killed between a result and its ack at most
            assert len(ids) <= have <= len(ids) + 1, (writer, len(ids), have)
        else:
            assert have == len(ids) == count, (writer, have, len(ids))
    report = store.verify()
    assert report.ok, report.to_text()
    store.close()
    results.close()
    return {"snapshots": len(stored), "objects": report.objects_checked, "results": len(loaded)}


def paused_writer(location: StoreLocation, data: bytes, pause: str, reached: Any, go: Any,
                  env: dict[str, str]) -> None:
    """Save one snapshot holding ``data``, stopping at ``pause`` until ``go`` is set.

    ``pause`` is where: ``"record"`` (object stored or found, snapshot row not written yet: the
    moment garbage collection must not take the object away) or ``"lease"`` (before the
    writer leases the object).  Run in its own process: a real concurrent writer, whose pause
    lets a test put a sweep exactly into that window.
    """
    from configlab._internal.objectstore import ObjectStore

    os.environ.update(env)
    owner: Any = SnapshotStore if pause == "record" else ObjectStore
    name = "_record" if pause == "record" else "lease"
    original = getattr(owner, name)

    def paused(self: Any, *args: Any, **kwargs: Any) -> Any:
        reached.set()
        go.wait(120)
        return original(self, *args, **kwargs)

    setattr(owner, name, paused)
    SnapshotStore(location).capture(files=[("blob.bin", data)], check=False)
