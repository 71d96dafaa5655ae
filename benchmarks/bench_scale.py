"""Results at scale (issue 14 section 1, issue 17): ``.venv/bin/python benchmarks/bench_scale.py``.

One command: generates seeded results (``benchmarks/scale_data.py``: 50 parameters, three planted
causes) into a temporary directory and measures, each in a fresh process (wall time, CPU time
and peak RSS from ``os.wait4``):

1. **10,000,000 results in partitioned Parquet** (20 hive partitions, the layout of
   ``configlab results compact``) through ``configlab analyze --results DIR`` (DuckDB): every
   value of all 50 parameters plus pair causes (target < 60 s, < 1 GiB) and one parameter
   (``--param c03 --pairs 0``, target < 2 s); baseline: the same ``GROUP BY`` queries written
   by hand in plain DuckDB on the same files.  The planted causes must be the top causes.
2. **1,000,000 results x 50 parameters** as JSON lines and as one Parquet file through
   ``configlab.integrations.ingest.load_encoded`` (read + infer the space + encode; target
   < 10 s, < 2 GiB); baseline: a plain ``polars.read_ndjson`` / ``polars.read_parquet`` of the
   same file.

3. **``ResultSet`` on columns** (``--resultset``): ``ResultSet.from_jsonl`` of the 1,000,000 x 50
   JSON lines file, then ``len``, ``select`` (an outcome and a ``where`` condition),
   ``infer_space`` and ``encode`` on it, each phase timed inside the process; baseline: a plain
   ``pyarrow.json.read_json`` of the same file.  ``--before-src DIR`` also runs the same steps
   with another checkout's ``src`` (e.g. the row-per-``Result`` set before it held columns).

``--quick`` uses 1,000,000 and 100,000 rows (a smoke run); ``--load-only`` measures only part 2
at 1,000,000 rows (no 10,000,000-row dataset to generate); ``--resultset`` only part 3.  The
ratios printed are configlab's time over the baseline's, measured in the same run, so machine
load affects both.  Besides
polars, the JSON lines baseline includes a plain ``pyarrow.json.read_json`` of the same file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import scale_data  # noqa: E402

PYTHON = sys.executable
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


_last_cpu = 0.0


def _cpu_delta() -> float:
    import resource

    global _last_cpu
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    delta, _last_cpu = total - _last_cpu, total
    return delta


def _measure(code: str, env: dict[str, str] | None = None) -> tuple[float, float, float, str]:
    """Run ``code`` in a fresh interpreter that prints its own peak RSS last (VmHWM: unlike
    ``ru_maxrss``, which Linux carries over ``exec`` from the forking parent, it starts anew)."""
    wrapped = (code + "\nimport sys\n"
               "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
               "print('RSS', int(hwm.split()[1]) / 1024, file=sys.stderr)\n")
    start = time.perf_counter()
    process = subprocess.run([PYTHON, "-c", wrapped], capture_output=True, text=True,
                             env=env or ENV)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{process.stderr[-3000:]}")
    rss = float(process.stderr.strip().splitlines()[-1].split()[1])
    return wall, _cpu_delta(), rss, process.stdout


def _cli(args: list[str]) -> str:
    return ("from configlab.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit as exit:\n"
            "    assert not exit.code, exit.code\n")


def _row(name: str, measured: tuple[float, float, float, str],
         baseline: tuple[float, float, float, str], target: str) -> None:
    wall, cpu, rss, _ = measured
    print(f"{name:<46} {wall:7.2f} s wall {cpu:7.2f} s CPU {rss:7.0f} MiB   "
          f"baseline {baseline[0]:6.2f} s wall {baseline[1]:6.2f} s CPU {baseline[2]:5.0f} MiB"
          f"   ratio {wall / baseline[0]:5.2f}x   target {target}")


def _duckdb_baseline(directory: Path, params: list[str]) -> str:
    """Plain DuckDB: one GROUP BY (value, outcome) per parameter over the same files."""
    return (
        "import duckdb\nc = duckdb.connect()\n"
        "src = \"read_parquet('" + str(directory) + "/**/*.parquet', hive_partitioning=true)\"\n"
        f"for p in {params!r}:\n"
        "    c.execute(f'SELECT \"{p}\", outcome, count(*) FROM {src} GROUP BY ALL').fetchall()\n"
    )


def _load(jsonl: Path, parquet: Path, rows: int, n_params: int) -> None:
    """Part 2: load + infer + encode of ``rows`` results beside plain reads of the same files."""
    print(f"== {rows:,} results x {n_params} parameters: load + infer + encode "
          f"(load average {os.getloadavg()[0]:.1f})")
    for path, reader in ((jsonl, "read_ndjson"), (parquet, "read_parquet")):
        mine = _measure(
            "from configlab.integrations.ingest import load_encoded\n"
            f"enc, space = load_encoded({str(path)!r})\n"
            "assert enc.n_rows and len(space.parameters) == 50\n")
        base = _measure(f"import polars as pl\nframe = pl.{reader}({str(path)!r})\n")
        _row(f"load_encoded({path.name})", mine, base, "< 10 s, < 2 GiB")
        if path.suffix == ".jsonl":
            arrow = _measure(f"import pyarrow.json as pj\ntable = pj.read_json({str(path)!r})\n")
            _row("  (same file, baseline pyarrow.json.read_json)", mine, arrow, "")


_RESULTSET_STEPS = """
import json, time
from configlab.results import ResultSet
marks = [time.perf_counter(), time.process_time()]
phases = {}
def lap(name):
    now, cpu = time.perf_counter(), time.process_time()
    phases[name] = (now - marks[0], cpu - marks[1])
    marks[:] = [now, cpu]
results = ResultSet.from_jsonl(PATH); lap("from_jsonl")
size = len(results); lap("len")
chosen = results.select(outcome="fail", where="c03 == 'v2' and b02 == true"); lap("select")
space = results.infer_space(); lap("infer_space")
encoded = results.encode(space); lap("encode")
assert size == encoded.n_rows and len(space.parameters) == 50 and len(chosen)
print(json.dumps({"phases": phases, "selected": len(chosen)}))
"""


def _resultset(jsonl: Path, rows: int, before: Path | None) -> None:
    """Part 3: ResultSet.from_jsonl and len/select/infer_space/encode on it."""
    print(f"== ResultSet of {rows:,} results x 50 parameters "
          f"(load average {os.getloadavg()[0]:.1f})")
    base = _measure(f"import pyarrow.json as pj\ntable = pj.read_json({str(jsonl)!r})\n")
    runs = [("ResultSet (this tree)", ENV)]
    if before is not None:
        runs.append((f"ResultSet ({before})", {**os.environ, "PYTHONPATH": str(before)}))
    for label, env in runs:
        code = _RESULTSET_STEPS.replace("PATH", repr(str(jsonl)))
        measured = _measure(code, env)
        _row(f"{label}: all steps", measured, base, "< 10 s, < 2 GiB")
        phases = json.loads(measured[3])["phases"]
        print("   " + ", ".join(f"{name} {wall:.2f} s wall / {cpu:.2f} s CPU"
                                 for name, (wall, cpu) in phases.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1M and 100k rows (smoke run)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="generate into (and keep) this directory")
    parser.add_argument("--load-only", action="store_true",
                        help="only load + infer + encode of 1,000,000 results (part 2)")
    parser.add_argument("--resultset", action="store_true",
                        help="only ResultSet on columns over 1,000,000 results (part 3)")
    parser.add_argument("--before-src", type=Path, default=None,
                        help="also run part 3 with this src directory (a before/after A/B)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    big, medium = (1_000_000, 100_000) if args.quick else (10_000_000, 1_000_000)
    work = args.keep or Path(tempfile.mkdtemp(prefix="configlab-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(f"machine: {os.cpu_count()} cores, load average "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        start = time.perf_counter()
        dataset = work / "dataset"
        if not dataset.exists() and not (args.load_only or args.resultset):
            scale_data.generate_parquet(dataset, big, partitions=20)
        jsonl, parquet = work / "results.jsonl", work / "results.parquet"
        if not jsonl.exists():
            scale_data.generate_jsonl(jsonl, medium)
        if not parquet.exists() and not args.resultset:
            scale_data.generate_single_parquet(parquet, medium)
        print(f"generated {big:,} + 2 x {medium:,} results in "
              f"{time.perf_counter() - start:.0f} s (seeded, {work})\n")
        _cpu_delta()
        params = scale_data.columns()
        if args.load_only:
            _load(jsonl, parquet, medium, len(params))
            return 0
        if args.resultset:
            _resultset(jsonl, medium, args.before_src)
            return 0
        print(f"== {big:,} results x {len(params)} parameters, partitioned Parquet, DuckDB")
        full = _measure(_cli(["analyze", "--results", str(dataset), "--json", "-", "-q"]))
        full_base = _measure(_duckdb_baseline(dataset, params))
        _row("analyze DIR (every value + pair causes)", full, full_base, "< 60 s, < 1 GiB")
        one = _measure(_cli(["analyze", "--results", str(dataset), "--param", "c03",
                             "--pairs", "0", "--json", "-", "-q"]))
        one_base = _measure(_duckdb_baseline(dataset, ["c03"]))
        _row("analyze DIR --param c03 --pairs 0", one, one_base, "< 2 s")
        report = json.loads(full[3])
        found = [c["condition"] for c in report["causes"]]
        print(f"top causes: {found[:4]}")
        expected = {"c03 == 'v2'", "c07 == 'v1' and b02 == true"}
        threshold = any(c.startswith("f04 >") for c in found[:3])
        print(f"planted causes in the top 3: {expected <= set(found[:3]) and threshold}\n")

        _load(jsonl, parquet, medium, len(params))
        print()
        _resultset(jsonl, medium, args.before_src)
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
