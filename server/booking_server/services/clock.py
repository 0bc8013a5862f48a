"""Time as the business sees it: civil dates in the configured timezone, never the OS zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def today(self) -> date:
        """The civil date now in the business timezone."""
        ...

    def now_utc(self) -> datetime: ...

    def now_local(self) -> datetime:
        """The wall-clock time now in the business timezone (civil date and time of day)."""
        ...


class BusinessClock:
    def __init__(self, timezone: str) -> None:
        self._zone = ZoneInfo(timezone)

    def today(self) -> date:
        return datetime.now(self._zone).date()

    def now_utc(self) -> datetime:
        return datetime.now(UTC)

    def now_local(self) -> datetime:
        return datetime.now(self._zone)
