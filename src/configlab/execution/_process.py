"""The one process runner: run a command, keep its output tail, stop it for good on timeout.

Every place configlab runs the application under test (``configlab run``, ``configlab exec``,
the spec runners, the ``run`` step of ``configlab ci``, the Dask workers) goes through
:func:`run_process`, so they all behave the same way:

* the command runs in its own session (batch runs) or its own process group (``configlab
  run``, which keeps the terminal), so it can be stopped as a group;
* stdout and stderr are read by a ``select`` loop that keeps only the last ``tail_bytes`` of
  each (optionally echoing everything to this process's own streams);
* on timeout the group *and* every descendant found under the command (``/proc``, which also
  catches a grandchild that escaped with ``setsid``) get SIGTERM, then SIGKILL after
  ``grace`` seconds; the pipes are closed at once, so an escaped grandchild that still holds
  them never makes the caller wait;
* after a normal exit the pipes are drained for at most ``drain`` seconds (a background
  child may keep them open forever), then what is left of the group is killed;
* exit status (negative: the signal), wall time, CPU time and peak RSS of the command and
  the descendants it waited for (``os.wait4``) are returned in a :class:`ProcessResult`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, Final

#: Bytes of stdout and of stderr kept by default (the last ones).
DEFAULT_TAIL_BYTES: Final = 64 * 1024
#: Bytes per unit of ``ru_maxrss`` (kilobytes on Linux, bytes on macOS).
_RSS_UNIT: Final = 1 if sys.platform == "darwin" else 1024
_MB: Final = 1024.0 * 1024.0
_READ_CHUNK: Final = 65536
#: Poll period when the platform has no pidfd to wake the loop on exit.
_POLL_S: Final = 0.02


@dataclass(frozen=True)
class ProcessResult:
    """What one command did.

    Attributes:
        argv: the command run (a string when it ran under ``/bin/sh -c``).
        exit_code: the exit status (negative ``-N``: killed by signal N); None when the
            command could not start.
        wall_s: wall-clock seconds from start to exit (or to the kill on timeout).
        cpu_s: user + system CPU seconds of the command and the descendants it waited for.
        peak_rss_mb: peak resident memory (MiB) of the command and its waited descendants.
        stdout: the last ``tail_bytes`` of stdout, decoded as UTF-8 (invalid bytes replaced).
        stderr: the same for stderr.
        stdout_truncated: whether earlier stdout was dropped.
        stderr_truncated: whether earlier stderr was dropped.
        timed_out: the command overran its timeout and was killed.
        timeout: the timeout it ran with (seconds), if any.
        start_error: why the command could not start (``"No such file or directory"``).
        start_errno: the ``errno`` of that failure.
    """

    argv: tuple[str, ...] | str
    exit_code: int | None
    wall_s: float
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    timed_out: bool = False
    timeout: float | None = None
    start_error: str | None = None
    start_errno: int | None = None

    @property
    def signal_name(self) -> str | None:
        """``"SIGKILL"`` when a signal ended the command, else None."""
        if self.exit_code is None or self.exit_code >= 0:
            return None
        try:
            return signal.Signals(-self.exit_code).name
        except ValueError:  # pragma: no cover - a signal number Python has no name for
            return f"signal {-self.exit_code}"

    @property
    def problem(self) -> str | None:
        """Why the run is an error rather than a pass/fail: timeout, start failure, signal."""
        if self.start_error is not None:
            return f"could not start: {self.start_error}"
        if self.timed_out:
            return f"timeout after {self.timeout:g} s"
        if self.signal_name is not None:
            return f"killed by signal {self.signal_name}"
        return None

    @property
    def shell_code(self) -> int:
        """Shell-style code: the status, 128 + N for signal N, 127/126 when it could not start."""
        if self.exit_code is None:
            return 127 if self.start_errno in (errno.ENOENT, errno.ENOTDIR) else 126
        return self.exit_code if self.exit_code >= 0 else 128 - self.exit_code

    def metrics(self) -> dict[str, float]:
        """Numeric measurements for a result: ``wall_s``, ``cpu_s``, ``peak_rss_mb``,
        ``exit_status`` (when it exited), ``timed_out`` (1.0 when killed on timeout)."""
        values = {
            "wall_s": round(self.wall_s, 6),
            "cpu_s": round(self.cpu_s, 6),
            "peak_rss_mb": round(self.peak_rss_mb, 3),
        }
        if self.exit_code is not None and not self.timed_out:
            values["exit_status"] = float(self.exit_code)
        if self.timed_out:
            values["timed_out"] = 1.0
        return values

    def describe(self) -> str:
        """One line for humans: ``exit 1, 0.204 s wall, peak 12.0 MB``."""
        head = self.problem or f"exit {self.exit_code}"
        return f"{head}, {self.wall_s:.3f} s wall, peak {self.peak_rss_mb:.1f} MB"

    def output_tail(self, limit: int = 2000) -> str:
        """The last ``limit`` characters of stderr, or of stdout when stderr is empty."""
        text = self.stderr.strip() or self.stdout.strip()
        return text[-limit:]


class _Tail:
    """The last ``limit`` bytes written to a stream (amortised trimming)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.truncated = False

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > 2 * self.limit + _READ_CHUNK:
            del self.data[: len(self.data) - self.limit]
            self.truncated = True

    def text(self) -> str:
        if len(self.data) > self.limit:
            del self.data[: len(self.data) - self.limit]
            self.truncated = True
        return bytes(self.data).decode("utf-8", errors="replace")


def descendants(pid: int) -> list[int]:
    """Pids of every live descendant of ``pid`` (children first), read from ``/proc``.

    Empty where ``/proc`` is not available.  Used on timeout, while the command is still
    alive, to reach grandchildren that left its process group or session.
    """
    parents: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:  # pragma: no cover - not Linux
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name (field 2) may hold spaces and parentheses: split after the last ')'
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1:
            parents.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.append(child)
                todo.append(child)
    return found


def _signal_all(group: int, pids: Sequence[int], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signum)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def _reap(pid: int, block: bool) -> tuple[int, Any] | None:
    """``(exit status, rusage)`` once ``pid`` exited; None while it runs (unless ``block``)."""
    try:
        got, raw, usage = os.wait4(pid, 0 if block else os.WNOHANG)
    except ChildProcessError:  # pragma: no cover - reaped elsewhere (should not happen)
        return 0, None
    if got == 0:
        return None
    return os.waitstatus_to_exitcode(raw), usage


def _consume(
    selector: selectors.BaseSelector,
    events: list[tuple[selectors.SelectorKey, int]],
    tails: dict[str, _Tail],
    echo: bool,
) -> None:
    """Read what is ready on the command's pipes into the tails (and echo it)."""
    for key, _ in events:
        if key.data == "exit":
            selector.unregister(key.fileobj)
            continue
        handle: IO[bytes] = key.fileobj  # type: ignore[assignment]
        chunk = os.read(handle.fileno(), _READ_CHUNK)
        if not chunk:
            selector.unregister(handle)
            continue
        tails[key.data].add(chunk)
        if echo:
            sink = sys.stdout if key.data == "out" else sys.stderr
            raw = getattr(sink, "buffer", None)
            if raw is None:  # a text-only stream (an embedding application's)
                sink.write(chunk.decode("utf-8", errors="replace"))
                continue
            sink.flush()
            raw.write(chunk)
            raw.flush()


def _stop_tree(
    pid: int,
    selector: selectors.BaseSelector,
    tails: dict[str, _Tail],
    echo: bool,
    grace: float,
) -> tuple[int, Any]:
    """SIGTERM to the group and every descendant, SIGKILL after ``grace`` s; the reaped status.

    The tree is listed while the command is still alive, so a grandchild that left the group
    (``setsid``) is reached too.  What the command writes while shutting down is kept, but the
    end of its pipes is never waited for.
    """
    tree = descendants(pid)
    _signal_all(pid, tree, signal.SIGTERM)
    stop = time.perf_counter() + grace
    reaped = None
    while reaped is None and time.perf_counter() < stop:
        _consume(selector, selector.select(_POLL_S), tails, echo)
        reaped = _reap(pid, block=False)
    _consume(selector, selector.select(0), tails, echo)
    _signal_all(pid, tree + descendants(pid), signal.SIGKILL)
    if reaped is None:
        reaped = _reap(pid, block=True)
    assert reaped is not None  # a blocking wait always returns the status
    return reaped


def run_process(
    argv: Sequence[str] | str,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    tail_bytes: int = DEFAULT_TAIL_BYTES,
    echo: bool = False,
    stdin: int | IO[Any] | None = subprocess.DEVNULL,
    new_session: bool = True,
    grace: float = 2.0,
    drain: float = 0.5,
) -> ProcessResult:
    """Run ``argv`` (a string runs under ``/bin/sh -c``) and return its :class:`ProcessResult`.

    Args:
        env: the full environment of the command (None: this process's).
        cwd: working directory.
        timeout: seconds before the command and its descendants are stopped (TERM, then
            KILL after ``grace`` seconds); None waits forever.
        tail_bytes: how many of the last bytes of stdout and of stderr to keep.
        echo: also copy everything the command writes to this process's stdout/stderr.
        stdin: what the command reads (default: nothing; None inherits this process's).
        new_session: run in a new session (batch runs); False gives the command its own
            process group in this session, so it keeps the controlling terminal.  A Ctrl-C
            here is passed on to the group; a second one kills it.
        grace: seconds between SIGTERM and SIGKILL on timeout.
        drain: after the command exited, how long to keep reading pipes a background child
            may still hold open.

    Never raises for the command's own behaviour: a command that cannot start comes back
    with :attr:`ProcessResult.start_error` set.
    """
    shown: tuple[str, ...] | str = argv if isinstance(argv, str) else tuple(argv)
    start = time.perf_counter()
    try:
        process = subprocess.Popen(
            argv if isinstance(argv, str) else list(argv),
            shell=isinstance(argv, str),
            env=None if env is None else dict(env),
            cwd=cwd,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=new_session,
            process_group=None if new_session else 0,
        )
    except OSError as error:
        return ProcessResult(
            argv=shown, exit_code=None, wall_s=time.perf_counter() - start, timeout=timeout,
            start_error=error.strerror or str(error), start_errno=error.errno,
        )
    pid = process.pid
    tails = {"out": _Tail(tail_bytes), "err": _Tail(tail_bytes)}
    selector = selectors.DefaultSelector()
    assert process.stdout is not None and process.stderr is not None
    selector.register(process.stdout, selectors.EVENT_READ, "out")
    selector.register(process.stderr, selectors.EVENT_READ, "err")
    pidfd: int | None = None
    with contextlib.suppress(AttributeError, OSError):
        pidfd = os.pidfd_open(pid)  # wakes the loop the moment the command exits
        selector.register(pidfd, selectors.EVENT_READ, "exit")
    deadline = None if timeout is None else start + timeout
    reaped: tuple[int, Any] | None = None
    exited_at = 0.0
    timed_out = False
    interrupts = 0
    try:
        while True:
            now = time.perf_counter()
            if reaped is None:
                try:
                    reaped = _reap(pid, block=False)
                except KeyboardInterrupt:
                    interrupts += 1
                    _signal_all(pid, [], signal.SIGINT if interrupts == 1 else signal.SIGKILL)
                    continue
                if reaped is not None:
                    exited_at = now
            streams_open = any(key.data != "exit" for key in selector.get_map().values())
            if reaped is not None and (not streams_open or now >= exited_at + drain):
                break
            if reaped is None and deadline is not None and now >= deadline:
                timed_out = True
                break
            waits = [_POLL_S] if pidfd is None or reaped is not None else []
            if deadline is not None and reaped is None:
                waits.append(deadline - now)
            if reaped is not None:
                waits.append(exited_at + drain - now)
            try:
                events = selector.select(max(0.0, min(waits)) if waits else None)
            except KeyboardInterrupt:
                interrupts += 1
                _signal_all(pid, [], signal.SIGINT if interrupts == 1 else signal.SIGKILL)
                continue
            _consume(selector, events, tails, echo)
        if timed_out:
            reaped = _stop_tree(pid, selector, tails, echo, grace)
        else:
            # what is left of the group (background jobs) must not outlive the run
            _signal_all(pid, [], signal.SIGKILL)
    finally:
        selector.close()
        if pidfd is not None:
            os.close(pidfd)
        for stream in (process.stdout, process.stderr):
            stream.close()
        if reaped is None:  # an exception escaped the loop: leave nothing running
            _signal_all(pid, descendants(pid), signal.SIGKILL)
            reaped = _reap(pid, block=True)
    wall = (exited_at if exited_at and not timed_out else time.perf_counter()) - start
    assert reaped is not None
    status, usage = reaped
    process.returncode = status
    cpu = 0.0 if usage is None else usage.ru_utime + usage.ru_stime
    rss = 0.0 if usage is None else int(usage.ru_maxrss) * _RSS_UNIT / _MB
    out, err = tails["out"].text(), tails["err"].text()
    return ProcessResult(
        argv=shown,
        exit_code=status,
        wall_s=wall,
        cpu_s=cpu,
        peak_rss_mb=rss,
        stdout=out,
        stderr=err,
        stdout_truncated=tails["out"].truncated,
        stderr_truncated=tails["err"].truncated,
        timed_out=timed_out,
        timeout=timeout,
    )
