"""Where time comes from. Nothing else in eim calls `datetime.now()`.

Code takes a `Clock`; production passes `SystemClock`, tests pass `FixedClock` and move it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, at: datetime) -> None:
        self._at = ensure_utc(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = ensure_utc(at)

    def advance(self, delta: timedelta | float) -> datetime:
        self._at += delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        return self._at


def ensure_utc(value: datetime) -> datetime:
    """Refuse naive datetimes (they hide bugs) and normalise aware ones to UTC."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"naive datetime {value!r}: eim needs timezone-aware times")
    return value.astimezone(UTC)
