"""Select snapshots in bulk: by reference, tag, test, run, outcome and a ``--where`` expression.

``snapshot export/restore/verify/tag`` act on every snapshot a :class:`SnapshotQuery` selects:

* each reference names one snapshot (a full id or a unique id prefix) — or, when it is a tag,
  *every* snapshot carrying that tag (``latest=True`` keeps only the most recent one);
* ``tag``, ``test`` (a test id or an ``fnmatch`` pattern such as ``exec[*``), ``run`` and
  ``outcome`` narrow the selection; the last three look the snapshots up through the results
  recorded in the same store (a result names the snapshot of its config);
* ``where`` is a constraint-language expression evaluated on each snapshot's config (the parsed
  tree of its only file; a snapshot with several files is seen as ``{file name: tree}``).

Every criterion must hold (they combine with *and*); the snapshots come back oldest first.  A
query that selects nothing raises :class:`~configlab.errors.SnapshotNotFoundError`: a bulk
operation never silently does nothing.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from configlab.constraints import parse
from configlab.errors import ConfiglabError, SnapshotError, SnapshotNotFoundError
from configlab.results import OUTCOMES, ResultStore
from configlab.tree import flatten

if TYPE_CHECKING:  # pragma: no cover
    from configlab.snapshots._model import Snapshot
    from configlab.snapshots._store import SnapshotStore


@dataclass(frozen=True)
class SnapshotQuery:
    """Which snapshots a bulk operation acts on (see the module docstring)."""

    refs: tuple[str, ...] = ()
    tag: str | None = None
    test: str | None = None
    run: str | None = None
    outcome: str | None = None
    where: str | None = None
    latest: bool = False

    @property
    def empty(self) -> bool:
        """No reference and no criterion: nothing selected yet (``latest`` alone selects all)."""
        return not self.refs and all(
            value is None for value in (self.tag, self.test, self.run, self.outcome, self.where)
        )

    def describe(self) -> str:
        """``tag 'x', run 'r1', outcome 'fail'``: what the query asks, for messages."""
        parts = [f"reference {ref!r}" for ref in self.refs]
        for key in ("tag", "test", "run", "outcome", "where"):
            value = getattr(self, key)
            if value is not None:
                parts.append(f"{key} {value!r}")
        return ", ".join(parts) or "every snapshot"


def _from_refs(store: SnapshotStore, refs: Iterable[str]) -> list[Snapshot]:
    found: list[Snapshot] = []
    for ref in refs:
        tagged = store.find(tag=ref)
        found.extend(tagged if tagged else [store.get(ref)])
    return found


def _from_results(store: SnapshotStore, query: SnapshotQuery) -> set[str]:
    if query.outcome is not None and query.outcome not in OUTCOMES:
        raise SnapshotError(f"--outcome must be one of {', '.join(OUTCOMES)}, "
                            f"got {query.outcome!r}")
    with ResultStore(store.root) as results:
        recorded = results.load(run_id=query.run)
    return {
        result.snapshot_id
        for result in recorded
        if result.snapshot_id
        and (query.test is None or fnmatch.fnmatchcase(result.test_id, query.test))
        and (query.outcome is None or result.outcome == query.outcome)
    }


def _config(store: SnapshotStore, snapshot: Snapshot) -> dict[str, Any]:
    names = sorted(snapshot.files)
    if len(names) == 1:
        return store.read_tree(snapshot, names[0])
    return {name: store.read_tree(snapshot, name) for name in names}


def select(store: SnapshotStore, query: SnapshotQuery) -> list[Snapshot]:
    """The snapshots of ``store`` that ``query`` selects, oldest first (never empty).

    Raises:
        SnapshotNotFoundError: nothing matches (or a reference names no snapshot).
        SnapshotError: a bad ``outcome`` or ``where`` expression.
    """
    condition = None
    if query.where is not None:
        try:
            condition = parse(query.where)
        except ConfiglabError as error:
            raise SnapshotError(f"--where: {error}") from None
    chosen = _from_refs(store, query.refs) if query.refs else store.find(tag=query.tag)
    if query.refs and query.tag is not None:
        with_tag = {s.id for s in store.find(tag=query.tag)}
        chosen = [s for s in chosen if s.id in with_tag]
    if (query.test, query.run, query.outcome) != (None, None, None):
        linked = _from_results(store, query)
        chosen = [s for s in chosen if s.id in linked]
    if condition is not None:
        chosen = [s for s in chosen if condition.evaluate(flatten(_config(store, s)))]
    unique = {s.id: s for s in chosen}
    ordered = sorted(unique.values(), key=lambda s: (s.created, s.id))
    if not ordered:
        raise SnapshotNotFoundError(f"no snapshot matches {query.describe()}")
    return ordered[-1:] if query.latest else ordered


__all__ = ["SnapshotQuery", "select"]
