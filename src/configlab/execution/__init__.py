"""Execution at scale: one process runner, command templates, executors, sharding, progress.

* :func:`run_process` — the one way configlab runs an application (own session or group,
  TERM-then-KILL of the whole tree on timeout, output tails, exit status, peak memory);
* :class:`CommandTemplate` — ``{config}`` / ``{index}`` substitution without shell injection;
* :class:`CommandJob`, :func:`run_job`, :func:`to_result` — one config, one run, one result;
* :class:`LocalExecutor` (``--jobs N``) and ``DaskExecutor`` (``--executor dask://H:P``)
  behind one :class:`Executor` interface (:func:`make_executor`);
* :class:`Shard` (``--shard i/n``), :func:`check_complete` for merged shards;
* :class:`Progress` — bar on a terminal, plain lines in CI logs, silent when quiet;
* :func:`load_suite` / :func:`run_suite` (:class:`SuiteItem`) — a suite directory or JSON-lines
  file run through an executor (``configlab exec``).

See docs/execution.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from configlab._internal.lazy import lazy_attributes

if TYPE_CHECKING:  # pragma: no cover
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
    from configlab.execution._suite_run import SuiteItem, load_suite, run_suite

#: Public name -> defining module, imported on first use (``configlab run`` must start fast and
#: needs only the process runner).
_LAZY: dict[str, str] = {
    "CONFIG_ENV": "configlab.execution._command",
    "CommandJob": "configlab.execution._jobs",
    "CommandTemplate": "configlab.execution._command",
    "DEFAULT_TAIL_BYTES": "configlab.execution._process",
    "EXTENSIONS": "configlab.execution._jobs",
    "Executor": "configlab.execution._executor",
    "INDEX_ENV": "configlab.execution._jobs",
    "JobResult": "configlab.execution._jobs",
    "LocalExecutor": "configlab.execution._executor",
    "METRICS_ENV": "configlab.execution._jobs",
    "MergeCheck": "configlab.execution._shard",
    "ProcessResult": "configlab.execution._process",
    "Progress": "configlab.execution._progress",
    "Shard": "configlab.execution._shard",
    "SuiteItem": "configlab.execution._suite_run",
    "assign": "configlab.execution._shard",
    "check_complete": "configlab.execution._shard",
    "check_jobs": "configlab.execution._executor",
    "default_jobs": "configlab.execution._executor",
    "descendants": "configlab.execution._process",
    "load_suite": "configlab.execution._suite_run",
    "make_executor": "configlab.execution._executor",
    "needs_shell": "configlab.execution._command",
    "read_metrics": "configlab.execution._jobs",
    "run_job": "configlab.execution._jobs",
    "run_process": "configlab.execution._process",
    "run_suite": "configlab.execution._suite_run",
    "shared_run_id": "configlab.execution._shard",
    "to_result": "configlab.execution._jobs",
    "write_config": "configlab.execution._jobs",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())


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
    "SuiteItem",
    "assign",
    "check_complete",
    "check_jobs",
    "default_jobs",
    "descendants",
    "load_suite",
    "make_executor",
    "needs_shell",
    "read_metrics",
    "run_job",
    "run_process",
    "run_suite",
    "shared_run_id",
    "to_result",
    "write_config",
]
