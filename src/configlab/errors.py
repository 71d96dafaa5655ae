"""The exception hierarchy: every error configlab raises on bad input is a ConfiglabError."""

from __future__ import annotations


class ConfiglabError(Exception):
    """Root of every error configlab raises on bad user input or corrupted data."""


class FormatError(ConfiglabError):
    """A configuration file could not be read or written (names the file and, where known, line)."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f":{line}"
            where += ": "
        elif line is not None:
            where = f"line {line}: "
        super().__init__(f"{where}{message}")


class ConstraintError(ConfiglabError):
    """A constraint expression is malformed or refers to unknown parameters.

    The message is one line: the problem, then the constraint text (shortened around the
    position when long) and the column; :meth:`caret` gives the three-line form with a caret
    under the position, which ``configlab --verbose`` prints.
    """

    def __init__(self, message: str, *, text: str = "", position: int | None = None) -> None:
        self.text = text
        self.position = position
        self.reason = message
        detail = message
        if text:
            detail += f" in {_excerpt(text, position)!r}"
            if position is not None:
                detail += f" at column {position + 1}"
        super().__init__(detail)

    def caret(self) -> str:
        """The message, the constraint text and a caret under the position (three lines)."""
        if not self.text:
            return self.reason
        out = f"{self.reason}\n  in: {self.text}"
        if self.position is not None:
            out += "\n      " + " " * self.position + "^"
        return out


def _excerpt(text: str, position: int | None, width: int = 80) -> str:
    """``text`` cut to about ``width`` characters around ``position`` (``...`` marks cuts)."""
    if len(text) <= width:
        return text
    centre = 0 if position is None else position
    start = max(0, min(centre - width // 2, len(text) - width))
    head = "..." if start > 0 else ""
    tail = "..." if start + width < len(text) else ""
    return f"{head}{text[start:start + width]}{tail}"


class SpaceError(ConfiglabError):
    """A space definition (space file, JSON Schema, PICT model) is invalid."""


class ValidationError(ConfiglabError):
    """A configuration does not satisfy its space (carries every violation)."""

    def __init__(self, message: str, violations: object = ()) -> None:
        self.violations = violations
        super().__init__(message)


class GenerationError(ConfiglabError):
    """Generation was asked for something impossible (unknown strategy, space too large, ...)."""


class UnsatisfiableSpaceError(GenerationError):
    """No configuration satisfies the space's constraints; names a minimal conflicting set."""

    def __init__(self, message: str, conflicting: tuple[str, ...] = ()) -> None:
        self.conflicting = conflicting
        super().__init__(message)


class SnapshotError(ConfiglabError):
    """A snapshot operation failed (unknown id or tag, unsafe bundle, ...)."""


class SnapshotNotFoundError(SnapshotError):
    """No snapshot has the given id or tag."""


class SnapshotCorruptedError(SnapshotError):
    """Stored snapshot data does not match its content hash or is missing."""


class SpecError(ConfiglabError):
    """A behaviour specification is malformed."""


class ContradictorySpecError(SpecError):
    """Two rules can apply to one config while their expectations cannot both hold."""


class ResultsError(ConfiglabError):
    """Test results could not be read, or are unusable for the analysis asked for."""


class AnalysisError(ConfiglabError):
    """An analysis cannot be carried out on the given data."""


class IntegrationError(ConfiglabError):
    """Ingesting or exporting test-framework reports failed."""


class ExecutionError(ConfiglabError):
    """A command template, executor, shard or execution setting is unusable."""


__all__ = [
    "AnalysisError",
    "ConfiglabError",
    "ConstraintError",
    "ContradictorySpecError",
    "ExecutionError",
    "FormatError",
    "GenerationError",
    "IntegrationError",
    "ResultsError",
    "SnapshotCorruptedError",
    "SnapshotError",
    "SnapshotNotFoundError",
    "SpaceError",
    "SpecError",
    "UnsatisfiableSpaceError",
    "ValidationError",
]
