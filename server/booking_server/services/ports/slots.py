"""Port: trainers' booked and blocked slots. The database refuses overlaps by itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Unblocked:
    """What UnblockTrainerTime found: the removed slot's trainer, or why nothing was removed."""

    trainer_id: str | None = None  # set when a blocked slot was removed
    was_booked: bool = False  # the id names a booked slot, which only its session releases


class SlotRepository(Protocol):
    def busy_intervals(
        self,
        trainer_ids: Sequence[str],
        *,
        first_date: date,
        last_date: date,
        ignoring_session_ids: Sequence[str] = (),
    ) -> dict[str, list[BusyInterval]]:
        """Every slot of these trainers that may touch [first_date, last_date], in one query,
        except the slots of `ignoring_session_ids` (sessions being moved do not block themselves).
        """
        ...

    def reserve(
        self,
        trainer_id: str,
        *,
        purchase_id: str,
        sessions: Sequence[StoredSession],
        load_cap: int,
    ) -> Reservation:
        """The trainer takes these sessions of the purchase, all or nothing, in the caller's
        transaction: a slot per session at its stored date and time, any slot the session held
        before (another time, another trainer) released, and the sessions' trainer set.

        TAKEN when any session overlaps a booked or blocked slot; AT_LOAD_CAP when `load_cap` > 0
        and the trainer already holds that many ASSIGNED purchases (this one aside), counted under
        the trainer's lock. Either way nothing of the attempt remains and the trainer's lock is
        released, so the caller can try its next candidate holding no lock of this one.
        """
        ...

    def block(self, slot: TrainerSlot) -> TrainerSlot | None:
        """Store a blocked slot (returned with its id); None when it overlaps a booked or blocked one."""
        ...

    def unblock(self, slot_id: str) -> Unblocked:
        """Remove a blocked slot."""
        ...

    def release(self, session_ids: Sequence[str]) -> set[str]:
        """Delete the slots of these sessions; the trainers whose time that freed."""
        ...

    def schedule(self, trainer_id: str, *, from_date: date, to_date: date) -> list[TrainerSlot]: ...
