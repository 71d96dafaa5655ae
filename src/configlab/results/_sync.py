"""Copying results between result stores (``configlab store push|pull``).

Results have no identity of their own, so a result counts as present in the target when the
target holds as many identical results (same config, outcome, duration, metrics, test, snapshot,
timestamp and run) as the source: pushing twice adds nothing, two identical runs in the source
stay two in the target.
"""

from __future__ import annotations

from collections import Counter

from configlab.results._model import Result, ResultStore, canonical_json


def _key(result: Result) -> str:
    return canonical_json(result.to_dict())


def copy_results(source: ResultStore, target: ResultStore) -> int:
    """Append to ``target`` the results of ``source`` it lacks; returns how many."""
    results = list(source.load())
    runs = sorted({r.run_id for r in results if r.run_id is not None})
    present: Counter[str] = Counter()
    if any(r.run_id is None for r in results):
        present.update(_key(r) for r in target.load() if r.run_id is None)
    for run in runs:
        present.update(_key(r) for r in target.load(run_id=run))
    missing = []
    for result in results:
        key = _key(result)
        if present[key]:
            present[key] -= 1
        else:
            missing.append(result)
    return target.record_many(missing)


__all__ = ["copy_results"]
