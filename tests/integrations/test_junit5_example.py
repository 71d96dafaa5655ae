"""examples/junit5 run as README says: configlab generates and snapshots the configs, Maven
Surefire runs the JUnit 5 tests (a real HTTP service started on 127.0.0.1 per config), and
configlab ingests the Surefire XML and finds the planted configuration bug."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from configlab.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "junit5"


def _maven() -> str:
    mvn = shutil.which("mvn")
    if mvn is None or shutil.which("javac") is None:
        pytest.skip("needs Maven and a JDK (`make system-deps` installs maven and "
                    "openjdk-17-jdk-headless)")
    return mvn


def test_junit5_example_end_to_end(tmp_path: Path) -> None:
    mvn = _maven()
    work = tmp_path / "junit5"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("target", ".configlab"))
    env = dict(os.environ)
    # the configlab of this checkout first on PATH, as after `make demo` / `make test`
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT / "src")
    prepared = subprocess.run(["sh", "prepare-configs.sh"], cwd=work, env=env,
                              capture_output=True, text=True, timeout=300)
    assert prepared.returncode == 0, prepared.stderr
    rows = (work / "target" / "configlab" / "snapshots.csv").read_text().splitlines()
    assert rows[0] == "file,snapshot_id" and len(rows) == 1 + len(
        json.loads((work / "target/configlab/configs/manifest.json").read_text())["files"])
    # -o: the dependencies come from the local Maven repository (Maven Central is not reached)
    built = subprocess.run([mvn, "-o", "-q", "-B", "test"], cwd=work, env=env,
                           capture_output=True, text=True, timeout=600)
    if built.returncode != 0 and "offline mode" in built.stdout:
        pytest.skip("the JUnit/Surefire artifacts are not in the local Maven repository")
    assert built.returncode == 0, built.stdout[-3000:]
    reports = sorted((work / "target" / "surefire-reports").glob("TEST-*.xml"))
    assert reports
    cwd = Path.cwd()
    os.chdir(work)
    try:
        ingested = CliRunner().invoke(cli, ["ingest", *map(str, reports), "--store", ".configlab",
                                            "--record"])
        assert ingested.exit_code == 0, ingested.output
        # every test case is linked to its generated config through the snapshot id
        assert f"{2 * (len(rows) - 1)} linked to a config" in ingested.output
        analysed = CliRunner().invoke(cli, [
            "analyze", "--results", ".configlab", "--space", "space.yaml",
            "--test-id", "*answersHealthChecks*", "--json", "-"])
    finally:
        os.chdir(cwd)
    assert analysed.exit_code == 0, analysed.output
    report = json.loads(analysed.stdout)
    top = report["patterns"][0]
    assert top["confidence"] == 1.0 and top["support"] > 0
    top = top["condition"]
    # the planted bug: cache enabled and cache.size_mb / server.workers == 0
    assert "cache.size_mb" in top and "server.workers" in top, top
