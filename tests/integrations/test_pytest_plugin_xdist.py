"""The pytest plugin under pytest-xdist: every worker writes its results to the store."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from configlab.results import ResultStore

pytest_plugins = ["pytester"]

SPACE = """\
name: sqlite
parameters:
  journal_mode: [DELETE, WAL, MEMORY, "OFF"]
  synchronous: ["OFF", NORMAL, FULL]
  cache_kb: {type: int, min: 0, max: 4096}
  foreign_keys: bool
"""

TESTS = """\
import configlab.integrations.pytest.collect as cp

@cp.parametrize("space.yaml", strategy="random", count={count}, seed=3)
def test_a(configlab_config):
    assert configlab_config["journal_mode"] != "MEMORY"

@cp.parametrize("space.yaml", strategy="covering", strength=2, seed=1)
def test_b(configlab_config, tmp_path):
    configlab_config.write(tmp_path / "app.json")
    configlab_config.setenv("APP_")
"""


def _run(pytester: pytest.Pytester, workers: int, count: int) -> tuple[pytest.RunResult, int]:
    pytester.makefile(".yaml", space=SPACE)
    pytester.makepyfile(test_many=TESTS.format(count=count))
    collected = pytester.runpytest("--collect-only", "-q")
    n_tests = sum(1 for line in collected.outlines if "::test_" in line)
    result = pytester.runpytest_subprocess("-n", str(workers), "-p", "no:cacheprovider")
    return result, n_tests


def _check(pytester: pytest.Pytester, result: pytest.RunResult, n_tests: int) -> None:
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] + outcomes.get("failed", 0) == n_tests
    store = ResultStore(pytester.path / ".configlab")
    stored = store.load()
    store.close()
    assert len(stored) == n_tests  # nothing lost
    assert len({r.test_id for r in stored}) == n_tests  # nothing duplicated or interleaved
    assert Counter(r.outcome for r in stored) == Counter(
        {"pass": outcomes["passed"], "fail": outcomes.get("failed", 0)}
    )
    run_ids = {r.run_id for r in stored}
    assert len(run_ids) == 1
    text = result.stdout.str()
    assert text.count("configlab summary") == 1  # only the controller prints
    match = re.search(r"configlab: (\d+) executions of (\d+) configs recorded \(run (\S+),", text)
    assert match is not None
    assert int(match.group(1)) == n_tests
    assert match.group(3) == run_ids.pop()
    assert "2-way coverage" in text
    assert "suspect 1: journal_mode == MEMORY" in text
    for record in stored:
        bad = record.config["journal_mode"] == "MEMORY" and "test_a" in record.test_id
        assert record.outcome == ("fail" if bad else "pass")
        assert record.snapshot_id is not None


@pytest.mark.slow
def test_four_workers_write_every_result_once(pytester: pytest.Pytester) -> None:
    result, n_tests = _run(pytester, 4, 40)
    assert n_tests > 60
    _check(pytester, result, n_tests)
