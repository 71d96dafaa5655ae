"""One execution of a command template under one config, and the result it records.

A :class:`CommandJob` is plain data (picklable), so it runs the same way in a local thread or
on a Dask worker on another machine: :func:`run_job` writes the config to a temporary file
when the job does not name an existing one, runs the command through
:func:`~configlab.execution.run_process` and returns a :class:`JobResult`.  The controller
turns it into a :class:`~configlab.results.Result` with :func:`to_result`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from configlab import formats
from configlab._internal import safeio
from configlab.errors import ConfiglabError
from configlab.execution._command import CONFIG_ENV, CommandTemplate
from configlab.execution._process import DEFAULT_TAIL_BYTES, ProcessResult, run_process
from configlab.results import Result

if TYPE_CHECKING:
    from configlab.results import Result

#: Environment variable naming a file where the application may write a JSON object of metrics.
METRICS_ENV: Final = "CONFIGLAB_METRICS"
#: Environment variable holding the 1-based number of the run in its suite.
INDEX_ENV: Final = "CONFIGLAB_INDEX"
#: File extension of each config format.
EXTENSIONS: Final = {
    "yaml": "yaml", "yml": "yaml", "json": "json", "toml": "toml", "ini": "ini", "xml": "xml",
    "properties": "properties", "env": "env", "dotenv": "env", "hcl": "hcl",
    # redis.conf, sshd_config, nginx.conf: read back by content (formats.sniff_format)
    "directive": "conf", "redis": "conf", "sshd": "conf", "nginx": "conf",
    "postgresql": "conf", "postgres": "conf",
}


@dataclass(frozen=True)
class CommandJob:
    """Run ``command`` once under ``config``.

    Attributes:
        index: 1-based number of the config in its suite (``{index}`` in the template).
        name: the config's name (its file name in the suite), used in the test id.
        config: the config tree.
        command: the command template.
        fmt: format the config is written in when no ``config_path`` is given.
        config_path: an existing file holding the config, passed as is (local runs of a
            suite directory); None writes ``config`` to a temporary file where the job runs.
        timeout: seconds before the command is stopped (None: no limit).
        cwd: working directory of the command.
        env: extra environment variables.
        tail_bytes: bytes of stdout/stderr kept.
    """

    index: int
    name: str
    config: Mapping[str, Any]
    command: CommandTemplate
    fmt: str = "yaml"
    config_path: str | None = None
    timeout: float | None = None
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    tail_bytes: int = DEFAULT_TAIL_BYTES


@dataclass(frozen=True)
class JobResult:
    """What one :class:`CommandJob` did: the process result, the app's metrics, a write error."""

    index: int
    process: ProcessResult | None
    app_metrics: Mapping[str, float] = field(default_factory=dict)
    error: str | None = None

    @property
    def outcome(self) -> str:
        """``pass`` (exit 0), ``fail`` (other exit), ``error`` (timeout, signal, no start)."""
        if self.error is not None or self.process is None or self.process.problem is not None:
            return "error"
        return "pass" if self.process.exit_code == 0 else "fail"

    @property
    def why(self) -> str:
        """Short reason: ``exit 3``, ``timeout after 2 s``, ``could not write the config: ..``."""
        if self.error is not None or self.process is None:
            return self.error or "not run"
        return self.process.problem or f"exit {self.process.exit_code}"


def read_metrics(path: Path) -> dict[str, float]:
    """The numbers of the JSON object the application wrote to ``path`` ({} if none/invalid)."""
    try:  # the application wrote it: a FIFO or /dev/zero there must not hang the run
        data = json.loads(safeio.read_text(path, what="metrics file", max_bytes=1 << 20))
    except (ConfiglabError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in data.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def write_config(config: Mapping[str, Any], directory: str, fmt: str) -> Path:
    """Write ``config`` to ``directory/config.<ext>`` (raises ConfiglabError when it cannot)."""
    path = Path(directory) / f"config.{EXTENSIONS.get(fmt, fmt)}"
    formats.dump(dict(config), path, fmt)
    return path


def run_job(job: CommandJob) -> JobResult:
    """Run one job (in a worker thread or on a Dask worker); never raises for the app's doing."""
    with tempfile.TemporaryDirectory(prefix="configlab-run-") as directory:
        if job.config_path is not None:
            path = Path(job.config_path)
        else:
            try:
                path = write_config(job.config, directory, job.fmt)
            except ConfiglabError as error:
                return JobResult(job.index, None, error=f"could not write the config: {error}")
        metrics_path = Path(directory) / "metrics.json"
        env = {
            **os.environ,
            **job.env,
            **CommandTemplate.environment(str(path)),
            METRICS_ENV: str(metrics_path),
            INDEX_ENV: str(job.index),
        }
        process = run_process(
            job.command.argv(str(path), job.index), env=env, cwd=job.cwd, timeout=job.timeout,
            tail_bytes=job.tail_bytes,
        )
        return JobResult(job.index, process, read_metrics(metrics_path))


def to_result(
    job: CommandJob,
    done: JobResult,
    *,
    test_name: str = "exec",
    run_id: str | None = None,
    snapshot_id: str | None = None,
    extra_metrics: Mapping[str, float] | None = None,
) -> Result:
    """The :class:`~configlab.results.Result` the controller records for one job.

    The output tails (last 64 KiB of stdout and stderr) are kept on the result.
    Metrics: the process's (``wall_s``, ``cpu_s``, ``peak_rss_mb``, ``exit_status``,
    ``timed_out``), whatever the application wrote to ``$CONFIGLAB_METRICS`` and
    ``extra_metrics`` (e.g. the shard).
    """
    metrics = dict(done.app_metrics)
    if done.process is not None:
        metrics.update(done.process.metrics())
    metrics.update(extra_metrics or {})
    return Result(
        config=job.config,
        outcome=done.outcome,
        duration=None if done.process is None else done.process.wall_s,
        metrics=metrics,
        test_id=f"{test_name}[{job.name}]",
        snapshot_id=snapshot_id,
        run_id=run_id,
        stdout=None if done.process is None else done.process.stdout,
        stderr=done.error if done.process is None else done.process.stderr,
    )


__all__ = [
    "CONFIG_ENV",
    "INDEX_ENV",
    "METRICS_ENV",
    "CommandJob",
    "JobResult",
    "read_metrics",
    "run_job",
    "to_result",
    "write_config",
]
