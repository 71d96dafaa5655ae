"""Result timestamps: one stored form (ISO 8601, UTC) for every way a time is given."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from configlab.errors import ResultsError


def normalize_timestamp(value: Any, what: str = "timestamp") -> str | None:
    """ISO 8601 UTC text of a timestamp (datetime, ISO text, or epoch seconds); None stays None.

    Naive times are taken as UTC.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ResultsError(f"{what}: {value!r} is not an ISO 8601 time") from None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            raise ResultsError(f"{what}: {value!r} is not a valid epoch time") from None
    else:
        raise ResultsError(f"{what}: expected an ISO 8601 time, got {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


__all__ = ["normalize_timestamp"]
