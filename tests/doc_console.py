"""Run the console blocks of Markdown documents (used by tests/test_readme_console.py).

The convention these functions implement is described in the CONTRIBUTING note at the top of
tests/test_readme_console.py; keep the two in step.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Fence languages whose blocks are shell sessions and therefore run.
CONSOLE_LANGS = frozenset({"console", "sh", "shell", "bash"})
#: The one explicit way to keep a console block from running (on the line before the fence).
SKIP_MARK = re.compile(r"<!--\s*docs-test:\s*skip\b\s*(?P<reason>.*?)\s*-->\s*$")
_FENCE = re.compile(r"^```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^```\s*$", re.M | re.S)
_EXIT = re.compile(r"#\s*exit\s+(?P<code>\d+)\b")
#: Top-level entries never copied into the scratch repository (environments, caches, outputs).
_NOT_COPIED = (
    ".git", ".venv", "venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__",
    "demo-output", ".configlab", "build", "coverage.json", ".coverage", "pytest_results.json",
)


@dataclass(frozen=True)
class Command:
    """One shell command of a block with what it must print and the exit code it must give."""

    text: str
    line: int
    expected_exit: int = 0
    expected_output: tuple[str, ...] = ()


@dataclass(frozen=True)
class Block:
    """A fenced block of a Markdown document."""

    path: Path
    line: int
    lang: str
    body: str
    skip_reason: str | None = None
    commands: tuple[Command, ...] = field(default=())

    @property
    def where(self) -> str:
        """`file:line` of the opening fence, relative to the repository."""
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def documents() -> list[Path]:
    """README.md and every docs/*.md, in a stable order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path: Path) -> list[Block]:
    """Every fenced block of *path*, console blocks parsed into commands."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = SKIP_MARK.search(before)
        lang = match.group("lang").lower()
        body = match.group("body")
        commands = tuple(parse_session(body, line + 1)) if lang in CONSOLE_LANGS else ()
        found.append(
            Block(path, line, lang, body, skip.group("reason") if skip else None, commands)
        )
    return found


def _logical_lines(body: str, first_line: int) -> list[tuple[int, str]]:
    """Lines of *body* with `\\` continuations joined, each with its line number."""
    joined: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for offset, raw in enumerate(body.splitlines()):
        if pending is not None:
            start, text = pending
            text = text + " " + raw.strip()
        else:
            start, text = first_line + offset, raw
        if text.rstrip().endswith("\\") and not _has_comment(text):
            pending = (start, text.rstrip()[:-1].rstrip())
            continue
        pending = None
        joined.append((start, text))
    if pending is not None:
        joined.append(pending)
    return joined


def _has_comment(text: str) -> bool:
    return _comment_start(text) is not None


def _comment_start(text: str) -> int | None:
    """Index of a shell comment (`#` after whitespace, outside quotes), if any."""
    quote = ""
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or text[index - 1].isspace()):
            return index
    return None


def parse_session(body: str, first_line: int) -> list[Command]:
    """Commands of a console block (see the CONTRIBUTING note for the two forms)."""
    lines = _logical_lines(body, first_line)
    prompted = any(text.startswith("$ ") for _, text in lines)
    commands: list[Command] = []
    for number, text in lines:
        if prompted and not text.startswith("$ "):
            if commands and text.strip():
                last = commands[-1]
                commands[-1] = Command(
                    last.text, last.line, last.expected_exit,
                    (*last.expected_output, text.rstrip()),
                )
            continue
        command = text[2:] if prompted else text
        if not command.strip() or command.lstrip().startswith("#"):
            continue
        cut = _comment_start(command)
        comment = command[cut:] if cut is not None else ""
        code = _EXIT.search(comment)
        shell = command[:cut] if cut is not None else command
        commands.append(Command(shell.strip(), number, int(code.group("code")) if code else 0))
    return commands


def scratch_copy(target: Path) -> Path:
    """A copy of the repository in *target* (without environments, caches and outputs)."""
    def ignore(directory: str, names: list[str]) -> set[str]:
        return {name for name in names if name in _NOT_COPIED or name.endswith(".egg-info")}

    shutil.copytree(ROOT, target, ignore=ignore, symlinks=True)
    return target


def environment(home: Path) -> dict[str, str]:
    """Environment of documented commands: configlab under test first on PATH, no CI flags."""
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("CONFIGLAB_", "GITHUB_", "PYTEST_", "COV_CORE_"))
        and key not in {"CI", "PYTHONPATH"}
    }
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = str(ROOT / "src")
    env.update(PYTHONHASHSEED="0", TZ="UTC", COLUMNS="100", NO_COLOR="1", HOME=str(home))
    return env


def _pattern(expected: str) -> re.Pattern[str]:
    words = [".*".join(re.escape(part) for part in word.split("...")) for word in expected.split()]
    return re.compile(r"\s+".join(words))


def missing_output(expected: tuple[str, ...], output: str) -> str | None:
    """The first expected line not found (in order) among the lines of *output*, else None.

    Each expected line must match a whole output line (whitespace runs are equal, `...` matches
    anything); a line that is just `...` matches nothing on its own (it only says "more here").
    """
    actual = [line.strip() for line in output.splitlines()]
    position = 0
    for line in expected:
        if line.strip() in {"", "..."}:
            continue
        pattern = _pattern(line)
        while position < len(actual) and not pattern.fullmatch(actual[position]):
            position += 1
        if position == len(actual):
            return line
        position += 1
    return None


def run_command(command: Command, cwd: Path, env: dict[str, str], timeout: float) -> str | None:
    """Run *command* in *cwd*; a description of what went wrong, or None when it behaved."""
    text = command.text.replace(" /tmp/", f" {cwd}/tmp/")
    (cwd / "tmp").mkdir(exist_ok=True)
    with subprocess.Popen(
        ["bash", "-o", "pipefail", "-c", text], cwd=cwd, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # The command's own process group: whatever it started goes with it.
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return f"timed out after {timeout:.0f} s"
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    output = done.stdout + done.stderr
    if done.returncode != command.expected_exit:
        return (
            f"exit {done.returncode}, expected {command.expected_exit}\n"
            f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
        )
    absent = missing_output(command.expected_output, output)
    if absent is not None:
        return f"expected output line not printed: {absent!r}\n--- output\n{output[-4000:]}"
    return None
