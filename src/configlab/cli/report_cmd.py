"""``configlab report``, ``configlab ingest`` and ``configlab analyze``.

* ``report --results R --to junit|allure|ctrf|markdown|csv|parquet|jsonl -o OUT [--space S]``
  exports results (with ``--space``, the Markdown summary adds coverage and top suspects);
* ``ingest REPORT... [--store PATH] [--record] [--to-jsonl OUT]`` reads JUnit XML,
  pytest-json-report and CTRF reports (snapshot ids resolved through the store);
* ``analyze --results R [--space S] [--json PATH|-] [--md PATH|-] [--png DIR]`` finds the
  parameters behind failures (the space is inferred from the results without ``--space``).

``R`` is JSON lines, CSV, Parquet, a store directory, or any report ``ingest`` reads.
Exit codes: 0 ok; 2 bad usage or input.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from configlab.cli._output import STDOUT, emit, output_option
from configlab.errors import IntegrationError
from configlab.integrations.exporters import export
from configlab.integrations.ingest import detect_report_format, load_results
from configlab.results import ResultSet, ResultStore

_STORE_HELP = "Store directory: resolves configlab.snapshot_id links (when it exists)."


@contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    """Print warnings raised inside the block as ``configlab: warning: ...`` lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for note in caught:
        click.echo(f"configlab: warning: {note.message}", err=True)


def _store_or_none(store_path: str | None) -> Path | None:
    if store_path is None:
        return None
    store = Path(store_path)
    return store if (store / "index.sqlite").is_file() else None


def read_results(path: str, store_path: str | None = ".configlab") -> Any:
    """Results from any file ``configlab.integrations.ingest.load_results`` reads (warnings on
    stderr)."""
    with _warnings_to_stderr():
        return load_results(path, _store_or_none(store_path))


def _selection_options(command: Any) -> Any:
    """The result-selection options shared by ``analyze`` and ``report``."""
    options = [
        click.option("--test-id", "sel_test", multiple=True,
                     help="Only these tests (repeatable; shell patterns like 't.py::*')."),
        click.option("--run-id", "sel_run", multiple=True, help="Only these runs (repeatable)."),
        click.option("--outcome", "sel_outcome", multiple=True,
                     type=click.Choice(("pass", "fail", "error", "skip")),
                     help="Only these outcomes (repeatable)."),
        click.option("--since", "sel_since", default=None,
                     help="Only results at or after this ISO 8601 time."),
        click.option("--until", "sel_until", default=None,
                     help="Only results at or before this ISO 8601 time."),
        click.option("--where", "sel_where", default=None,
                     help="Only results whose config satisfies this condition "
                          "(constraint language, e.g. \"db == 'postgres'\")."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _select(results: Any, test: tuple[str, ...], run: tuple[str, ...],
            outcome: tuple[str, ...], since: str | None, until: str | None,
            where: str | None) -> Any:
    if not (test or run or outcome or since or until or where):
        return results
    return results.select(test_id=test, run_id=run, outcome=outcome, since=since,
                          until=until, where=where)


def _space(space_path: str | None, results: Any) -> Any:
    if space_path is not None:
        # deferred: jsonschema and re2 load only with --space (start-up of report/ingest)
        from configlab.space import load_space

        return load_space(space_path)
    return None


@click.command("report")
@click.option("--results", "results_path", required=True, type=click.Path(),
              help="Results: JSON lines, CSV, Parquet, a store directory or a test report.")
@click.option("--to", "fmt", required=True,
              type=click.Choice(("junit", "allure", "ctrf", "markdown", "csv", "parquet",
                                 "jsonl")),
              help="Output format.")
@click.option("-o", "--output", "output", required=True, type=click.Path(),
              help="Output file (a directory for allure).")
@click.option("--space", "space_path", type=click.Path(dir_okay=False), default=None,
              help="Space file: adds coverage and top suspects to the Markdown summary.")
@click.option("--strength", default=2, show_default=True, type=int,
              help="Coverage strength for the Markdown summary.")
@click.option("--store", "store_path", default=".configlab", show_default=True,
              help=_STORE_HELP)
@output_option("--json", "json_out", "what was written, as JSON")
@_selection_options
def report(results_path: str, fmt: str, output: str, space_path: str | None, strength: int,
           store_path: str, json_out: str | None, sel_test: tuple[str, ...],
           sel_run: tuple[str, ...], sel_outcome: tuple[str, ...], sel_since: str | None,
           sel_until: str | None, sel_where: str | None) -> None:
    """Export results as JUnit XML, Allure results, CTRF, Markdown, CSV or Parquet."""
    results = _select(read_results(results_path, store_path), sel_test, sel_run, sel_outcome,
                      sel_since, sel_until, sel_where)
    coverage = analysis = None
    space = _space(space_path, results)
    if space is not None and fmt == "markdown" and len(results):
        # deferred: numpy/scipy load only when analysis is asked (start-up of report/ingest)
        from configlab.analysis import analyze

        # deferred: numpy loads only when coverage is asked (start-up of report/ingest)
        from configlab.coverage import measure

        coverage = measure(results, space, strength)
        analysis = analyze(results, space)
    written = export(results, fmt, output, coverage=coverage, analysis=analysis)
    if json_out is not None:
        emit(json_out, json.dumps({"format": fmt, "output": str(written), "results": len(results)}))
    if json_out != STDOUT:
        click.echo(f"wrote {len(results)} results as {fmt} to {written}", err=True)


@click.command("ingest")
@click.argument("reports", nargs=-1, required=True, type=click.Path())
@click.option("--store", "store_path", default=".configlab", show_default=True,
              help=_STORE_HELP)
@click.option("--record", is_flag=True, help="Append the results to the store's results table.")
@click.option("--run-id", default=None, help="Run id recorded on results that name none.")
@click.option("--to-jsonl", "jsonl", type=click.Path(dir_okay=False), default=None,
              help="Write all results as configlab JSON lines.")
@output_option("--json", "json_out", "per-report counts as JSON")
def ingest(reports: tuple[str, ...], store_path: str, record: bool, run_id: str | None,
           jsonl: str | None, json_out: str | None) -> None:
    """Read test reports (JUnit XML, pytest-json-report, CTRF) as configlab results."""
    store = _store_or_none(store_path)
    everything = ResultSet()
    rows = []
    for path in reports:
        kind = detect_report_format(path)
        with _warnings_to_stderr():
            found = load_results(path, store, run_id=run_id)
        everything.extend(found)
        counts = {o: sum(r.outcome == o for r in found) for o in ("pass", "fail", "error", "skip")}
        linked = sum(1 for r in found if r.config or r.snapshot_id)
        rows.append({"report": path, "format": kind, "results": len(found), "linked": linked,
                     **counts})
    if jsonl is not None:
        everything.to_jsonl(jsonl)
    if record:
        with ResultStore(store_path) as results_store:
            results_store.record_many(everything)
    if json_out is not None:
        emit(json_out, json.dumps({"reports": rows, "results": len(everything)}, indent=2))
        if json_out == STDOUT:
            return
    for row in rows:
        click.echo(f"{row['report']} ({row['format']}): {row['results']} results, "
                   f"{row['linked']} linked to a config; {row['pass']} pass, {row['fail']} fail, "
                   f"{row['error']} error, {row['skip']} skip")
    if jsonl is not None:
        click.echo(f"wrote {len(everything)} results to {jsonl}", err=True)
    if record:
        click.echo(f"recorded {len(everything)} results in {store_path}", err=True)


def _analyze_columns(results_path: str, space_path: str | None) -> Any:
    """The report from the columnar reader (:mod:`configlab.results._columns`), or None when
    the file needs the row reader."""
    # deferred: numpy/scipy/polars: only `analyze` needs them, not report/ingest
    from configlab.analysis import analyze_encoded

    # deferred: as above (polars)
    from configlab.results._columns import FastPathUnavailable, encode_jsonl

    space = _space(space_path, None)
    try:
        encoded, used_space = encode_jsonl(results_path, space)
    except FastPathUnavailable:
        return None
    if encoded.n_rows == 0:
        return None
    # deferred: as above
    from configlab.analysis._suggest import realise_suggestions

    return realise_suggestions(analyze_encoded(encoded), used_space)


@click.command("analyze")
@click.option("--results", "results_path", required=True, type=click.Path(),
              help="Results: JSON lines, CSV, Parquet, a store directory or a test report.")
@click.option("--space", "space_path", type=click.Path(dir_okay=False), default=None,
              help="Space file (default: inferred from the results' configs).")
@click.option("--store", "store_path", default=".configlab", show_default=True,
              help=_STORE_HELP)
@output_option("--json", "json_out", "the report as JSON")
@output_option("--md", "md_out", "the report as Markdown")
@click.option("--png", "png_dir", type=click.Path(file_okay=False), default=None,
              help="Write the impact bar chart (impact.png) into this directory.")
@_selection_options
def analyze_command(results_path: str, space_path: str | None, store_path: str,
                    json_out: str | None, md_out: str | None, png_dir: str | None,
                    sel_test: tuple[str, ...], sel_run: tuple[str, ...],
                    sel_outcome: tuple[str, ...], sel_since: str | None, sel_until: str | None,
                    sel_where: str | None) -> None:
    """Which parameters, values and interactions drive failures and metrics.

    The text report goes to stdout unless --json or --md takes it (each to a PATH or '-').
    """
    # deferred: numpy/scipy load only when analysis is asked (start-up of report/ingest)
    from configlab.analysis import analyze

    if json_out == md_out == STDOUT:
        raise click.UsageError("--json and --md cannot both print to stdout")
    selecting = bool(sel_test or sel_run or sel_outcome or sel_since or sel_until or sel_where)
    report_ = None
    if not selecting and results_path.endswith(".jsonl") and Path(results_path).is_file():
        report_ = _analyze_columns(results_path, space_path)
    if report_ is None:
        results = _select(read_results(results_path, store_path), sel_test, sel_run,
                          sel_outcome, sel_since, sel_until, sel_where)
        if not len(results):
            raise IntegrationError(f"{results_path}: no results to analyse")
        report_ = analyze(results, _space(space_path, results))
    if json_out is not None:
        emit(json_out, json.dumps(report_.to_dict(), indent=2, ensure_ascii=False))
    if md_out is not None:
        emit(md_out, report_.to_markdown())
    if STDOUT not in (json_out, md_out):
        click.echo(report_.to_text(), nl=False)
    if png_dir is not None:
        directory = Path(png_dir)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise IntegrationError(f"{directory}: cannot create: {error.strerror}") from None
        path = report_.plot_impact(directory / "impact.png")
        click.echo(f"wrote {path}", err=True)


__all__ = ["analyze_command", "ingest", "read_results", "report"]
