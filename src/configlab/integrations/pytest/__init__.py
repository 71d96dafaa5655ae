"""The pytest plugin: ``plugin`` holds the hooks (the ``pytest11`` entry point); ``collect``
(``parametrize``, cases and ids), ``handle`` (the fixture value) and ``session`` (state, hook
bodies, summary) the implementation; ``_names`` the names they share.

``parametrize`` is the one public name; it is loaded on first use because pytest imports this
package at start-up for every test run, with or without configlab tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from configlab.integrations.pytest.collect import parametrize


def __getattr__(name: str) -> Any:
    if name == "parametrize":
        from configlab.integrations.pytest.collect import (
            parametrize,  # deferred: keeps pytest start light
        )

        return parametrize
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["parametrize"]
