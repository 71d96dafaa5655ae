"""Leftovers of interrupted saves: temporary object files, found by verify and removed by gc.

A writer streams a large object into ``objects/ab/.tmp-XXXX`` and renames it into place; a
writer killed with SIGKILL (or a power cut) leaves the temporary file behind (72 MB seen).  It
is never read and never named by the index, so removing it loses nothing -- once no writer can
still be filling it, hence the grace period.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from configlab.errors import SnapshotError

#: Name prefix of the object store's temporary files.
TEMP_PREFIX = ".tmp-"
#: Temporary files younger than this (seconds) may belong to a running writer: kept.
DEFAULT_GRACE_S = 3600.0


@dataclass(frozen=True)
class TempFile:
    """A temporary file left in the store: its path, size (bytes) and age (seconds)."""

    path: str
    size: int
    age: float


def temp_files(root: Path, now: float | None = None) -> tuple[TempFile, ...]:
    """Every temporary file under ``root/objects``, sorted by path."""
    moment = time.time() if now is None else now
    objects = root / "objects"
    found: list[TempFile] = []
    if objects.is_dir():
        for sub in sorted(objects.iterdir()):
            if not sub.is_dir():
                continue
            for item in sorted(sub.iterdir()):
                if item.name.startswith(TEMP_PREFIX):
                    info = item.lstat()
                    found.append(TempFile(str(item), info.st_size, moment - info.st_mtime))
    return tuple(found)


@dataclass(frozen=True)
class GcReport:
    """What :func:`remove_temp_files` removed (or, in a dry run, would remove) and kept."""

    removed: tuple[TempFile, ...]
    kept: tuple[TempFile, ...]
    dry_run: bool

    def to_text(self) -> str:
        """One summary line (plus a dry-run hint)."""
        freed = sum(t.size for t in self.removed)
        verb = "would remove" if self.dry_run else "removed"
        text = (f"{verb} {len(self.removed)} temporary file(s) ({freed} bytes); kept "
                f"{len(self.kept)} younger than the grace period")
        if self.dry_run and self.removed:
            text += "\ndry run: nothing removed (pass --delete to remove them)"
        return text


def remove_temp_files(root: Path, *, dry_run: bool = True, grace: float = DEFAULT_GRACE_S,
                      now: float | None = None) -> GcReport:
    """Remove the temporary files of ``root`` older than ``grace`` seconds (unless dry run)."""
    if grace < 0:
        raise SnapshotError(f"grace must be >= 0 seconds, got {grace}")
    found = temp_files(root, now)
    old = tuple(t for t in found if t.age >= grace)
    if not dry_run:
        for item in old:
            with contextlib.suppress(FileNotFoundError):  # a concurrent gc got it first
                os.unlink(item.path)
    return GcReport(old, tuple(t for t in found if t.age < grace), dry_run)


__all__ = ["DEFAULT_GRACE_S", "TEMP_PREFIX", "GcReport", "TempFile", "remove_temp_files",
           "temp_files"]
