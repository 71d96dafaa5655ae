"""Run configs on a Dask distributed cluster (``--executor dask://HOST:PORT``).

The application under test runs on the workers (each job writes its config to a temporary
file there); only plain data travels: the :class:`~configlab.execution.CommandJob` out, the
:class:`~configlab.execution.JobResult` (exit status, output tails, measurements) back.  The
controller writes the store, so workers need no store access or credentials.  Workers must be
able to import configlab (same version) — ``pip install 'configlab[dask]'`` on them.

Dask is an optional extra: ``pip install 'configlab[dask]'``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from configlab.errors import ExecutionError

T = TypeVar("T")
R = TypeVar("R")


def scheduler_address(spec: str) -> str:
    """``tcp://HOST:PORT`` for ``dask://HOST:PORT`` (or a ``tcp://`` address as is)."""
    address = spec.removeprefix("dask://")
    if address.startswith("tcp://"):
        address = address.removeprefix("tcp://")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ExecutionError(f"executor {spec!r}: expected dask://HOST:PORT")
    return f"tcp://{host}:{port}"


class DaskExecutor:
    """An :class:`~configlab.execution.Executor` on a running Dask scheduler.

    Args:
        spec: ``dask://HOST:PORT`` (or ``tcp://HOST:PORT``).
        timeout: seconds to wait for the scheduler to answer.
    """

    def __init__(self, spec: str, *, timeout: float = 10.0) -> None:
        self.address = scheduler_address(spec)
        self.name = "dask://" + self.address.removeprefix("tcp://")
        self.timeout = timeout
        self._client: Any = None

    def __repr__(self) -> str:
        return f"DaskExecutor({self.name!r})"

    def _connect(self) -> Any:
        if self._client is None:
            try:
                from distributed import Client
            except ImportError:
                raise ExecutionError(
                    f"executor {self.name}: Dask is not installed; "
                    "pip install 'configlab[dask]'"
                ) from None
            try:
                self._client = Client(  # type: ignore[no-untyped-call]
                    self.address, timeout=self.timeout, set_as_default=False
                )
            except (OSError, TimeoutError) as error:
                raise ExecutionError(
                    f"executor {self.name}: cannot reach the Dask scheduler: {error}"
                ) from None
        return self._client

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        on_done: Callable[[int, R], None] | None = None,
    ) -> list[R]:
        """See :class:`~configlab.execution.Executor`: every item is one Dask task."""
        if not items:
            return []
        client = self._connect()
        from distributed import as_completed

        futures = client.map(fn, list(items), pure=False)
        position = {future.key: index for index, future in enumerate(futures)}
        results: list[Any] = [None] * len(items)
        try:
            for future in as_completed(  # type: ignore[no-untyped-call]
                futures, loop=client.loop
            ):
                index = position[future.key]
                try:
                    results[index] = future.result()
                except Exception as error:  # fn raised on the worker, or the worker died
                    raise ExecutionError(
                        f"executor {self.name}: task {index + 1} failed on the cluster: "
                        f"{type(error).__name__}: {error}"
                    ) from None
                if on_done is not None:
                    on_done(index, results[index])
        finally:
            client.cancel([f for f in futures if not f.done()])
        return results

    def close(self) -> None:
        """Close the connection to the scheduler (the cluster keeps running)."""
        if self._client is not None:
            self._client.close()
            self._client = None
