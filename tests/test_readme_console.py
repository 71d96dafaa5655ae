"""Every console block of README.md and docs/*.md runs as written.

CONTRIBUTING — how documented commands are tested (read before adding a console block)
--------------------------------------------------------------------------------------
* Blocks fenced as ```console (or sh / shell / bash) RUN, with bash, in a scratch copy of the
  repository (examples/, docs/, tests/data/, ...). All blocks of one document run in order in
  the same copy, as a reader following the page would: a block may use files an earlier block
  of the same page wrote. `configlab`, `python` and `pytest` are the ones under test.
* Lines starting with `$ ` are commands (a trailing `\\` continues a command); the lines after a
  command, up to the next `$ `, are its expected output: each must equal a line of the real
  output (stdout + stderr), in order; whitespace runs compare equal and `...` inside a line
  matches anything, so show stable key lines and elide the rest with `...`.
  A block without any `$ ` line is a list of commands whose output is not checked.
* A command must exit 0, unless its trailing comment says `# exit N` (e.g. `# exit 3`).
  Other comments are free text; `/tmp/...` paths are redirected into the scratch copy.
* Use files that exist in the repository (or that an earlier block of the page creates).
* An illustrative block that cannot run here (the Makefile targets, a Maven build, ...) carries
  `<!-- docs-test: skip REASON -->` on the line just before its fence. Keep these rare: the
  reason is required and MAX_SKIPPED caps their number.
* A block of shell-session text (`$ ` lines) must be fenced as console: unlabelled ones fail.
Python blocks of README.md run in tests/test_readme.py; the getting-started page
(docs/getting-started.md) runs here too, against a real redis-server.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.doc_console import (
    ROOT,
    Block,
    Command,
    blocks,
    documents,
    environment,
    missing_output,
    parse_session,
    run_command,
    scratch_copy,
)

#: Seconds one documented command may take before the test calls it broken.
COMMAND_TIMEOUT = 120.0
#: At most this many console blocks may be illustrative only (raise it only with a good reason).
MAX_SKIPPED = 10
#: Pages that need a server binary (installed by `make test` through `make system-deps`).
NEEDS = {"getting-started.md": "redis-server"}


def console_blocks(path: Path) -> list[Block]:
    return [block for block in blocks(path) if block.commands]


RUNNABLE = [path for path in documents() if any(not b.skip_reason for b in console_blocks(path))]


def test_documents_have_runnable_console_blocks() -> None:
    assert ROOT / "README.md" in RUNNABLE
    assert len(RUNNABLE) >= 5


@pytest.mark.parametrize("path", RUNNABLE, ids=[path.name for path in RUNNABLE])
def test_console_blocks_run(path: Path, tmp_path: Path) -> None:
    needed = NEEDS.get(path.name)
    if needed and shutil.which(needed) is None:
        pytest.skip(f"{needed} is not installed (make system-deps installs it)")
    repo = scratch_copy(tmp_path / "repo")
    env = environment(tmp_path / "home")
    (tmp_path / "home").mkdir()
    for block in console_blocks(path):
        if block.skip_reason:
            continue
        for command in block.commands:
            problem = run_command(command, repo, env, COMMAND_TIMEOUT)
            assert problem is None, (
                f"{block.path.relative_to(ROOT)}:{command.line}: `{command.text}`: {problem}"
            )


def test_shell_sessions_are_labelled() -> None:
    unlabelled = [
        block.where for path in documents() for block in blocks(path)
        if not block.lang and any(line.startswith("$ ") for line in block.body.splitlines())
    ]
    assert unlabelled == [], "fence these shell sessions as ```console so they run"


def test_skipped_blocks_are_rare_and_explained() -> None:
    every = [block for path in documents() for block in console_blocks(path)]
    skipped = [block for block in every if block.skip_reason is not None]
    assert all(block.skip_reason for block in skipped), [b.where for b in skipped]
    assert len(skipped) <= MAX_SKIPPED, [b.where for b in skipped]


# ------------------------------------------------------------------ the convention itself


def test_parse_session_plain_and_prompted_forms() -> None:
    plain = parse_session(
        "configlab generate --space s.yaml \\\n    --out suite/   # a comment\n"
        "configlab coverage --fail-under 0.9   # exit 3 when below\n\n# a comment line\n",
        10,
    )
    assert plain == [
        Command("configlab generate --space s.yaml --out suite/", 10),
        Command("configlab coverage --fail-under 0.9", 12, 3),
    ]
    prompted = parse_session(
        "$ configlab snapshot capture a.yaml --tag 'x # y'\n3f6c...\n$ configlab verify  # exit 1\n"
        "configlab: error: damaged\n",
        1,
    )
    assert prompted == [
        Command("configlab snapshot capture a.yaml --tag 'x # y'", 1, 0, ("3f6c...",)),
        Command("configlab verify", 3, 1, ("configlab: error: damaged",)),
    ]


def test_expected_output_is_checked_in_order_with_ellipsis() -> None:
    output = "header\n  2-way   coverage 100.0% (98/98)\nid 3f6c1e0b9a77\nfooter\n"
    assert missing_output(("2-way coverage ...", "...", "id 3f6c..."), output) is None
    assert missing_output(("id 3f6c...", "2-way coverage ..."), output) == "2-way coverage ..."
    assert missing_output(("coverage",), output) == "coverage"  # a whole line must match


def test_skip_mark_and_exit_code_are_enforced(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- docs-test: skip needs Maven -->\n```console\nmvn test\n```\n\n"
        "```sh\n$ false  # exit 1\n$ echo hi\nhi\n```\n"
    )
    skipped, ran = blocks(page)
    assert skipped.skip_reason == "needs Maven" and ran.skip_reason is None
    env = environment(tmp_path)
    assert [run_command(c, tmp_path, env, 10) for c in ran.commands] == [None, None]
    wrong = run_command(Command("echo bye", 1, 0, ("hi",)), tmp_path, env, 10)
    assert wrong is not None and "'hi'" in wrong
    assert "exit 0, expected 2" in (run_command(Command("true", 1, 2), tmp_path, env, 10) or "")
