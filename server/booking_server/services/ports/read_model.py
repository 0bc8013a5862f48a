"""Port: the read model (trainer_allocations, tutoring_sessions) and the session progress it mirrors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from booking_server.domain.model import SessionStatus
from booking_server.domain.purchase import StoredPurchase, StoredSession


@dataclass(frozen=True, slots=True)
class SyncCounts:
    """Tutoring-session rows of one sync: inserted, and already there (changed or not)."""

    sessions_created: int = 0
    sessions_updated: int = 0

    def __add__(self, other: SyncCounts) -> SyncCounts:
        return SyncCounts(
            self.sessions_created + other.sessions_created, self.sessions_updated + other.sessions_updated
        )


class ReadModelRepository(Protocol):
    """Implemented in booking_server.db.repositories.read_model.

    Lock order, the same everywhere so that syncs, completions and certificate runs never
    deadlock: the purchase row first, then its sessions, then read-model rows.
    """

    def lock_purchase(self, purchase_id: str, *, skip_locked: bool = False) -> StoredPurchase | None:
        """The purchase, locked FOR UPDATE until the transaction ends.

        None when it does not exist, or (with `skip_locked`) when another transaction holds it.
        """
        ...

    def write(self, purchase: StoredPurchase, *, session_id: str | None = None) -> SyncCounts:
        """Upsert the allocations and tutoring sessions of an ASSIGNED purchase (or of one of its
        sessions). Rows whose status left `scheduled` keep their
        status, trainer, date and time; the caller holds the purchase lock (or created the purchase
        in this transaction).
        """
        ...

    def unsynced_purchase_ids(self, *, limit: int) -> list[str]:
        """ASSIGNED purchases whose read model lacks a row, newest first: a scheduled or
        rescheduled session without its tutoring session for one of the purchase's students.
        """
        ...

    def has_unsynced_sessions(self, purchase_id: str) -> bool:
        """Whether this purchase's read model lacks a row (as in unsynced_purchase_ids)."""
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
