"""A trainer's occupied intervals: booked by a purchase session, or blocked (time off)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from booking_server.domain.model import BusyInterval, civil_minutes

# The slot table packs the civil minute into 32 bits counted from 2000-01-01.
EARLIEST_SLOT_DATE = date(2000, 1, 1)
MAX_BLOCK_MINUTES = 1440
# A schedule read may span at most this many days (inclusive window).
MAX_SCHEDULE_WINDOW_DAYS = 400


class SlotStatus(StrEnum):
    BOOKED = "booked"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class TrainerSlot:
    trainer_id: str
    slot_date: date
    start_time: str
    duration_minutes: int
    status: SlotStatus
    purchase_id: str | None = None
    session_id: str | None = None
    reason: str = ""
    slot_id: str = ""  # given by storage; empty before

    @property
    def interval(self) -> BusyInterval:
        start = civil_minutes(self.slot_date, self.start_time)
        return BusyInterval(start, start + self.duration_minutes)
