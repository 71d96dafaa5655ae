"""Paths the tests read from, independent of where a test module sits under ``tests/``."""

from __future__ import annotations

from pathlib import Path

#: The ``tests`` folder.
TESTS_DIR = Path(__file__).resolve().parent
#: Real input files the tests read (reports, schemas, PICT models, specs, config files).
DATA_DIR = TESTS_DIR / "data"
#: The repository root (README.md, examples/, src/).
ROOT_DIR = TESTS_DIR.parent
#: The package sources, for subprocesses that must import this tree's configlab.
SRC_DIR = ROOT_DIR / "src"
