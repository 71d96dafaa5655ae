"""Snapshot store: capture, store and recreate exact configuration states.

A :class:`Snapshot` is an immutable record of a set of named config files (their exact bytes),
selected environment variables (secrets redacted) and free-form metadata.  Its id is the SHA-256
of a canonical manifest of file hashes + env + meta, so saving the same state twice yields the
same id and stores nothing new.  File contents live in a content-addressed object store
(zstd compressed, hash verified on every read): small ones inline in the index, written in the
same transaction as the snapshot, larger ones under ``<store>/objects``; the index is a SQLite
database (``<store>/index.sqlite``, WAL) that other modules may extend through
:func:`open_index`.

Example::

    store = SnapshotStore(".configlab")
    snap = store.capture(files=["app.yaml"], env=["APP_*"], meta={"test_id": "t1"}, tags=["ci"])
    store.read_tree(snap, "app.yaml")
    store.restore(snap.id, "/tmp/repro")
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, cast

from configlab import formats, storage, treediff
from configlab._internal import safeio
from configlab._internal.canonical import canonical_json, loads_standard
from configlab._internal.objectstore import (
    INLINE_MAX,
    IndexConnection,
    ObjectState,
    ObjectStore,
    StagedObject,
    StoredObject,
    ThreadConnections,
    hash_bytes,
    is_object_hash,
)
from configlab.errors import (
    FormatError,
    SnapshotCorruptedError,
    SnapshotError,
    SnapshotNotFoundError,
)
from configlab.snapshots._bundle import read_bundle, write_bundle
from configlab.snapshots._files import _atomic_file, _detect_format, _parse, _parse_error
from configlab.snapshots._index import (
    _created_problem,
    _ensure_schema,
    _insert_snapshot,
    _meta_rows,
    _snapshot,
)
from configlab.snapshots._model import (
    MIN_PREFIX,
    FileEntry,
    FileSource,
    Problem,
    Snapshot,
    VerifyReport,
    _check_name,
    _check_tag,
    _decode_manifest,
    _manifest,
    _now,
    _str_list,
    _timestamp,
    capture_env,
)
from configlab.snapshots._tidy import temp_files
from configlab.storage import StoreLocation

#: Files at least this large are streamed into the object store instead of read whole.
STREAM_MIN = 8 * 1024 * 1024

_HEX_RE = re.compile(r"[0-9a-f]+")


class SnapshotStore:
    """A snapshot store rooted at ``path`` (default ``.configlab``; created on first use).

    Files smaller than ``inline_max`` bytes (default 64 KiB) are kept inline in the index,
    written in the same transaction as the snapshot's rows; larger ones are object files.
    ``durable=False`` skips the fsync of each new object *file* (faster; a power cut may then
    lose recently saved content, a killed process still cannot leave a half snapshot).
    Safe for many processes at once; within a process each thread gets its own connection.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | StoreLocation = ".configlab",
        *,
        durable: bool = True,
        inline_max: int = INLINE_MAX,
        objects: str | None = None,
    ) -> None:
        self.location = storage.resolve(path, objects, environ={})
        self.root = self.location.root
        self._connections = ThreadConnections(self._open)
        self._missing_tables: tuple[str, ...] = ()
        self.objects = ObjectStore(
            self.root,
            durable=durable,
            index=self._conn,
            inline_max=self.location.inline_max(inline_max),
            files=self.location.object_files(durable=durable),
        )

    def __repr__(self) -> str:
        return f"SnapshotStore({str(self.location)!r})"

    # -- database ----------------------------------------------------------------------------

    def _conn(self) -> IndexConnection:
        return self._connections.get()

    def _open(self) -> IndexConnection:
        conn = self.location.connect()
        try:
            self._missing_tables = _ensure_schema(conn)
        except sqlite3.Error as error:
            conn.close()
            raise SnapshotError(
                f"snapshot index {self.location.index_display}: {error}"
            ) from error
        return conn

    @contextlib.contextmanager
    def _db(self) -> Iterator[IndexConnection]:
        """The connection, with index errors turned into SnapshotError."""
        try:
            yield self._conn()
        except sqlite3.Error as error:
            where = self.location.index_display
            if self._missing_tables:
                raise SnapshotCorruptedError(
                    f"snapshot index {where}: table(s) {', '.join(self._missing_tables)} missing:"
                    f" the store is damaged (see `configlab snapshot verify`): {error}"
                ) from error
            raise SnapshotError(f"snapshot index {where}: {error}") from error

    @contextlib.contextmanager
    def _write(self) -> Iterator[IndexConnection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        with self._db() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's index connection (the store reopens it when used again)."""
        self._connections.close()

    def __enter__(self) -> SnapshotStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- saving ------------------------------------------------------------------------------

    def _store_file(
        self, name: str, source: bytes | Path, check: bool, fmt: str | None
    ) -> tuple[FileEntry, StagedObject | None]:
        """Store one file's content (small content is only staged: the caller records it)."""
        if fmt is None:
            fmt = _detect_format(name)
        staged: StagedObject | None = None
        if isinstance(source, bytes):
            staged = self.objects.stage(source)
            stored = StoredObject(staged.hash, staged.size)
            data: bytes | None = source
        else:
            try:
                # regular files only: a FIFO or /dev/zero is refused, never read
                with safeio.open_input(source, what="config file", error=SnapshotError) as handle:
                    size = os.fstat(handle.fileno()).st_size
                    if size >= STREAM_MIN:
                        stored = self.objects.put_stream(handle, size)
                        data = None
                    else:
                        data = handle.read()
                        staged = self.objects.stage(data)
                        stored = StoredObject(staged.hash, staged.size)
            except OSError as error:
                raise SnapshotError(f"cannot read config file {source}: {error}") from error
        error_text = None
        if check and fmt is not None:
            if data is None:
                data = self.objects.get_bytes(stored.hash, stored.size)
            error_text = _parse_error(data, fmt, name)
        return FileEntry(stored.hash, stored.size, fmt, error_text), staged

    def capture(
        self,
        files: Iterable[FileSource] = (),
        env: Sequence[str] = (),
        meta: Mapping[str, Any] | None = None,
        tags: Sequence[str] = (),
        *,
        allow_secrets: Sequence[str] = (),
        environ: Mapping[str, str] | None = None,
        check: bool = True,
        formats: Mapping[str, str] | None = None,
    ) -> Snapshot:
        """Capture config files, environment variables and metadata as a snapshot.

        ``files``: paths (named by their relative path, or base name when absolute or outside
        the working tree), or ``(name, bytes | str | path)`` pairs.  ``env``: allow-list of
        variable names or glob patterns (values read from ``environ``, default ``os.environ``;
        secret-looking names redacted unless matched by ``allow_secrets``).  ``meta``: any
        JSON-serialisable mapping (conventional keys: ``test_id``, ``run_id``, ``seed``,
        ``space_hash``, ``labels``).  ``check``: parse each file now to record parse errors
        (the bytes are stored either way).  ``formats``: name -> format overriding detection by
        extension.  Returns the snapshot; capturing an identical state again returns the same
        snapshot (its original ``created``) and only adds the new tags.
        """
        overrides = dict(formats or {})
        sources: dict[str, bytes | Path] = {}
        if isinstance(files, (str, bytes, os.PathLike)):
            raise SnapshotError("files must be a list of paths or (name, content) pairs")
        for item in files:
            name, source = self._source(item)
            if name in sources:
                raise SnapshotError(f"two files are named {name!r} in one snapshot")
            sources[name] = source
        env_values = capture_env(
            _str_list(env, "env"), _str_list(allow_secrets, "allow_secrets"), environ
        )
        meta_values = self._check_meta(meta)
        tag_list = [_check_tag(t) for t in _str_list(tags, "tags")]
        entries: dict[str, FileEntry] = {}
        staged: list[StagedObject] = []
        for name in sorted(sources):
            entries[name], pending = self._store_file(
                name, sources[name], check, overrides.get(name)
            )
            if pending is not None:
                staged.append(pending)
        return self._record(entries, env_values, meta_values, tag_list, staged=staged)

    def save_config(
        self,
        tree: Mapping[str, Any],
        name: str,
        fmt: str | None = None,
        meta: Mapping[str, Any] | None = None,
        tags: Sequence[str] = (),
    ) -> Snapshot:
        """Save a generated config tree as a one-file snapshot, serialised with formats.dumps.

        ``fmt`` defaults to the format of ``name``'s extension.
        """
        name, fmt, data = self._config_file(tree, name, fmt)
        return self.capture(
            files=[(name, data)],
            meta=meta,
            tags=tags,
            check=False,
            formats={name: fmt},
        )

    def config_id(
        self,
        tree: Mapping[str, Any],
        name: str,
        fmt: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> str:
        """The snapshot id :meth:`save_config` gives these arguments, computed without storing.

        Tags are not part of a snapshot's identity, so they are not needed here.
        """
        name, fmt, data = self._config_file(tree, name, fmt)
        entry = FileEntry(hash_bytes(data), len(data), fmt)
        manifest = _manifest({name: entry}, {}, self._check_meta(meta))
        return hash_bytes(manifest.encode("utf-8"))

    def find_config(
        self,
        tree: Mapping[str, Any],
        name: str,
        fmt: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> str | None:
        """The id of the snapshot :meth:`save_config` would write, if it is already stored.

        None when it is not: lets a caller that saves the same config on every rerun skip the
        write (and keep the original ``created``).
        """
        snapshot_id = self.config_id(tree, name, fmt, meta)
        with self._db() as conn:
            row = conn.execute("SELECT 1 FROM snapshots WHERE id = ?", (snapshot_id,)).fetchone()
        return snapshot_id if row else None

    @staticmethod
    def _config_file(
        tree: Mapping[str, Any], name: str, fmt: str | None
    ) -> tuple[str, str, bytes]:
        """``(checked name, format, bytes)`` of a config tree saved as file ``name``."""
        name = _check_name(name)
        if fmt is None:
            fmt = _detect_format(name)
            if fmt is None:
                raise SnapshotError(f"cannot tell the format of {name!r}: pass fmt=")
        text = formats.dumps(dict(tree), fmt)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise FormatError(
                f"cannot write {fmt}: text is not encodable as UTF-8 ({error.reason})", path=name
            ) from error
        return name, fmt, data

    @staticmethod
    def _source(item: Any) -> tuple[str, bytes | Path]:
        if isinstance(item, tuple):
            if len(item) != 2:
                raise SnapshotError(f"file entry {item!r}: expected (name, content)")
            name = _check_name(item[0])
            content = item[1]
            if isinstance(content, bytes):
                return name, content
            if isinstance(content, str):
                return name, content.encode("utf-8")
            if isinstance(content, os.PathLike):
                return name, Path(content)
            raise SnapshotError(f"file {name!r}: content must be bytes, str or a path")
        if isinstance(item, (str, os.PathLike)):
            path = Path(item)
            posix = PurePosixPath(path.as_posix())
            outside = path.is_absolute() or ".." in posix.parts
            name = path.name if outside else posix.as_posix()
            return _check_name(name), path
        raise SnapshotError(f"file entry {item!r}: expected a path or (name, content)")

    @staticmethod
    def _check_meta(meta: Mapping[str, Any] | None) -> dict[str, Any]:
        if meta is None:
            return {}
        if not isinstance(meta, Mapping):
            raise SnapshotError(f"meta must be a mapping, got {type(meta).__name__}")
        try:
            checked = loads_standard(canonical_json(dict(meta)))
        except (TypeError, ValueError) as error:
            raise SnapshotError(
                f"meta must be JSON-serialisable with string keys: {error}"
            ) from error
        if any(not isinstance(key, str) for key in meta):
            raise SnapshotError("meta keys must be strings")
        return cast(dict[str, Any], checked)

    def _record(
        self,
        files: Mapping[str, FileEntry],
        env: Mapping[str, str],
        meta: Mapping[str, Any],
        tags: Sequence[str],
        *,
        staged: Sequence[StagedObject] = (),
    ) -> Snapshot:
        """Insert one snapshot's inline objects and index rows in one transaction.

        Objects stored as files are already in place; ``staged`` inline objects are inserted
        here, so the snapshot and its content appear together or not at all.
        """
        manifest = _manifest(files, env, meta)
        snapshot_id = hash_bytes(manifest.encode("utf-8"))
        now = _now()
        with self._write() as conn:
            self.objects.insert_staged(conn, staged)
            inserted = _insert_snapshot(conn, snapshot_id, now, manifest, files, meta)
            for tag in tags:
                conn.execute(
                    "INSERT OR REPLACE INTO snapshot_tags (tag, snapshot_id, tagged)"
                    " VALUES (?, ?, ?)",
                    (tag, snapshot_id, now),
                )
            if inserted:  # a new snapshot: its rows are the ones just written
                all_tags = [
                    str(row[0])
                    for row in conn.execute(
                        "SELECT tag FROM snapshot_tags WHERE snapshot_id = ? ORDER BY tag",
                        (snapshot_id,),
                    )
                ]
        if inserted:  # built from what was just written (capture passes canonical, fresh meta)
            return Snapshot(
                id=snapshot_id,
                files=MappingProxyType({name: files[name] for name in sorted(files)}),
                env=MappingProxyType(dict(sorted(env.items()))),
                meta=MappingProxyType(dict(meta)),
                tags=tuple(all_tags),
                created=now,
            )
        return self._load("s.id = ?", (snapshot_id,))[0]

    # -- lookup ------------------------------------------------------------------------------

    def resolve(self, ref: Snapshot | str) -> str:
        """Full id for a snapshot, full id, tag or unique id prefix (>= 6 hex digits).

        A full id wins, then a tag (the snapshot most recently given that tag), then a prefix.
        """
        if isinstance(ref, Snapshot):
            return ref.id
        if not isinstance(ref, str) or not ref:
            raise SnapshotError(f"a snapshot id, tag or id prefix is needed, got {ref!r}")
        with self._db() as conn:
            lowered = ref.lower()
            if len(lowered) == 64 and is_object_hash(lowered):
                if conn.execute("SELECT 1 FROM snapshots WHERE id = ?", (lowered,)).fetchone():
                    return lowered
                raise SnapshotNotFoundError(f"no snapshot with id {ref}")
            row = conn.execute(
                "SELECT t.snapshot_id FROM snapshot_tags t JOIN snapshots s ON s.id = t.snapshot_id"
                " WHERE t.tag = ? ORDER BY t.tagged DESC, s.created DESC, s.id DESC LIMIT 1",
                (ref,),
            ).fetchone()
            if row:
                return str(row[0])
            if _HEX_RE.fullmatch(lowered):
                if len(lowered) < MIN_PREFIX:
                    raise SnapshotNotFoundError(
                        f"no tag {ref!r}, and an id prefix needs at least {MIN_PREFIX} hex digits"
                    )
                rows = conn.execute(
                    "SELECT id FROM snapshots WHERE id >= ? AND id < ? ORDER BY id LIMIT 5",
                    (lowered, lowered + "g"),
                ).fetchall()
                if len(rows) == 1:
                    return str(rows[0][0])
                if rows:
                    shown = ", ".join(str(r[0])[:12] for r in rows)
                    raise SnapshotError(f"id prefix {ref!r} is ambiguous: {shown}")
        raise SnapshotNotFoundError(f"no snapshot with id, tag or id prefix {ref!r}")

    def get(self, ref: Snapshot | str) -> Snapshot:
        """The snapshot for a full id, tag or unique id prefix (its manifest verified)."""
        snapshot_id = self.resolve(ref)
        found = self._load("s.id = ?", (snapshot_id,))
        if not found:  # pragma: no cover - resolve just found it and snapshots are never deleted
            raise SnapshotNotFoundError(f"no snapshot with id {snapshot_id}")
        return found[0]

    def _load(
        self,
        where: str,
        params: Sequence[Any],
        on_corrupted: Callable[[str, SnapshotCorruptedError], None] | None = None,
    ) -> list[Snapshot]:
        """Snapshots whose row matches ``where`` (alias ``s``), ordered by creation time.

        A row whose manifest does not check raises SnapshotCorruptedError, or, with
        ``on_corrupted``, is left out and passed to ``on_corrupted(id, error)``.
        """
        with self._db() as conn:
            conn.execute("BEGIN")  # one consistent read snapshot across the three queries
            try:
                rows = conn.execute(
                    f"SELECT s.id, s.created, s.manifest FROM snapshots s WHERE {where}"
                    " ORDER BY s.created, s.id",
                    params,
                ).fetchall()
                errors: dict[tuple[str, str], str | None] = {}
                tags: dict[str, list[str]] = {}
                if rows:
                    sub = f"SELECT s.id FROM snapshots s WHERE {where}"
                    for sid, name, parse_error in conn.execute(
                        f"SELECT snapshot_id, name, parse_error FROM snapshot_files"
                        f" WHERE snapshot_id IN ({sub})",
                        params,
                    ):
                        errors[(sid, name)] = parse_error
                    for sid, tag in conn.execute(
                        f"SELECT snapshot_id, tag FROM snapshot_tags WHERE snapshot_id IN ({sub})"
                        " ORDER BY tag",
                        params,
                    ):
                        tags.setdefault(sid, []).append(tag)
            finally:
                conn.execute("COMMIT")
        if on_corrupted is None:
            return [
                _snapshot(sid, created, manifest, errors, tags) for sid, created, manifest in rows
            ]
        found: list[Snapshot] = []
        for sid, created, manifest in rows:
            try:
                found.append(_snapshot(sid, created, manifest, errors, tags))
            except SnapshotCorruptedError as error:
                on_corrupted(sid, error)
        return found

    def find(
        self,
        tag: str | None = None,
        meta: Mapping[str, Any] | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        *,
        on_corrupted: Callable[[str, SnapshotCorruptedError], None] | None = None,
    ) -> list[Snapshot]:
        """Snapshots matching every given criterion, oldest first.

        ``meta``: ``{key: value}`` pairs that must all equal the snapshot's meta; keys may be
        dotted paths into nested meta (``labels.team``).  ``since`` (inclusive) and ``until``
        (exclusive) bound the creation time; naive datetimes are taken as UTC.

        A damaged snapshot (its index manifest does not match its id) is left out, so the others
        can still be listed: it is passed to ``on_corrupted(snapshot_id, error)``, or by default
        reported with a :class:`RuntimeWarning`.  Reading that snapshot (:meth:`get`) still
        raises SnapshotCorruptedError and :meth:`verify` reports it.
        """
        clauses: list[str] = []
        params: list[Any] = []
        if tag is not None:
            clauses.append("s.id IN (SELECT snapshot_id FROM snapshot_tags WHERE tag = ?)")
            params.append(tag)
        if meta is not None:
            if not isinstance(meta, Mapping):
                raise SnapshotError(f"meta must be a mapping, got {type(meta).__name__}")
            for key, value in meta.items():
                try:
                    encoded = canonical_json(value)
                    loads_standard(encoded)  # stored meta is standard JSON: NaN matches nothing
                except (TypeError, ValueError) as error:
                    raise SnapshotError(f"meta {key!r}: value is not JSON: {error}") from error
                clauses.append(
                    "s.id IN (SELECT snapshot_id FROM snapshot_meta WHERE key = ? AND value = ?)"
                )
                params.extend([str(key), encoded])
        if since is not None:
            clauses.append("s.created >= ?")
            params.append(_timestamp(since, "since"))
        if until is not None:
            clauses.append("s.created < ?")
            params.append(_timestamp(until, "until"))
        return self._load(" AND ".join(clauses) or "1", params, on_corrupted or _warn_corrupted)

    # -- tags --------------------------------------------------------------------------------

    def tag(self, ref: Snapshot | str, tag: str) -> Snapshot:
        """Give ``tag`` to a snapshot (a tag names the snapshot most recently given it)."""
        tag = _check_tag(tag)
        snapshot_id = self.resolve(ref)
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO snapshot_tags (tag, snapshot_id, tagged) VALUES (?, ?, ?)",
                (tag, snapshot_id, _now()),
            )
        return self.get(snapshot_id)

    def untag(self, ref: Snapshot | str, tag: str) -> Snapshot:
        """Remove ``tag`` from a snapshot; SnapshotError when it does not carry it."""
        snapshot_id = self.resolve(ref)
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM snapshot_tags WHERE tag = ? AND snapshot_id = ?", (tag, snapshot_id)
            )
            removed = cursor.rowcount
        if not removed:
            raise SnapshotError(f"snapshot {snapshot_id[:12]} has no tag {tag!r}")
        return self.get(snapshot_id)

    # -- reading -----------------------------------------------------------------------------

    def _entry(self, ref: Snapshot | str, name: str | None) -> tuple[Snapshot, str, FileEntry]:
        snapshot = ref if isinstance(ref, Snapshot) else self.get(ref)
        if name is None:
            if len(snapshot.files) != 1:
                raise SnapshotError(
                    f"snapshot {snapshot.short_id} has {len(snapshot.files)} files: name one of "
                    f"{sorted(snapshot.files)}"
                )
            name = next(iter(snapshot.files))
        entry = snapshot.files.get(name)
        if entry is None:
            raise SnapshotError(
                f"snapshot {snapshot.short_id} has no file {name!r}"
                f" (files: {sorted(snapshot.files)})"
            )
        return snapshot, name, entry

    def read_bytes(self, snapshot: Snapshot | str, name: str | None = None) -> bytes:
        """The exact bytes of file ``name`` (may be omitted for one-file snapshots).

        The content hash is verified: damaged data raises SnapshotCorruptedError.
        """
        snap, name, entry = self._entry(snapshot, name)
        try:
            return self.objects.get_bytes(entry.hash, entry.size)
        except SnapshotCorruptedError as error:
            raise SnapshotCorruptedError(f"snapshot {snap.id} file {name!r}: {error}") from error

    def read_tree(self, snapshot: Snapshot | str, name: str | None = None) -> dict[str, Any]:
        """The parsed tree of file ``name`` (configlab.formats, by the recorded format).

        Raises FormatError when the file cannot be parsed; the error is recorded in the index.
        """
        snap, name, entry = self._entry(snapshot, name)
        try:
            data, confirm = self.objects.get_bytes_deferred(entry.hash, entry.size)
        except SnapshotCorruptedError as error:
            raise SnapshotCorruptedError(f"snapshot {snap.id} file {name!r}: {error}") from error

        def confirmed() -> None:  # the hash (checked while parsing) before any result
            try:
                confirm()
            except SnapshotCorruptedError as error:
                raise SnapshotCorruptedError(
                    f"snapshot {snap.id} file {name!r}: {error}"
                ) from error

        try:
            tree = cast(dict[str, Any], _parse(data, entry.format, name))
        except FormatError as error:
            confirmed()  # damaged content is reported as such, not as a parse error
            if entry.format is not None and entry.parse_error is None:
                with self._write() as conn:
                    conn.execute(
                        "UPDATE snapshot_files SET parse_error = ? WHERE hash = ? AND format = ?",
                        (str(error), entry.hash, entry.format),
                    )
            raise
        confirmed()
        return tree

    def restore(self, ref: Snapshot | str, target_dir: str | os.PathLike[str]) -> list[Path]:
        """Write every file of a snapshot under ``target_dir`` byte for byte; return the paths.

        Names that would land outside ``target_dir`` (through ``..`` or symlinks) are refused
        before anything is written.  Each file is verified, then renamed into place atomically.
        """
        snapshot = ref if isinstance(ref, Snapshot) else self.get(ref)
        target = Path(target_dir)
        try:
            target.mkdir(parents=True, exist_ok=True)
            base = target.resolve()
        except OSError as error:
            raise SnapshotError(f"cannot create restore directory {target}: {error}") from error
        plan: list[tuple[str, Path, FileEntry]] = []
        for name, entry in sorted(snapshot.files.items()):
            destination = (base / _check_name(name)).resolve()
            if not destination.is_relative_to(base):
                raise SnapshotError(f"refusing to write {name!r} outside {target}")
            plan.append((name, destination, entry))
        written: list[Path] = []
        for name, destination, entry in plan:
            with _atomic_file(destination, str(destination), ".configlab-", mode=0o644) as handle:
                try:
                    self.objects.copy_to(entry.hash, handle, entry.size)
                except SnapshotCorruptedError as error:
                    raise SnapshotCorruptedError(
                        f"snapshot {snapshot.id} file {name!r}: {error}"
                    ) from error
            written.append(destination)
        return written

    def diff(
        self, a: Snapshot | str, b: Snapshot | str, name: str | None = None
    ) -> treediff.TreeDiff:
        """Structural diff of two snapshots' configs (see :mod:`configlab.treediff`).

        With ``name``: that file in both.  Without, when both hold exactly one file: those two
        files (whatever their names and formats).  Otherwise a tree ``{file name: config}`` of
        all files, so a file added or removed is one entry.  A file that cannot be parsed is
        compared as its text.
        """
        with treediff.gc_paused():  # two large parsed trees at once: no collector passes
            return self._diff(a, b, name)

    def _diff(self, a: Snapshot | str, b: Snapshot | str, name: str | None) -> treediff.TreeDiff:
        old = self.get(a)
        new = self.get(b)
        if name is not None:
            self._entry(old, name)
            self._entry(new, name)
            return treediff.diff(self._diff_tree(old, name), self._diff_tree(new, name))
        if len(old.files) == 1 and len(new.files) == 1:
            (old_name,), (new_name,) = old.files, new.files
            return treediff.diff(self._diff_tree(old, old_name), self._diff_tree(new, new_name))
        old_tree: dict[str, Any] = {}
        new_tree: dict[str, Any] = {}
        for file_name in sorted(set(old.files) | set(new.files)):
            in_old, in_new = old.files.get(file_name), new.files.get(file_name)
            if in_old is not None and in_new is not None and in_old.hash == in_new.hash:
                continue
            if in_old is not None:
                old_tree[file_name] = self._diff_tree(old, file_name)
            if in_new is not None:
                new_tree[file_name] = self._diff_tree(new, file_name)
        return treediff.diff(old_tree, new_tree)

    def _diff_tree(self, snapshot: Snapshot, name: str) -> Any:
        try:
            return self.read_tree(snapshot, name)
        except FormatError:
            return self.read_bytes(snapshot, name).decode("utf-8", errors="replace")

    # -- bundles -----------------------------------------------------------------------------

    def export(self, ids: Iterable[Snapshot | str], bundle_path: str | os.PathLike[str]) -> Path:
        """Write the snapshots ``ids`` and their objects to one portable bundle file.

        The bundle is a zstd-compressed tar: ``manifest.json`` (snapshots, object hashes and
        sizes) followed by ``objects/<sha256>`` members holding each file's exact bytes.  Object
        contents are verified while they are copied.
        """
        if isinstance(ids, (str, Snapshot)):
            ids = [ids]
        snapshots = {s.id: s for s in (self.get(ref) for ref in ids)}
        if not snapshots:
            raise SnapshotError("export needs at least one snapshot")
        ordered = [snapshots[sid] for sid in sorted(snapshots)]
        return write_bundle(ordered, self.objects, Path(bundle_path))

    def import_(self, bundle_path: str | os.PathLike[str]) -> list[str]:
        """Import a bundle written by :meth:`export`; return the ids of its snapshots.

        Every object is verified against its hash and every snapshot id against its manifest
        before any index row is written; unsafe members (absolute paths, ``..``, links,
        devices) and unknown members raise SnapshotError.  Importing again is a no-op.
        """
        manifest = read_bundle(Path(bundle_path), self.objects)
        ids: list[str] = []
        with self._write() as conn:
            for sid, created, tags, files, _env, meta, text in manifest:
                _insert_snapshot(conn, sid, created, text, files, meta)
                for tag in tags:
                    conn.execute(
                        "INSERT OR IGNORE INTO snapshot_tags (tag, snapshot_id, tagged)"
                        " VALUES (?, ?, ?)",
                        (tag, sid, created),
                    )
                ids.append(sid)
        return ids

    # -- verification ------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Check every object (hash recomputed) and every index row.

        Reports missing, truncated or corrupted objects and index rows that disagree with a
        snapshot's manifest, by snapshot id.  Never raises on damaged data.
        """
        problems: list[Problem] = []
        expected_files: dict[tuple[str, str], FileEntry] = {}
        expected_meta: dict[str, dict[str, str]] = {}
        local = not self.location.is_postgres
        index_missing = local and not (self.root / "index.sqlite").exists()  # before _db()
        with self._db() as conn:
            missing = self._missing_tables

            def rows(table: str, sql: str) -> list[Any]:
                return [] if table in missing else conn.execute(sql).fetchall()

            conn.execute("BEGIN")
            try:
                snapshot_rows = rows(
                    "snapshots", "SELECT id, created, manifest FROM snapshots ORDER BY id"
                )
                file_rows = rows(
                    "snapshot_files",
                    "SELECT snapshot_id, name, hash, size, format FROM snapshot_files"
                    " ORDER BY snapshot_id, name",
                )
                meta_rows = rows(
                    "snapshot_meta",
                    "SELECT snapshot_id, key, value FROM snapshot_meta ORDER BY snapshot_id, key",
                )
                tag_rows = rows(
                    "snapshot_tags",
                    "SELECT tag, snapshot_id FROM snapshot_tags ORDER BY tag, snapshot_id",
                )
            finally:
                conn.execute("COMMIT")
        for table in missing:
            problems.append(
                Problem("index", None, f"index table {table} is missing: its rows are lost")
            )
        known: set[str] = set()
        for sid, created, manifest in snapshot_rows:
            known.add(sid)
            wrong_created = _created_problem(created)
            if wrong_created is not None:
                problems.append(Problem("index", sid, wrong_created))
            try:
                files, _env, meta = _decode_manifest(sid, manifest)
            except SnapshotCorruptedError as error:
                problems.append(Problem("index", sid, str(error)))
                continue
            for name, entry in files.items():
                expected_files[(sid, name)] = entry
            expected_meta[sid] = _meta_rows(meta)
        seen_files: set[tuple[str, str]] = set()
        for sid, name, digest, size, fmt in file_rows:
            seen_files.add((sid, name))
            if sid not in known:
                problems.append(
                    Problem("index", sid, "file row of an unknown snapshot", name, digest)
                )
                continue
            expected = expected_files.get((sid, name))
            if expected is None:
                if sid in expected_meta:
                    problems.append(
                        Problem("index", sid, "file row not in the manifest", name, digest)
                    )
            elif (expected.hash, expected.size, expected.format) != (digest, size, fmt):
                problems.append(
                    Problem("index", sid, "file row disagrees with the manifest", name, digest)
                )
        for (sid, name), entry in sorted(expected_files.items()):
            if (sid, name) not in seen_files:
                problems.append(Problem("index", sid, "file row missing", name, entry.hash))
        actual_meta: dict[str, dict[str, str]] = {}
        for sid, key, value in meta_rows:
            actual_meta.setdefault(sid, {})[key] = value
        for sid in sorted(set(actual_meta) | set(expected_meta)):
            if sid not in known:
                problems.append(Problem("index", sid, "meta rows of an unknown snapshot"))
            elif sid in expected_meta and actual_meta.get(sid, {}) != expected_meta[sid]:
                problems.append(Problem("index", sid, "meta rows disagree with the manifest"))
        for tag, sid in tag_rows:
            if sid not in known:
                problems.append(Problem("index", sid, f"tag {tag!r} names an unknown snapshot"))
        by_object: dict[tuple[str, int], list[tuple[str, str]]] = {}
        for (sid, name), entry in sorted(expected_files.items()):
            by_object.setdefault((entry.hash, entry.size), []).append((sid, name))
        for (digest, size), users in sorted(by_object.items()):
            state: ObjectState
            try:
                state, detail = self.objects.check(digest, size)
            except SnapshotError as error:  # the object index itself is gone
                state, detail = "missing", str(error)
            if state != "ok":
                for sid, name in users:
                    problems.append(Problem(state, sid, detail, name, digest))
        referenced = {digest for digest, _ in by_object}
        try:
            unindexed = tuple(d for d in self.objects.iter_hashes() if d not in referenced)
        except SnapshotError:  # the object index table itself is gone: reported above
            unindexed = ()
        if index_missing:
            problems.append(Problem("index", None, "index.sqlite is missing: the snapshots "
                                    f"are lost, {len(unindexed)} object(s) left unindexed"))
        temps = tuple((t.path, t.size) for t in temp_files(self.root)) if local else ()
        return VerifyReport(len(snapshot_rows), len(by_object), tuple(problems), unindexed, temps)

    def list(
        self,
        tag: str | None = None,
        *,
        on_corrupted: Callable[[str, SnapshotCorruptedError], None] | None = None,
    ) -> list[Snapshot]:
        """Every snapshot (or those carrying ``tag``), oldest first.

        Damaged snapshots are left out and reported as in :meth:`find`.
        """
        return self.find(tag=tag, on_corrupted=on_corrupted)


# -- module-level helpers used by the store ---------------------------------------------------


def _warn_corrupted(snapshot_id: str, error: SnapshotCorruptedError) -> None:
    """Default ``on_corrupted`` of :meth:`SnapshotStore.find`: a RuntimeWarning."""
    warnings.warn(f"skipped damaged snapshot {snapshot_id}: {error}", RuntimeWarning, stacklevel=4)


__all__ = [
    "MIN_PREFIX",
    "SnapshotStore",
]
