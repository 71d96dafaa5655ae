"""Copying results between result stores (``configlab store push|pull``).

Results have no identity of their own, so a result counts as present in the target when the
target holds as many identical results (same config, outcome, duration, metrics, test, snapshot,
timestamp and run) as the source: pushing twice adds nothing, two identical runs in the source
stay two in the target.
"""

from __future__ import annotations

from collections import Counter

from configlab.results._model import Result, canonical_json
from configlab.results._set import ResultStore


def _key(result: Result) -> str:
    return canonical_json(result.to_dict())


def copy_results(source: ResultStore, target: ResultStore) -> int:
    """Append to ``target`` the results of ``source`` it lacks; returns how many.

    One run at a time (its results in both stores, then one transaction), so memory is bounded
    by the largest run rather than the whole store; an interrupted copy is completed by the
    next one.
    """
    copied = 0
    for run in source.run_ids():
        present = Counter(_key(r) for r in target.load_run(run))
        missing = []
        for result in source.load_run(run):
            key = _key(result)
            if present[key]:
                present[key] -= 1
            else:
                missing.append(result)
        if missing:
            copied += target.record_many(missing)
    return copied


__all__ = ["copy_results"]
