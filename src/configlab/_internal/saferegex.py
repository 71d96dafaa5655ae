"""User-supplied regular expressions, matched in linear time by RE2 (``google-re2``).

Python's ``re`` backtracks: ``(a+)+$`` against ``"a" * 30 + "!"`` runs for minutes.  Every
pattern that comes from a user file (a space's ``pattern:``, a PICT ``LIKE``, a spec's
``stdout_matches``) is compiled here with RE2, whose matching time is linear in the text.  RE2
has no lookaround and no backreferences; a pattern using them is refused with a clear error
instead of being run with a backtracking engine.  Repetition counts above 1,000 and patterns
nested deeper than RE2's limit are refused the same way.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import re2

from configlab.errors import ConfiglabError

#: Name of the engine, as documented in README ("Errors and security").
ENGINE = "RE2 (google-re2): linear-time matching, no lookaround or backreferences"

#: Memory RE2 may use for one compiled pattern (bytes).
MAX_MEMORY = 64 * 1024 * 1024
#: Longest pattern accepted (characters).
MAX_PATTERN_LENGTH = 10_000


@dataclass(frozen=True)
class SafePattern:
    """A compiled pattern: :meth:`search` and :meth:`fullmatch` answer in linear time."""

    pattern: str
    compiled: Any

    def search(self, text: str) -> bool:
        """Whether the pattern matches somewhere in ``text``."""
        return self.compiled.search(text) is not None

    def fullmatch(self, text: str) -> bool:
        """Whether the pattern matches the whole of ``text``."""
        return self.compiled.fullmatch(text) is not None


def _reason(error: Exception) -> str:
    message = error.args[0] if error.args else error
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    text = str(message)
    if "invalid perl operator" in text or "invalid escape sequence: \\" in text:
        text += " (lookaround and backreferences are not supported: RE2 matches in linear time)"
    return text


@functools.lru_cache(maxsize=512)
def _compile(pattern: str, ignore_case: bool, dot_all: bool) -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern on stderr
    options.max_mem = MAX_MEMORY
    options.case_sensitive = not ignore_case
    options.dot_nl = dot_all
    return re2.compile(pattern, options)


def compile_pattern(
    pattern: str,
    *,
    where: str,
    error: type[ConfiglabError] = ConfiglabError,
    ignore_case: bool = False,
    dot_all: bool = False,
) -> SafePattern:
    """Compile ``pattern`` with RE2; ``error`` naming ``where`` when it is invalid or refused."""
    if not isinstance(pattern, str):
        raise error(f"{where}: a pattern must be a string, got {type(pattern).__name__}")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise error(f"{where}: pattern is {len(pattern)} characters long, more than the limit "
                    f"of {MAX_PATTERN_LENGTH}")
    try:
        compiled = _compile(pattern, ignore_case, dot_all)
    except Exception as exc:  # re2.error, or TypeError/ValueError on odd input
        shown = pattern if len(pattern) <= 60 else pattern[:60] + "..."
        raise error(f"{where}: invalid pattern {shown!r}: {_reason(exc)}") from None
    return SafePattern(pattern, compiled)


__all__ = ["ENGINE", "MAX_PATTERN_LENGTH", "SafePattern", "compile_pattern"]
