"""Safe file input and output shared by every configlab reader and writer.

Input (:func:`open_input`, :func:`read_bytes`, :func:`read_text`): only regular files are read.
A FIFO, a device (``/dev/zero``, ``/dev/urandom``, including through a symlink), a socket or a
directory is refused before anything is read -- the file is opened with ``O_NONBLOCK`` so that
even a FIFO swapped in after a check cannot block the open -- and whole-file reads are bounded
by ``max_bytes`` (200 MB by default).

Output (:func:`open_output`, :func:`write_output`): the target decides how it is written.

* a regular file or a new path: written to a temporary file beside it, then renamed over it, so
  a reader sees the old content or the whole new content (a symlink is followed: the file it
  points to is replaced, the link stays a link; the old file's permission bits are kept);
* ``-``, a character device (``/dev/null``, ``/dev/full``, a terminal), a FIFO, or an open
  descriptor reached through ``/dev/stdout``/``/dev/fd/N``: written in place, never replaced;
* anything else (a directory, a block device, a socket): refused.

Every failure raises the caller's :class:`~configlab.errors.ConfiglabError` subclass with one
line naming the file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Iterator
from typing import IO

from configlab.errors import ConfiglabError, FormatError

#: Largest file a whole-file read accepts by default (bytes); configs up to 100 MB must load.
DEFAULT_MAX_BYTES = 200 * 1024 * 1024

#: Prefix of the temporary files the atomic writer leaves only when killed mid-write.
TEMP_PREFIX = ".configlab-"
TEMP_SUFFIX = ".tmp"

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """Human name of the file type in ``mode`` (``"a FIFO (named pipe)"``, ``"a directory"``)."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _error(
    error: type[ConfiglabError], where: str | None, message: str, line: int | None = None
) -> ConfiglabError:
    """``error`` for ``message`` about the file ``where`` (a FormatError also carries path/line)."""
    if issubclass(error, FormatError):
        return error(message, path=where, line=line)
    place = where or "<input>"
    return error(f"{place}:{line}: {message}" if line is not None else f"{place}: {message}")


# -- input -----------------------------------------------------------------------------------


def open_input(
    path: str | os.PathLike[str],
    *,
    what: str = "file",
    error: type[ConfiglabError] = FormatError,
) -> IO[bytes]:
    """Open the regular file ``path`` for binary reading, refusing every other kind of file.

    Raises ``error`` naming ``path`` when it is missing, unreadable, a directory, a FIFO, a
    device or a socket -- without blocking and without reading from it.
    """
    where = os.fspath(path)
    try:
        fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise _error(error, where, f"no such {what}") from None
    except IsADirectoryError:
        raise _error(error, where, f"is a directory, expected a {what}") from None
    except OSError as exc:
        raise _error(error, where, f"cannot read {what}: {_reason(exc)}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _error(error, where, f"is {file_kind(mode)}, expected a regular {what}")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(
    path: str | os.PathLike[str],
    *,
    what: str = "file",
    max_bytes: int = DEFAULT_MAX_BYTES,
    error: type[ConfiglabError] = FormatError,
) -> bytes:
    """The content of the regular file ``path``; files over ``max_bytes`` are refused unread."""
    where = os.fspath(path)
    with open_input(where, what=what, error=error) as handle:
        try:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise _error(
                    error, where,
                    f"{what} is {size} bytes, larger than the limit of {max_bytes} bytes",
                )
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise _error(error, where, f"cannot read {what}: {_reason(exc)}") from None
    if len(data) > max_bytes:  # the file grew while being read
        raise _error(error, where, f"{what} is larger than the limit of {max_bytes} bytes")
    return data


def read_text(
    path: str | os.PathLike[str],
    *,
    what: str = "file",
    max_bytes: int = DEFAULT_MAX_BYTES,
    error: type[ConfiglabError] = FormatError,
) -> str:
    """The UTF-8 text of the regular file ``path`` (a BOM is dropped); bad bytes name the line."""
    where = os.fspath(path)
    return decode_utf8(read_bytes(where, what=what, max_bytes=max_bytes, error=error), where,
                       error=error)


def decode_utf8(
    data: bytes, where: str | None, *, error: type[ConfiglabError] = FormatError
) -> str:
    """``data`` decoded as UTF-8 (a leading BOM is dropped); ``error`` naming ``where`` and the
    line of the first bad byte otherwise."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _error(
            error, where,
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", line,
        ) from None


def json_problem(error: Exception) -> str:
    """What is wrong with JSON that ``json.loads`` refused with a ValueError/RecursionError."""
    if isinstance(error, RecursionError):
        return "nested too deeply"
    if "digits" in str(error):
        return "a number has more digits than supported"
    return str(error)


# -- output ----------------------------------------------------------------------------------


def _in_place(where: str) -> bool:
    """Whether ``where`` must be written in place: a device or FIFO, an fd link."""
    try:
        mode = os.stat(where).st_mode
    except OSError:
        return False
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return True
    # /dev/stdout, /dev/fd/N, /proc/self/fd/N: an already open descriptor (a pipe, a terminal
    # or a file the shell opened with `>`); replacing the path would never reach it.
    return os.path.realpath(where).startswith("/proc/")


@contextlib.contextmanager
def _atomic(where: str, what: str, error: type[ConfiglabError],
            parents: bool) -> Iterator[IO[bytes]]:
    target = os.path.realpath(where)  # replace the file a symlink points to, not the link
    directory, name = os.path.split(target)
    try:
        if parents:
            os.makedirs(directory, exist_ok=True)
        old: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        old = None
    except OSError as exc:
        raise _error(error, where, f"cannot write {what}: {_reason(exc)}") from None
    if old is not None and not stat.S_ISREG(old.st_mode):
        raise _error(
            error, where, f"is {file_kind(old.st_mode)}; refusing to write the {what} over it"
        )
    fd, temp = -1, ""
    try:
        for _ in range(100):
            temp = os.path.join(
                directory, f"{TEMP_PREFIX}{name}.{os.urandom(4).hex()}{TEMP_SUFFIX}"
            )
            try:
                # mode 0o666 filtered by the umask, as a plain open() would create it
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover - 100 collisions of 32 random bits
            raise FileExistsError(errno.EEXIST, "no free temporary name", directory)
        if old is not None:
            os.fchmod(fd, stat.S_IMODE(old.st_mode))
    except OSError as exc:
        if fd >= 0:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(temp)
        raise _error(error, where, f"cannot write {what}: {_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(temp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise _error(error, where, f"cannot write {what}: {_reason(exc)}") from None
        raise


@contextlib.contextmanager
def _stdout(where: str, what: str, error: type[ConfiglabError],
            parents: bool) -> Iterator[IO[bytes]]:
    sys.stdout.flush()
    handle: IO[bytes] = sys.stdout.buffer
    try:
        yield handle
        handle.flush()
    except OSError as exc:
        raise _error(error, "<stdout>", f"cannot write {what}: {_reason(exc)}") from None


@contextlib.contextmanager
def _direct(where: str, what: str, error: type[ConfiglabError],
            parents: bool) -> Iterator[IO[bytes]]:
    try:
        handle = open(where, "wb")  # noqa: SIM115 - closed below, errors rewritten
    except OSError as exc:
        raise _error(error, where, f"cannot write {what}: {_reason(exc)}") from None
    try:
        with handle:
            yield handle
    except OSError as exc:
        raise _error(error, where, f"cannot write {what}: {_reason(exc)}") from None


@contextlib.contextmanager
def open_output(
    path: str | os.PathLike[str],
    *,
    what: str = "output file",
    error: type[ConfiglabError] = ConfiglabError,
    parents: bool = True,
) -> Iterator[IO[bytes]]:
    """A binary handle writing ``path`` safely (see the module docstring for the rules).

    A regular file is replaced only when the ``with`` block succeeds; on an error nothing is
    left behind.  ``-`` is standard output.  Missing parent
    directories of a new file are created (every output option of the CLI behaves the same
    way); ``parents=False`` refuses them instead.  OSErrors become ``error`` naming ``path``.
    """
    where = os.fspath(path)
    writer = _stdout if where == "-" else _direct if _in_place(where) else _atomic
    with writer(where, what, error, parents) as handle:
        yield handle


def write_output(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    what: str = "output file",
    error: type[ConfiglabError] = ConfiglabError,
    parents: bool = True,
) -> None:
    """Write ``data`` (str is UTF-8 encoded) to ``path`` by the rules of :func:`open_output`."""
    where = os.fspath(path)
    try:
        payload = data.encode("utf-8") if isinstance(data, str) else data
    except UnicodeEncodeError as exc:
        raise _error(
            error, where, f"cannot write {what}: text is not encodable as UTF-8 ({exc.reason})"
        ) from None
    with open_output(where, what=what, error=error, parents=parents) as handle:
        handle.write(payload)


__all__ = [
    "DEFAULT_MAX_BYTES",
    "TEMP_PREFIX",
    "TEMP_SUFFIX",
    "file_kind",
    "json_problem",
    "open_input",
    "open_output",
    "read_bytes",
    "read_text",
    "write_output",
]
