"""Package attributes imported on first use (PEP 562), for packages that must import fast.

``configlab`` (imported by pytest through the plugin entry point), ``configlab.execution`` and
``configlab.results`` (both on the path of ``configlab run``) name public objects whose modules
load heavy dependencies; each keeps a table of them and takes its module ``__getattr__`` and
``__dir__`` from :func:`lazy_attributes`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

#: name -> defining module (same attribute name), or (module, attribute); attribute None
#: means the module itself.
LazyTable = Mapping[str, str | tuple[str, str | None]]


def lazy_attributes(
    package: str, table: LazyTable, namespace: MutableMapping[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` for the names of ``table``.

    ``namespace`` is the package's ``globals()``: a loaded value is stored there, so each name
    is imported once and later lookups are plain attribute reads.
    """

    def __getattr__(name: str) -> Any:
        try:
            target = table[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module_name, attribute = (target, name) if isinstance(target, str) else target
        module = importlib.import_module(module_name)
        value = module if attribute is None else getattr(module, attribute)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *table})

    return __getattr__, __dir__


__all__ = ["LazyTable", "lazy_attributes"]
