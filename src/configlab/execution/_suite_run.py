"""Run a command over a suite of configs: the controller side of ``configlab exec``.

:func:`load_suite` reads a suite (a directory written by ``configlab generate --out`` — in
its manifest's order — or of config files in name order, or a JSON-lines file);
:func:`run_suite` runs the jobs on an executor and is the only writer of the store: it saves
one snapshot per config before the runs (when asked) and records the results in batches as
they arrive (at least every ``flush_s`` seconds), so an interrupted run keeps what finished.
Results are recorded in completion order but :attr:`SuiteRun.results` is in suite order, and
it is the same for any executor and any number of jobs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from configlab import formats
from configlab._internal import safeio
from configlab.errors import ConfiglabError, ExecutionError
from configlab.execution._executor import Executor
from configlab.execution._jobs import CommandJob, JobResult, run_job, to_result
from configlab.execution._progress import Progress
from configlab.execution._shard import Shard
from configlab.results import ResultStore
from configlab.snapshots import SnapshotStore

if TYPE_CHECKING:
    from configlab.results import Result
    from configlab.storage import StoreLocation

#: The manifest ``configlab generate --out`` writes next to the configs.
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class SuiteItem:
    """One config of a suite: its name, the file holding it (if any), the tree and the format
    of that file (None without a file)."""

    name: str
    config: Mapping[str, Any]
    path: str | None = None
    fmt: str | None = None


def load_suite(source: str | Path) -> list[SuiteItem]:
    """The configs of a suite directory (manifest order, else file names) or JSON-lines file."""
    path = Path(source)
    if path.is_dir():
        manifest = path / MANIFEST
        written_as: str | None = None  # the format generate wrote the files in
        if manifest.is_file():
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
                names = [str(n) for n in data["files"]]
            except (ValueError, KeyError, TypeError, OSError):
                raise ExecutionError(f"{manifest}: not a configlab manifest") from None
            written_as = data.get("format") if isinstance(data.get("format"), str) else None
        else:
            names = sorted(p.name for p in path.iterdir()
                           if p.is_file() and not p.name.startswith("."))
        if not names:
            raise ExecutionError(f"{path}: no config files")
        items = []
        for name in names:
            file = path / name
            try:
                # .conf/.cfg: the manifest's format, else the content (INI, directive, nginx or
                # postgresql): a short postgresql.conf without quotes can read as INI too
                fmt = written_as if name.lower().endswith(formats.AMBIGUOUS_EXTENSIONS) else None
                config = formats.load(file, fmt)
                fmt = fmt or formats.detect_format(file, file.read_bytes())
                items.append(SuiteItem(name, config, str(file), fmt))
            except ConfiglabError as error:
                raise ExecutionError(f"suite {path}: {error}") from None
        return items
    if not path.exists():
        raise ExecutionError(f"{source}: no such suite directory or JSON-lines file")
    items = []
    # a regular file only (a FIFO would hang), bounded, UTF-8 checked
    lines = safeio.read_text(path, what="suite file", error=ExecutionError).splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            config = json.loads(line)
        except ValueError as error:
            raise ExecutionError(f"{source}:{number}: not JSON: {error}") from None
        if not isinstance(config, dict):
            raise ExecutionError(f"{source}:{number}: a config must be a JSON object")
        items.append(SuiteItem(f"config-{len(items) + 1:04d}.json", config))
    if not items:
        raise ExecutionError(f"{source}: no configs")
    return items


@dataclass
class SuiteRun:
    """What :func:`run_suite` did: the jobs, their raw outcomes and the results (suite order)."""

    jobs: list[CommandJob]
    done: list[JobResult]
    results: list[Result]
    snapshot_ids: list[str | None] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """``{"pass": .., "fail": .., "error": ..}``."""
        return {o: sum(r.outcome == o for r in self.results) for o in ("pass", "fail", "error")}

    @property
    def ok(self) -> bool:
        """Every run passed."""
        return all(r.outcome == "pass" for r in self.results)


def _snapshot_format(job: CommandJob) -> str | None:
    """Format of the snapshot file ``job.name``: None (its extension tells) unless the name
    ends in ``.conf``/``.cfg``, shared by INI, directive and nginx files: then the job's."""
    return job.fmt if job.name.lower().endswith(formats.AMBIGUOUS_EXTENSIONS) else None


def run_suite(
    jobs: Sequence[CommandJob],
    executor: Executor,
    *,
    store: str | Path | StoreLocation | None = None,
    run_id: str | None = None,
    test_name: str = "exec",
    snapshot: bool = True,
    progress: Progress | None = None,
    shard: Shard | None = None,
    suite_size: int | None = None,
    flush_s: float = 0.5,
) -> SuiteRun:
    """Run ``jobs`` on ``executor``; record snapshots and results in ``store`` (if given).

    With ``shard``, every result's metrics also hold ``shard``, ``shards`` and ``suite_size``
    (for :func:`~configlab.execution.check_complete` after the merge).
    """
    snapshot_ids: list[str | None] = [None] * len(jobs)
    if store is not None and snapshot:
        with SnapshotStore(store) as snapshots:
            snapshot_ids = [snapshots.save_config(dict(job.config), job.name,
                                                  _snapshot_format(job),
                                                  meta={"source": "configlab.exec"}).id
                            for job in jobs]
    extra: dict[str, float] = {}
    if shard is not None:
        extra = {"shard": float(shard.index), "shards": float(shard.count),
                 "suite_size": float(suite_size if suite_size is not None else len(jobs))}
    results: list[Any] = [None] * len(jobs)
    pending: list[Result] = []
    last_flush = time.perf_counter()
    writer = None
    if store is not None:
        writer = ResultStore(store)

    def flush() -> None:
        nonlocal last_flush
        if writer is not None and pending:
            writer.record_many(pending)
            pending.clear()
        last_flush = time.perf_counter()

    def on_done(index: int, done: JobResult) -> None:
        result = to_result(jobs[index], done, test_name=test_name, run_id=run_id,
                           snapshot_id=snapshot_ids[index], extra_metrics=extra)
        results[index] = result
        pending.append(result)
        if progress is not None:
            progress.advance(failed=result.outcome != "pass")
        if time.perf_counter() - last_flush >= flush_s:
            flush()

    try:
        done_all = executor.map(run_job, list(jobs), on_done)
    finally:
        try:
            flush()
        finally:
            if writer is not None:
                writer.close()
            if progress is not None:
                progress.close()
    return SuiteRun(list(jobs), done_all, results, snapshot_ids)
