"""``configlab spec``: verify behaviour specs against the application, lint them, diff versions.

Exit codes: ``verify``: 0 every rule held; 1 a rule was violated or a run errored (timeout,
crash, runner failure); 2 bad spec or usage.  ``lint``: 0 clean; 1 contradictions or dead rules.
``diff``: 0 (differences are printed, not an error).
"""

from __future__ import annotations

import json
from typing import Any

import click

from configlab._internal.safeio import write_output
from configlab.cli._output import STDOUT, emit_json, output_option
from configlab.cli._store_options import store_options
from configlab.errors import SpecError
from configlab.specs import (
    PytestRunner,
    VerificationReport,
    diff_specs,
    load_spec,
    output_tail,
    spec_from_store,
    verify,
)
from configlab.specs import (
    check as check_spec,
)
from configlab.storage import StoreLocation


@click.group(name="spec")
def spec() -> None:
    """Behaviour specifications: executable rules linking configs to expected outcomes."""


@spec.command("verify")
@click.argument("spec_file", metavar="SPEC", type=click.Path(dir_okay=False))
@click.option(
    "--run",
    "command",
    default=None,
    help="Command template run per config; {config} is the config file path.",
)
@click.option(
    "--pytest",
    "node_id",
    default=None,
    help="A pytest node id run per config (CONFIGLAB_CONFIG names the config file).",
)
@click.option(
    "--format",
    "fmt",
    default="yaml",
    show_default=True,
    help="Format the config file is written in.",
)
@click.option(
    "--space",
    "space_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="Space file (overrides the spec's own space).",
)
@click.option(
    "--strategy",
    default="covering",
    show_default=True,
    help="Generation strategy for configs (covering, boundary, random, exhaustive).",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Generation seed.")
@click.option("--timeout", default=None, type=float, help="Seconds per run (then errored).")
@click.option("--workers", "--jobs", "-j", "workers", default=None, type=int,
              help="Parallel runs (default: up to 4).")
@click.option("--max-per-rule", default=None, type=int, help="At most this many configs per rule.")
@click.option("--witnesses", default=1, show_default=True, type=int,
              help="Distinct SAT witness configs for a rule no generated config satisfies.")
@store_options
@click.option("--no-store", is_flag=True, help="Do not save configs and spec in a store.")
@output_option("--json", "json_out", "the report as JSON")
@output_option("--junit", "junit_out", "the report as JUnit XML")
@output_option("--md", "md_out", "the report as Markdown")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show progress: a bar on a terminal, plain lines in CI logs (default: only on a "
    "terminal).",
)
def verify_cmd(
    spec_file: str,
    command: str | None,
    node_id: str | None,
    fmt: str,
    space_file: str | None,
    strategy: str,
    seed: int,
    timeout: float | None,
    workers: int | None,
    max_per_rule: int | None,
    witnesses: int,
    store_path: StoreLocation,
    no_store: bool,
    json_out: str | None,
    junit_out: str | None,
    md_out: str | None,
    progress: bool | None,
) -> None:
    """Run the application under configs satisfying each rule of SPEC and judge the runs."""
    if (command is None) == (node_id is None):
        raise SpecError("give exactly one of --run CMD or --pytest NODE_ID")
    the_spec = load_spec(spec_file, space=space_file)
    runner: Any = command if command is not None else PytestRunner(str(node_id), fmt=fmt)
    report = verify(
        the_spec,
        runner,
        strategy=strategy,
        seed=seed,
        timeout=timeout,
        workers=workers,
        store=None if no_store else store_path,
        fmt=fmt,
        progress=progress,
        max_per_rule=max_per_rule,
        witnesses=witnesses,
    )
    outputs = ((json_out, "json"), (junit_out, "junit"), (md_out, "md"))
    for path, kind in outputs:
        if path is not None:
            report.write(path, kind)  # "-": stdout
    if all(path != STDOUT for path, _ in outputs):  # the summary would spoil a piped report
        _summary(report)
    click.get_current_context().exit(0 if report.ok else 1)


def _summary(report: VerificationReport) -> None:
    totals = report.totals()
    for rule in report.rules:
        line = (
            f"{rule.status:>8}  {rule.rule_id}: {rule.tried} tried, {rule.held} held, "
            f"{rule.violated} violated, {rule.errored} errored"
        )
        click.echo(line + (f"  [{rule.note}]" if rule.note else ""))
        for check in rule.checks:
            if check.verdict == "held":
                continue
            snap = (
                f"snapshot {check.snapshot_id[:12]}"
                if check.snapshot_id
                else f"config #{check.config_index}"
            )
            why = "; ".join(check.failures) if check.failures else (check.error or "")
            click.echo(f"          {check.verdict} on {snap}: {why}")
            for line in output_tail(check, lines=3).splitlines():
                click.echo(f"            | {line}")
    verdict = "OK" if report.ok else "FAILED"
    click.echo(
        f"{verdict}: {report.spec_name}@{report.spec_version} (sha256 {report.spec_hash[:12]}): "
        f"{totals['checks']} checks, {totals['held']} held, {totals['violated']} violated, "
        f"{totals['errored']} errored"
    )


@spec.command("lint")
@click.argument("spec_file", metavar="SPEC", type=click.Path(dir_okay=False))
@click.option(
    "--space",
    "space_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="Space file (overrides the spec's own space).",
)
@output_option("--json", "json_out", "the report as JSON")
def lint_cmd(spec_file: str, space_file: str | None, json_out: str | None) -> None:
    """Find contradictory rules (with a witness config) and dead rules in SPEC."""
    the_spec = load_spec(spec_file, space=space_file)
    report = check_spec(the_spec, raise_on_contradiction=False)
    if json_out is not None:
        emit_json(json_out, report.to_dict())
    else:
        click.echo(report.to_text())
    click.get_current_context().exit(0 if report.ok else 1)


@spec.command("diff")
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@output_option("--json", "json_out", "the changes as JSON")
def diff_cmd(old: str, new: str, json_out: str | None) -> None:
    """Show rules added, removed and changed between two spec versions."""
    result = diff_specs(old, new)
    if json_out is not None:
        emit_json(json_out, result.to_dict())
    else:
        click.echo(result.to_text())


@spec.command("show")
@click.argument("ref")
@store_options
@click.option(
    "--output",
    "-o",
    default=None,
    type=click.Path(dir_okay=False),
    help="Write the spec's canonical JSON here instead of stdout.",
)
def show_cmd(ref: str, store_path: StoreLocation, output: str | None) -> None:
    """Print the exact spec kept in the store (REF: snapshot id, tag spec:NAME@VERSION or hash)."""
    the_spec = spec_from_store(store_path, ref)
    text = json.dumps(the_spec.to_dict(), indent=2, ensure_ascii=False)
    if output is None:
        click.echo(text)
        return
    write_output(output, text + "\n", what="spec file")
