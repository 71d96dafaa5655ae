"""The cache service under a pairwise suite of its configurations (configlab's pytest plugin).

    pytest examples/cache-service/test_app.py --configlab-store .configlab

One test per generated config: the config is written where the service reads it, the service
runs as a separate process, and the test checks it served its requests. Some configurations
really fail (a pool smaller than the worker count is refused; a 1 MiB cache crashes).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import configlab

APP = Path(__file__).with_name("app.py")


@configlab.parametrize(space="space.yaml", strategy="covering", strength=2, seed=1)
def test_service_serves_requests(configlab_config: Any, tmp_path: Path) -> None:
    config = configlab_config.write(tmp_path / "app.yaml")
    done = subprocess.run(
        [sys.executable, str(APP), "--config", str(config)], capture_output=True, text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok:")
