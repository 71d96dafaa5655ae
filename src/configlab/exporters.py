"""Alias of :mod:`configlab.integrations.exporters`, kept for code written against configlab 0.1.

``import configlab.exporters`` gives the very same module object as the new path.
"""

from __future__ import annotations

import sys

from configlab.integrations import exporters as _exporters
from configlab.integrations.exporters import *  # noqa: F403  (names for type checkers)
from configlab.integrations.exporters import __all__ as __all__

sys.modules[__name__] = _exporters
