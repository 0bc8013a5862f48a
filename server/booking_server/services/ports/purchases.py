"""Port: storage of purchases and their sessions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


class PurchaseRepository(Protocol):
    def get(self, purchase_id: str) -> StoredPurchase | None: ...

    def get_by_booking_id(self, booking_id: str) -> StoredPurchase | None: ...

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
