"""Start-up time of the ``configlab`` command.

One command: ``.venv/bin/python benchmarks/bench_startup.py [--repeat 15]``

Measured in the same run, each the best (minimum) wall time of ``--repeat`` runs, so that a
busy machine disturbs the figure as little as possible:

* baseline: ``python -c pass`` (the interpreter alone);
* ``configlab --help`` (the command list comes from a table: no subcommand module is loaded);
* ``configlab run --store TMP -- true`` (runs ``true`` and records one result in a store);
* ``python -c "import configlab.cli"`` with ``-X importtime`` lists what else gets imported.

Printed: each time, its ratio to the baseline and the time configlab adds, the best CPU time
(user + system of the child: far less disturbed by other processes than wall time on a busy
machine) and the load average before and after; the check that numpy, scipy, matplotlib and
rich are not imported by either command.  Target (issue 16):
< 150 ms for both commands on this machine.  Byte-code caching is left on (as after a normal
install), whatever ``PYTHONDONTWRITEBYTECODE`` says.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

TARGET_S = 0.150
HEAVY = ("numpy", "scipy", "matplotlib", "rich", "pandas", "pyarrow")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _best(argv: list[str], repeat: int, env: dict[str, str]) -> tuple[float, float]:
    """Best wall time and best CPU time (user + system) of ``repeat`` runs of ``argv``."""
    times, cpu = [], []
    for _ in range(repeat):
        started, used = time.perf_counter(), _children_cpu()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)
        times.append(time.perf_counter() - started)
        cpu.append(_children_cpu() - used)
    return min(times), min(cpu)


def _heavy_imports(code: str, env: dict[str, str]) -> list[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env,
                          capture_output=True, text=True, check=False)
    loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
              if line.startswith("import time:")}
    return sorted(name for name in loaded if name.split(".")[0] in HEAVY)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15)
    options = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    store = tempfile.mkdtemp(prefix="configlab-bench-startup-")
    cli = [sys.executable, "-m", "configlab"]
    try:
        # warm the byte-code cache and the store once
        subprocess.run([*cli, "run", "--store", store, "--", "true"], env=env,
                       capture_output=True, check=True)
        load_before = os.getloadavg()[0]
        base, base_cpu = _best([sys.executable, "-c", "pass"], options.repeat, env)
        rows = [
            ("configlab --help", _best([*cli, "--help"], options.repeat, env),
             "from configlab.cli import main; main(['--help'])"),
            ("configlab run -- true", _best([*cli, "run", "--store", store, "--", "true"],
                                            options.repeat, env),
             f"from configlab.cli import main; main(['run', '--store', {store!r}, '--', 'true'])"),
        ]
        load_after = os.getloadavg()[0]
        print(f"{'command':<24} {'best wall':>10} {'ratio':>7} {'added':>9} {'best CPU':>9} "
              f"{'target':>17}  heavy imports")
        print(f"{'python -c pass':<24} {base * 1000:>7.1f} ms {1.0:>7.2f} {'-':>9} "
              f"{base_cpu * 1000:>6.1f} ms {'-':>17}")
        missed = False
        for name, (wall, cpu), code in rows:
            heavy = _heavy_imports(code, env)
            verdict = "ok" if wall < TARGET_S else "MISSED"
            missed |= wall >= TARGET_S or bool(heavy)
            print(f"{name:<24} {wall * 1000:>7.1f} ms {wall / base:>7.2f} "
                  f"{(wall - base) * 1000:>6.1f} ms {cpu * 1000:>6.1f} ms "
                  f"{'wall < 150 ms ' + verdict:>17}  {', '.join(heavy) or 'none'}")
        print(f"load average (1 min): {load_before:.2f} before, {load_after:.2f} after, "
              f"on {os.cpu_count()} CPUs")
        return 1 if missed else 0
    finally:
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
