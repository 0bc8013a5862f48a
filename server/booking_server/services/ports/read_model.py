"""Port: the read model (trainer_allocations, tutoring_sessions) and the session progress it mirrors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from booking_server.domain.model import SessionStatus
from booking_server.domain.purchase import StoredPurchase, StoredSession
from booking_server.services.ports.purchases import PurchaseCursor


@dataclass(frozen=True, slots=True)
class SyncCounts:
    """Tutoring-session rows of one sync: inserted, and already there (changed or not)."""

    sessions_created: int = 0
    sessions_updated: int = 0

    def __add__(self, other: SyncCounts) -> SyncCounts:
        return SyncCounts(
            self.sessions_created + other.sessions_created, self.sessions_updated + other.sessions_updated
        )


@dataclass(frozen=True, slots=True)
class UnsyncedScan:
    purchase_ids: list[str]  # behind, newest first
    next: PurchaseCursor | None  # where the next scan goes on; None: the oldest was reached


class ReadModelRepository(Protocol):
    """Implemented in booking_server.db.repositories.read_model.

    Lock order, the same everywhere (docs/locking.md): the purchase row first, then at most one
    trainer at a time, then read-model rows (allocation triples in sorted order).
    """

    def write(self, purchase: StoredPurchase, *, session_id: str | None = None) -> SyncCounts:
        """Upsert the allocations and tutoring sessions of an ASSIGNED purchase (or of one of its
        sessions): a row per session and student, with the session's own trainer and the
        allocation of (student, that trainer, course). Rows still `scheduled` follow their session
        (date, time, trainer); rows whose status left `scheduled` keep their status, trainer, date
        and time. The caller holds the purchase lock (or created the purchase in this transaction).
        """
        ...

    def cancel(self, purchase: StoredPurchase) -> None:
        """Mirror a cancellation: rows of cancelled sessions still `scheduled` become `cancelled`,
        and allocations no other ASSIGNED purchase has rows on become `cancelled`."""
        ...

    def scan_unsynced(self, *, after: PurchaseCursor | None, scan: int, limit: int) -> UnsyncedScan:
        """Look at most `scan` ASSIGNED or CANCELLED purchases, newest first, after `after`, and
        return (up to `limit`) those whose read model is behind: an ASSIGNED purchase with a
        scheduled or rescheduled session whose row is missing for a student, or still `scheduled`
        with another date, time or trainer; a CANCELLED one with a cancelled session whose row
        is still `scheduled`.
        """
        ...

    def has_unsynced_sessions(self, purchase_id: str) -> bool:
        """Whether this purchase's read model is behind (as in unsynced_purchase_ids)."""
        ...

    def complete_session(self, session_id: str) -> StoredSession | None:
        """Mark a scheduled or rescheduled session completed (and its still-scheduled tutoring
        sessions); None when it was not in such a state (already completed, or cancelled).
        """
        ...

    def completion_statuses(self, purchase_id: str) -> Sequence[SessionStatus]:
        """Per purchase session, its status with read-model completion folded in: COMPLETED when
        the session is completed or every one of its tutoring sessions is.
        """
        ...
