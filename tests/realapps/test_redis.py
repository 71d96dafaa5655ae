"""Redis 7 as a new user tries it: a real redis-server under a generated suite, end to end.

Start from Debian's /etc/redis/redis.conf, generate a strength-3 covering suite of redis.conf
files over examples/redis/space-full.yaml, run examples/redis/full_check.py on each (a real
redis-server on 127.0.0.1 on a free port, stopped by PID) through ``configlab exec``, then
``analyze``, ``coverage`` and ``report``.  Ground truth comes from Redis's own error messages:
``SELECT 5`` fails when databases <= 5, writes fail with "OOM command not allowed" under a 1 MiB
maxmemory, and keys are lost across a restart when neither RDB snapshots nor the AOF persist
them (that cause is masked by the other two in most of its rows).  About 30 s on a loaded
2-core machine.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from configlab import formats
from configlab.cli import cli
from configlab.results import ResultSet
from configlab.space import Space
from tests.paths import ROOT_DIR

REDIS_CONF = Path("/etc/redis/redis.conf")
SPACE = ROOT_DIR / "examples" / "redis" / "space-full.yaml"
CHECK = ROOT_DIR / "examples" / "redis" / "full_check.py"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("redis-server") is None or not REDIS_CONF.is_file(),
                       reason="redis-server is not installed (make system-deps installs it)"),
]


def configlab(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_redis_suite_end_to_end(tmp_path: Path) -> None:
    # 1. the Debian file is read in its directive format, not as INI
    inferred = tmp_path / "inferred.yaml"
    done = configlab("space", "infer", str(REDIS_CONF), "-o", str(inferred))
    assert done.exit_code == 0, done.output
    inferred_space = Space.load(inferred)
    assert inferred_space.param("databases").kind == "int"
    assert inferred_space.param("port").kind == "int"

    # 2. redis.conf files on top of the Debian file
    suite, store = tmp_path / "suite", tmp_path / "store"
    done = configlab("generate", "--space", str(SPACE), "--strategy", "covering",
                     "--strength", "3", "--seed", "1", "--base", str(REDIS_CONF),
                     "--out", str(suite), "--format", "directive")
    assert done.exit_code == 0, done.output
    files = sorted(suite.glob("config-*.conf"))
    assert len(files) >= 100
    space = Space.load(SPACE)
    assert all(space.is_valid(formats.load(path)) for path in files)

    # 3. a real redis-server per config; the app's own messages are kept with the results
    jsonl = tmp_path / "results.jsonl"
    done = configlab("exec", "--suite", str(suite), "--jobs", "6", "--timeout", "180",
                     "--store", str(store), "--jsonl", str(jsonl), "--quiet", "--",
                     sys.executable, str(CHECK), "{config}")
    assert done.exit_code == 1, done.output  # some configs fail, as they should
    results = ResultSet.from_jsonl(jsonl)
    assert len(results) == len(files)
    outputs = [r.stdout or "" for r in results]
    # every generated config is one Redis accepts: no run failed to start the server
    assert not [o for o in outputs if "did not start" in o]
    for message in ("ERR DB index is out of range", "OOM command not allowed",
                    "data lost after restart"):
        assert any(message in o for o in outputs), message
    assert any(r.outcome == "pass" for r in results)

    # 4. the three causes, each naming only its own parameters
    report = tmp_path / "analysis.json"
    done = configlab("analyze", "--results", str(store), "--space", str(SPACE),
                     "--json", str(report))
    assert done.exit_code == 0, done.output
    patterns = json.loads(report.read_text())["patterns"]
    found = {frozenset(a["param"] for a in p["atoms"]): p["condition"] for p in patterns}
    assert found.get(frozenset({"databases"})) == "databases <= 4"
    assert found.get(frozenset({"appendonly", "save"})) == 'appendonly == no and save == ""'
    memory = found.get(frozenset({"maxmemory"}))
    assert memory is not None and "1048576" in memory  # 1 MiB fails, 0 (no limit) passes

    # 5. coverage of the suite, and a report that shows the varied directives
    done = configlab("coverage", "--space", str(SPACE), "--results", str(store), "--json", "-")
    assert done.exit_code == 0, done.output
    levels = {level["t"]: level for level in json.loads(done.stdout)["levels"]}
    assert levels[2]["covered"] == levels[2]["valid"]
    summary = tmp_path / "summary.md"
    done = configlab("report", "--results", str(store), "--to", "markdown", "-o", str(summary),
                     "--space", str(SPACE))
    assert done.exit_code == 0, done.output
    text = summary.read_text()
    assert "| `maxmemory=" in text and "OOM command not allowed" in text
