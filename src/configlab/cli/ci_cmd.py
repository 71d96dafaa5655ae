"""``configlab ci --config FILE``: run a CI suite (generate, run, ingest, verify, coverage,
analyze, export) and exit 0 (all good), 1 (failures or violated specs), 2 (bad usage or
input) or 3 (coverage below ``fail_under``).  See :mod:`configlab.integrations.ci`."""

from __future__ import annotations

import json

import click

from configlab.cli import _output
from configlab.integrations.ci import run_ci


@click.command("ci")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="CI suite file (YAML): space, store and steps.")
@_output.output_option("--json", "json_out", "the CI report as JSON")
@click.option("--shard", default=None,
              help="I/N: run only shard I of N of the generated suite (CI matrix jobs).")
@click.option("--jobs", "-j", type=int, default=None,
              help="Parallel runs of run/verify steps (default: CPU count).")
@click.pass_context
def ci(ctx: click.Context, config_path: str, json_out: str | None, shard: str | None,
       jobs: int | None) -> None:
    """Run the configlab steps of a CI suite file and exit with a CI-friendly code."""
    def emit(line: str) -> None:
        # workflow commands must reach stdout; progress goes to stderr
        click.echo(line, err=not line.startswith("::"))

    report = run_ci(config_path, emit=emit, shard=shard, jobs=jobs)
    if json_out is not None:
        _output.emit(json_out, json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    if json_out != _output.STDOUT:
        counts = report.counts
        coverage = "" if report.coverage is None else f", coverage {report.coverage:.1%}"
        click.echo(f"configlab ci: {counts['pass']} pass, {counts['fail']} fail, "
                   f"{counts['error']} error, {counts['skip']} skip{coverage}; "
                   f"exit {report.exit_code}", err=True)
    ctx.exit(report.exit_code)


__all__ = ["ci"]
