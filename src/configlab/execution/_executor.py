"""The executor interface and the local pool.

An executor maps a picklable function over items and hands every finished item back to the
*controller* (the calling thread), in completion order, through ``on_done``; the returned list
is in item order.  Everything with side effects on configlab's own state (store writes,
progress, annotations) happens in ``on_done`` or after ``map`` returns, so workers — threads
here, processes on other machines for :class:`~configlab.execution.DaskExecutor` — never
touch the store.

The local pool runs items on threads: every item is mostly a child process being waited for
(the application under test), so threads are enough and 100 can wait at once on 2 cores.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Protocol, TypeVar

from configlab.errors import ExecutionError

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs ``fn`` over ``items``; ``on_done(index, result)`` is called in the caller's thread."""

    #: How the executor is named in messages and ``--executor`` (``"local"``, ``"dask://h:p"``).
    name: str

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        on_done: Callable[[int, R], None] | None = None,
    ) -> list[R]:
        """``[fn(item) for item in items]``, run concurrently; ``on_done`` as each finishes."""
        ...  # pragma: no cover - protocol

    def close(self) -> None:
        """Release what the executor holds (threads, a cluster connection)."""
        ...  # pragma: no cover - protocol


def default_jobs() -> int:
    """The default ``--jobs``: the number of CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def check_jobs(jobs: int) -> int:
    """``jobs`` when it is a positive integer; else an :class:`ExecutionError`."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ExecutionError(f"--jobs must be a positive integer, got {jobs!r}")
    return jobs


class LocalExecutor:
    """A pool of ``jobs`` threads in this process (``jobs=1``: one after another, in order).

    ``fn`` must not raise for an item's own failure (return it instead); an exception that
    escapes ``fn`` stops the run and is raised from :meth:`map` after the running items end.
    """

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = check_jobs(default_jobs() if jobs is None else jobs)
        self.name = "local"

    def __repr__(self) -> str:
        return f"LocalExecutor(jobs={self.jobs})"

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        on_done: Callable[[int, R], None] | None = None,
    ) -> list[R]:
        """See :class:`Executor`."""
        results: list[Any] = [None] * len(items)
        if self.jobs == 1 or len(items) <= 1:
            for index, item in enumerate(items):
                results[index] = fn(item)
                if on_done is not None:
                    on_done(index, results[index])
            return results
        with ThreadPoolExecutor(max_workers=min(self.jobs, len(items)),
                                thread_name_prefix="configlab-exec") as pool:
            pending: dict[Future[R], int] = {
                pool.submit(fn, item): index for index, item in enumerate(items)
            }
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in sorted(done, key=pending.__getitem__):
                        index = pending.pop(future)
                        results[index] = future.result()
                        if on_done is not None:
                            on_done(index, results[index])
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
        return results

    def close(self) -> None:
        """Nothing to release (the threads end with each :meth:`map`)."""


def make_executor(spec: str | None, jobs: int | None = None) -> Executor:
    """The executor ``--executor`` names: ``local`` (default) or ``dask://HOST:PORT``."""
    if spec is None or spec == "local":
        return LocalExecutor(jobs)
    if spec.startswith(("dask://", "tcp://")):
        # deferred: dask is an optional extra (configlab[dask])
        from configlab.execution._dask import DaskExecutor

        return DaskExecutor(spec)
    raise ExecutionError(
        f"unknown executor {spec!r}: use 'local' or 'dask://HOST:PORT' (a Dask scheduler)"
    )
