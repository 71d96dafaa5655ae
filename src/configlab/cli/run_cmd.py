"""``configlab run -- CMD ARGS...``: run any command under the execution monitor.

The command runs with the terminal (stdin inherited; what it writes is passed through as it
comes, in its own process group) through the one process runner of
:mod:`configlab.execution` (``--timeout`` stops it and its descendants).  Afterwards one
result is appended to the store: the config (the ``--config`` files, parsed and deep-merged in
order), the outcome (pass when the command exits 0, else fail; error when it cannot start or
timed out), the
duration and the monitor's metrics (``wall_s``, ``cpu_s``, ``peak_rss_mb``,
``rss_growth_mb``, ``exit_status``, ``rss_floor_mb``, ``config_drift``).  A ``--config``
file whose content changed while the command ran is reported as config drift.

Exit code: the command's own (128 + N when it was killed by signal N; 127 when it was not
found, 126 when it could not be executed; 124 on timeout, as ``timeout(1)``); 2 for bad usage
or when the result could not be recorded after a successful command.
"""

from __future__ import annotations

import os
import shlex
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from configlab.cli._store_options import store_options
from configlab.errors import ConfiglabError, IntegrationError
from configlab.integrations.monitor import exit_code, run_command, start_failure_code
from configlab.results import Result, ResultStore
from configlab.storage import StoreLocation
from configlab.tree import deep_copy

#: Environment variable giving the run id (as for the pytest plugin).
RUN_ID_ENV = "CONFIGLAB_RUN_ID"


def merge_configs(trees: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Deep-merge config trees in order (later files win; maps merge, other values replace)."""
    merged: dict[str, Any] = {}
    for tree in trees:
        _merge_into(merged, tree, deep_copy)
    return merged


def _merge_into(target: dict[str, Any], tree: Mapping[str, Any], copy: Any) -> None:
    for key, value in tree.items():
        current = target.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            _merge_into(current, value, copy)
        else:
            target[key] = copy(value)


def _echo(message: str) -> None:
    click.echo(f"configlab: {message}", err=True)


@click.command(
    "run",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@store_options
@click.option("--config", "config_files", multiple=True, type=click.Path(dir_okay=False),
              help="Config file the command reads (repeatable): recorded as the result's "
                   "config and watched for drift.")
@click.option("--snapshot", "take_snapshot", is_flag=True,
              help="Also save the --config files as a snapshot (and their end state if they "
                   "drifted).")
@click.option("--test-id", default=None, help="Test id to record (default: the command line).")
@click.option("--run-id", default=None,
              help=f"Run id to record (default: ${RUN_ID_ENV}, else a new one).")
@click.option("--timeout", type=float, default=None,
              help="Seconds before the command and its descendants are stopped (TERM, then "
                   "KILL); the result is then an error and the exit code 124.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def run(ctx: click.Context, store_path: StoreLocation, config_files: tuple[str, ...],
        take_snapshot: bool, test_id: str | None, run_id: str | None,
        timeout: float | None, command: tuple[str, ...]) -> None:
    """Run COMMAND under the execution monitor and record the result.

    Put the command after `--`:  configlab run --config app.yaml -- ./app --selftest
    """
    argv = list(command)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise click.UsageError("no command given (put it after --)")
    trees = []
    if config_files:
        # deferred: the format codecs add ~0.2 s to `configlab run` without --config (start-up)
        from configlab import formats
    for name in config_files:
        if not Path(name).is_file():
            raise ConfiglabError(f"{name}: no such config file")
        trees.append(formats.load(name))
    config = merge_configs(trees)
    run_id = run_id or os.environ.get(RUN_ID_ENV) or (
        f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    )
    snapshot_id = None
    if take_snapshot:
        # deferred: snapshots load the format codecs too (start-up of a plain run)
        from configlab.snapshots import SnapshotStore

        with SnapshotStore(store_path) as snapshots:
            snapshot_id = snapshots.capture(
                files=list(config_files),
                meta={"source": "configlab.run", "command": argv},
            ).id
    if timeout is not None and not timeout > 0:
        raise click.UsageError(f"--timeout must be positive, got {timeout:g}")
    try:
        execution = run_command(argv, config_files, timeout=timeout)
    except IntegrationError as error:
        code = start_failure_code(error)
        _echo(str(error))
        _record(store_path, Result(config=config, outcome="error", duration=0.0,
                                   metrics={"exit_status": float(code)},
                                   test_id=test_id or shlex.join(argv),
                                   snapshot_id=snapshot_id, run_id=run_id))
        ctx.exit(code)
        return
    status = execution.exit_status
    assert status is not None
    outcome = "error" if execution.timed_out else "pass" if status == 0 else "fail"
    if execution.drift:
        _echo(f"config drift: {', '.join(execution.drifted)} changed while the command ran")
        if take_snapshot:
            # deferred: snapshots load the format codecs too (start-up of a plain run)
            from configlab.snapshots import SnapshotStore

            with SnapshotStore(store_path) as snapshots:
                present = [f for f in config_files if Path(f).is_file()]
                end = snapshots.capture(
                    files=present,
                    meta={"source": "configlab.run", "command": argv, "state": "end"},
                )
            _echo(f"end state saved as snapshot {end.short_id}")
    recorded = _record(store_path, Result(
        config=config, outcome=outcome, duration=execution.wall_s,
        metrics=execution.metrics(), test_id=test_id or shlex.join(argv),
        snapshot_id=snapshot_id, run_id=run_id,
        # the output tails, for reports and `--where '"OOM" in stderr'`
        stdout=execution.stdout or None, stderr=execution.stderr or None,
    ))
    where = f" [snapshot {snapshot_id[:12]}]" if snapshot_id else ""
    _echo(f"{outcome}: {execution.describe()}{where}")
    code = 124 if execution.timed_out else exit_code(status)
    if not recorded and code == 0:
        code = 2
    ctx.exit(code)


def _record(store_path: StoreLocation, result: Any) -> bool:
    try:
        with ResultStore(store_path) as store:
            store.record(result)
    except ConfiglabError as error:
        _echo(f"error: result not recorded: {error}")
        return False
    return True


__all__ = ["merge_configs", "run"]
