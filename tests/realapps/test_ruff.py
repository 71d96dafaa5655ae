"""ruff as a new user tries it: generated pyproject.toml files, real ``ruff check`` runs.

A pairwise suite over examples/ruff/space.yaml ([tool.ruff] / [tool.ruff.lint]) is written as
TOML, examples/ruff/check.py runs the real ruff of this environment over examples/ruff/project
under each one, and ``configlab analyze`` must name what ruff's own output says: the target
versions ruff refuses ("unknown variant") as a set or a bound, and the rule UP006 firing only
when UP is selected and the target is py39 or newer.  A few seconds.
"""

from __future__ import annotations

import json
import shutil
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from configlab import formats
from configlab.cli import cli
from configlab.results import ResultSet
from configlab.space import Space
from tests.paths import ROOT_DIR

EXAMPLE = ROOT_DIR / "examples" / "ruff"
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
MEMBERS = ["E", "F", "B", "C90", "I", "N", "SIM", "UP"]

pytestmark = pytest.mark.skipif(RUFF is None, reason="ruff is not installed (pip extra: test)")


def configlab(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ruff") / "suite"
    done = configlab("generate", "--space", str(EXAMPLE / "space.yaml"), "--seed", "1",
                     "--out", str(out), "--format", "toml")
    assert done.exit_code == 0, done.output
    return out


def test_generated_pyprojects_round_trip(suite: Path) -> None:
    space = Space.load(EXAMPLE / "space.yaml")
    files = sorted(suite.glob("config-*.toml"))
    assert len(files) >= 9 * 8  # every target-version x line-length class pair at least
    for path in files:
        with path.open("rb") as handle:
            parsed = tomllib.load(handle)  # what ruff reads, not configlab's reader
        assert parsed == formats.load(path) and space.is_valid(parsed)
        assert set(parsed) == {"tool"} and set(parsed["tool"]["ruff"]) == {
            "target-version", "line-length", "lint"}
    selects = [formats.load(p)["tool"]["ruff"]["lint"]["select"] for p in files]
    assert {m for select in selects for m in select} == set(MEMBERS)


def test_every_pair_of_select_members_is_covered(suite: Path) -> None:
    # select is a members list (one false/true factor per rule group): a pairwise suite holds
    # every group with and without every other one (issue 15: B never appeared without E).
    selects = [set(formats.load(p)["tool"]["ruff"]["lint"]["select"])
               for p in suite.glob("config-*.toml")]
    for a in MEMBERS:
        for b in MEMBERS:
            if a != b:
                assert any(a in s and b not in s for s in selects), (a, b)


def test_analysis_names_what_ruff_says(suite: Path, tmp_path: Path) -> None:
    store, jsonl = tmp_path / "store", tmp_path / "results.jsonl"
    done = configlab("exec", "--suite", str(suite), "--jobs", "4", "--timeout", "120",
                     "--store", str(store), "--jsonl", str(jsonl), "--quiet", "--",
                     sys.executable, str(EXAMPLE / "check.py"), "{config}", "UP006")
    assert done.exit_code == 1, done.output
    results = ResultSet.from_jsonl(jsonl)
    refused = {r.config["tool"]["ruff"]["target-version"] for r in results
               if r.metrics["exit_status"] == 2.0}
    assert refused == {"py35", "py36"}  # ruff's own verdict ...
    assert all("unknown variant" in (r.stdout or "") for r in results
               if r.metrics["exit_status"] == 2.0)  # ... and its own words
    report = tmp_path / "analysis.json"
    done = configlab("analyze", "--results", str(store), "--space",
                     str(EXAMPLE / "space.yaml"), "--json", str(report))
    assert done.exit_code == 0, done.output
    conditions = [p["condition"] for p in json.loads(report.read_text())["patterns"]]
    # the refused versions, as a set or (versions are ordered) as a bound
    assert {"tool.ruff.target-version in {py35, py36}",
            "tool.ruff.target-version <= py36"} & set(conditions), conditions
    # UP006: UP selected (its own factor) and py39 or newer, as a set or a bound
    assert any("tool.ruff.lint.select[UP] == true" in c and (
        ("tool.ruff.target-version in {" in c and "py39" in c and "py37" not in c)
        or "tool.ruff.target-version >= py39" in c) for c in conditions), conditions
