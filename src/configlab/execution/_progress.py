"""Progress of a long step: a live bar on a terminal, plain lines in CI logs, nothing if quiet.

:class:`Progress` is driven by the controller (``advance(failed=...)`` once per finished
item).  On a terminal it draws a rich progress bar with done/total, failures so far, elapsed
time and ETA (rich is imported only then).  When the stream is not a terminal it prints a
plain line at most every ``interval`` seconds and at the end — ``exec: 250/1000 done, 3
failed, 12.0 s elapsed, ETA 36 s`` — so CI logs show life without a line per item.
:meth:`Progress.working_on` names a step that advances nothing while it runs (reading a large
results file, one long computation): the bar shows its name, and plain lines keep coming every
``interval`` seconds until it ends, so a long step is never silent.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

#: Environment variable overriding the seconds between plain lines (CI logs that want fewer).
INTERVAL_ENV = "CONFIGLAB_PROGRESS_INTERVAL"
#: Seconds between plain lines by default.
DEFAULT_INTERVAL = 5.0


def _default_interval() -> float:
    """``$CONFIGLAB_PROGRESS_INTERVAL`` seconds when it is a non-negative number, else 5."""
    try:
        value = float(os.environ.get(INTERVAL_ENV, ""))
    except ValueError:
        return DEFAULT_INTERVAL
    return value if value >= 0 else DEFAULT_INTERVAL


class Progress:
    """Counts, failures and ETA of ``total`` items, shown on ``stream`` (default stderr).

    Args:
        total: number of items (None: unknown — no ETA, a pulsing bar).
        label: what is being done (``"exec"``, ``"verify"``).
        quiet: show nothing at all.
        stream: where to show it (default ``sys.stderr``).
        interval: seconds between plain lines when the stream is not a terminal (default:
            ``$CONFIGLAB_PROGRESS_INTERVAL`` when it is a non-negative number, else 5).
        force_plain: plain lines even on a terminal.
        final: print a last plain line on :meth:`close` even when the work was short (False:
            only when periodic lines were printed, so quick commands stay quiet).
        failures: count failures (False for work whose items cannot fail: combinations
            scanned, steps of an analysis).
    """

    def __init__(self, total: int | None, label: str, *, quiet: bool = False,
                 stream: IO[str] | None = None, interval: float | None = None,
                 force_plain: bool = False, final: bool = True, failures: bool = True) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self.failed = 0
        self.failures = failures
        #: what :meth:`working_on` says is being done now (None: nothing named)
        self.doing: str | None = None
        self._lock = threading.Lock()  # plain lines come from the caller and a heartbeat
        self.quiet = quiet
        self.stream = sys.stderr if stream is None else stream
        self.interval = _default_interval() if interval is None else interval
        self.final = final
        self._printed = False
        self._start = time.perf_counter()
        self._last_line = self._start
        self._bar: Any = None
        self._task: Any = None
        isatty = getattr(self.stream, "isatty", lambda: False)
        if not quiet and total != 0 and isatty() and not force_plain:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar

            counts = [TextColumn("{task.fields[failed]} failed")] if failures else []
            self._bar = Bar(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                *counts, TimeElapsedColumn(),
                TextColumn("ETA"), TimeRemainingColumn(),
                console=Console(file=self.stream), transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(label, total=total, failed=0)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def elapsed(self) -> float:
        """Seconds since the progress started."""
        return time.perf_counter() - self._start

    def eta(self) -> float | None:
        """Estimated seconds left (from the mean time per finished item so far)."""
        if self.done == 0 or self.total is None:
            return None
        return self.elapsed / self.done * (self.total - self.done)

    def line(self) -> str:
        """``exec: 250/1000 done, 3 failed, 12.0 s elapsed, ETA 36 s`` (then ``; <step>``
        while :meth:`working_on` names one)."""
        of = "" if self.total is None else f"/{self.total}"
        failed = f"{self.failed} failed, " if self.failures else ""
        text = f"{self.label}: {self.done}{of} done, {failed}{self.elapsed:.1f} s elapsed"
        eta = self.eta()
        if eta is not None and self.total is not None and self.done < self.total:
            text += f", ETA {eta:.0f} s"
        if self.doing is not None:
            text += f"; {self.doing}"
        return text

    def _print_line(self) -> None:
        with self._lock:
            self._last_line = time.perf_counter()
            self._printed = True
            print(self.line(), file=self.stream, flush=True)

    @contextlib.contextmanager
    def working_on(self, what: str) -> Iterator[None]:
        """Name the step running inside the ``with`` block (``"reading results"``).

        On a terminal the bar shows it; otherwise a plain line is printed every ``interval``
        seconds while the step lasts (from a background thread: the step itself may be one long
        call).  Nothing when quiet.
        """
        self.doing = what
        try:
            if self.quiet:
                yield
            elif self._bar is not None:
                self._bar.update(self._task, description=f"{self.label}: {what}")
                yield
                self._bar.update(self._task, description=self.label)
            else:
                stop = threading.Event()

                def beat() -> None:
                    # at most 20 lines a second, whatever the interval
                    while not stop.wait(max(0.05, self._last_line + self.interval
                                            - time.perf_counter())):
                        self._print_line()

                thread = threading.Thread(target=beat, name="configlab-progress", daemon=True)
                thread.start()
                try:
                    yield
                finally:
                    stop.set()
                    thread.join()
        finally:
            self.doing = None

    def advance(self, *, failed: bool = False) -> None:
        """One more item finished (``failed``: it did not pass)."""
        self.done += 1
        self.failed += int(failed)
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=self.failed)
            return
        unfinished = self.total is None or self.done < self.total
        if time.perf_counter() - self._last_line >= self.interval and unfinished:
            self._print_line()

    def close(self) -> None:
        """Remove the bar, or print the final plain line (nothing when quiet)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            return
        if not self.quiet and self.total != 0 and (self.final or self._printed):
            print(self.line(), file=self.stream, flush=True)
        self.quiet = True  # once
