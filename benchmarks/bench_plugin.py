"""Overhead of the configlab pytest plugin per test execution.

One command: ``.venv/bin/python benchmarks/bench_plugin.py [--tests 2000] [--repeat 3]``

A temporary project holds a space of 6 parameters x 6 values (46,656 combinations) and two
test files of ``--tests`` tests each with the same trivial body:

* baseline: ``@pytest.mark.parametrize("config", CONFIGS)`` over the same configs, run with
  ``pytest -q -p no:configlab`` (the plugin not loaded at all);
* plugin: ``@configlab.parametrize(space=..., strategy="random", count=N)``, run with the
  plugin active: generation, one snapshot per config, one result per test in the SQLite
  store, the execution monitor and the end-of-session summary (coverage).  It runs twice:
  a first run (every config is a new snapshot) and a rerun (snapshots found, not rewritten).

Each pytest run is a child process measured by ``configlab.integrations.monitor.run_command`` (wall
time,
peak RSS); the best of ``--repeat`` runs is kept.  Printed: per-test overhead (total added
time / tests), the marginal per-test cost (slope between a small and the full suite, which
excludes fixed start-up costs such as importing numpy), the added peak memory, and the
ratios to the baseline.  Targets: < 2 ms and < 20 MB added per test run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from configlab.generation import generate
from configlab.integrations.monitor import run_command
from configlab.space import Space

SPACE = {
    "name": "bench",
    "parameters": {f"p{i}": [f"v{j}" for j in range(6)] for i in range(6)},
}

PLUGIN_TEST = """\
import configlab.integrations.pytest.collect as cp

@cp.parametrize(space="space.json", strategy="random", count={n}, seed=1)
def test_app(configlab_config):
    assert configlab_config["p0"].startswith("v")
"""

BASELINE_TEST = """\
import json
import pytest

CONFIGS = json.load(open(__file__[:-3] + ".json"))

@pytest.mark.parametrize("config", CONFIGS)
def test_app(config):
    assert config["p0"].startswith("v")
"""


def _pytest(project: Path, *args: str) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one pytest run in ``project``."""
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    execution = run_command(argv, cwd=project, env={**os.environ, "PYTHONHASHSEED": "0"},
                            stdout=subprocess.DEVNULL)
    if execution.exit_status != 0:
        raise SystemExit(f"pytest failed ({execution.exit_status}): {' '.join(argv)}")
    return execution.wall_s, execution.peak_rss_mb


def _best(project: Path, repeat: int, *args: str, fresh: bool = False) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        if fresh:
            shutil.rmtree(project / ".configlab", ignore_errors=True)
        runs.append(_pytest(project, *args))
    return min(r[0] for r in runs), min(r[1] for r in runs)


def _project(root: Path, n: int) -> Path:
    project = root / f"suite{n}"
    project.mkdir()
    (project / "space.json").write_text(json.dumps(SPACE))
    configs = list(generate(Space.from_dict(SPACE), strategy="random", count=n, seed=1))
    (project / "test_baseline.json").write_text(json.dumps(configs))
    (project / "test_baseline.py").write_text(BASELINE_TEST)
    (project / "test_plugin.py").write_text(PLUGIN_TEST.format(n=n))
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-plugin-") as tmp:
        figures = {}
        for n in (options.small, options.tests):
            project = _project(Path(tmp), n)
            base = _best(project, options.repeat, "-p", "no:configlab", "test_baseline.py")
            first = _best(project, options.repeat, "test_plugin.py", fresh=True)
            rerun = _best(project, options.repeat, "test_plugin.py")
            figures[n] = (base, first, rerun)
            print(f"{n:5d} tests: baseline {base[0]:6.2f} s {base[1]:6.1f} MB | plugin first "
                  f"run {first[0]:6.2f} s {first[1]:6.1f} MB | plugin rerun {rerun[0]:6.2f} s "
                  f"{rerun[1]:6.1f} MB")
    n, small = options.tests, options.small
    base, first, rerun = figures[n]
    sbase, sfirst, srerun = figures[small]
    for label, run, srun in (("first run", first, sfirst), ("rerun", rerun, srerun)):
        added = (run[0] - base[0]) / n * 1000
        slope = ((run[0] - base[0]) - (srun[0] - sbase[0])) / (n - small) * 1000
        memory = run[1] - base[1]
        memory_slope = ((run[1] - base[1]) - (srun[1] - sbase[1])) / (n - small) * 1000
        print(f"plugin {label}: {added:.2f} ms added per test (total / {n}), marginal "
              f"{slope:.2f} ms per test; +{memory:.1f} MB peak (marginal "
              f"{memory_slope:.1f} KB per test); ratio to baseline "
              f"{run[0] / base[0]:.2f}x time, {run[1] / base[1]:.2f}x memory "
              f"(target < 2 ms, < 20 MB)")


if __name__ == "__main__":
    main()
