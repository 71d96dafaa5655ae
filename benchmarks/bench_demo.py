"""Wall time of the end-to-end SQLite demo (``make demo`` without the install step).

One command: ``.venv/bin/python benchmarks/bench_demo.py [--reduced]``

Measured in the same run, on the same machine:

* baseline: the demo's own test suite alone — ``pytest examples/sqlite/test_sqlite_behaviours.py
  -n 2`` with the configlab plugin (the 72 configs x 5 behaviours the demo runs);
* the demo: ``python -m configlab.demo OUT`` (generate, that same pytest run, snapshots, specs,
  coverage with charts, analysis, exports, the report).

Printed: both times, and their ratio (what the pipeline around the tests costs). The README's
demo time quotes this line.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):  # the behaviour suite has real failures: exit 1 is fine
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reduced", action="store_true", help="the CI-sized demo (quick)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        suite = ["examples/sqlite/test_sqlite_behaviours.py", "-q", "-p", "no:cacheprovider",
                 "--configlab-store", str(Path(tmp) / "baseline-store")]
        if not options.reduced:
            suite += ["-n", "2"]
        else:
            suite += ["--configlab-max", "6"]
        baseline = _timed([sys.executable, "-m", "pytest", *suite], ROOT)
        demo = [sys.executable, "-m", "configlab.demo", str(Path(tmp) / "demo-output")]
        total = _timed(demo + (["--reduced"] if options.reduced else []), ROOT)
    kind = "reduced demo" if options.reduced else "demo"
    print(f"baseline: the demo's pytest suite alone: {baseline:6.1f} s")
    print(f"{kind}: python -m configlab.demo:      {total:6.1f} s "
          f"({total / baseline:.2f}x the suite alone; {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
