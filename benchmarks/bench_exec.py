"""Concurrency of ``configlab exec``: many executions of an application that mostly waits.

One command: ``.venv/bin/python benchmarks/bench_exec.py [--sizes 100 1000] [--sleep 1]``

For each size N a suite of N configs is generated (random strategy, seeded) and run with
``configlab exec --suite DIR --jobs 100 --no-snapshot -- APP {config}`` where APP is a shell
script that sleeps ``--sleep`` seconds and exits 0 or 1 depending on the config.  The
baseline, measured in the same run, is the operating system alone: ``/bin/sh`` starting the
same N sleeping scripts 100 at a time (``xargs -P 100``), with no configlab around them.
Printed: wall time of each, the ratio configlab / baseline, and a check that every result
was recorded in the store (controller-side writes, nothing lost).

Targets (issue 16): 100 configs x 1 s < 3 s, 1,000 configs x 1 s < 15 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPACE = """name: bench
parameters:
  a: {type: int, min: 0, max: 1000}
  b: [x, y, z, w]
  c: bool
"""
APP = """#!/bin/sh
sleep {sleep}
grep -q '"c": false' "$1" && exit 1
exit 0
"""
TARGETS = {100: 3.0, 1000: 15.0}


def _configlab(*args: str, cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "configlab", *args], cwd=cwd,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    allowed = (0, 1) if args[0] == "exec" else (0,)
    if done.returncode not in allowed or "Traceback" in done.stderr:
        raise SystemExit(f"configlab {' '.join(args)} failed:\n{done.stderr}")
    return elapsed


def _baseline(suite: Path, app: Path, jobs: int) -> float:
    files = sorted(str(p) for p in suite.glob("config-*"))
    started = time.perf_counter()
    subprocess.run(["xargs", "-P", str(jobs), "-n", "1", "sh", str(app)],
                   input="\n".join(files), text=True, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--sleep", type=float, default=1.0)
    parser.add_argument("--jobs", type=int, default=100)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="configlab-bench-exec-"))
    try:
        (work / "space.yaml").write_text(SPACE)
        app = work / "app.sh"
        app.write_text(APP.format(sleep=options.sleep))
        app.chmod(0o755)
        print(f"{'configs':>8} {'configlab exec':>15} {'sh + xargs -P':>14} {'ratio':>6} "
              f"{'target':>7} {'recorded':>9}")
        failed = False
        for size in options.sizes:
            suite = work / f"suite-{size}"
            _configlab("generate", "--space", "space.yaml", "--strategy", "random", "--raw",
                       "--count", str(size), "--seed", "1", "--format", "json", "--out",
                       suite.name, cwd=work)
            made = len(list(suite.glob("config-*")))
            if made != size:
                raise SystemExit(f"generate made {made} configs, not {size}")
            store = work / f"store-{size}"
            wall = _configlab("exec", "--suite", suite.name, "--jobs", str(options.jobs),
                              "--no-snapshot", "--quiet", "--store", store.name, "--",
                              str(app), "{config}", cwd=work)
            base = _baseline(suite, app, options.jobs)
            with sqlite3.connect(store / "index.sqlite") as db:
                recorded = db.execute("SELECT count(*) FROM results").fetchone()[0]
            target = TARGETS.get(size) if options.sleep == 1.0 else None
            verdict = "" if target is None else ("ok" if wall < target else "MISSED")
            failed |= verdict == "MISSED" or recorded != size
            print(f"{size:>8} {wall:>13.2f} s {base:>12.2f} s {wall / base:>6.2f} "
                  f"{(f'< {target:g} s ' + verdict) if target else '-':>7} "
                  f"{recorded:>5}/{size}")
        print(json.dumps({"cpus": os.cpu_count(), "jobs": options.jobs}))
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
