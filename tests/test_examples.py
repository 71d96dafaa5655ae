"""Every example in examples/ runs as documented, somewhere in the tests.

Most examples are run by the documented commands themselves (console blocks of README.md and
docs/*.md, see tests/test_readme_console.py); the others by a named test. Adding an example
means adding it to RUN_BY below, with what runs it.
"""

from __future__ import annotations

import pytest

from tests.doc_console import ROOT, blocks, documents

#: example (a directory or file under examples/) -> what runs it: "docs" (a runnable console
#: block names it) or the test module that runs it.
RUN_BY = {
    "analysis": "docs",
    "cache-service": "docs",
    "ci": "docs",
    "exec": "docs",
    "pict": "docs",
    "redis": "docs",
    "ruff": "docs",
    "sqlite": "tests/test_demo.py",
    "webapp-config.yaml": "docs",
    "webapp-space.yaml": "docs",
    "junit5": "tests/integrations/test_junit5_example.py",
}
#: Examples that need what this machine does not have, and why (kept honest and short).
NOT_RUN = {
}


def _documented_commands() -> str:
    return "\n".join(
        command.text
        for path in documents()
        for block in blocks(path)
        if block.skip_reason is None
        for command in block.commands
    )


def test_every_example_is_accounted_for() -> None:
    present = {path.name for path in (ROOT / "examples").iterdir() if not path.name.startswith(".")}
    assert present == set(RUN_BY) | set(NOT_RUN)


@pytest.mark.parametrize("name", sorted(RUN_BY))
def test_example_is_run(name: str) -> None:
    runner = RUN_BY[name]
    if runner == "docs":
        assert f"examples/{name}" in _documented_commands(), (
            f"no runnable console block uses examples/{name}"
        )
    else:
        assert f"examples/{name}" in (ROOT / runner).read_text()
