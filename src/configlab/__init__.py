"""configlab: explore an application's configuration space from the outside."""

from __future__ import annotations

from configlab.errors import *  # noqa: F403
from configlab.errors import __all__ as _error_names

__version__ = "0.1.0"

__all__ = [*_error_names, "__version__"]
