"""The ``configlab`` command line: one click group, one module per subcommand group.

Exit codes (CI-friendly): 0 all good; 1 test failures or violated specs; 2 bad usage or input;
3 coverage below the asked threshold.
"""

from __future__ import annotations

from typing import Any

import click

from configlab import __version__
from configlab.errors import ConfiglabError

# Re-exported: the subcommand modules name exit codes through the CLI package.
from configlab.exit_codes import EXIT_COVERAGE as EXIT_COVERAGE
from configlab.exit_codes import EXIT_FAILURES as EXIT_FAILURES
from configlab.exit_codes import EXIT_OK as EXIT_OK
from configlab.exit_codes import EXIT_USAGE


class _Group(click.Group):
    """Turns every ConfiglabError into a one-line message and exit code 2 (never a traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfiglabError as error:
            click.echo(f"configlab: error: {error}", err=True)
            ctx.exit(EXIT_USAGE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="configlab")
def cli() -> None:
    """configlab: which configurations should we test, did we, what happened, and why."""


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
