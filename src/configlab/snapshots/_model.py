"""Snapshot data types and identity: files, snapshots, manifests, verify reports, validation.

A snapshot's id is the SHA-256 of its canonical manifest (:func:`_manifest`): file hashes, sizes
and formats, environment and metadata.  Everything here is pure: no index, no object files.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from configlab import redaction
from configlab._internal.canonical import canonical_json
from configlab._internal.objectstore import hash_bytes, is_object_hash
from configlab.errors import SnapshotCorruptedError, SnapshotError

#: Replacement value of a redacted environment variable.
REDACTED = redaction.REDACTED
#: Environment variable NAMES matching this (case-insensitive) have their value redacted, as
#: do the names the rules of :mod:`configlab.redaction` call secret.
SECRET_NAME_RE = re.compile(r"password|passwd|token|key|secret|credential", re.IGNORECASE)
#: Shortest accepted id prefix.
MIN_PREFIX = 6
#: Version of the snapshot manifest (part of every id).
MANIFEST_VERSION = 1

_TAG_RE = re.compile(r"[^\s\x00-\x1f]{1,200}")

#: What ``capture(files=...)`` accepts per file: a path, or ``(name, bytes | str | path)``.
FileSource = str | os.PathLike[str] | tuple[str, bytes | str | os.PathLike[str]]


@dataclass(frozen=True)
class FileEntry:
    """One file of a snapshot: object hash, size in bytes, format (None if unknown).

    ``parse_error`` is the message of the error met when the bytes were parsed (at capture, or
    on the first failed :meth:`SnapshotStore.read_tree`), None when it parsed or was not tried.
    """

    hash: str
    size: int
    format: str | None
    parse_error: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """An immutable configuration state (see the module docstring)."""

    id: str
    files: Mapping[str, FileEntry]
    env: Mapping[str, str]
    meta: Mapping[str, Any]
    tags: tuple[str, ...]
    created: str

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def short_id(self) -> str:
        """The first 12 hex digits of the id (what listings show)."""
        return self.id[:12]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (used by ``--json`` output)."""
        return {
            "id": self.id,
            "created": self.created,
            "tags": list(self.tags),
            "files": {
                name: {
                    "hash": entry.hash,
                    "size": entry.size,
                    "format": entry.format,
                    "parse_error": entry.parse_error,
                }
                for name, entry in self.files.items()
            },
            "env": dict(self.env),
            "meta": dict(self.meta),
        }


@dataclass(frozen=True)
class Problem:
    """One finding of :meth:`SnapshotStore.verify`.

    ``kind`` is ``missing``, ``truncated`` or ``corrupted`` (an object), or ``index`` (index rows
    that disagree with a snapshot's manifest or point at nothing, a ``created`` value that is
    not a timestamp, or an index table that is missing: ``snapshot_id`` None).
    """

    kind: str
    snapshot_id: str | None
    detail: str
    name: str | None = None
    hash: str | None = None


@dataclass(frozen=True)
class VerifyReport:
    """Result of :meth:`SnapshotStore.verify`."""

    snapshots_checked: int
    objects_checked: int
    problems: tuple[Problem, ...] = field(default=())
    #: Objects no snapshot refers to (interrupted saves, or a lost index): not a problem by
    #: themselves, but reported so that a deleted index.sqlite is never "ok".
    unindexed: tuple[str, ...] = ()
    #: Temporary files left by interrupted saves: ``(path, size in bytes)``; gc removes them.
    temp_files: tuple[tuple[str, int], ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    @property
    def corrupted_snapshots(self) -> tuple[str, ...]:
        """Ids of the snapshots affected by a problem, sorted."""
        return tuple(sorted({p.snapshot_id for p in self.problems if p.snapshot_id}))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "ok": self.ok,
            "snapshots_checked": self.snapshots_checked,
            "objects_checked": self.objects_checked,
            "corrupted_snapshots": list(self.corrupted_snapshots),
            "problems": [
                {
                    "kind": p.kind,
                    "snapshot_id": p.snapshot_id,
                    "name": p.name,
                    "hash": p.hash,
                    "detail": p.detail,
                }
                for p in self.problems
            ],
            "unindexed_objects": list(self.unindexed),
            "temp_files": [{"path": path, "size": size} for path, size in self.temp_files],
        }

    def to_text(self) -> str:
        """Readable summary, one line per problem."""
        head = (
            f"checked {self.snapshots_checked} snapshot(s), {self.objects_checked} object(s): "
            + ("ok" if self.ok else f"{len(self.problems)} problem(s)")
        )
        lines = [head]
        for p in self.problems:
            where = (p.snapshot_id or "?")[:12] + (f" {p.name}" if p.name else "")
            lines.append(f"  {p.kind}: {where}: {p.detail}")
        if self.unindexed:
            lines.append(f"  note: {len(self.unindexed)} object(s) no snapshot refers to "
                         f"(first {self.unindexed[0][:12]})")
        if self.temp_files:
            size = sum(s for _, s in self.temp_files)
            lines.append(f"  note: {len(self.temp_files)} temporary file(s) of interrupted "
                         f"saves, {size} bytes (`configlab snapshot gc --delete` removes them)")
        return "\n".join(lines)


# -- identity and validation ---------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _timestamp(value: datetime | str, what: str) -> str:
    """Normalise a datetime or ISO string to the stored form (UTC, microseconds)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as error:
            raise SnapshotError(f"{what}: {value!r} is not an ISO 8601 date/time") from error
    if not isinstance(value, datetime):
        raise SnapshotError(f"{what}: expected a datetime or ISO string, got {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _check_name(name: Any) -> str:
    """Validate a file name inside a snapshot: a relative POSIX path that stays inside."""
    if not isinstance(name, str) or not name:
        raise SnapshotError(f"file name must be a non-empty string, got {name!r}")
    return _checked_name(name)


@functools.lru_cache(maxsize=4096)
def _checked_name(name: str) -> str:
    if "\x00" in name or "\\" in name:
        raise SnapshotError(f"file name {name!r} contains a NUL or a backslash")
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":"):
        raise SnapshotError(f"file name {name!r} must be a relative path inside the snapshot")
    normal = path.as_posix()
    if normal in ("", "."):
        raise SnapshotError(f"file name {name!r} names no file")
    return normal


def _check_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not _TAG_RE.fullmatch(tag):
        raise SnapshotError(
            f"invalid tag {tag!r}: 1 to 200 characters, no whitespace or control characters"
        )
    return tag


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _str_list(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    try:
        items = list(value)
    except TypeError as error:
        raise SnapshotError(f"{what}: expected a list of strings, got {value!r}") from error
    for item in items:
        if not isinstance(item, str):
            raise SnapshotError(f"{what}: expected strings, got {item!r}")
    return items


def capture_env(
    allow: Sequence[str],
    allow_secrets: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment variables whose name matches a name or glob in ``allow``.

    Values of variables whose name looks secret (:data:`SECRET_NAME_RE`, or a secret name by
    the :mod:`configlab.redaction` rules: ``DB_PASS``, ``GH_AUTH``, ``CERT_PEM`` ...) become
    :data:`REDACTED` unless the name also matches ``allow_secrets``; a URL password in any other
    value is redacted too.  ``--no-redact`` does not apply here: it is about showing, and a
    secret that reached the store would be in every bundle made from it.
    """
    rules = dataclasses.replace(redaction.current(), enabled=True)
    if not allow:
        return {}
    source = os.environ if environ is None else environ
    selected: dict[str, str] = {}
    for name in sorted(source):
        if not _matches(name, allow):
            continue
        value = source[name]
        if _matches(name, allow_secrets):
            pass
        elif SECRET_NAME_RE.search(name) or rules.is_secret_name(name):
            value = REDACTED
        else:
            value = rules.text(value)
        selected[name] = value
    return selected


def _manifest(
    files: Mapping[str, FileEntry], env: Mapping[str, str], meta: Mapping[str, Any]
) -> str:
    """The canonical manifest text whose SHA-256 is the snapshot id."""
    return canonical_json(
        {
            "version": MANIFEST_VERSION,
            "files": [
                {"name": name, "hash": e.hash, "size": e.size, "format": e.format}
                for name, e in sorted(files.items())
            ],
            "env": dict(env),
            "meta": dict(meta),
        }
    )


def _decode_manifest(
    snapshot_id: str, text: str
) -> tuple[dict[str, FileEntry], dict[str, str], dict[str, Any]]:
    """Parse and check a stored manifest (SnapshotCorruptedError unless it hashes to the id)."""
    if hash_bytes(text.encode("utf-8")) != snapshot_id:
        raise SnapshotCorruptedError(
            f"snapshot {snapshot_id}: index manifest does not match its id"
        )
    try:
        data = json.loads(text)
        files: dict[str, FileEntry] = {}
        for item in data["files"]:
            name, digest, size, fmt = item["name"], item["hash"], item["size"], item["format"]
            if not (
                isinstance(name, str)
                and isinstance(digest, str)
                and is_object_hash(digest)
                and type(size) is int
                and size >= 0
                and (fmt is None or isinstance(fmt, str))
            ):
                raise ValueError(f"malformed file entry {item!r}")
            files[name] = FileEntry(digest, size, fmt)
        env = data["env"]
        meta = data["meta"]
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise ValueError("env must map names to strings")
        if not isinstance(meta, dict):
            raise ValueError("meta must be a mapping")
    except (ValueError, TypeError, KeyError, RecursionError) as error:
        raise SnapshotCorruptedError(
            f"snapshot {snapshot_id}: unreadable manifest: {error}"
        ) from error
    return files, env, meta
