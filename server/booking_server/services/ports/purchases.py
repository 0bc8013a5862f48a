"""Port: storage of purchases and their sessions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from booking_server.domain.model import PurchaseStatus, ScheduledSession, WaitlistReason
from booking_server.domain.purchase import PurchaseOutcome, StoredPurchase, StoredSession
from booking_server.domain.validation import AssignTrainerCommand


@dataclass(frozen=True, slots=True)
class PurchaseFilter:
    booking_id: str | None = None
    status: PurchaseStatus | None = None
    trainer_id: str | None = None
    zone_id: str | None = None


@dataclass(frozen=True, slots=True)
class PurchaseCursor:
    """Keyset position: purchases are listed newest first, ties by id."""

    created_at_iso: str
    purchase_id: str


@dataclass(frozen=True, slots=True)
class WaitlistQuery:
    """Which WAITLISTED purchases to look at (every one when nothing is set)."""

    purchase_id: str | None = None
    zone_id: str | None = None
    # A trainer's reach: its courses, and its home zone or (none) every zone of its operator.
    course_ids: tuple[str, ...] | None = None
    operator_franchise_id: str | None = None
    any_zone_of_operator: bool = False


@dataclass(frozen=True, slots=True)
class WaitingPurchase:
    purchase_id: str
    zone_id: str
    course_id: str


class PurchaseRepository(Protocol):
    def get(self, purchase_id: str) -> StoredPurchase | None: ...

    def lock(self, purchase_id: str, *, skip_locked: bool = False) -> StoredPurchase | None:
        """The purchase, locked FOR UPDATE until the transaction ends: every use case that changes
        a stored purchase, its sessions or its read model takes this lock first (docs/locking.md).

        None when it does not exist, or (with `skip_locked`) when another transaction holds it.
        """
        ...

    def cancel(self, purchase_id: str, *, reason: str, message: str) -> tuple[StoredPurchase, list[str]]:
        """Mark it CANCELLED and cancel its scheduled and rescheduled sessions; the purchase and
        the ids of the sessions cancelled (their slots are the caller's to release)."""
        ...

    def waiting(self, query: WaitlistQuery, *, now: datetime, limit: int) -> list[WaitingPurchase]:
        """WAITLISTED purchases matching the query whose first session is still to come at `now`
        (civil wall-clock time), oldest first (create time, then id)."""
        ...

    def count_started_waiting(self, query: WaitlistQuery, *, now: datetime) -> int:
        """WAITLISTED purchases matching the query whose first session has started: never tried."""
        ...

    def move_session(self, session_id: str, *, new_date: date, new_time: str) -> StoredSession:
        """Give a session its new date and time, status RESCHEDULED, remembering where it was."""
        ...

    def get_by_booking_id(self, booking_id: str) -> StoredPurchase | None: ...

    def wait_for_booking_id(
        self, command: AssignTrainerCommand, *, fingerprint: str
    ) -> StoredPurchase | None:
        """The purchase of this booking id once a transaction still inserting it has finished;
        None when there is none. Writes nothing."""
        ...

    def insert(
        self, command: AssignTrainerCommand, *, fingerprint: str, outcome: PurchaseOutcome
    ) -> StoredPurchase | None:
        """Store a new purchase; None when the booking id is already taken (waits for an in-flight one)."""
        ...

    def insert_sessions(
        self, purchase_id: str, sessions: Sequence[ScheduledSession]
    ) -> tuple[StoredSession, ...]:
        """Store the schedule, every session `scheduled`."""
        ...

    def mark_assigned(self, purchase_id: str, *, trainer_id: str, message: str) -> StoredPurchase: ...

    def mark_waitlisted(self, purchase_id: str, *, reason: WaitlistReason, message: str) -> StoredPurchase:
        """No trainer after all (every ranked one was lost meanwhile): no trainer."""
        ...

    def list_sessions(self, purchase_id: str) -> tuple[StoredSession, ...]: ...

    def get_session(self, session_id: str) -> StoredSession | None: ...

    def list(
        self, where: PurchaseFilter, *, after: PurchaseCursor | None, limit: int
    ) -> list[StoredPurchase]: ...

    def active_assignment_counts(self, trainer_ids: Sequence[str]) -> dict[str, int]:
        """ASSIGNED purchases per trainer (trainers with none are absent)."""
        ...
