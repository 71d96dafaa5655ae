"""Exit codes of the ``configlab`` command, shared by the CLI and the library's CI runner.

A leaf module (no imports) so that library code can name an exit code without importing the CLI.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """CI-friendly exit codes: 0 all good, 1 failures, 2 bad usage or input, 3 coverage too low."""

    OK = 0
    FAILURES = 1
    USAGE = 2
    COVERAGE = 3


EXIT_OK = ExitCode.OK
EXIT_FAILURES = ExitCode.FAILURES
EXIT_USAGE = ExitCode.USAGE
EXIT_COVERAGE = ExitCode.COVERAGE

__all__ = ["EXIT_COVERAGE", "EXIT_FAILURES", "EXIT_OK", "EXIT_USAGE", "ExitCode"]
