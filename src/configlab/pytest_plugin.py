"""Alias of :mod:`configlab.integrations.pytest.plugin`, kept for code written for configlab 0.1.

``-p configlab.pytest_plugin`` or ``pytest_plugins = ["configlab.pytest_plugin"]`` load the very
same module object as the ``pytest11`` entry point, so pytest registers the hooks once.
"""

from __future__ import annotations

import sys

from configlab.integrations.pytest import plugin as _plugin
from configlab.integrations.pytest.plugin import *  # noqa: F403  (names for type checkers)
from configlab.integrations.pytest.plugin import __all__ as __all__

sys.modules[__name__] = _plugin
