"""Structural diff of configuration trees.

``diff(old, new)`` compares two trees (what :mod:`configlab.formats` returns: dicts, lists and
scalars) and lists every difference by path:

* ``added`` -- a key present only in ``new`` (or a list element past the end of ``old``);
* ``removed`` -- a key present only in ``old`` (or a list element past the end of ``new``);
* ``changed`` -- a value present in both that differs.  A change of type is a change, even
  when Python calls the values equal (``1`` vs ``"1"``, ``1`` vs ``1.0``, ``1`` vs ``True``).
  A dict replaced by a list or a scalar (or the reverse) is one ``changed`` entry with both
  whole values.

Dicts are compared by key; key *order* is not a difference.  Lists are compared element-wise by
index: element ``i`` of ``old`` is compared with element ``i`` of ``new``; extra tail elements are
``added`` or ``removed``.  An element inserted at the front of a list therefore shows up as a
change of every later element plus one added element at the end; this is deliberate (it is what
"the value at ``servers.0.host``" means in a config) and keeps the diff linear in time.
Removed tail elements are listed from the last index down, so that the JSON Patch produced by
:meth:`TreeDiff.to_json_patch` applies in order.

The walk is iterative (no recursion limit) and linear in the size of the trees; equal scalars
are skipped without allocating anything, so a 100 MB config diffs in seconds.
"""

from __future__ import annotations

import contextlib
import gc
import io
import itertools
import json
import operator
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from configlab.tree import deep_copy, join_path

#: The three kinds of difference.
Kind = Literal["added", "removed", "changed"]

#: One step of a path: a dict key or a list index.
Segment = str | int

_TEXT_LIMIT = 120


def json_pointer(segments: tuple[Segment, ...]) -> str:
    """Return the RFC 6901 JSON Pointer for ``segments`` (``~`` -> ``~0``, ``/`` -> ``~1``)."""
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in segments)


@dataclass(frozen=True)
class DiffEntry:
    """One difference between two trees.

    ``segments`` is the exact location (dict keys as ``str``, list indices as ``int``); ``old``
    is ``None`` for ``added`` entries and ``new`` is ``None`` for ``removed`` ones.
    """

    kind: Kind
    segments: tuple[Segment, ...]
    old: Any = None
    new: Any = None

    @property
    def path(self) -> str:
        """Dotted path (list indices as plain segments, dotted keys backtick-quoted)."""
        return join_path([str(s) for s in self.segments])

    @property
    def pointer(self) -> str:
        """RFC 6901 JSON Pointer of the location."""
        return json_pointer(self.segments)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``kind``, ``path``, ``pointer`` and ``old`` / ``new`` where relevant."""
        out: dict[str, Any] = {"kind": self.kind, "path": self.path, "pointer": self.pointer}
        if self.kind != "added":
            out["old"] = self.old
        if self.kind != "removed":
            out["new"] = self.new
        return out


@dataclass(frozen=True)
class TreeDiff:
    """The ordered differences between two trees (see the module docstring for semantics)."""

    entries: tuple[DiffEntry, ...]

    @property
    def is_empty(self) -> bool:
        """True when the two trees are identical (same keys, same values, same types)."""
        return not self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[DiffEntry]:
        return iter(self.entries)

    def _of_kind(self, kind: Kind) -> tuple[DiffEntry, ...]:
        return tuple(e for e in self.entries if e.kind == kind)

    @property
    def added(self) -> tuple[DiffEntry, ...]:
        """Entries for keys / elements present only in the new tree."""
        return self._of_kind("added")

    @property
    def removed(self) -> tuple[DiffEntry, ...]:
        """Entries for keys / elements present only in the old tree."""
        return self._of_kind("removed")

    @property
    def changed(self) -> tuple[DiffEntry, ...]:
        """Entries for values present in both trees that differ (including in type)."""
        return self._of_kind("changed")

    def to_json_patch(self) -> list[dict[str, Any]]:
        """RFC 6902 operations that, applied in order to the old tree, produce the new one.

        ``added`` -> ``add``, ``removed`` -> ``remove``, ``changed`` -> ``replace`` (values are
        copies, so mutating the patch never touches the trees that were compared).
        """
        ops: list[dict[str, Any]] = []
        for entry in self.entries:
            if entry.kind == "added":
                ops.append({"op": "add", "path": entry.pointer, "value": deep_copy(entry.new)})
            elif entry.kind == "removed":
                ops.append({"op": "remove", "path": entry.pointer})
            else:
                ops.append({"op": "replace", "path": entry.pointer, "value": deep_copy(entry.new)})
        return ops

    def __str__(self) -> str:
        # print(diff) is what people type first: the readable diff, not the dataclass repr.
        return self.to_text()

    def to_dicts(self) -> list[dict[str, Any]]:
        """Every entry as :meth:`DiffEntry.to_dict` (for ``--json`` output)."""
        return [entry.to_dict() for entry in self.entries]

    def to_text(self) -> str:
        """Readable form: one line per entry, ``+ path: new``, ``- path: old``, ``~ path: a -> b``.

        Values are shown as JSON (so ``1`` and ``"1"`` differ visibly), cut at 120 characters.
        """
        if not self.entries:
            return "no differences"
        lines: list[str] = []
        for entry in self.entries:
            where = entry.path or "<root>"
            if entry.kind == "added":
                lines.append(f"+ {where}: {_show(entry.new)}")
            elif entry.kind == "removed":
                lines.append(f"- {where}: {_show(entry.old)}")
            else:
                lines.append(f"~ {where}: {_show(entry.old)} -> {_show(entry.new)}")
        return "\n".join(lines)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > _TEXT_LIMIT:
        text = text[: _TEXT_LIMIT - 3] + "..."
    return text


# A path under construction is a linked list (segment, parent) so that descending one level costs
# O(1); the tuple is only built for paths that end up in an entry.
_Link = tuple[Segment, Any] | None


def _segments(link: _Link) -> tuple[Segment, ...]:
    out: list[Segment] = []
    while link is not None:
        out.append(link[0])
        link = link[1]
    out.reverse()
    return tuple(out)


def _same_leaf(a: Any, b: Any) -> bool:
    """Strict equality for two values that are not both dicts nor both lists."""
    if type(a) is not type(b):
        return False
    return bool(a == b) or (a != a and b != b)  # NaN equals NaN here


_CMP = 0
_EMIT = 1
#: Children of a container are checked for a shortcut in runs of this many.
_RUN = 256
_MISSING = object()


def _pickled(value: Any) -> bytes:
    """Pickle without the memo: equal bytes mean the same structure, types and values."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True  # no memo: the bytes do not depend on which objects are shared
    pickler.dump(value)
    return buffer.getvalue()


def _same_run(a: Any, b: Any) -> bool | None:
    """True when the sequences ``a`` and ``b`` certainly hold identical trees, pairwise.

    ``a == b`` (C speed, stops at the first difference) alone would merge ``1``, ``1.0`` and
    ``True``; equal pickles (which spell out every type, dict order and float bit pattern) make
    it exact.  False means "not known to be identical" (the caller compares item by item); None
    means the values are nested too deeply for these C-level checks.
    """
    try:
        if all(map(operator.is_, a, b)) and len(a) == len(b):
            return True  # the very same objects
        if a != b:
            return False
        return _pickled(a) == _pickled(b)
    except RecursionError:
        return None
    except Exception:  # objects that cannot be compared or pickled: compare item by item
        return False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the duration (no-op when it is already off).

    Building or walking trees of millions of values allocates only acyclic objects (freed by
    reference counting), but each allocation burst makes the collector traverse every live
    object again; pausing it saves that work.  Used by :func:`diff` and the snapshot store.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def diff(old: Any, new: Any) -> TreeDiff:
    """Compare two trees and return their :class:`TreeDiff` (iterative, linear time).

    Runs of children that are identical (same values and types) are skipped at C speed, so
    two large trees that differ in a few places are compared in a fraction of a full walk.
    """
    if old is new:
        return TreeDiff(())
    with gc_paused():
        return _diff(old, new)


def _diff(old: Any, new: Any) -> TreeDiff:
    entries: list[DiffEntry] = []
    # Work items, processed last-in first-out: (_CMP, link, a, b, fast) or
    # (_EMIT, entry, None, None, fast); ``fast``: try the identical-run shortcut in this subtree.
    stack: list[tuple[int, Any, Any, Any, bool]] = [(_CMP, None, old, new, True)]
    while stack:
        op, link, a, b, fast = stack.pop()
        if op == _EMIT:
            entries.append(link)
            continue
        pending: list[tuple[int, Any, Any, Any, bool]] = []
        if isinstance(a, dict) and isinstance(b, dict):
            keys = list(a)
            for start in range(0, len(keys), _RUN):
                run = keys[start : start + _RUN]
                if fast:
                    same = _same_run(
                        tuple(map(a.__getitem__, run)),
                        tuple(map(b.get, run, itertools.repeat(_MISSING))),
                    )
                    if same:
                        continue
                    fast = same is not None
                for key in run:
                    av = a[key]
                    if key in b:
                        bv = b[key]
                        if av is bv:
                            continue
                        t = type(av)
                        if t is type(bv) and t is not dict and t is not list:
                            if av == bv or (av != av and bv != bv):
                                continue
                            pending.append(
                                (
                                    _EMIT,
                                    DiffEntry("changed", _segments((key, link)), av, bv),
                                    None,
                                    None,
                                    fast,
                                )
                            )
                            continue
                        pending.append((_CMP, (key, link), av, bv, fast))
                    else:
                        entry = DiffEntry("removed", _segments((key, link)), old=av)
                        pending.append((_EMIT, entry, None, None, fast))
            if not all(map(a.__contains__, b)):  # some key was added (checked at C speed)
                for key, bv in b.items():
                    if key not in a:
                        entry = DiffEntry("added", _segments((key, link)), new=bv)
                        pending.append((_EMIT, entry, None, None, fast))
        elif isinstance(a, list) and isinstance(b, list):
            common = min(len(a), len(b))
            for start in range(0, common, _RUN):
                stop = min(start + _RUN, common)
                if fast:
                    same = _same_run(a[start:stop], b[start:stop])
                    if same:
                        continue
                    fast = same is not None
                for index in range(start, stop):
                    av = a[index]
                    bv = b[index]
                    if av is bv:
                        continue
                    t = type(av)
                    if t is type(bv) and t is not dict and t is not list:
                        if av == bv or (av != av and bv != bv):
                            continue
                        pending.append(
                            (
                                _EMIT,
                                DiffEntry("changed", _segments((index, link)), av, bv),
                                None,
                                None,
                                fast,
                            )
                        )
                        continue
                    pending.append((_CMP, (index, link), av, bv, fast))
            for index in range(len(a) - 1, common - 1, -1):
                entry = DiffEntry("removed", _segments((index, link)), old=a[index])
                pending.append((_EMIT, entry, None, None, fast))
            for index in range(common, len(b)):
                entry = DiffEntry("added", _segments((index, link)), new=b[index])
                pending.append((_EMIT, entry, None, None, fast))
        else:
            if not _same_leaf(a, b):
                entries.append(DiffEntry("changed", _segments(link), a, b))
            continue
        pending.reverse()
        stack.extend(pending)
    return TreeDiff(tuple(entries))


__all__ = ["DiffEntry", "Kind", "Segment", "TreeDiff", "diff", "json_pointer"]
