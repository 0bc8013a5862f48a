"""Ports of the watch streams (product 6): the change log, and the wake-ups that say it grew."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from booking_server.domain.changes import ChangePage
from booking_server.domain.purchase import StoredPurchase
from booking_server.domain.slots import TrainerSlot


class ChangeLogRepository(Protocol):
    """Read side of the change log. The log is written by the database itself, in the
    transaction of each change (migration 0006), so no use case writes it."""

    def head(self) -> int:
        """The position of the last committed change (0 before the first)."""
        ...

    def is_retained(self, after: int) -> bool:
        """Whether every change after `after` is still in the log (not yet removed by retention)."""
        ...

    def schedule_changes(
        self, after: int, *, trainer_ids: Sequence[str], limit: int
    ) -> ChangePage[TrainerSlot]:
        """Slot changes after a position, of these trainers (empty = all), oldest first."""
        ...

    def purchase_changes(self, after: int, *, zone_id: str | None, limit: int) -> ChangePage[StoredPurchase]:
        """Purchase changes after a position, of this zone (None = all), oldest first."""
        ...

    def token_key(self) -> str:
        """The resume tokens' signing key, the same for every replica."""
        ...

    def remove_committed_before(self, cutoff: datetime, *, limit: int) -> int:
        """Remove up to `limit` of the oldest changes committed before `cutoff`; how many went."""
        ...


class ChangeWakeups(Protocol):
    """Hints that the log may have grown. A hint can be late or lost (watchers re-read the log
    on a timer anyway) but never early: a change is committed before its hint."""

    @property
    def closing(self) -> bool:
        """The process is shutting down: streams end (UNAVAILABLE) so watchers resume elsewhere."""
        ...

    def generation(self) -> int:
        """A counter that moves on every hint; read it before reading the log."""
        ...

    def wait(self, seen_generation: int, timeout_seconds: float) -> None:
        """Return when the generation moved past `seen_generation`, on closing, or on timeout."""
        ...

    def wake_all(self) -> None:
        """Move the generation: every waiting stream re-reads (and sees whether it was cancelled)."""
        ...
