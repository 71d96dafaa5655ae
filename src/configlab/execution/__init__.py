"""Execution at scale: one process runner, command templates, executors, sharding, progress.

* :func:`run_process` — the one way configlab runs an application (own session or group,
  TERM-then-KILL of the whole tree on timeout, output tails, exit status, peak memory);
* :class:`CommandTemplate` — ``{config}`` / ``{index}`` substitution without shell injection;
* :class:`CommandJob`, :func:`run_job`, :func:`to_result` — one config, one run, one result;
* :class:`LocalExecutor` (``--jobs N``) and ``DaskExecutor`` (``--executor dask://H:P``)
  behind one :class:`Executor` interface (:func:`make_executor`);
* :class:`Shard` (``--shard i/n``), :func:`check_complete` for merged shards;
* :class:`Progress` — bar on a terminal, plain lines in CI logs, silent when quiet.

See docs/execution.md.
"""

from __future__ import annotations

from configlab.execution._command import CONFIG_ENV, CommandTemplate, needs_shell
from configlab.execution._executor import (
    Executor,
    LocalExecutor,
    check_jobs,
    default_jobs,
    make_executor,
)
from configlab.execution._jobs import (
    EXTENSIONS,
    INDEX_ENV,
    METRICS_ENV,
    CommandJob,
    JobResult,
    read_metrics,
    run_job,
    to_result,
    write_config,
)
from configlab.execution._process import (
    DEFAULT_TAIL_BYTES,
    ProcessResult,
    descendants,
    run_process,
)
from configlab.execution._progress import Progress
from configlab.execution._shard import MergeCheck, Shard, assign, check_complete, shared_run_id

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_TAIL_BYTES",
    "EXTENSIONS",
    "INDEX_ENV",
    "METRICS_ENV",
    "CommandJob",
    "CommandTemplate",
    "Executor",
    "JobResult",
    "LocalExecutor",
    "MergeCheck",
    "ProcessResult",
    "Progress",
    "Shard",
    "assign",
    "check_complete",
    "check_jobs",
    "default_jobs",
    "descendants",
    "make_executor",
    "needs_shell",
    "read_metrics",
    "run_job",
    "run_process",
    "shared_run_id",
    "to_result",
    "write_config",
]
