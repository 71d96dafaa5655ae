"""``configlab exec``: run a command template over a suite of configs, in parallel.

    configlab exec --suite configs/ --jobs 8 -- ./app --config {config}
    configlab exec --space space.yaml --strategy covering --seed 7 --shard 2/3 -- ./app {config}
    configlab exec --suite configs/ --executor dask://scheduler:8786 -- ./app --config {config}

The command comes after ``--``.  Several words form an argv (each ``{config}`` is the config
path inside its own argument; no shell).  One quoted word is a command line: run directly
when it has no shell syntax, else by ``/bin/sh`` with the path in ``$CONFIGLAB_CONFIG`` (see
docs/execution.md for the substitution rules).

Exit code: 0 every config passed; 1 some failed or errored; 2 bad usage or input.
"""

from __future__ import annotations

import os
from typing import Any

import click

from configlab.cli._store_options import store_options
from configlab.errors import ConfiglabError, ExecutionError
from configlab.execution import (
    EXTENSIONS,
    CommandJob,
    CommandTemplate,
    Progress,
    Shard,
    SuiteItem,
    load_suite,
    make_executor,
    run_suite,
    shared_run_id,
)
from configlab.results import ResultSet
from configlab.storage import StoreLocation

_STRATEGIES = ("covering", "random", "boundary", "exhaustive", "mutate")


def _template(command: tuple[str, ...]) -> Any:
    args = list(command)
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        raise click.UsageError("no command given (put it after --)")
    if len(args) == 1:
        return CommandTemplate(args[0])
    return CommandTemplate.from_argv(args)


def _items(suite: str | None, space_path: str | None, strategy: str, strength: int,
           seed: int, count: int | None, fmt: str) -> list[Any]:
    if (suite is None) == (space_path is None):
        raise click.UsageError("give exactly one of --suite DIR and --space FILE")
    if suite is not None:
        return load_suite(suite)
    # deferred: numpy and python-sat load only when configs are generated from --space
    from configlab.generation import generate

    assert space_path is not None
    configs = list(generate(space_path, strategy, seed=seed, count=count, strength=strength))
    width = max(4, len(str(len(configs))))
    ext = EXTENSIONS.get(fmt, fmt)
    return [SuiteItem(f"config-{k:0{width}d}.{ext}", c) for k, c in enumerate(configs, start=1)]


def _durations(store: StoreLocation, test_name: str, current_run: str) -> dict[str, float]:
    """Last known duration of every config name under ``test_name`` in the store.

    Results of ``current_run`` are left out: shards that share a store must all see the same
    history, whichever finished first.
    """
    found: dict[str, float] = {}
    prefix = f"{test_name}["
    try:
        results = ResultSet.from_store(store)
    except ConfiglabError:
        return found
    for result in results:
        if (result.test_id.startswith(prefix) and result.duration is not None
                and result.run_id != current_run):
            found[result.test_id[len(prefix):-1]] = result.duration
    return found


@click.command(
    "exec",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("--suite", default=None, help="Suite: a directory of config files (e.g. from "
              "`configlab generate --out`) or a JSON-lines file.")
@click.option("--space", "space_path", default=None, type=click.Path(dir_okay=False),
              help="Generate the suite from this space instead (same seed: same suite).")
@click.option("--strategy", type=click.Choice(_STRATEGIES), default="covering",
              show_default=True, help="With --space: generation strategy.")
@click.option("--strength", type=int, default=2, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--count", type=int, default=None, help="With --space: number of configs.")
@click.option("--format", "fmt", default="yaml", show_default=True,
              help="Format of the config file written for each run (--space / remote runs).")
@click.option("--jobs", "-j", type=int, default=None,
              help="Runs at once (default: CPU count).  Waiting apps allow far more.")
@click.option("--executor", default="local", show_default=True,
              help="'local' or dask://HOST:PORT (a Dask scheduler; configlab[dask]).")
@click.option("--timeout", type=float, default=None, help="Seconds per run before it is "
              "stopped (the whole process tree: TERM, then KILL).")
@click.option("--shard", default=None, help="I/N: run only shard I of N (1-based).")
@click.option("--balance", is_flag=True, help="With --shard: balance shards by the durations "
              "of the last run in the store.")
@click.option("--no-store", is_flag=True, help="Record nothing.")
@click.option("--no-snapshot", is_flag=True, help="Do not save each config as a snapshot.")
@click.option("--name", "test_name", default="exec", show_default=True,
              help="Test name: results are <name>[<config name>].")
@click.option("--run-id", default=None, help="Run id (default: $CONFIGLAB_RUN_ID, the CI's "
              "pipeline id, else a new one); every shard of a run must share it.")
@click.option("--jsonl", "jsonl_path", default=None, type=click.Path(dir_okay=False),
              help="Also write the results (with output tails) as JSON lines here.")
@click.option("--tail", "tail_kib", type=click.IntRange(min=0), default=64, show_default=True,
              help="KiB of each run's stdout and of its stderr kept with its result (in the "
                   "store, --jsonl and reports; 0: none).")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no summary line.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@store_options
@click.pass_context
def exec_command(ctx: click.Context, suite: str | None, space_path: str | None, strategy: str,
                 strength: int, seed: int, count: int | None, fmt: str, jobs: int | None,
                 executor: str, timeout: float | None, shard: str | None, balance: bool,
                 store_path: StoreLocation, no_store: bool, no_snapshot: bool, test_name: str,
                 run_id: str | None, jsonl_path: str | None, tail_kib: int, quiet: bool,
                 command: tuple[str, ...]) -> None:
    """Run COMMAND once per config of a suite, --jobs at a time; record every result.

    Put the command after `--`:  configlab exec --suite configs/ -j 8 -- ./app --config {config}
    """
    template = _template(command)
    if timeout is not None and timeout <= 0:
        raise ExecutionError(f"--timeout must be positive, got {timeout:g}")
    chosen = Shard.parse(shard) if shard is not None else None
    items = _items(suite, space_path, strategy, strength, seed, count, fmt)
    positions = list(range(len(items)))
    run = run_id or shared_run_id() or _new_run_id()
    if chosen is not None:
        durations = _durations(store_path, test_name, run) if balance else None
        positions = chosen.select([item.name for item in items], durations)
    local = executor == "local"
    job_list = [
        CommandJob(index=k + 1, name=items[k].name, config=items[k].config, command=template,
                   fmt=items[k].fmt or fmt, config_path=items[k].path if local else None,
                   timeout=timeout,
                   cwd=os.getcwd() if local else None, tail_bytes=tail_kib * 1024)
        for k in positions
    ]
    pool = make_executor(executor, jobs)
    label = f"exec {chosen}" if chosen is not None else "exec"
    try:
        outcome = run_suite(
            job_list, pool, store=None if no_store else store_path, run_id=run,
            test_name=test_name, snapshot=not no_snapshot,
            progress=Progress(len(job_list), label, quiet=quiet), shard=chosen,
            suite_size=len(items),
        )
    finally:
        pool.close()
    if jsonl_path is not None:
        _write_jsonl(jsonl_path, outcome)
    counts = outcome.counts()
    if not quiet:
        for job, done in zip(outcome.jobs, outcome.done, strict=True):
            if done.outcome != "pass":
                tail = "" if done.process is None else done.process.output_tail(300)
                click.echo(f"configlab: {test_name}[{job.name}] {done.outcome}: {done.why}"
                           + (f"\n  {tail}".replace("\n", "\n  ") if tail else ""), err=True)
        shown = f" (shard {chosen} of a {len(items)}-config suite)" if chosen else ""
        click.echo(f"configlab exec: {len(job_list)} configs{shown}, {counts['pass']} passed, "
                   f"{counts['fail']} failed, {counts['error']} errored; run {run}", err=True)
    ctx.exit(0 if outcome.ok else 1)


def _new_run_id() -> str:
    import uuid
    from datetime import UTC, datetime

    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def _write_jsonl(path: str, outcome: Any) -> None:
    """The results, output tails included, as JSON lines (``ResultSet.from_jsonl`` reads them)."""
    ResultSet(outcome.results).to_jsonl(path)
