"""Alias of :mod:`configlab.integrations.ingest`, kept for code written against configlab 0.1.

``import configlab.ingest`` gives the very same module object as the new path.
"""

from __future__ import annotations

import sys

from configlab.integrations import ingest as _ingest
from configlab.integrations.ingest import *  # noqa: F403  (names for type checkers)
from configlab.integrations.ingest import __all__ as __all__

sys.modules[__name__] = _ingest
