"""configlab's version (a leaf module, so edge modules need not import the package face)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
