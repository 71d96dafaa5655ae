"""Behaviours of SQLite checked under every generated PRAGMA configuration.

Run with configlab's pytest plugin (loaded automatically once configlab is installed)::

    pytest examples/sqlite/test_sqlite_behaviours.py --configlab-store .configlab -n 2

Each test runs once per configuration of two suites generated from ``space.yaml``: a
pairwise covering array (``TestCovering``) and boundary configs (``TestBoundary``).  The
config reaches the test through the ``configlab_config`` fixture (a read-only mapping); the
test opens fresh databases in ``tmp_path`` with those PRAGMAs.  Several tests really fail
under some configurations: that is SQLite honouring (or not) its settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from behaviours import (
    concurrent_read,
    foreign_key_violation_refused,
    shrink_after_delete,
    statement_atomicity,
    write_heavy,
)

#: The space file, next to this test file.
SPACE = "space.yaml"
#: Generation seed (``--configlab-seed`` overrides it).
SEED = 2024
#: Boundary configs generated on top of the covering array.
BOUNDARY_COUNT = 16
#: Generous time budget of the write-heavy workload (it takes 0.01-0.2 s on a laptop).
WRITE_BUDGET_S = 10.0


class Behaviours:
    """The behaviour tests; the subclasses below choose the configs they run under."""

    def test_failed_statement_leaves_no_partial_changes(
        self, configlab_config: Mapping[str, Any], tmp_path: Path
    ) -> None:
        seen = statement_atomicity(tmp_path, configlab_config)
        assert seen.after_failed_statement == seen.expected_after_statement, (
            f"the failed INSERT ... SELECT left "
            f"{seen.after_failed_statement - seen.expected_after_statement} partial row(s)"
        )
        assert seen.after_rollback == seen.committed, "ROLLBACK did not restore the data"

    def test_second_connection_reads_during_write(
        self, configlab_config: Mapping[str, Any], tmp_path: Path
    ) -> None:
        seen = concurrent_read(tmp_path, configlab_config)
        assert seen.error is None, f"the reader failed: {seen.error}"
        assert seen.rows_seen == seen.committed, "the reader saw uncommitted rows"

    def test_foreign_key_violation_refused(
        self, configlab_config: Mapping[str, Any], tmp_path: Path
    ) -> None:
        assert foreign_key_violation_refused(tmp_path, configlab_config), (
            "a payment referencing a missing account was stored"
        )

    def test_deleting_rows_shrinks_file(
        self, configlab_config: Mapping[str, Any], tmp_path: Path
    ) -> None:
        sizes = shrink_after_delete(tmp_path, configlab_config)
        assert sizes.after_delete <= sizes.filled // 2, (
            f"file still {sizes.after_delete} bytes after deleting 95 % of "
            f"{sizes.filled} bytes of rows"
        )

    def test_write_heavy_workload(
        self, configlab_config: Mapping[str, Any], tmp_path: Path
    ) -> None:
        elapsed, stored = write_heavy(tmp_path, configlab_config)
        assert stored == 2000
        assert elapsed < WRITE_BUDGET_S, f"100 commits took {elapsed:.2f} s"


@pytest.mark.configlab(space=SPACE, strategy="covering", strength=2, seed=SEED)
class TestCovering(Behaviours):
    """Every pair of PRAGMA value classes, in as few configs as the covering engine finds."""


@pytest.mark.configlab(space=SPACE, strategy="boundary", count=BOUNDARY_COUNT, seed=SEED)
class TestBoundary(Behaviours):
    """Configs at the edges of each domain (first/last values, extremes of numbers)."""
