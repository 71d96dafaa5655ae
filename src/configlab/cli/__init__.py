"""The ``configlab`` command line: one click group, one module per subcommand group.

Exit codes (CI-friendly): 0 all good; 1 test failures or violated specs; 2 bad usage or input;
3 coverage below the asked threshold.
"""

from __future__ import annotations

from typing import Any

import click

from configlab import __version__, redaction
from configlab.errors import ConfiglabError, ConstraintError

# Re-exported: the subcommand modules name exit codes through the CLI package.
from configlab.exit_codes import EXIT_COVERAGE as EXIT_COVERAGE
from configlab.exit_codes import EXIT_FAILURES as EXIT_FAILURES
from configlab.exit_codes import EXIT_OK as EXIT_OK
from configlab.exit_codes import EXIT_USAGE


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
    """Turns every ConfiglabError, and click's usage errors, into one line and exit code 2."""

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
        ctx.with_resource(redaction.using(redaction.RedactionRules(enabled=False)))


def _register() -> None:
    # Subcommand modules are imported here (not at module top) so that `configlab --help`
    # stays fast and each area owns its own module.
    from configlab.cli import snapshot_cmd, space_cmd

    cli.add_command(space_cmd.space)
    cli.add_command(snapshot_cmd.snapshot)
    from configlab.cli import spec_cmd

    cli.add_command(spec_cmd.spec)
    from configlab.cli import coverage_cmd

    cli.add_command(coverage_cmd.coverage)
    from configlab.cli import generate_cmd

    generate_cmd.register(cli)
    from configlab.cli import run_cmd

    cli.add_command(run_cmd.run)
    from configlab.cli import exec_cmd

    cli.add_command(exec_cmd.exec_command)
    from configlab.cli import demo_cmd

    cli.add_command(demo_cmd.demo)
    from configlab.cli import ci_cmd, report_cmd

    cli.add_command(report_cmd.report)
    cli.add_command(report_cmd.ingest)
    cli.add_command(report_cmd.analyze_command)
    cli.add_command(ci_cmd.ci)


_register()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="configlab", standalone_mode=True)


if __name__ == "__main__":  # pragma: no cover
    main()
