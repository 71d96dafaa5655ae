"""Canonical JSON: the one text configlab hashes and compares (snapshot ids, config keys, cells).

One behaviour everywhere: sorted keys, no spaces, UTF-8 characters kept (not ``\\u`` escaped).
Non-finite floats are written as the ``NaN`` / ``Infinity`` / ``-Infinity`` tokens that
:func:`json.loads` reads back, because results may legitimately hold them (a YAML ``.nan`` in a
config file).  Where a text must be standard JSON (RFC 8259) -- snapshot metadata and bundle
manifests, which other tools read -- it is read back with :func:`loads_standard`, which refuses
those tokens.
"""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> str:
    """Canonical JSON text of ``value``: equal trees give equal text (see the module doc)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _refuse_constant(token: str) -> Any:
    raise ValueError(f"{token} is not a standard JSON number")


def loads_standard(text: str | bytes) -> Any:
    """:func:`json.loads` for standard JSON only: ``NaN`` / ``Infinity`` raise ValueError."""
    return json.loads(text, parse_constant=_refuse_constant)


__all__ = ["canonical_json", "loads_standard"]
