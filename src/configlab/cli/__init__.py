"""The ``configlab`` command line: one click group, one module per subcommand group.

Exit codes (CI-friendly): 0 all good; 1 test failures or violated specs; 2 bad usage or input;
3 coverage below the asked threshold.
"""

from __future__ import annotations

from typing import Any

import click

from configlab._version import __version__
from configlab.errors import ConfiglabError, ConstraintError

# Re-exported: the subcommand modules name exit codes through the CLI package.
from configlab.exit_codes import EXIT_COVERAGE as EXIT_COVERAGE
from configlab.exit_codes import EXIT_FAILURES as EXIT_FAILURES
from configlab.exit_codes import EXIT_OK as EXIT_OK
from configlab.exit_codes import EXIT_USAGE

#: Every subcommand: name -> (module, attribute, one-line help).  The modules are imported
#: only when their command runs (or its own --help is asked), so ``configlab --help`` and
#: ``configlab run -- true`` never import numpy, scipy or matplotlib.  The help line must
#: match the command's own (a test checks it).
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "analyze": ("configlab.cli.report_cmd", "analyze_command",
                "Which parameters, values and interactions drive failures and metrics."),
    "ci": ("configlab.cli.ci_cmd", "ci",
           "Run the configlab steps of a CI suite file and exit with a CI-friendly code."),
    "coverage": ("configlab.cli.coverage_cmd", "coverage",
                 "Measure t-way (NIST CCM) coverage of SPACE by RESULTS, list gaps, draw charts."),
    "demo": ("configlab.cli.demo_cmd", "demo",
             "Run configlab end to end on SQLite and write a Markdown report with charts."),
    "exec": ("configlab.cli.exec_cmd", "exec_command",
             "Run COMMAND once per config of a suite, --jobs at a time; record every result."),
    "generate": ("configlab.cli.generate_cmd", "generate_command",
                 "Generate configurations from a space."),
    "ingest": ("configlab.cli.report_cmd", "ingest",
               "Read test reports (JUnit XML, pytest-json-report, CTRF) as configlab results."),
    "prioritize": ("configlab.cli.generate_cmd", "prioritize_command",
                   "Order SUITE (a directory of configs or a JSON-lines file) by t-tuple "
                   "coverage."),
    "report": ("configlab.cli.report_cmd", "report",
               "Export results as JUnit XML, Allure results, CTRF, Markdown, CSV or Parquet."),
    "results": ("configlab.cli.results_cmd", "results",
                "Results of a store: merge shards, check completeness, compact to Parquet."),
    "run": ("configlab.cli.run_cmd", "run",
            "Run COMMAND under the execution monitor and record the result."),
    "snapshot": ("configlab.cli.snapshot_cmd", "snapshot",
                 "Capture, store and recreate exact configuration states."),
    "store": ("configlab.cli.store_cmd", "store",
              "Move snapshots and results between stores; garbage-collect unreferenced "
              "objects."),
    "space": ("configlab.cli.space_cmd", "space",
              "Load, check, infer and convert configuration spaces."),
    "spec": ("configlab.cli.spec_cmd", "spec",
             "Behaviour specifications: executable rules linking configs to expected outcomes."),
}


class _OneLineUsageError(click.ClickException):
    """A click usage error (bad path, missing argument, unknown option) shown as one line."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(f"configlab: error: {self.format_message()}", err=True)


def _one_line(text: str) -> str:
    """``text`` on one line (a multi-line message is joined with ``; ``)."""
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def _usage_error(error: click.UsageError) -> _OneLineUsageError:
    where = error.ctx.command_path if error.ctx is not None else "configlab"
    hint = f" (see '{where} --help')"
    return _OneLineUsageError(f"{where}: {_one_line(error.format_message())}{hint}")


class _Group(click.Group):
    """The ``configlab`` group: lazy subcommands; every ConfiglabError and click usage error
    is one line and exit 2.

    Commands added with :meth:`add_command` work as usual; the ones in
    :data:`LAZY_COMMANDS` are imported on first use.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in LAZY_COMMANDS:
            return self.commands.get(cmd_name)
        import importlib

        module, attribute, _ = LAZY_COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), attribute)
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # the help lines come from the table: listing commands imports none of them
        names = self.list_commands(ctx)
        if not names:  # pragma: no cover - configlab always has commands
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.commands:
                text = self.commands[name].get_short_help_str(limit)
            else:
                # a stand-in command shortens the line exactly as click would
                text = click.Command(name, help=LAZY_COMMANDS[name][2]).get_short_help_str(limit)
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as error:
            raise _usage_error(error) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            raise _usage_error(error) from None
        except ConfiglabError as error:
            message = str(error)
            if isinstance(error, ConstraintError) and ctx.meta.get("configlab.verbose"):
                message = error.caret()
            else:
                message = _one_line(message)
            from configlab import redaction  # on use: 3 ms of every command's start-up

            click.echo(f"configlab: error: {redaction.redact_text(message)}", err=True)
            ctx.exit(EXIT_USAGE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="configlab")
@click.option("--no-redact", is_flag=True,
              help="Show and export secret-looking values as they are (see README, "
                   "'Errors and security').")
@click.option("--verbose", is_flag=True,
              help="Longer error messages (a caret under the position of a constraint error).")
@click.pass_context
def cli(ctx: click.Context, no_redact: bool, verbose: bool) -> None:
    """configlab: which configurations should we test, did we, what happened, and why."""
    ctx.meta["configlab.verbose"] = verbose
    if no_redact:
        from configlab import redaction  # on use: 3 ms of every command's start-up

        ctx.with_resource(redaction.using(redaction.RedactionRules(enabled=False)))


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="configlab", standalone_mode=True)


if __name__ == "__main__":  # pragma: no cover
    main()
