"""Port: the record of changes that freed trainer time (the waitlist promotion's triggers)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class CapacityCause(StrEnum):
    PURCHASE_CANCELLED = "purchase_cancelled"
    SESSION_RESCHEDULED = "session_rescheduled"
    TRAINER_SUBSTITUTED = "trainer_substituted"
    TIME_UNBLOCKED = "time_unblocked"
    TRAINER_CHANGED = "trainer_changed"  # the built-in directory stored a trainer who may take work
    ZONE_CHANGED = "zone_changed"  # a zone was activated, moved or widened


@dataclass(frozen=True, slots=True)
class CapacityEvent:
    """Something that may have made room: a trainer's time or record, or a zone."""

    event_id: int
    cause: CapacityCause
    trainer_id: str | None
    zone_id: str | None
    course_id: str | None


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

    def record_zone(self, cause: CapacityCause, *, zone_id: str) -> None:
        """An event for a whole zone (its waiting purchases may fit now)."""
        ...

    def claim(self, *, limit: int, lease_seconds: float) -> list[CapacityEvent]:
        """The oldest unclaimed events (or whose lease ran out), leased to the caller: a replica
        that dies before removing them loses nothing, another claims them when the lease ends."""
        ...

    def remove(self, event_ids: Sequence[int]) -> None:
        """Forget events whose promotion pass is done."""
        ...
