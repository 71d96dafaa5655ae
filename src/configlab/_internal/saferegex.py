"""User-supplied regular expressions, matched in linear time by RE2 (``google-re2``).

Python's ``re`` backtracks: ``(a+)+$`` against ``"a" * 30 + "!"`` runs for minutes.  Every
pattern that comes from a user file (a space's ``pattern:``, a PICT ``LIKE``, a spec's
``stdout_matches``) is compiled here with RE2, whose matching time is linear in the text.  RE2
has no lookaround and no backreferences; a pattern using them is refused with a clear error
instead of being run with a backtracking engine.  RE2 caps a repetition count at 1,000; a
count up to :data:`MAX_SPLIT_REPEAT` (AWS's schemas write ``.{0,1023}``) is rewritten as
consecutive repetitions of the same atom (``(?:.){0,1000}(?:.){0,23}``, which matches exactly
the same strings); larger counts and patterns nested deeper than RE2's limit are refused.
"""

from __future__ import annotations

import functools
import re
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
#: RE2's largest repetition count, and the largest count split into runs of it.
RE2_MAX_REPEAT = 1_000
MAX_SPLIT_REPEAT = 10_000
_COUNT = re.compile(r"\{(\d+)(,(\d*))?\}")
#: ``\Z`` not itself escaped (an even number of backslashes before it)
_END_OF_TEXT = re.compile(r"(?<!\\)((?:\\\\)*)\\Z")


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
        compiled = None
        rewritten = _for_re2(pattern)
        if rewritten is not None:
            try:
                compiled = _compile(rewritten, ignore_case, dot_all)
            except Exception:  # the original pattern's error says more
                compiled = None
        if compiled is None:
            shown = pattern if len(pattern) <= 60 else pattern[:60] + "..."
            raise error(f"{where}: invalid pattern {shown!r}: {_reason(exc)}") from None
    return SafePattern(pattern, compiled)


def _for_re2(pattern: str) -> str | None:
    """``pattern`` in RE2's syntax where only the spelling differs (None: nothing to change):
    Python's end-of-text ``\\Z`` is RE2's ``\\z`` (AWS's schemas use it), and counts above
    1,000 are split (:func:`split_repeats`)."""
    respelled = _END_OF_TEXT.sub(r"\1\\z", pattern)
    split = split_repeats(respelled)
    if split is not None:
        return split
    return respelled if respelled != pattern else None


def split_repeats(pattern: str) -> str | None:
    """``pattern`` with every count above RE2's 1,000 written as runs of at most 1,000.

    ``X{m,n}`` becomes ``(?:X){a,b}(?:X){c,d}...`` whose counts add up to exactly ``m`` to
    ``n`` (``X{m,}`` ends with ``(?:X){r,}``).  None when nothing needs splitting, a count is
    above :data:`MAX_SPLIT_REPEAT`, or the atom before a count cannot be found (the caller
    then reports RE2's own error).
    """
    out: list[str] = []
    groups: list[int] = []  # positions in ``out`` where open groups start
    atom = -1  # position in ``out`` of the last complete atom
    changed = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        count = _COUNT.match(pattern, i) if char == "{" else None
        if count is not None and atom >= 0:
            low = int(count.group(1))
            high = None if count.group(2) and not count.group(3) else int(
                count.group(3) or count.group(1))
            end = count.end()
            lazy = pattern[end] if end < len(pattern) and pattern[end] in "?+" else ""
            if max(low, high or 0) > RE2_MAX_REPEAT:
                if max(low, high or 0) > MAX_SPLIT_REPEAT:
                    return None
                unit = "".join(out[atom:])
                del out[atom:]
                out.append("".join(f"(?:{unit}){{{a},{'' if b is None else b}}}{lazy}"
                                   for a, b in _runs(low, high)))
                changed = True
                i = end + len(lazy)
                atom = -1
                continue
            out.append(pattern[i:end])
            i = end
            atom = -1
            continue
        if char == "\\":
            atom = len(out)
            out.append(pattern[i:i + 2])
            i += 2
        elif char == "[":
            close = _class_end(pattern, i)
            if close < 0:
                return None
            atom = len(out)
            out.append(pattern[i:close + 1])
            i = close + 1
        elif char == "(":
            groups.append(len(out))
            out.append(char)
            i += 1
            atom = -1
        elif char == ")":
            if not groups:
                return None
            atom = groups.pop()
            out.append(char)
            i += 1
        else:
            atom = -1 if char in "|^$*+?{}" else len(out)
            out.append(char)
            i += 1
    return "".join(out) if changed and not groups else None


def _runs(low: int, high: int | None) -> list[tuple[int, int | None]]:
    """Counts of at most RE2_MAX_REPEAT each, adding up to exactly ``low`` .. ``high``."""
    runs: list[tuple[int, int | None]] = []
    left_low, left_high = low, high
    while left_low > RE2_MAX_REPEAT or (left_high is not None and left_high > RE2_MAX_REPEAT):
        take_low = min(left_low, RE2_MAX_REPEAT)
        runs.append((take_low, RE2_MAX_REPEAT))
        left_low -= take_low
        left_high = None if left_high is None else left_high - RE2_MAX_REPEAT
    runs.append((left_low, left_high))
    return runs


def _class_end(pattern: str, start: int) -> int:
    """Index of the ``]`` closing the character class opened at ``start`` (-1: none)."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "]":
            return i
        i += 1
    return -1


__all__ = ["ENGINE", "MAX_PATTERN_LENGTH", "MAX_SPLIT_REPEAT", "RE2_MAX_REPEAT", "SafePattern",
           "compile_pattern", "split_repeats"]
