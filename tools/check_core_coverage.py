"""Enforce 100 % line coverage on the core logic of generation and snapshots.

Reads the JSON report written by ``pytest --cov-report=json:coverage.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

#: Modules whose every line must be executed by the test suite: every module of the generation
#: and snapshot packages, plus the kernels they stand on.
_CORE_PACKAGES = ("src/configlab/generation/*.py", "src/configlab/snapshots/*.py")
CORE_MODULES = (
    *sorted(str(path) for pattern in _CORE_PACKAGES for path in Path().glob(pattern)),
    "src/configlab/_internal/finite.py",
    "src/configlab/_internal/objectstore.py",
    "src/configlab/_internal/validity.py",
    "src/configlab/treediff.py",
)


def main(report_path: str) -> int:
    files = json.loads(Path(report_path).read_text())["files"]
    failures = []
    for module in CORE_MODULES:
        entry = files.get(module)
        if entry is None:
            if Path(module).exists():
                failures.append(f"{module}: not measured")
            continue
        missing = entry["missing_lines"]
        if missing:
            failures.append(f"{module}: lines not covered: {missing}")
    for failure in failures:
        print(f"core coverage: {failure}", file=sys.stderr)
    if not failures:
        print("core coverage: 100 % on generation and snapshot core modules")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "coverage.json"))
