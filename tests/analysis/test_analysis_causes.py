"""Correlation engine v2 on data shaped like the issue's real applications.

* Redis-like: 111 generated redis.conf files; three causes from the server's own errors —
  ``databases < 4``, an out-of-memory interval ``0 < maxmemory <= 1 MB`` (a pattern must bound
  one parameter on both sides) and ``appendonly == no and save == ""`` whose rows mostly also
  run out of memory (masking: found only once the OOM rows stop counting as evidence).
* ruff-like: 73 pyproject configs where ``target-version in {py37, py38, py39}`` fails 28/28
  (a set condition on a choice, significant despite the small sample).

Both go through :func:`configlab.analysis.analyze` on a :class:`ResultSet` with an inferred
space, as a new user would.
"""

from __future__ import annotations

import random
from typing import Any

from configlab.analysis import analyze
from configlab.results import Result, ResultSet

MB = 1024 * 1024


def redis_like(seed: int = 7, n: int = 111) -> tuple[ResultSet, dict[str, int]]:
    rng = random.Random(seed)
    results = []
    causes = {"databases": 0, "oom": 0, "persistence": 0}
    for i in range(n):
        oom = rng.random() < 0.3
        config: dict[str, Any] = {
            "databases": rng.choice([1, 2, 3, 4, 8, 16, 16, 16, 64, 256]),
            "maxmemory": rng.choice([1, 65536, 512 * 1024, MB]) if oom else rng.choice(
                [0, 0, 0, 100 * MB, 512 * MB, 2048 * MB]),
            "appendonly": rng.choice(["yes", "no"]),
            "save": rng.choice(["", "3600 1", "3600 1 300 100 60 10000", "900 1"]),
            "appendfsync": rng.choice(["always", "everysec", "no"]),
            "io-threads": rng.choice([1, 2, 4, 8]),
            "list-max-listpack-size": rng.choice([-1, -2, -5, 128]),
            "maxmemory-policy": rng.choice(["noeviction", "allkeys-lru", "volatile-lfu"]),
            "hz": rng.choice([1, 10, 100, 500]),
            "loglevel": rng.choice(["debug", "verbose", "notice", "warning"]),
            "tcp-keepalive": rng.choice([0, 60, 300]),
            "protected-mode": rng.choice(["yes", "no"]),
        }
        if oom and rng.random() < 0.6:
            # the persistence failure mostly shows up together with out-of-memory
            config["appendonly"], config["save"] = "no", ""
        fail_db = config["databases"] < 4
        fail_oom = 0 < config["maxmemory"] <= MB
        fail_persist = config["appendonly"] == "no" and config["save"] == ""
        causes["databases"] += fail_db
        causes["oom"] += fail_oom
        causes["persistence"] += fail_persist
        outcome = "fail" if (fail_db or fail_oom or fail_persist) else "pass"
        results.append(Result(config=config, outcome=outcome, test_id="redis_starts",
                              run_id=f"r{i}"))
    return ResultSet(results), causes


def test_redis_like_three_causes_with_masking_and_interval() -> None:
    results, causes = redis_like()
    assert min(causes.values()) >= 8  # every cause has enough runs to be learnable
    report = analyze(results)
    found = [p.condition for p in report.patterns]
    assert "databases <= 3" in found
    assert "0 < maxmemory <= 1048576" in found or "maxmemory > 0 and maxmemory <= 1048576" in found
    assert 'appendonly == no and save == ""' in found or "appendonly == no and save == ''" in found
    # the three causes are the top three patterns, each exactly (no extra atom)
    assert len({*found[:3]}) == 3
    assert all(p.p_adjusted <= 0.05 for p in report.patterns[:3])


def ruff_like(seed: int = 3) -> ResultSet:
    rng = random.Random(seed)
    versions = ["py37", "py38", "py39", "py310", "py311", "py312", "py313"]
    results = []
    bad_left = 28
    for i in range(73):
        version = versions[i % len(versions)] if i < 70 else rng.choice(versions[3:])
        config = {
            "target-version": version,
            "line-length": rng.choice([79, 88, 100, 120]),
            "lint.select": rng.choice(["E", "E,F", "ALL", "E,W,F,I"]),
            "lint.preview": rng.choice([True, False]),
            "indent-width": rng.choice([2, 4, 8]),
            "format.quote-style": rng.choice(["double", "single", "preserve"]),
        }
        fails = version in ("py37", "py38", "py39")
        if fails:
            bad_left -= 1
        # two unrelated failures from elsewhere
        fails = fails or i in (5, 41)
        results.append(Result(config=config, outcome="fail" if fails else "pass",
                              test_id="ruff_check"))
    assert bad_left <= 0
    return ResultSet(results)


def test_ruff_like_set_condition_is_significant_and_top() -> None:
    report = analyze(ruff_like())
    top = report.patterns[0]
    assert top.condition == "target-version in {py37, py38, py39}"
    assert top.support == top.coverage >= 28
    assert top.p_adjusted < 0.01
