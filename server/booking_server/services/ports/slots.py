"""Port: trainers' booked and blocked slots. The database refuses overlaps by itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from booking_server.domain.model import BusyInterval
from booking_server.domain.purchase import StoredSession
from booking_server.domain.slots import TrainerSlot


class SlotRepository(Protocol):
    def busy_intervals(
        self, trainer_ids: Sequence[str], *, first_date: date, last_date: date
    ) -> dict[str, list[BusyInterval]]:
        """Every slot of these trainers that may touch [first_date, last_date], in one query."""
        ...

    def reserve(self, trainer_id: str, *, purchase_id: str, sessions: Sequence[StoredSession]) -> bool:
        """Book one slot per session; False (and nothing usable) if any overlaps an existing slot.

        Concurrent reservations of one trainer queue on a per-trainer row lock, so the caller
        must undo a False result by rolling back to its savepoint.
        """
        ...

    def block(self, slot: TrainerSlot) -> TrainerSlot | None:
        """Store a blocked slot; None when it overlaps a booked or blocked one."""
        ...

    def schedule(self, trainer_id: str, *, from_date: date, to_date: date) -> list[TrainerSlot]: ...
