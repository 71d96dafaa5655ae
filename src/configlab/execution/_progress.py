"""Progress of a long step: a live bar on a terminal, plain lines in CI logs, nothing if quiet.

:class:`Progress` is driven by the controller (``advance(failed=...)`` once per finished
item).  On a terminal it draws a rich progress bar with done/total, failures so far, elapsed
time and ETA (rich is imported only then).  When the stream is not a terminal it prints a
plain line at most every ``interval`` seconds and at the end — ``exec: 250/1000 done, 3
failed, 12.0 s elapsed, ETA 36 s`` — so CI logs show life without a line per item.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any


class Progress:
    """Counts, failures and ETA of ``total`` items, shown on ``stream`` (default stderr).

    Args:
        total: number of items (None: unknown — no ETA, a pulsing bar).
        label: what is being done (``"exec"``, ``"verify"``).
        quiet: show nothing at all.
        stream: where to show it (default ``sys.stderr``).
        interval: seconds between plain lines when the stream is not a terminal.
        force_plain: plain lines even on a terminal.
        final: print a last plain line on :meth:`close` even when the work was short (False:
            only when periodic lines were printed, so quick commands stay quiet).
    """

    def __init__(self, total: int | None, label: str, *, quiet: bool = False,
                 stream: IO[str] | None = None, interval: float = 5.0,
                 force_plain: bool = False, final: bool = True) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self.failed = 0
        self.quiet = quiet
        self.stream = sys.stderr if stream is None else stream
        self.interval = interval
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

            self._bar = Bar(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(),
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
        """``exec: 250/1000 done, 3 failed, 12.0 s elapsed, ETA 36 s``."""
        of = "" if self.total is None else f"/{self.total}"
        text = (f"{self.label}: {self.done}{of} done, {self.failed} failed, "
                f"{self.elapsed:.1f} s elapsed")
        eta = self.eta()
        if eta is not None and self.total is not None and self.done < self.total:
            text += f", ETA {eta:.0f} s"
        return text

    def advance(self, *, failed: bool = False) -> None:
        """One more item finished (``failed``: it did not pass)."""
        self.done += 1
        self.failed += int(failed)
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=self.failed)
            return
        now = time.perf_counter()
        unfinished = self.total is None or self.done < self.total
        if now - self._last_line >= self.interval and unfinished:
            self._last_line = now
            self._printed = True
            print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        """Remove the bar, or print the final plain line (nothing when quiet)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            return
        if not self.quiet and self.total != 0 and (self.final or self._printed):
            print(self.line(), file=self.stream, flush=True)
        self.quiet = True  # once
