"""``--configlab-shard I/N``: the pytest plugin runs a deterministic slice of every configlab
test's configs; the shards are disjoint and together run every config once."""

from __future__ import annotations

import re

import pytest

# imported here so that the in-process runs reuse them (see test_pytest_plugin.py)
import configlab.generation._generate  # noqa: F401

pytest_plugins = ["pytester"]

SPACE = """\
name: s
parameters:
  a: [x, y, z, w]
  b: [p, q, r]
  c: bool
"""
TESTS = """\
import configlab.integrations.pytest.collect as cp

@cp.parametrize(space="space.yaml", strategy="covering", strength=2, seed=1)
def test_app(configlab_config):
    pass

def test_plain():
    pass
"""


def _collected(pytester: pytest.Pytester, *args: str) -> list[str]:
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider",
                                           *args)
    return [line for line in result.outlines if re.match(r"^test_\w+\.py::", line)]


def test_shards_are_disjoint_and_cover_the_suite(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", space=SPACE)
    pytester.makepyfile(test_app=TESTS)
    whole = _collected(pytester)
    app = [n for n in whole if "test_app[" in n]
    assert len(app) >= 12
    shards = [_collected(pytester, "--configlab-shard", f"{i}/2") for i in (1, 2)]
    ran = [n for shard in shards for n in shard if "test_app[" in n]
    assert sorted(ran) == sorted(app) and len(set(ran)) == len(ran)
    assert all("test_app.py::test_plain" in shard for shard in shards)
    assert shards[0] == [n for k, n in enumerate(app) if k % 2 == 0] + [
        n for n in whole if "test_plain" in n]  # round robin in generation order
    bad = pytester.runpytest("--collect-only", "--configlab-shard", "4/3")
    assert bad.ret != 0 and "--configlab-shard" in "\n".join(bad.errlines)


def test_sharded_results_share_the_ci_run_id_and_merge_complete(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from configlab.execution import check_complete
    from configlab.results import ResultSet

    pytester.makefile(".yaml", space=SPACE)
    pytester.makepyfile(test_app=TESTS)
    monkeypatch.delenv("CONFIGLAB_RUN_ID", raising=False)
    monkeypatch.setenv("GITHUB_RUN_ID", "77")
    store = pytester.path / "store"
    for index in (1, 2):
        result = pytester.runpytest("-q", "-p", "no:cacheprovider", "--configlab-store",
                                    str(store), "--configlab-shard", f"{index}/2")
        assert result.ret == 0
    results = ResultSet.from_store(store)
    assert {r.run_id for r in results} == {"gh-77-1"}
    check = check_complete([r.test_id for r in results], [r.metrics for r in results])
    assert check.ok and check.shards_seen == (1, 2) and check.expected == len(results)
