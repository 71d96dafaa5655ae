"""Execution monitor: what a debugger needs to know about one test execution.

A :class:`Monitor` measures one execution happening in this process (the pytest plugin wraps
each test call in one); :func:`run_command` runs any command as a child process and measures
it (``configlab run -- CMD``).  Both produce an :class:`Execution`:

* wall-clock and CPU time (user + system, of the process and the children it waited for);
* peak resident memory (``resource.getrusage`` ``ru_maxrss`` of the process and of its
  children; for :func:`run_command`, of the command and its descendants);
* the exit status (commands only);
* a SHA-256 fingerprint of every watched config file at the start and at the end — a file
  whose fingerprint changed is reported as *drift* (the application, or the test, rewrote its
  own configuration while it ran, so the recorded config may not be the one it ended with).

Example::

    with Monitor(["app.yaml"]) as mon:
        run_the_test()
    mon.execution.metrics()   # {"wall_s": .., "cpu_s": .., "peak_rss_mb": .., ...}
    mon.execution.drifted     # ("app.yaml",) if the test changed app.yaml

    execution = run_command(["./app", "--selftest"], config_files=["app.yaml"])
    execution.exit_status     # 0
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from configlab.errors import IntegrationError
from configlab.execution import run_process

if sys.platform != "win32":
    import resource

#: Fingerprint of a watched file that does not exist.
MISSING: Final = None
#: Prefix of the fingerprint of a watched file that exists but cannot be read.
UNREADABLE: Final = "unreadable:"
#: Bytes per unit of ``ru_maxrss`` (kilobytes on Linux, bytes on macOS).
RSS_UNIT: Final = 1 if sys.platform == "darwin" else 1024
_MB: Final = 1024.0 * 1024.0

Fingerprint = Mapping[str, str | None]


def file_fingerprint(path: str | os.PathLike[str]) -> str | None:
    """SHA-256 (hex) of a file's bytes; :data:`MISSING` (None) when the file does not exist.

    A file that exists but cannot be read fingerprints as ``"unreadable:<reason>"`` (never
    raises), so a permission change is noticed as drift too.
    """
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        return MISSING
    except OSError as error:
        return f"{UNREADABLE}{error.strerror or type(error).__name__}"


def fingerprint(paths: Iterable[str | os.PathLike[str]]) -> dict[str, str | None]:
    """``{path: file_fingerprint(path)}`` for each path, in the given order (first one wins)."""
    found: dict[str, str | None] = {}
    for path in paths:
        key = os.fspath(path)
        if key not in found:
            found[key] = file_fingerprint(key)
    return found


def drifted_files(start: Fingerprint, end: Fingerprint) -> tuple[str, ...]:
    """Paths whose fingerprint differs between ``start`` and ``end`` (order of ``start``)."""
    names = list(start) + [name for name in end if name not in start]
    return tuple(name for name in names if start.get(name) != end.get(name))


@dataclass(frozen=True)
class Execution:
    """Measurements of one execution (see the module docstring).

    Attributes:
        wall_s: wall-clock seconds.
        cpu_s: CPU seconds (user + system) of the process and of the children it waited for.
        peak_rss_mb: peak resident set size in MiB (the larger of the process's and of its
            children's; for commands, the command's including its descendants).
        rss_growth_mb: how much the peak grew during the execution (0 for commands, whose
            whole peak is theirs).
        exit_status: the command's exit status (negative: killed by that signal); None for
            in-process executions.
        rss_floor_mb: commands only — the launching process's own peak when it started the
            command.  Linux charges a child with the memory image it had before ``exec``
            (a copy of its launcher's), so a command's ``peak_rss_mb`` is never below this
            floor; a peak equal to the floor means "at most this much".
        files_start: fingerprints of the watched config files at the start.
        files_end: fingerprints of the same files at the end.
        stdout: commands only — the last 64 KiB the command wrote to stdout.
        stderr: the same for stderr.
        timed_out: commands only — the command overran its timeout and was killed.
    """

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    rss_growth_mb: float = 0.0
    exit_status: int | None = None
    rss_floor_mb: float = 0.0
    files_start: Fingerprint = field(default_factory=dict)
    files_end: Fingerprint = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False

    @property
    def drifted(self) -> tuple[str, ...]:
        """Watched files whose content changed (or appeared, or vanished) during the execution."""
        return drifted_files(self.files_start, self.files_end)

    @property
    def drift(self) -> bool:
        """Whether any watched config file changed during the execution."""
        return bool(self.drifted)

    def metrics(self) -> dict[str, float]:
        """The numeric measurements, as stored in a result's ``metrics``.

        Keys: ``wall_s``, ``cpu_s``, ``peak_rss_mb``, ``rss_growth_mb``, ``config_drift``
        (1.0 when a watched file drifted, else 0.0); for commands also ``exit_status`` and
        ``rss_floor_mb``, and ``timed_out`` (1.0) when the command was stopped on timeout.
        """
        values = {
            "wall_s": round(self.wall_s, 6),
            "cpu_s": round(self.cpu_s, 6),
            "peak_rss_mb": round(self.peak_rss_mb, 3),
            "rss_growth_mb": round(self.rss_growth_mb, 3),
            "config_drift": 1.0 if self.drift else 0.0,
        }
        if self.exit_status is not None:
            values["exit_status"] = float(self.exit_status)
            values["rss_floor_mb"] = round(self.rss_floor_mb, 3)
        if self.timed_out:
            values["timed_out"] = 1.0
        return values

    def describe(self) -> str:
        """One line for humans: ``exit 0, 1.204 s wall, 0.310 s CPU, peak 41.2 MB``."""
        parts = []
        if self.exit_status is not None:
            if self.exit_status < 0:
                parts.append(f"killed by signal {-self.exit_status}")
            else:
                parts.append(f"exit {self.exit_status}")
        parts.append(f"{self.wall_s:.3f} s wall")
        parts.append(f"{self.cpu_s:.3f} s CPU")
        parts.append(f"peak {self.peak_rss_mb:.1f} MB")
        text = ", ".join(parts)
        if self.drift:
            text += f"; config drift: {', '.join(self.drifted)} changed"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (metrics plus the fingerprints and the drifted files)."""
        return {
            **self.metrics(),
            "exit_status": self.exit_status,
            "drift": self.drift,
            "files_start": dict(self.files_start),
            "files_end": dict(self.files_end),
            "drifted": list(self.drifted),
        }


@dataclass(frozen=True)
class _Usage:
    """A reading of the resource counters of this process and of its waited-for children."""

    cpu_self: float
    cpu_children: float
    rss_self: int
    rss_children: int

    @staticmethod
    def now() -> _Usage:
        if sys.platform == "win32":  # pragma: no cover - configlab's CI runs on POSIX
            return _Usage(time.process_time(), 0.0, 0, 0)
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return _Usage(
            own.ru_utime + own.ru_stime,
            kids.ru_utime + kids.ru_stime,
            int(own.ru_maxrss) * RSS_UNIT,
            int(kids.ru_maxrss) * RSS_UNIT,
        )


class Monitor:
    """Measures one execution in this process (and the children it waits for).

    ``config_files`` are fingerprinted at :meth:`start` and at :meth:`stop`; more can be added
    with :meth:`watch`.  Use it as a context manager (the result is then in
    :attr:`execution`) or call :meth:`start` / :meth:`stop` yourself.
    """

    def __init__(self, config_files: Iterable[str | os.PathLike[str]] = ()) -> None:
        self._files: list[str] = []
        self._start_prints: dict[str, str | None] = {}
        self._wall: float | None = None
        self._usage: _Usage | None = None
        #: The measurements, once :meth:`stop` has run.
        self.execution: Execution | None = None
        for path in config_files:
            self.watch(path)

    @property
    def files(self) -> tuple[str, ...]:
        """The watched config files."""
        return tuple(self._files)

    def watch(self, path: str | os.PathLike[str]) -> None:
        """Watch ``path`` too (fingerprinted now if the monitor is already running)."""
        key = os.fspath(path)
        if key in self._files:
            return
        self._files.append(key)
        if self._wall is not None:
            self._start_prints[key] = file_fingerprint(key)

    def start(self) -> Monitor:
        """Fingerprint the watched files and start the clocks (returns the monitor)."""
        self._start_prints = fingerprint(self._files)
        self._usage = _Usage.now()
        self._wall = time.perf_counter()
        self.execution = None
        return self

    def stop(self, exit_status: int | None = None) -> Execution:
        """Stop the clocks, fingerprint the watched files again; returns the :class:`Execution`."""
        if self._wall is None or self._usage is None:
            raise IntegrationError("Monitor.stop() called before start()")
        wall = time.perf_counter() - self._wall
        after = _Usage.now()
        before = self._usage
        cpu = (after.cpu_self - before.cpu_self) + (after.cpu_children - before.cpu_children)
        peak = max(after.rss_self, after.rss_children)
        growth = max(0, after.rss_self - before.rss_self)
        self.execution = Execution(
            wall_s=wall,
            cpu_s=max(0.0, cpu),
            peak_rss_mb=peak / _MB,
            rss_growth_mb=growth / _MB,
            exit_status=exit_status,
            files_start=dict(self._start_prints),
            files_end=fingerprint(self._files),
        )
        self._wall = None
        self._usage = None
        return self.execution

    def __enter__(self) -> Monitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def exit_code(status: int) -> int:
    """Shell-style exit code of an exit status: itself, or 128 + N when killed by signal N."""
    return status if status >= 0 else 128 - status


def run_command(
    argv: Sequence[str],
    config_files: Iterable[str | os.PathLike[str]] = (),
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    stdout: int | None = None,
    stderr: int | None = None,
    timeout: float | None = None,
) -> Execution:
    """Run ``argv`` as a child process and measure it.

    The command goes through the one process runner
    (:func:`configlab.execution.run_process`): its own process group (it keeps the terminal
    and stdin), killed as a whole on ``timeout``.  What it writes is copied to this process's
    stdout/stderr as it comes (unless ``stdout`` / ``stderr`` is ``subprocess.DEVNULL``) and
    the last 64 KiB of each are kept in :attr:`Execution.stdout` / :attr:`Execution.stderr`.

    CPU time and peak memory are the command's own (``os.wait4``), including the descendants
    it waited for (see :attr:`Execution.rss_floor_mb` for the floor of the memory figure).
    A first Ctrl-C is passed on to the command; a second one kills it.

    Raises:
        IntegrationError: empty ``argv``, or the command cannot be started (not found, not
            executable; the OSError is its ``__cause__``, see :func:`start_failure_code`).
    """
    args = [os.fspath(a) for a in argv]
    if not args:
        raise IntegrationError("no command given")
    files = [os.fspath(p) for p in config_files]
    start_prints = fingerprint(files)
    before = _Usage.now()
    quiet = subprocess.DEVNULL in (stdout, stderr)
    done = run_process(args, env=env, cwd=cwd, timeout=timeout, echo=not quiet, stdin=None,
                       new_session=False)
    if done.start_error is not None:
        cause = OSError(done.start_errno or 0, done.start_error)
        raise IntegrationError(f"cannot run {args[0]!r}: {done.start_error}") from cause
    return Execution(
        wall_s=done.wall_s,
        cpu_s=done.cpu_s,
        peak_rss_mb=done.peak_rss_mb,
        rss_growth_mb=0.0,
        exit_status=done.exit_code,
        rss_floor_mb=before.rss_self / _MB,
        files_start=start_prints,
        files_end=fingerprint(files),
        stdout=done.stdout,
        stderr=done.stderr,
        timed_out=done.timed_out,
    )


def start_failure_code(error: BaseException) -> int:
    """Shell exit code for a command that could not start: 127 not found, else 126."""
    cause = error.__cause__
    return 127 if isinstance(cause, FileNotFoundError | NotADirectoryError) else 126


__all__ = [
    "MISSING",
    "RSS_UNIT",
    "UNREADABLE",
    "Execution",
    "Monitor",
    "drifted_files",
    "exit_code",
    "file_fingerprint",
    "fingerprint",
    "run_command",
    "start_failure_code",
]
