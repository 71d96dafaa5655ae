"""Config file content: format detection and parsing (configlab.formats), atomic writes."""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from configlab import formats
from configlab.errors import FormatError, SnapshotError


@functools.lru_cache(maxsize=4096)
def _detect_format(name: str) -> str | None:
    try:
        return formats.detect_format(name)
    except FormatError:
        return None


def _parse(data: bytes, fmt: str | None, name: str) -> Any:
    """Parse bytes with configlab.formats; any failure becomes a FormatError naming the file."""
    if fmt is None:
        raise FormatError("format unknown (no codec for this file extension)", path=name)
    try:
        return formats.loads(data, fmt, source=name)
    except FormatError:
        raise
    except Exception as error:  # a codec bug or exotic input must not escape as a bare error
        raise FormatError(
            f"cannot parse as {fmt}: {type(error).__name__}: {error}", path=name
        ) from error


def _parse_error(data: bytes, fmt: str, name: str) -> str | None:
    try:
        _parse(data, fmt, name)
    except FormatError as error:
        return str(error)
    return None


@contextlib.contextmanager
def _atomic_file(
    target: Path, what: str, prefix: str, mode: int | None = None
) -> Iterator[IO[bytes]]:
    """Write ``target`` through a temporary file in its directory, renamed into place on success.

    Readers see the old file or the whole new one; on any failure the temporary file is removed
    and an OSError becomes a SnapshotError naming ``what``.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=prefix)
    except OSError as error:
        raise SnapshotError(f"cannot write {what}: {error}") from error
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(error, OSError):
            raise SnapshotError(f"cannot write {what}: {error}") from error
        raise
