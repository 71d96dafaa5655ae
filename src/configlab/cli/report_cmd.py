"""``configlab report``, ``configlab ingest`` and ``configlab analyze``.

* ``report --results R --to junit|allure|ctrf|markdown|csv|parquet|jsonl -o OUT [--space S]``
  exports results (with ``--space``, the Markdown summary adds coverage and top suspects);
* ``ingest REPORT... [--store DIR|URL] [--objects S3URL] [--record] [--to-jsonl OUT]`` reads
  JUnit XML, pytest-json-report and CTRF reports (snapshot ids resolved through the store);
* ``analyze --results R [--space S] [--json PATH|-] [--md PATH|-] [--png DIR]`` finds the
  parameters behind failures (the space is inferred from the results without ``--space``);
  when ``R`` is a Parquet dataset (a directory that is not a store, a glob or an ``s3://`` URL)
  DuckDB counts it where it lies (``configlab.analysis.analyze_dataset``: failure rate of every
  value, single and pair causes; ``--param`` and ``--pairs`` narrow it).

``R`` is JSON lines, CSV, Parquet, a store directory, or any report ``ingest`` reads.
Exit codes: 0 ok; 2 bad usage or input.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from configlab import storage
from configlab.cli._output import STDOUT, emit, output_option
from configlab.cli._store_options import store_options
from configlab.errors import IntegrationError
from configlab.execution import Progress
from configlab.results import ResultSet, ResultStore, Selection, is_dataset_source
from configlab.storage import StoreLocation

# The exporters, the report readers and the snapshot store (YAML, formats, SQLite: ~0.2 s of
# imports) load in the functions that use them: `analyze` of a JSON lines, CSV or Parquet file
# reads it by columns and never needs them.


@contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    """Print warnings raised inside the block as ``configlab: warning: ...`` lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for note in caught:
        click.echo(f"configlab: warning: {note.message}", err=True)


@contextmanager
def _link_store(store_path: StoreLocation | str | None) -> Iterator[Any]:
    """The snapshot store resolving ``configlab.snapshot_id`` links, closed after the block:
    a team store, a store directory that exists, else None (a missing local store just leaves
    links unresolved)."""
    if store_path is None:
        yield None
        return
    location = storage.resolve(store_path, environ={})
    if not location.is_postgres and not (location.root / "index.sqlite").is_file():
        yield None
        return
    # deferred: see the note on the imports
    from configlab.snapshots import SnapshotStore

    with SnapshotStore(location) as store:
        yield store


def read_results(path: str, store_path: StoreLocation | str | None = ".configlab", *,
                 output: bool = True) -> Any:
    """Results from any file ``configlab.integrations.ingest.load_results`` reads (warnings on
    stderr); ``output=False``: without a store's output tails."""
    # deferred: see the note on the imports
    from configlab.integrations.ingest import load_results

    with _warnings_to_stderr(), _link_store(store_path) as store:
        return load_results(path, store, output=output)


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
@store_options
@output_option("--json", "json_out", "what was written, as JSON")
@_selection_options
def report(results_path: str, fmt: str, output: str, space_path: str | None, strength: int,
           store_path: StoreLocation, json_out: str | None, sel_test: tuple[str, ...],
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
    # deferred: see the note on the imports
    from configlab.integrations.exporters import export

    written = export(results, fmt, output, coverage=coverage, analysis=analysis,
                     parameters=space.paths if space is not None else None)
    if json_out is not None:
        emit(json_out, json.dumps({"format": fmt, "output": str(written), "results": len(results)}))
    if json_out != STDOUT:
        click.echo(f"wrote {len(results)} results as {fmt} to {written}", err=True)


@click.command("ingest")
@click.argument("reports", nargs=-1, required=True, type=click.Path())
@store_options
@click.option("--record", is_flag=True, help="Append the results to the store's results table.")
@click.option("--run-id", default=None, help="Run id recorded on results that name none.")
@click.option("--to-jsonl", "jsonl", type=click.Path(dir_okay=False), default=None,
              help="Write all results as configlab JSON lines.")
@output_option("--json", "json_out", "per-report counts as JSON")
def ingest(reports: tuple[str, ...], store_path: StoreLocation, record: bool, run_id: str | None,
           jsonl: str | None, json_out: str | None) -> None:
    """Read test reports (JUnit XML, pytest-json-report, CTRF) as configlab results."""
    # deferred: see the note on the imports
    from configlab.integrations.ingest import detect_report_format, load_results

    everything = ResultSet()
    rows = []
    with _link_store(store_path) as store:
        for path in reports:
            kind = detect_report_format(path)
            with _warnings_to_stderr():
                found = load_results(path, store, run_id=run_id)
            everything.extend(found)
            counts = {o: sum(r.outcome == o for r in found)
                      for o in ("pass", "fail", "error", "skip")}
            linked = sum(1 for r in found if r.config or r.snapshot_id)
            rows.append({"report": path, "format": kind, "results": len(found),
                         "linked": linked, **counts})
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


def _single_threaded_blas() -> None:
    """One BLAS thread for analysis unless the user chose otherwise; freed memory kept in the
    process (:func:`_retain_freed_memory`).

    The analysis' matrix products are small (cells x cells); extra BLAS threads gain nothing
    there and spin while waiting: measured on 100,000 x 50 results at load 15, 9 s CPU with
    the default threads against 5 s with one.  OpenBLAS reads these when numpy loads, so this
    runs before the analysis imports numpy (the CLI itself never does)."""
    if "numpy" not in sys.modules:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, "1")
        os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    _retain_freed_memory()


#: glibc ``mallopt`` parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def _retain_freed_memory() -> None:
    """Keep memory the analysis frees in this process for its next arrays (glibc only).

    The analysis allocates and frees arrays of tens of megabytes over and over; glibc gives
    such blocks back to the system at once (each is its own mapping), and every fresh page is
    then zeroed by the kernel on first touch -- on a virtual machine that returns free memory
    to its host, that system time was a quarter of ``analyze``'s CPU on 100,000 x 50 results.
    Blocks up to 32 MiB (glibc's largest threshold) now come from the heap, which keeps up
    to 256 MiB of free memory.  NumPy's huge-page advice is off too
    (``NUMPY_MADVISE_HUGEPAGE``, set before numpy loads): with it, each first touch zeroes a
    whole 2 MiB page.  Only this
    command's process is affected; elsewhere (musl, macOS) nothing happens."""
    import ctypes  # deferred: only analyze tunes the allocator

    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)
    mallopt(_M_TRIM_THRESHOLD, 256 << 20)
    mallopt(_M_TOP_PAD, 64 << 20)


def _analyze_columns(results_path: str, space_path: str | None) -> Any:
    """The report from the columnar readers (JSON lines, Parquet), or None when the file needs
    the row reader."""
    # deferred: numpy/scipy/polars: only `analyze` needs them, not report/ingest
    from configlab.analysis import analyze_encoded, realise_suggestions
    from configlab.results import encode_columns

    found = encode_columns(results_path, _space(space_path, None))
    if found is None or found[0].n_rows == 0:
        return None
    return realise_suggestions(analyze_encoded(found[0]), found[1])


def _analyze_dataset(results_path: str, params: tuple[str, ...], pairs: int | None,
                     selection: tuple[Any, ...]) -> Any:
    """The DuckDB report of a Parquet dataset (``configlab.analysis.analyze_dataset``)."""
    # deferred: numpy/DuckDB: only `analyze` of a Parquet dataset needs them
    from configlab.analysis import analyze_dataset

    test, run, outcome, since, until, where = selection
    chosen = Selection(test, run, outcome, since, until, where)
    return analyze_dataset(results_path, selection=chosen, params=params or None,
                           pair_candidates=6 if pairs is None else pairs)


@click.command("analyze")
@click.option("--results", "results_path", required=True,
              help="Results: JSON lines, CSV, Parquet, a store directory, a test report, or a "
                   "Parquet dataset (a directory, glob or s3:// URL, counted by DuckDB).")
@click.option("--space", "space_path", type=click.Path(dir_okay=False), default=None,
              help="Space file (default: inferred from the results' configs).")
@store_options
@output_option("--json", "json_out", "the report as JSON")
@output_option("--md", "md_out", "the report as Markdown")
@click.option("--png", "png_dir", type=click.Path(file_okay=False), default=None,
              help="Write the impact bar chart (impact.png) into this directory.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
@click.option("--param", "params", multiple=True,
              help="Parquet datasets: only this parameter's failure rates (repeatable).")
@click.option("--pairs", "pairs", type=click.IntRange(min=0), default=None,
              help="Parquet datasets: parameters grouped two by two for pair causes [6].")
@_selection_options
def analyze_command(results_path: str, space_path: str | None, store_path: StoreLocation,
                    json_out: str | None, md_out: str | None, png_dir: str | None,
                    quiet: bool, params: tuple[str, ...], pairs: int | None,
                    sel_test: tuple[str, ...], sel_run: tuple[str, ...],
                    sel_outcome: tuple[str, ...], sel_since: str | None, sel_until: str | None,
                    sel_where: str | None) -> None:
    """Which parameters, values and interactions drive failures and metrics.

    The text report goes to stdout unless --json or --md takes it (each to a PATH or '-').
    On large inputs the step under way and the time spent show on stderr (a plain line every
    5 s when it is not a terminal); --quiet hides them.  A Parquet dataset (directory, glob or
    s3:// URL) is counted by DuckDB without loading it: failure rates of every value plus the
    likeliest single and pair causes.
    """
    if json_out == md_out == STDOUT:
        raise click.UsageError("--json and --md cannot both print to stdout")
    _single_threaded_blas()
    selecting = bool(sel_test or sel_run or sel_outcome or sel_since or sel_until or sel_where)
    report_: Any = None
    if is_dataset_source(results_path):
        if space_path is not None or png_dir is not None:
            raise click.UsageError("--space and --png do not apply to a Parquet dataset "
                                   "(counted by DuckDB)")
        with Progress(1, "analyze", quiet=quiet, final=False, failures=False) as progress:
            with progress.working_on("counting the Parquet dataset with DuckDB"):
                report_ = _analyze_dataset(results_path, params, pairs, (
                    sel_test, sel_run, sel_outcome, sel_since, sel_until, sel_where))
            progress.advance()
    elif params or pairs is not None:
        raise click.UsageError("--param and --pairs apply to Parquet datasets (a directory, "
                               "glob or s3:// URL of Parquet files)")
    else:
        # two steps (read, analyse) that each run as one call: the progress names them
        with Progress(2, "analyze", quiet=quiet, final=False, failures=False) as progress:
            if not selecting and results_path.endswith((".jsonl", ".parquet", ".csv")) \
                    and Path(results_path).is_file():
                with progress.working_on("reading and analysing results (columnar)"):
                    report_ = _analyze_columns(results_path, space_path)
                if report_ is not None:  # both steps in one
                    progress.advance()
            if report_ is None:
                # deferred: numpy/scipy load only when analysis is asked (start-up of report/ingest)
                from configlab.analysis import analyze

                # the output tails (large, unused by the analysis) only when --where reads them
                tails = sel_where is not None and ("stdout" in sel_where
                                                   or "stderr" in sel_where)
                with progress.working_on("reading results"):
                    results = _select(read_results(results_path, store_path, output=tails),
                                      sel_test, sel_run, sel_outcome, sel_since, sel_until,
                                      sel_where)
                progress.advance()
                if not len(results):
                    raise IntegrationError(f"{results_path}: no results to analyse")
                with progress.working_on(f"analysing {len(results)} results"):
                    report_ = analyze(results, _space(space_path, results))
            progress.advance()
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
