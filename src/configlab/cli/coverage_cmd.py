"""``configlab coverage``: how much of the configuration space the recorded tests covered."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from configlab import coverage as _coverage
from configlab.charts import render
from configlab.cli._output import STDOUT, emit, output_option
from configlab.errors import AnalysisError
from configlab.execution import Progress
from configlab.exit_codes import EXIT_COVERAGE
from configlab.integrations.ingest import load_results
from configlab.space import Space, load_space

#: How many weakest combinations / gaps / only-failing tuples the summary lists.
SHOWN = 10


def _pct(value: float) -> str:
    return f"{100.0 * value:.1f}%"


@click.command("coverage")
@click.option("--space", "space_path", required=True, type=click.Path(dir_okay=False),
              help="Space file (YAML/JSON), JSON Schema or PICT model.")
@click.option("--results", "results_path", required=True, type=click.Path(),
              help="Results: a .jsonl or .csv file, or a store directory.")
@click.option("--strength", "-t", default=2, show_default=True, type=int,
              help="Highest interaction strength t (1..4).")
@output_option("--json", "json_out", "the full report as JSON")
@click.option("--png", "png_dir", type=click.Path(file_okay=False),
              help="Write PNG charts into this directory.")
@click.option("--svg", "svg_dir", type=click.Path(file_okay=False),
              help="Write SVG charts into this directory.")
@click.option("--pair", nargs=2, default=None, help="Pair of parameters for the value grid chart.")
@click.option("--include-skipped", is_flag=True, help="Count skipped runs as covering.")
@click.option("--fail-under", type=click.FloatRange(0.0, 1.0), default=None,
              help="Exit with code 3 when t-way coverage is below this ratio (0..1).")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def coverage(space_path: str, results_path: str, strength: int, json_out: str | None,
             png_dir: str | None, svg_dir: str | None, pair: tuple[str, str] | None,
             include_skipped: bool, fail_under: float | None, quiet: bool) -> None:
    """Measure t-way (NIST CCM) coverage of SPACE by RESULTS, list gaps, draw charts.

    On large inputs a progress bar (plain lines every 5 s when stderr is not a terminal)
    counts the parameter combinations scanned; --quiet hides it.
    """
    space = load_space(space_path)
    if pair is not None:
        _check_pair(space, pair)
    total = (_coverage.scan_count(space, strength)
             + _coverage.scan_count(space, strength, levels="top"))
    with Progress(total, "coverage", quiet=quiet, final=False, failures=False) as progress:
        with progress.working_on("reading results"):
            results = load_results(results_path, output=False)  # the tails are not counted
            encoded = results.encode(space)
        report = _coverage.measure(encoded, space, strength, include_skipped=include_skipped,
                                   progress=progress)
        found = _coverage.gaps(encoded, space, report.strength,
                               include_skipped=include_skipped, progress=progress)
    if json_out is not None:
        data = report.to_dict()
        data["gaps"] = [gap.to_dict() for gap in found]
        emit(json_out, json.dumps(data, indent=2, ensure_ascii=False))
    if json_out != STDOUT:
        _print_summary(report, found)
    for directory, fmt in ((png_dir, "png"), (svg_dir, "svg")):
        if directory is not None:
            chart = _coverage.chart_data(encoded, space, report.strength, pair,
                                         include_skipped=include_skipped)
            for path in render(chart, directory, fmt):
                click.echo(f"wrote {path}", err=json_out == STDOUT)
    if fail_under is not None and report.ratio < fail_under:
        click.echo(
            f"configlab: {report.strength}-way coverage {_pct(report.ratio)} is below "
            f"--fail-under {_pct(fail_under)}",
            err=True,
        )
        raise SystemExit(EXIT_COVERAGE)


def _check_pair(space: Space, pair: tuple[str, str]) -> None:
    """Refuse a ``--pair`` naming an unknown parameter or the same one twice (before any output)."""
    paths = space.paths
    unknown = [path for path in pair if path not in paths]
    if unknown:
        known = ", ".join(paths[:SHOWN]) + (f", ... ({len(paths)} in all)"
                                             if len(paths) > SHOWN else "")
        raise AnalysisError(f"--pair: unknown parameter {unknown[0]!r} (the space has: {known})")
    if pair[0] == pair[1]:
        raise AnalysisError(f"--pair: needs two different parameters, got {pair[0]!r} twice")


def _print_summary(report: _coverage.CoverageReport, found: list[_coverage.Gap]) -> None:
    console = Console(highlight=False, soft_wrap=True)
    console.print(f"{report.n_rows} runs, {len(report.params)} parameters, "
                  f"strength {report.strength}")
    table = Table(title="Combinatorial coverage (NIST CCM)")
    for column in ("t", "covered / valid", "coverage", "simple t-way", "excluded"):
        table.add_column(column, justify="right")
    for level in report.levels:
        table.add_row(str(level.t), f"{level.covered} / {level.valid}", _pct(level.ratio),
                      _pct(level.simple), str(level.invalid))
    console.print(table)
    weakest = sorted(report.main.combinations, key=lambda c: (c.ratio, c.params))
    weakest = [c for c in weakest if c.ratio < 1.0][:SHOWN]
    if weakest:
        table = Table(title=f"Least covered {report.strength}-way combinations")
        table.add_column("parameters")
        table.add_column("covered / valid", justify="right")
        table.add_column("coverage", justify="right")
        for combo in weakest:
            table.add_row(", ".join(combo.params), f"{combo.covered} / {combo.valid}",
                          _pct(combo.ratio))
        console.print(table)
    if found:
        missing = sum(len(g.missing) for g in found)
        table = Table(title=f"Gaps: {missing} missing tuple(s) in {len(found)} combination(s)")
        table.add_column("missing value combination")
        shown = [ref for gap in found for ref in gap.missing][:SHOWN]
        for ref in shown:
            table.add_row(str(ref))
        console.print(table)
    if report.outcome is not None and report.outcome.only_failing:
        table = Table(title="Seen only in failing runs")
        table.add_column("value combination")
        table.add_column("failing runs", justify="right")
        pairs = zip(report.outcome.only_failing, report.outcome.only_failing_runs, strict=True)
        for ref, runs in list(pairs)[:SHOWN]:
            table.add_row(str(ref), str(runs))
        console.print(table)
    for warning in report.warnings:
        console.print(f"warning: {warning}")
