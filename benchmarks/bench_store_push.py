"""``configlab store push`` memory benchmark: ``.venv/bin/python benchmarks/bench_store_push.py``.

Builds a local store of 2,000 small snapshots plus 10 snapshots holding a 5 MB incompressible
object each (50 MB of content), then copies it into an empty store three ways, each in its own
process, and prints the peak resident memory (``ru_maxrss`` of that process) and wall time:

1. baseline: a process that only imports the CLI's store command (interpreter + libraries);
2. before: the previous ``store push`` (every snapshot exported into one temporary bundle file,
   then imported);
3. after: ``configlab store push`` (store to store, streamed in batches).

The ratio printed is after / before for the peak memory above the baseline, and for the wall
time.  (Local to local: the team store's S3 side spools each large object through a local
temporary file as before, so its memory follows the same pattern.)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from configlab.snapshots import SnapshotStore  # noqa: E402

#: Prints the peak RSS (KiB) of a child running the given Python code or command.
_MEASURE = textwrap.dedent("""
    import json, resource, subprocess, sys, time
    started = time.perf_counter()
    code = subprocess.run(json.loads(sys.argv[1])).returncode
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"code": code, "peak_kib": peak, "seconds": elapsed}))
""")

_BEFORE = textwrap.dedent("""
    import sys, tempfile
    from pathlib import Path
    from configlab.snapshots import SnapshotStore
    from configlab.snapshots._sync import _tags
    source, target = SnapshotStore(sys.argv[1]), SnapshotStore(sys.argv[2])
    todo = sorted(_tags(source))
    with tempfile.TemporaryDirectory(dir=sys.argv[3]) as work:
        bundle = source.export(todo, Path(work) / "transfer.bundle")
        target.import_(bundle)
""")


def measure(argv: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Peak RSS (MiB) and wall seconds of ``argv`` run in its own process."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, json.dumps(argv)], check=True,
                         capture_output=True, text=True, env=env)
    data = json.loads(out.stdout.splitlines()[-1])  # after what the measured command printed
    if data["code"] != 0:
        raise SystemExit(f"{argv[:4]} failed with exit code {data['code']}")
    return {"peak_mib": data["peak_kib"] / 1024, "seconds": data["seconds"]}


def build(root: Path, small: int, big: int, big_mb: int) -> None:
    """A local store of ``small`` small snapshots and ``big`` snapshots of ``big_mb`` MB each."""
    store = SnapshotStore(root, durable=False)
    for index in range(small):
        store.save_config({"server": {"port": 8000 + index}, "db": {"pool": index % 7}},
                          "app.yaml", tags=["nightly"] if index % 100 == 0 else ())
    for index in range(big):
        store.capture(files=[("app.yaml", f"big: {index}\n"),
                             ("blob.bin", os.urandom(big_mb * 1024 * 1024))], check=False)
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--big", type=int, default=10)
    parser.add_argument("--big-mb", type=int, default=5)
    args = parser.parse_args()
    paths = [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    work = Path(tempfile.mkdtemp(prefix="configlab-bench-push-"))
    try:
        source = work / "source"
        started = time.perf_counter()
        build(source, args.small, args.big, args.big_mb)
        print(f"source store: {args.small} small snapshots + {args.big} x {args.big_mb} MB"
              f" objects, built in {time.perf_counter() - started:.1f} s")
        python = [sys.executable]
        baseline = measure([*python, "-c", "import configlab.cli.store_cmd, configlab.snapshots,"
                            " configlab.results"], env)
        before = measure([*python, "-c", _BEFORE, str(source), str(work / "before"), str(work)],
                         env)
        after = measure([*python, "-m", "configlab", "store", "push", str(work / "after"),
                         "--store", str(source)], env)
        for name in ("before", "after"):
            report = SnapshotStore(work / name).verify()
            assert report.ok and report.snapshots_checked == args.small + args.big, name
        print(f"  baseline (imports only)  peak {baseline['peak_mib']:7.1f} MiB")
        for name, row in (("before (temp bundle)", before), ("after (streamed)", after)):
            print(f"  {name:24} peak {row['peak_mib']:7.1f} MiB"
                  f" (+{row['peak_mib'] - baseline['peak_mib']:.1f} over baseline),"
                  f" {row['seconds']:.1f} s")
        extra_before = max(before["peak_mib"] - baseline["peak_mib"], 0.1)
        extra_after = max(after["peak_mib"] - baseline["peak_mib"], 0.1)
        print(f"  ratio after/before: memory above baseline {extra_after / extra_before:.2f},"
              f" wall time {after['seconds'] / before['seconds']:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
