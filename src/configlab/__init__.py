"""configlab: explore an application's configuration space from the outside."""

from __future__ import annotations

from configlab.errors import *  # noqa: F403
from configlab.errors import __all__ as _error_names

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """``configlab.generate(...)`` / ``configlab.prioritize(...)``: callable modules, loaded lazily.

    Lazy so that ``import configlab`` (done early by the pytest plugin) stays light.
    """
    if name in ("generate", "prioritize"):
        import importlib

        return importlib.import_module(f"configlab.{name}")
    if name == "verify":
        from configlab.specs import verify

        return verify
    raise AttributeError(f"module 'configlab' has no attribute {name!r}")


__all__ = [*_error_names, "__version__", "generate", "prioritize"]
