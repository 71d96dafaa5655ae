"""The team store where CI names a store: the CI suite file, the pytest plugin and ``configlab
exec`` shards (real PostgreSQL and S3 servers)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from configlab.cli import EXIT_OK, cli
from configlab.results import ResultSet
from configlab.snapshots import SnapshotStore
from tests.paths import DATA_DIR, SRC_DIR

pytest_plugins = ["pytester"]

SPACE = """name: safe
parameters:
  db.pool: {type: int, min: 2, max: 16}
  cache.enabled: bool
  log.level: [debug, info, warn, error]
"""


def test_ci_suite_file_names_a_team_store(pg_url: str, s3_url: str, tmp_path: Path) -> None:
    shutil.copy(DATA_DIR / "ci" / "app.py", tmp_path / "app.py")
    (tmp_path / "space.yaml").write_text(SPACE)
    python = shlex.quote(sys.executable)
    (tmp_path / "ci.yaml").write_text(
        f"space: space.yaml\nstore: {pg_url}\nobjects: {s3_url}\nrun_id: ci-1\nsteps:\n"
        "  - generate: {strategy: covering, strength: 2, seed: 7, out: configs/, format: json}\n"
        f'  - run: {{command: "{python} app.py --config {{config}}", timeout: 30}}\n'
    )
    result = CliRunner().invoke(cli, ["ci", "--config", str(tmp_path / "ci.yaml")])
    assert result.exit_code == EXIT_OK, result.stderr
    assert not (tmp_path / ".configlab").exists() and not (tmp_path / pg_url).exists()
    results = ResultSet.from_store(pg_url, run_id="ci-1")
    assert len(results) > 4 and all(r.snapshot_id for r in results)
    store = SnapshotStore(pg_url, objects=s3_url)
    assert {r.snapshot_id for r in results} <= {s.id for s in store.list()}
    assert store.verify().ok
    (tmp_path / "bad.yaml").write_text(f"store: {pg_url}\nobjects: /not/s3\nsteps:\n"
                                       "  - coverage: {strength: 2}\nspace: space.yaml\n")
    bad = CliRunner().invoke(cli, ["ci", "--config", str(tmp_path / "bad.yaml")])
    assert bad.exit_code == 2 and "'objects' must be an s3://" in bad.stderr


def test_pytest_plugin_records_into_a_team_store(pg_url: str, s3_url: str,
                                                 pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", space=SPACE)
    pytester.makepyfile(test_app="""
import configlab.integrations.pytest.collect as cp

@cp.parametrize(space="space.yaml", strategy="covering", strength=2, seed=1)
def test_app(configlab_config):
    assert configlab_config["db"]["pool"] >= 2
""")
    result = pytester.runpytest("--configlab-store", pg_url, "--configlab-objects", s3_url,
                                "--configlab-run-id", "py-1")
    result.assert_outcomes(passed=len(ResultSet.from_store(pg_url, run_id="py-1")))
    assert not (pytester.path / ".configlab").exists()
    assert any("store postgresql://" in line for line in result.outlines)
    stored = ResultSet.from_store(pg_url, run_id="py-1")
    assert len(stored) > 4 and all(r.outcome == "pass" for r in stored)


def _exec_shard(index: int, env: dict[str, str], suite: Path, store: str,
                objects: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "configlab", "exec", "--suite", str(suite),
         "--shard", f"{index}/8", "--run-id", "sharded", "--store", store, "--objects", objects,
         "-q", "-j", "2", "--", sys.executable, "-c", "pass"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def test_eight_shards_cover_every_config_exactly_once(pg_url: str, s3_url: str,
                                                      s3_server: Any, tmp_path: Path) -> None:
    (tmp_path / "space.yaml").write_text(SPACE)
    suite = tmp_path / "suite"
    result = CliRunner().invoke(cli, ["generate", "--space", str(tmp_path / "space.yaml"),
                                      "--strategy", "covering", "--strength", "2", "--seed", "5",
                                      "--out", str(suite), "--format", "json"])
    assert result.exit_code == 0, result.output
    configs = sorted(p.name for p in suite.iterdir() if p.name != "manifest.json")
    env = {**os.environ, **s3_server.env(), "PYTHONPATH": str(SRC_DIR)}
    shards = [_exec_shard(i, env, suite, pg_url, s3_url) for i in range(1, 9)]
    for shard in shards:  # all eight write into the one team store at once
        output = shard.communicate(timeout=300)[0].decode(errors="replace")
        assert shard.returncode == 0, output
    results = ResultSet.from_store(pg_url, run_id="sharded")
    names = sorted(r.test_id for r in results)
    assert names == sorted(f"exec[{name}]" for name in configs)  # each exactly once
    merged = CliRunner().invoke(cli, ["results", "merge", pg_url, "--run-id", "sharded",
                                      "--suite", str(suite)])
    assert merged.exit_code == 0, merged.stderr
    assert "each exactly once" in merged.stderr and "across 8 shard(s)" in merged.stderr
    store = SnapshotStore(pg_url, objects=s3_url)
    assert {r.snapshot_id for r in results} <= {s.id for s in store.list()}
    assert json.loads(json.dumps(store.verify().to_dict()))["problems"] == []
