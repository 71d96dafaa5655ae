"""Run ruff over examples/ruff/project under one generated pyproject.toml.

    python examples/ruff/check.py CONFIG [RULE...]

CONFIG (a TOML file with ``[tool.ruff]``) is copied as ``pyproject.toml`` into a temporary copy
of the project, and ``ruff check`` runs there (ruff reads ``--config FILE`` as a ``ruff.toml``,
so a generated pyproject must sit where ruff looks for it).  ruff's own output is printed.
Exit 2 when ruff refuses the config (3: ruff is not installed); with RULE codes (``UP006``),
1 when one of them fires and 0 otherwise; without, ruff's exit status (1: any violation).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent / "project"


def main(config: str, rules: list[str]) -> int:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        print("ruff is not installed (pip install ruff)", file=sys.stderr)
        return 3
    with tempfile.TemporaryDirectory(prefix="ruff-check-") as tmp:
        work = Path(tmp) / "project"
        shutil.copytree(PROJECT, work)
        shutil.copy(config, work / "pyproject.toml")
        # JSON output: the rule code is there in preview mode too (concise output then names
        # the rule instead of giving its code)
        done = subprocess.run([ruff, "check", "--no-cache", "--output-format", "json", "."],
                              cwd=work, capture_output=True, text=True, timeout=120)
    if done.returncode == 2:
        print(done.stderr.strip())  # ruff's own reason for refusing the config
        return 2
    found = json.loads(done.stdout or "[]")
    for item in found:
        print(f"{Path(item['filename']).name}:{item['location']['row']}: {item['code']} "
              f"{item['message']}")
    if not rules:
        return done.returncode
    return 1 if {item["code"] for item in found} & set(rules) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
