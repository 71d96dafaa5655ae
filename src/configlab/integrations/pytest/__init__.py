"""The pytest plugin: ``plugin`` holds the hooks (the ``pytest11`` entry point), ``_api`` the parts.

``parametrize`` is the one public name; it is loaded on first use because pytest imports this
package at start-up for every test run, with or without configlab tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from configlab.integrations.pytest._api import parametrize


def __getattr__(name: str) -> Any:
    if name == "parametrize":
        from configlab.integrations.pytest._api import (
            parametrize,  # deferred: keeps pytest start light
        )

        return parametrize
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["parametrize"]
