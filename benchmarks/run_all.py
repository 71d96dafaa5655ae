"""Run every configlab benchmark, one after another (``make bench``).

Each benchmark prints its own figures and the ratio to the baseline it measures in the same
run; see benchmarks/RESULTS.md for recorded figures.  ``--quick`` passes each script's quick
option where it has one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: script -> (full-run arguments, quick-run arguments)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "bench_generate.py": ([], ["--count", "5000", "--baseline-seconds", "3"]),
    "bench_covering.py": ([], ["uca_3pow4", "bugzilla", "spins", "--t3-budget", "10"]),
    "bench_snapshots.py": ([], ["--quick"]),
    "bench_formats.py": ([], ["--quick"]),
    "bench_schemas.py": ([], ["--quick"]),
    "bench_coverage.py": ([], ["--quick"]),
    "bench_analysis.py": ([], ["--quick"]),
    "bench_causes.py": (["--seeds", "2"], ["--quick"]),
    "bench_plugin.py": ([], ["--tests", "300", "--repeat", "1"]),
    "bench_team_store.py": ([], ["--quick"]),
    "bench_store_push.py": ([], ["--small", "200", "--big", "2"]),
    "bench_exec.py": ([], ["--sizes", "100"]),
    "bench_startup.py": ([], ["--repeat", "5"]),
    "bench_hostile.py": ([], ["--quick"]),
    "bench_demo.py": ([], ["--reduced"]),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    parser.add_argument("only", nargs="*", help="run only these scripts (e.g. bench_generate.py)")
    options = parser.parse_args()
    failures = []
    for script, (full, quick) in BENCHMARKS.items():
        if options.only and script not in options.only:
            continue
        command = [sys.executable, str(HERE / script), *(quick if options.quick else full)]
        print(f"\n=== {' '.join(command[1:])}", flush=True)
        started = time.perf_counter()
        code = subprocess.call(command)
        print(f"=== {script}: exit {code} after {time.perf_counter() - started:.1f} s", flush=True)
        if code != 0:
            failures.append(script)
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
