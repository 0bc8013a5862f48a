"""Port: the record of changes that freed trainer time (the waitlist promotion's triggers)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Protocol


class CapacityCause(StrEnum):
    PURCHASE_CANCELLED = "purchase_cancelled"
    SESSION_RESCHEDULED = "session_rescheduled"
    TRAINER_SUBSTITUTED = "trainer_substituted"
    TIME_UNBLOCKED = "time_unblocked"


class CapacityEventRepository(Protocol):
    def record(
        self,
        cause: CapacityCause,
        *,
        trainer_ids: Iterable[str],
        zone_id: str | None = None,
        course_id: str | None = None,
    ) -> None:
        """One event per trainer whose time was freed, in the caller's transaction, so that a
        crash right after the change's commit loses no trigger."""
        ...
