"""Port: trainers' booked and blocked slots. The database refuses overlaps by itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import Protocol

from booking_server.domain.model import BusyInterval
from booking_server.domain.purchase import StoredSession
from booking_server.domain.slots import TrainerSlot


class Reservation(StrEnum):
    """What one candidate's reservation came to."""

    BOOKED = "booked"
    TAKEN = "taken"  # a slot overlaps one booked or blocked meanwhile
    AT_LOAD_CAP = "load_cap"  # the trainer reached its cap meanwhile


class SlotRepository(Protocol):
    def busy_intervals(
        self, trainer_ids: Sequence[str], *, first_date: date, last_date: date
    ) -> dict[str, list[BusyInterval]]:
        """Every slot of these trainers that may touch [first_date, last_date], in one query."""
        ...

    def reserve(
        self,
        trainer_id: str,
        *,
        purchase_id: str,
        sessions: Sequence[StoredSession],
        load_cap: int,
    ) -> Reservation:
        """Book one slot per session for the trainer, all or nothing, in the caller's transaction.

        TAKEN when any session overlaps a booked or blocked slot; AT_LOAD_CAP when `load_cap` > 0
        and the trainer already holds that many ASSIGNED purchases (this one aside), counted under
        the trainer's lock. Either way nothing of the attempt remains and the trainer's lock is
        released, so the caller can try its next candidate holding no lock of this one.
        """
        ...

    def block(self, slot: TrainerSlot) -> TrainerSlot | None:
        """Store a blocked slot; None when it overlaps a booked or blocked one."""
        ...

    def schedule(self, trainer_id: str, *, from_date: date, to_date: date) -> list[TrainerSlot]: ...
