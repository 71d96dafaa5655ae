"""Every ```python block of README.md runs as written (from the repo root)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT_DIR

ROOT = ROOT_DIR
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_python_examples() -> None:
    assert BLOCKS


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index: int, tmp_path: Path) -> None:
    # Paths under /tmp in the README are redirected into this test's own directory.
    code = BLOCKS[index].replace('"/tmp/', f'"{tmp_path}/')
    script = tmp_path / f"block{index}.py"
    script.write_text(code)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
