"""Spec versions: keep the exact spec in the snapshot store, reload it, and diff two versions."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from configlab.errors import SpecError
from configlab.snapshots import Snapshot, SnapshotStore
from configlab.specs._load import as_spec, spec_from_dict
from configlab.specs._model import Spec
from configlab.storage import StoreLocation


def open_store(
    store: SnapshotStore | str | os.PathLike[str] | StoreLocation | None,
) -> SnapshotStore | None:
    """``store`` itself, a :class:`SnapshotStore` opened at the path it names, or None."""
    if store is None:
        return None
    if isinstance(store, SnapshotStore):
        return store
    if isinstance(store, str | os.PathLike | StoreLocation):
        return SnapshotStore(store)
    raise SpecError(f"store must be a SnapshotStore or a path, got {type(store).__name__}")


@contextmanager
def opened_store(
    store: SnapshotStore | str | os.PathLike[str] | StoreLocation | None,
) -> Iterator[SnapshotStore | None]:
    """:func:`open_store` for the length of a block: a store opened here (from a path or URL)
    is closed at the end, a store passed in stays open for its owner (a team store's
    connection would otherwise be left to the garbage collector)."""
    opened = open_store(store)
    try:
        yield opened
    finally:
        if opened is not None and opened is not store:
            opened.close()


def record_spec(store: SnapshotStore | str | os.PathLike[str], spec: Spec) -> Snapshot:
    """Keep the exact spec in the snapshot store; returns its snapshot.

    The snapshot holds ``spec.json`` (canonical form with the space inlined, reloadable by
    :func:`spec_from_store`) and the original file bytes under ``source/`` (spec file, space
    file); it is tagged ``spec:<name>@<version>`` with meta ``spec_hash``.  Recording the same
    spec again returns the same snapshot.
    """
    files: list[tuple[str, bytes]] = [("spec.json", spec.canonical_json().encode("utf-8"))]
    files += [(f"source/{name}", data) for name, data in spec.source_files]
    meta = {
        "kind": "spec",
        "spec_name": spec.name,
        "spec_version": spec.version,
        "spec_hash": spec.digest(),
    }
    with opened_store(store) as opened:
        assert opened is not None
        return opened.capture(files=files, meta=meta, tags=[f"spec:{spec.label}"], check=False)


def spec_from_store(
    store: SnapshotStore | str | os.PathLike[str] | StoreLocation, ref: str
) -> Spec:
    """Reload the spec kept by :func:`record_spec` (``ref``: snapshot id, tag or spec hash)."""
    with opened_store(store) as opened:
        assert opened is not None
        if re.fullmatch(r"[0-9a-f]{64}", ref):
            found = opened.find(meta={"spec_hash": ref, "kind": "spec"})
            if found:
                ref = found[-1].id
        snapshot = opened.get(ref)
        if "spec.json" not in snapshot.files:
            raise SpecError(f"snapshot {snapshot.id[:12]} does not hold a spec")
        data = json.loads(opened.read_bytes(snapshot, "spec.json").decode("utf-8"))
    return spec_from_dict(data, source=f"snapshot {snapshot.id[:12]}")


@dataclass(frozen=True)
class RuleChange:
    """A rule present in both versions whose ``when``, ``expect`` or description changed."""

    rule_id: str
    fields: tuple[str, ...]
    before: Mapping[str, Any]
    after: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "rule": self.rule_id,
            "fields": list(self.fields),
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True)
class SpecDiff:
    """Rules added, removed and changed between two spec versions (plus header changes)."""

    old: str
    new: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[RuleChange, ...] = ()
    header: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """No difference in rules or header."""
        return not (self.added or self.removed or self.changed or self.header)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "old": self.old,
            "new": self.new,
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": [c.to_dict() for c in self.changed],
            "header": {k: list(v) for k, v in self.header.items()},
        }

    def to_text(self) -> str:
        """A human-readable diff."""
        lines = [f"--- {self.old}", f"+++ {self.new}"]
        for key, (before, after) in self.header.items():
            lines.append(f"~ {key}: {before} -> {after}")
        lines += [f"+ rule {r}" for r in self.added]
        lines += [f"- rule {r}" for r in self.removed]
        for change in self.changed:
            lines.append(f"~ rule {change.rule_id}: {', '.join(change.fields)} changed")
            for name in change.fields:
                lines.append(f"    - {name}: {_brief(change.before.get(name))}")
                lines.append(f"    + {name}: {_brief(change.after.get(name))}")
        if self.empty:
            lines.append("(no differences)")
        return "\n".join(lines)


def _brief(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(f"{k}: {v}" for item in value for k, v in item.items())
    return str(value)


def diff_specs(old: Spec | str | os.PathLike[str], new: Spec | str | os.PathLike[str]) -> SpecDiff:
    """Compare two spec versions: rules added, removed, changed (when/expect/description)."""
    a, b = as_spec(old), as_spec(new)
    header: dict[str, tuple[Any, Any]] = {}
    for key in ("name", "version", "description"):
        if getattr(a, key) != getattr(b, key):
            header[key] = (getattr(a, key), getattr(b, key))
    a_space = a.space.digest() if a.space is not None else None
    b_space = b.space.digest() if b.space is not None else None
    if a_space != b_space:
        header["space"] = ((a_space or "none")[:12], (b_space or "none")[:12])
    old_rules = {r.id: r for r in a.rules}
    new_rules = {r.id: r for r in b.rules}
    changed = []
    for rule in a.rules:
        if rule.id not in new_rules:
            continue
        before, after = rule.to_dict(), new_rules[rule.id].to_dict()
        fields = tuple(
            k for k in ("when", "expect", "description") if before.get(k) != after.get(k)
        )
        if fields:
            changed.append(RuleChange(rule.id, fields, before, after))
    return SpecDiff(
        old=a.source or a.label,
        new=b.source or b.label,
        added=tuple(r.id for r in b.rules if r.id not in old_rules),
        removed=tuple(r.id for r in a.rules if r.id not in new_rules),
        changed=tuple(changed),
        header=header,
    )
