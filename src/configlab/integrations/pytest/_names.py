"""Names shared by the pytest plugin's hooks and its implementation (a leaf: imports nothing
of configlab).

pytest imports :mod:`configlab.integrations.pytest.plugin` in every run; the plugin and the
modules behind it (:mod:`.collect`, :mod:`.handle`, :mod:`.session`) all read these names from
here, so none of them imports another just for a constant.
"""

from __future__ import annotations

from typing import Final

import pytest

#: Name of the fixture (and of the parametrized argument).
FIXTURE: Final = "configlab_config"
#: Name of the marker.
MARKER: Final = "configlab"
#: Environment variable naming the run id (set it to group CI jobs; the plugin passes its
#: run id to xdist workers through ``workerinput``).
RUN_ID_ENV: Final = "CONFIGLAB_RUN_ID"
#: Default store directory, under the rootdir.
DEFAULT_STORE: Final = ".configlab"
#: Name of the file a config is saved as in its snapshot.
SNAPSHOT_FILE: Final = "config.json"
#: Strategies that never end on their own: ``count`` is required.
ENDLESS_STRATEGIES: Final = ("boundary", "random")
#: Longest part of a test id spent on values (after ``cfg0003``).
MAX_ID_VALUES: Final = 60
#: Patterns listed per failing test function in the terminal summary.
TOP_SUSPECTS: Final = 3
#: Failing test functions analysed per space in the terminal summary.
MAX_ANALYSED_TESTS: Final = 5
#: ``user_properties`` name carrying the snapshot id of each configlab test execution (written
#: to ``pytest --junitxml`` reports; :func:`configlab.integrations.ingest.from_junit` resolves it
#: through the store).  Same text as :data:`configlab.integrations.ingest.SNAPSHOT_KEY`, kept
#: here so that the plugin does not import the report readers.
SNAPSHOT_PROPERTY: Final = "configlab.snapshot_id"
#: Where ``--configlab-shard`` leaves the metrics each result of a sharded run carries
#: (``shard``, ``shards``, ``suite_size``: the configlab test executions of all shards).
SHARD_METRICS: Final = pytest.StashKey[dict[str, float]]()
