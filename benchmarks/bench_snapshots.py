"""Snapshot store benchmark: one command, ``.venv/bin/python benchmarks/bench_snapshots.py``.

Measures, in one run:

* a 100 MB JSON config: save, get as bytes, get parsed, restore, diff against a copy with 10
  changed keys -- next to the baseline ``git hash-object -w`` / ``git cat-file -p`` on the same
  file in a temporary git repository (ratios printed);
* 5 KB configs: save + get round trips per second in one process;
* 200 concurrent writer processes: throughput, then a check that every snapshot is intact.

``--quick`` uses a 10 MB config, fewer round trips and 50 writers (a smoke run).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from configlab.snapshots import Snapshot, SnapshotStore
from configlab.treediff import diff


def timed(action: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Median wall time of ``repeat`` runs, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def big_config(target_bytes: int) -> dict[str, Any]:
    """A deterministic service-catalogue config of about ``target_bytes`` as indented JSON."""
    services: dict[str, Any] = {}
    i = 0
    size = 0
    while size < target_bytes:
        entry = {
            "image": f"registry.example.com/team-{i % 97}/service-{i}:1.{i % 13}.{i % 7}",
            "replicas": i % 9 + 1,
            "enabled": i % 3 != 0,
            "port": 8000 + i % 1000,
            "ratio": round((i % 100) / 7, 4),
            "env": {"LOG_LEVEL": ["debug", "info", "warn"][i % 3], "REGION": f"eu-{i % 4}"},
            "hosts": [f"h{i}-{k}.internal" for k in range(3)],
        }
        services[f"svc{i:07d}"] = entry
        size += 330  # approximate size of one entry as indented JSON
        i += 1
    return {"version": 1, "services": services}


def git_baseline(path: Path, work: Path) -> tuple[float, float]:
    repo = work / "gitrepo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    hash_time, out = timed(
        lambda: subprocess.run(
            ["git", "-C", str(repo), "hash-object", "-w", str(path)],
            check=True,
            capture_output=True,
        )
    )
    sha = out.stdout.decode().strip()
    cat_time, _ = timed(
        lambda: subprocess.run(
            ["git", "-C", str(repo), "cat-file", "-p", sha], check=True, capture_output=True
        ),
        repeat=3,
    )
    return hash_time, cat_time


def time_pure_diff(store: SnapshotStore, a: Snapshot, b: Snapshot) -> float:
    """Time treediff.diff alone on the two parsed trees."""
    left, right = store.read_tree(a), store.read_tree(b)
    elapsed, _ = timed(lambda: diff(left, right))
    return elapsed


def bench_large(work: Path, megabytes: int) -> list[str]:
    lines: list[str] = []
    tree = big_config(megabytes * 1024 * 1024)
    text = json.dumps(tree, indent=2)
    path = work / "big.json"
    path.write_text(text)
    size_mb = path.stat().st_size / 1e6
    changed = json.loads(text)
    for n, key in enumerate(
        list(changed["services"])[:: max(1, len(changed["services"]) // 10)][:10]
    ):
        changed["services"][key]["replicas"] = 100 + n
    copy = work / "big-changed.json"
    copy.write_text(json.dumps(changed, indent=2))
    del changed

    store = SnapshotStore(work / "store")
    save_time, snap = timed(lambda: store.capture(files=[path], check=False))
    save_check_time, _ = timed(lambda: store.capture(files=[path], check=True, tags=["checked"]))
    bytes_time, data = timed(lambda: store.read_bytes(snap), repeat=3)
    assert data == path.read_bytes()
    parsed_time, parsed = timed(lambda: store.read_tree(snap))
    assert parsed == tree
    del parsed, data
    restore_time, _ = timed(lambda: store.restore(snap, work / "restored"), repeat=3)
    assert (work / "restored" / "big.json").read_bytes() == path.read_bytes()
    other = store.capture(files=[("big.json", copy)], check=False)
    diff_time, result = timed(lambda: store.diff(snap, other))
    assert len(result) == 10, result.to_text()
    pure_diff_time = time_pure_diff(store, snap, other)
    git_hash, git_cat = git_baseline(path, work)

    lines.append(f"### {size_mb:.0f} MB JSON config")
    lines.append("")
    lines.append("| operation | configlab | git baseline | ratio | target |")
    lines.append("|---|---|---|---|---|")
    lines.append(
        f"| save (capture, check=False) | {save_time:.3f} s | hash-object -w {git_hash:.3f} s "
        f"| {save_time / git_hash:.2f}x | - |"
    )
    lines.append(
        f"| save with parse check (check=True, default) | {save_check_time:.3f} s | | | - |"
    )
    lines.append(
        f"| get raw bytes (read_bytes, hash verified) | {bytes_time:.3f} s "
        f"| cat-file -p {git_cat:.3f} s | {bytes_time / git_cat:.2f}x | <= 0.25 s, <= 2x git |"
    )
    lines.append(
        f"| get parsed (read_tree) | {parsed_time:.3f} s | | {parsed_time / git_cat:.2f}x "
        "| <= 1 s (required < 1 s for retrieval) |"
    )
    lines.append(
        f"| restore (verified, atomic) | {restore_time:.3f} s | "
        f"| {restore_time / git_cat:.2f}x | - |"
    )
    lines.append(
        f"| diff vs copy with 10 changed keys (incl. 2 parses) | {diff_time:.3f} s | | | - |"
    )
    lines.append(f"| treediff.diff on the two parsed trees | {pure_diff_time:.3f} s | | | - |")
    return lines


def bench_small(work: Path, count: int) -> list[str]:
    lines = ["### 5 KB configs, one process", ""]
    payload = json.dumps({f"key{k}": {"value": k, "name": f"n{k}" * 3} for k in range(150)})
    for durable in (True, False):
        store = SnapshotStore(work / f"small-{durable}", durable=durable)
        store.list()
        start = time.perf_counter()
        for i in range(count):
            data = (payload[:-1] + f', "i": {i}}}').encode()
            snap = store.capture(files=[("c.json", data)])
            assert store.read_bytes(snap) == data
        elapsed = time.perf_counter() - start
        rate = count / elapsed
        label = (
            "durable=True (default; small objects inline in the index)"
            if durable
            else "durable=False"
        )
        lines.append(
            f"- save+get round trips, {label}: {rate:,.0f}/s ({count} distinct configs of "
            f"{len(payload)} bytes; target >= 2,000/s)"
        )
    return lines


def _writer(root: str, worker: int, per_worker: int) -> None:
    store = SnapshotStore(root)
    for n in range(per_worker):
        data = json.dumps({"worker": worker, "n": n, "pad": "x" * 5000}).encode()
        store.capture(files=[("c.json", data)], meta={"worker": worker, "n": n}, check=False)


def bench_concurrent(work: Path, writers: int, per_worker: int) -> list[str]:
    root = str(work / "concurrent")
    SnapshotStore(root).list()
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(target=_writer, args=(root, w, per_worker)) for w in range(writers)
    ]
    start = time.perf_counter()
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    elapsed = time.perf_counter() - start
    failed = sum(1 for p in processes if p.exitcode != 0)
    store = SnapshotStore(root)
    snaps = store.list()
    intact = 0
    for snap in snaps:
        data = json.loads(store.read_bytes(snap))
        if (data["worker"], data["n"]) == (snap.meta["worker"], snap.meta["n"]):
            intact += 1
    report = store.verify()
    expected = writers * per_worker
    ok = failed == 0 and intact == expected == len(snaps) and report.ok
    return [
        f"### {writers} concurrent writer processes",
        "",
        f"- {expected} snapshots of 5 KB in {elapsed:.2f} s (incl. process start-up): "
        f"{expected / elapsed:,.0f} snapshots/s",
        f"- failed processes: {failed}; snapshots found {len(snaps)}/{expected}; intact "
        f"{intact}; verify ok: {report.ok} -> {'PASS' if ok else 'FAIL'}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument(
        "--megabytes", type=int, default=None, help="size target of the large config (MiB)"
    )
    args = parser.parse_args()
    megabytes, count, writers = (10, 300, 50) if args.quick else (100, 2000, 200)
    if args.megabytes is not None:
        megabytes = args.megabytes
    work = Path(tempfile.mkdtemp(prefix="bench-snapshots-"))
    try:
        sections = [
            bench_large(work, megabytes),
            bench_small(work, count),
            bench_concurrent(work, writers, 5),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n\n".join("\n".join(section) for section in sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
