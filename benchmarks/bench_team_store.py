"""Team store benchmark: ``.venv/bin/python benchmarks/bench_team_store.py`` (one command).

Starts a real PostgreSQL (Debian's server, as the ``postgres`` user) and a moto S3 server on
127.0.0.1, then measures in one run:

1. 50 concurrent writer processes x 100 snapshots + 100 results each on PostgreSQL + S3
   (20 % identical configs, every tenth snapshot with a 100 KB object on S3): write phase time
   (target < 60 s; process start-up not counted), 0 lost, snapshot count == distinct configs,
   every object re-hashed by ``verify``, no dangling reference;
2. the same with 3 writers SIGKILLed mid-run: no partial snapshot, no dangling reference, the
   store opens and verifies;
3. the same writer load on the local store (SQLite + object files) as the baseline: the team /
   local ratio is printed, for the write phase and for single-process store operations
   (save, get, list, verify).

The fourth acceptance item (8 shards of a suite writing into one team store cover every config
exactly once) runs in the test suite: ``tests/storage/test_team_store_integrations.py``.
``--quick`` runs 10 writers x 20 (a smoke run).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.team_servers import (
    PG_PASSWORD,
    pg_create_database,
    team_servers,
)
from tests.team_workload import check_store, expected_ids, run_writers

from configlab.snapshots import SnapshotStore
from configlab.storage import StoreLocation


def _bucket(name: str) -> str:
    import boto3

    boto3.client("s3").create_bucket(Bucket=name)
    return f"s3://{name}/team"


def _ops(location: StoreLocation, rounds: int) -> dict[str, float]:
    """Median seconds of single-process store operations."""
    store = SnapshotStore(location, durable=False)
    big = os.urandom(100_000)
    times: dict[str, list[float]] = {"save": [], "save 100 KB": [], "get": [], "read": []}
    ids = []
    for index in range(rounds):
        began = time.perf_counter()
        snap = store.save_config({"op": index, "port": 8000 + index}, "app.yaml")
        times["save"].append(time.perf_counter() - began)
        began = time.perf_counter()
        store.capture(files=[("blob.bin", big + index.to_bytes(4, "big"))], check=False)
        times["save 100 KB"].append(time.perf_counter() - began)
        ids.append(snap.id)
    for sid in ids:
        began = time.perf_counter()
        store.get(sid)
        times["get"].append(time.perf_counter() - began)
        began = time.perf_counter()
        store.read_tree(sid)
        times["read"].append(time.perf_counter() - began)
    figures = {name: statistics.median(values) for name, values in times.items()}
    began = time.perf_counter()
    store.list()
    figures["list"] = time.perf_counter() - began
    began = time.perf_counter()
    assert store.verify().ok
    figures["verify"] = time.perf_counter() - began
    store.close()
    return figures


def _timed(label: str, action: Callable[[], Any]) -> Any:
    began = time.perf_counter()
    result = action()
    print(f"  {label}: {time.perf_counter() - began:.2f} s", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 writers x 20 (smoke run)")
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--count", type=int, default=100)
    options = parser.parse_args()
    writers, count = (10, 20) if options.quick else (options.writers, options.count)
    work = Path(tempfile.mkdtemp(prefix="bench-team-"))
    failures = []
    try:
        with team_servers() as (pg, s3):
            os.environ["PGPASSWORD"] = PG_PASSWORD
            os.environ.update(s3.env())
            env = {**s3.env(), "PGPASSWORD": PG_PASSWORD}
            print(f"PostgreSQL on 127.0.0.1:{pg.port}, moto S3 on {s3.endpoint}")

            print(f"\n1. {writers} writers x {count} snapshots + {count} results, PG + S3")
            team = StoreLocation(pg_create_database(pg, "bench_full"), _bucket("bench-full"))
            (work / "full").mkdir()
            run = run_writers(team, writers, count, work / "full", env=env)
            figures = _timed("check (list, results, verify re-hashing every object)",
                             lambda: check_store(team, run, writers, count))
            print(f"  write phase: {run.seconds:.2f} s ({2 * writers * count / run.seconds:.0f}"
                  f" writes/s); snapshots {figures['snapshots']} == distinct configs"
                  f" {expected_ids(writers, count)}; objects re-hashed {figures['objects']};"
                  f" results {figures['results']}; 0 lost; no dangling reference")
            if run.seconds >= 60:
                failures.append(f"write phase {run.seconds:.1f} s >= 60 s")

            print("\n2. the same with 3 writers SIGKILLed mid-run, PG + S3")
            killed = StoreLocation(pg_create_database(pg, "bench_kill"), _bucket("bench-kill"))
            (work / "kill").mkdir()
            run_k = run_writers(killed, writers, count, work / "kill", kill=3, env=env)
            figures_k = check_store(killed, run_k, writers, count)
            print(f"  killed writers {list(run_k.killed)} after "
                  f"{[len(run_k.acked[w]) for w in run_k.killed]} acknowledged saves;"
                  f" store opens and verifies: {figures_k['snapshots']} snapshots,"
                  f" {figures_k['objects']} objects, no partial snapshot, no dangling reference")

            print("\n3. baseline: the same load on a local store (SQLite + object files)")
            local = StoreLocation(str(work / "local-store"))
            (work / "local").mkdir()
            run_l = run_writers(local, writers, count, work / "local")
            check_store(local, run_l, writers, count)
            print(f"  write phase: local {run_l.seconds:.2f} s, team {run.seconds:.2f} s"
                  f" -> team/local ratio {run.seconds / run_l.seconds:.2f}")
            rounds = 20 if options.quick else 100
            team_ops = _ops(StoreLocation(pg_create_database(pg, "bench_ops"),
                                          _bucket("bench-ops")), rounds)
            local_ops = _ops(StoreLocation(str(work / "ops-store")), rounds)
            print(f"  single-process operations ({rounds} each, median ms; list/verify total):")
            for name in team_ops:
                ratio = team_ops[name] / local_ops[name]
                print(f"    {name:12s} local {local_ops[name] * 1000:8.2f}  team"
                      f" {team_ops[name] * 1000:8.2f}  ratio {ratio:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
