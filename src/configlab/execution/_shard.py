"""Sharding one suite across CI runners (``--shard i/n``) and checking the merged results.

Every shard regenerates (or reads) the same suite and keeps a deterministic slice of it:

* by default item ``k`` (0-based) goes to shard ``k mod n + 1`` (round robin, so each shard
  gets a spread of the suite);
* with the durations of a previous run (``balance``), the items are dealt longest first to
  the shard with the least work so far (ties: the lower shard number), items without a
  known duration counting as the mean — the same greedy on every runner, so the same slices.

Each result records the shard (``shard``, ``shards``) and the suite size (``suite_size``)
among its metrics; :func:`check_complete` uses them to find configs missing from or
duplicated across the shards of a run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from configlab.errors import ExecutionError

_SPEC = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``Shard.parse("2/3")``; an :class:`ExecutionError` for anything else."""
        match = _SPEC.fullmatch(text or "")
        if match is None:
            raise ExecutionError(f"--shard {text!r}: expected I/N, e.g. 2/3 (1-based)")
        index, count = int(match.group(1)), int(match.group(2))
        if count < 1 or not 1 <= index <= count:
            raise ExecutionError(f"--shard {text!r}: I must be between 1 and N (N >= 1)")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def select(self, names: Sequence[str],
               durations: Mapping[str, float] | None = None) -> list[int]:
        """Positions (ascending) of the items of ``names`` this shard runs."""
        return [k for k, owner in enumerate(assign(names, self.count, durations))
                if owner == self.index]


def assign(names: Sequence[str], count: int,
           durations: Mapping[str, float] | None = None) -> list[int]:
    """The shard (1-based) of every item: round robin, or balanced by ``durations``."""
    if count < 1:
        raise ExecutionError("the number of shards must be at least 1")
    known = [durations[n] for n in names if durations and n in durations]
    if not known:
        return [k % count + 1 for k in range(len(names))]
    assert durations is not None
    mean = sum(known) / len(known)
    cost = [max(0.0, float(durations.get(n, mean))) for n in names]
    load = [0.0] * count
    owner = [0] * len(names)
    for k in sorted(range(len(names)), key=lambda k: (-cost[k], k)):
        target = min(range(count), key=lambda s: (load[s], s))
        load[target] += cost[k]
        owner[k] = target + 1
    return owner


def shared_run_id(environ: Mapping[str, str] | None = None) -> str | None:
    """A run id every shard of one CI pipeline agrees on, from the CI's own variables.

    ``CONFIGLAB_RUN_ID`` first, then GitHub Actions (``GITHUB_RUN_ID``-``GITHUB_RUN_ATTEMPT``),
    GitLab (``CI_PIPELINE_ID``), Buildkite (``BUILDKITE_BUILD_ID``), CircleCI
    (``CIRCLE_WORKFLOW_ID``); None when none is set.
    """
    env = os.environ if environ is None else environ
    if env.get("CONFIGLAB_RUN_ID"):
        return env["CONFIGLAB_RUN_ID"]
    if env.get("GITHUB_RUN_ID"):
        return f"gh-{env['GITHUB_RUN_ID']}-{env.get('GITHUB_RUN_ATTEMPT', '1')}"
    for key, prefix in (("CI_PIPELINE_ID", "gl"), ("BUILDKITE_BUILD_ID", "bk"),
                        ("CIRCLE_WORKFLOW_ID", "circle")):
        if env.get(key):
            return f"{prefix}-{env[key]}"
    return None


@dataclass(frozen=True)
class MergeCheck:
    """What :func:`check_complete` found in the results of one sharded run."""

    expected: int | None
    found: int
    missing: tuple[str, ...]
    duplicated: tuple[str, ...]
    shards_seen: tuple[int, ...]
    shards_expected: int | None

    @property
    def ok(self) -> bool:
        """No config missing, none run twice, every shard present."""
        shards_ok = (self.shards_expected is None
                     or len(self.shards_seen) == self.shards_expected)
        return not self.missing and not self.duplicated and shards_ok and (
            self.expected is None or self.found == self.expected)

    def problems(self) -> list[str]:
        """One line per problem (empty when :attr:`ok`)."""
        lines = []
        if self.duplicated:
            lines.append(f"{len(self.duplicated)} config(s) ran in more than one shard: "
                         + ", ".join(self.duplicated[:10]))
        if self.missing:
            lines.append(f"{len(self.missing)} config(s) missing: "
                         + ", ".join(self.missing[:10]))
        elif self.expected is not None and self.found != self.expected:
            lines.append(f"{self.expected - self.found} config(s) missing "
                         f"({self.found} of {self.expected} ran)")
        if self.shards_expected is not None and len(self.shards_seen) != self.shards_expected:
            absent = sorted(set(range(1, self.shards_expected + 1)) - set(self.shards_seen))
            lines.append(f"shard(s) {', '.join(map(str, absent))} of "
                         f"{self.shards_expected} sent no results")
        return lines


def check_complete(test_ids: Sequence[str], metrics: Sequence[Mapping[str, float]],
                   expected_ids: Sequence[str] | None = None) -> MergeCheck:
    """Check the results of one sharded run: every config once, every shard present.

    ``test_ids`` and ``metrics`` are the results' (parallel lists).  The expected size comes
    from ``expected_ids`` when given, else from the ``suite_size`` metric the results carry.
    """
    seen: dict[str, int] = {}
    for test_id in test_ids:
        seen[test_id] = seen.get(test_id, 0) + 1
    duplicated = tuple(t for t, n in seen.items() if n > 1)
    sizes = {int(m["suite_size"]) for m in metrics if "suite_size" in m}
    counts = {int(m["shards"]) for m in metrics if "shards" in m}
    shards = tuple(sorted({int(m["shard"]) for m in metrics if "shard" in m}))
    if expected_ids is not None:
        expected: int | None = len(expected_ids)
        missing = tuple(t for t in expected_ids if t not in seen)
    else:
        expected = max(sizes) if sizes else None
        missing = ()
    return MergeCheck(expected, len(seen), missing, duplicated, shards,
                      max(counts) if counts else None)
