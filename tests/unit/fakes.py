"""In-memory fakes of the ports, for unit tests of use cases (no database, no sockets)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from types import TracebackType
from typing import Any, Self

from booking_server.domain.model import (
    BusyInterval,
    CandidateQuery,
    PurchaseStatus,
    ScheduledSession,
    TrainerCandidate,
    WaitlistReason,
    Zone,
)
from booking_server.domain.purchase import AssignmentDecision, PurchaseOutcome, StoredPurchase, StoredSession
from booking_server.domain.slots import SlotStatus, TrainerSlot
from booking_server.domain.validation import AssignTrainerCommand
from booking_server.services.conflict_retry import Deadline
from booking_server.services.ports.directory import CandidateList, TrainerDirectoryUnavailableError
from booking_server.services.ports.slots import Reservation
from booking_server.services.unit_of_work import TransactionConflictError


@dataclass
class FakeStore:
    """What a database would hold; committed only when a fake unit of work commits."""

    purchases: dict[str, StoredPurchase] = field(default_factory=dict)
    sessions: dict[str, list[StoredSession]] = field(default_factory=dict)
    slots: list[TrainerSlot] = field(default_factory=list)
    decisions: dict[str, AssignmentDecision] = field(default_factory=dict)
    # Slots a rival request "commits" just before our reservation: a race the calendar read missed.
    taken_meanwhile: list[TrainerSlot] = field(default_factory=list)
    # Assignments a rival "commits" just before our reservation: trainer id -> extra purchases.
    assigned_meanwhile: dict[str, int] = field(default_factory=dict)
    # Commits the "database" aborts (a deadlock, a lock wait past its limit) before one succeeds.
    conflicts_before_commit: int = 0
    commits: int = 0

    def copy(self) -> FakeStore:
        """A working copy, as a transaction sees the data (the rivals' races are shared)."""
        return FakeStore(
            purchases=dict(self.purchases),
            sessions={k: list(v) for k, v in self.sessions.items()},
            slots=list(self.slots),
            decisions=dict(self.decisions),
            taken_meanwhile=self.taken_meanwhile,
            assigned_meanwhile=self.assigned_meanwhile,
        )

    def restore(self, other: FakeStore) -> None:
        self.purchases, self.sessions = dict(other.purchases), {k: list(v) for k, v in other.sessions.items()}
        self.slots, self.decisions = list(other.slots), dict(other.decisions)


class FakePurchases:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def get(self, purchase_id: str) -> StoredPurchase | None:
        return self.store.purchases.get(purchase_id)

    def get_by_booking_id(self, booking_id: str) -> StoredPurchase | None:
        return next((p for p in self.store.purchases.values() if p.booking_id == booking_id), None)

    def wait_for_booking_id(
        self, command: AssignTrainerCommand, *, fingerprint: str
    ) -> StoredPurchase | None:
        return self.get_by_booking_id(command.booking_id)  # nothing is ever in flight here

    def insert(
        self, command: AssignTrainerCommand, *, fingerprint: str, outcome: PurchaseOutcome
    ) -> StoredPurchase | None:
        if self.get_by_booking_id(command.booking_id) is not None:
            return None
        purchase = StoredPurchase.decided(
            command, fingerprint=fingerprint, outcome=outcome, purchase_id=str(uuid.uuid4())
        )
        self.store.purchases[purchase.purchase_id] = purchase
        return purchase

    def insert_sessions(
        self, purchase_id: str, sessions: Sequence[ScheduledSession]
    ) -> tuple[StoredSession, ...]:
        stored = [
            StoredSession.planned(s, purchase_id=purchase_id, session_id=str(uuid.uuid4())) for s in sessions
        ]
        self.store.sessions[purchase_id] = stored
        return tuple(stored)

    def mark_assigned(self, purchase_id: str, *, trainer_id: str, message: str) -> StoredPurchase:
        purchase = replace(
            self.store.purchases[purchase_id],
            status=PurchaseStatus.ASSIGNED,
            trainer_id=trainer_id,
            waitlist_reason=None,
            message=message,
        )
        self.store.purchases[purchase_id] = purchase
        return purchase

    def mark_waitlisted(self, purchase_id: str, *, reason: WaitlistReason, message: str) -> StoredPurchase:
        purchase = replace(
            self.store.purchases[purchase_id],
            status=PurchaseStatus.WAITLISTED,
            trainer_id=None,
            waitlist_reason=reason,
            message=message,
        )
        self.store.purchases[purchase_id] = purchase
        return purchase

    def list_sessions(self, purchase_id: str) -> tuple[StoredSession, ...]:
        return tuple(self.store.sessions.get(purchase_id, ()))

    def active_assignment_counts(self, trainer_ids: Sequence[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for p in self.store.purchases.values():
            if p.trainer_id in trainer_ids and p.status == "ASSIGNED":
                counts[p.trainer_id] = counts.get(p.trainer_id, 0) + 1
        return counts

    def load_of(self, trainer_id: str, *, besides: str) -> int:
        """ASSIGNED purchases of the trainer other than `besides`, rivals' included."""
        own = sum(
            1
            for p in self.store.purchases.values()
            if p.trainer_id == trainer_id and p.status == PurchaseStatus.ASSIGNED and p.purchase_id != besides
        )
        return own + self.store.assigned_meanwhile.get(trainer_id, 0)


class FakeSlots:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def busy_intervals(
        self,
        trainer_ids: Sequence[str],
        *,
        first_date: date,
        last_date: date,
        ignoring_session_ids: Sequence[str] = (),
    ) -> dict[str, list[BusyInterval]]:
        busy: dict[str, list[BusyInterval]] = {}
        for slot in self.store.slots:
            if slot.session_id is not None and slot.session_id in ignoring_session_ids:
                continue
            if slot.trainer_id in trainer_ids and first_date <= slot.slot_date <= last_date:
                busy.setdefault(slot.trainer_id, []).append(slot.interval)
        return busy

    def reserve(
        self, trainer_id: str, *, purchase_id: str, sessions: Sequence[StoredSession], load_cap: int
    ) -> Reservation:
        """All or nothing, load cap included, as book_trainer_sessions promises: the sessions'
        earlier slots are released, and the sessions record their new trainer."""
        self.store.slots.extend(s for s in self.store.taken_meanwhile if s.trainer_id == trainer_id)
        if load_cap > 0 and FakePurchases(self.store).load_of(trainer_id, besides=purchase_id) >= load_cap:
            return Reservation.AT_LOAD_CAP
        moving = {s.session_id for s in sessions}
        kept = [s for s in self.store.slots if s.session_id not in moving]
        wanted = [
            TrainerSlot(
                trainer_id,
                s.session_date,
                s.session_time,
                s.duration_minutes,
                SlotStatus.BOOKED,
                purchase_id,
                session_id=s.session_id,
            )
            for s in sessions
        ]
        taken = [s.interval for s in kept if s.trainer_id == trainer_id]
        for slot in wanted:
            new = slot.interval
            if any(new.start_minute < t.end_minute and t.start_minute < new.end_minute for t in taken):
                return Reservation.TAKEN
        self.store.slots[:] = kept + wanted
        stored = self.store.sessions.get(purchase_id, [])
        self.store.sessions[purchase_id] = [
            replace(s, trainer_id=trainer_id) if s.session_id in moving else s for s in stored
        ]
        return Reservation.BOOKED


class FakeDecisions:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def save(self, purchase_id: str, decision: AssignmentDecision) -> None:
        assert purchase_id not in self.store.decisions, "a decision is stored once per purchase"
        self.store.decisions[purchase_id] = decision

    def get(self, purchase_id: str) -> AssignmentDecision | None:
        return self.store.decisions.get(purchase_id)


class FakeZones:
    def get(self, zone_id: str, *, for_update: bool = False) -> Any:
        return None


class FakeSavepoint:
    """Undoes everything written since it was taken, as a database savepoint does."""

    def __init__(self, work: FakeStore) -> None:
        self._work = work
        self._before = work.copy()

    def rollback(self) -> None:
        self._work.restore(self._before)


class FakeUnitOfWork:
    """Works on a copy of the store and writes it back on commit: rollback by default."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.lock_wait_seconds: float | None = None

    def __enter__(self) -> Self:
        self._work = self._store.copy()
        self.purchases = FakePurchases(self._work)
        self.slots = FakeSlots(self._work)
        self.decisions = FakeDecisions(self._work)
        self.zones = FakeZones()
        return self

    def __exit__(
        self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        return None

    def commit(self) -> None:
        if self._store.conflicts_before_commit > 0:
            self._store.conflicts_before_commit -= 1
            raise TransactionConflictError("aborted by a concurrent transaction")
        self._store.restore(self._work)
        self._store.commits += 1

    def rollback(self) -> None:
        self.__enter__()

    def limit_waits(self, deadline: Deadline) -> None:
        self.lock_wait_seconds = deadline.lock_wait_seconds()

    @contextmanager
    def savepoint(self) -> Iterator[FakeSavepoint]:
        savepoint = FakeSavepoint(self._work)
        try:
            yield savepoint
        except BaseException:
            savepoint.rollback()
            raise


@dataclass
class FakeDirectory:
    candidates: CandidateList = field(default_factory=lambda: CandidateList(()))
    unavailable: bool = False
    calls: int = 0

    def list_candidates(self, course_id: str, zone: Zone, *, budget_seconds: float | None) -> CandidateList:
        """Filters like ListTrainers with the adapter's ZoneScope: certified for the course,
        active, the zone's operator, home zone equal or none (unreadable records always pass)."""
        self.calls += 1
        if self.unavailable:
            raise TrainerDirectoryUnavailableError("directory down")
        listed = self.candidates
        matching = tuple(
            c
            for c in listed.candidates
            if course_id in c.certified_course_ids
            and c.active
            and c.franchise_id == zone.franchise_id
            and c.zone_id in (None, zone.zone_id)
        )
        query = CandidateQuery(
            course_id, zone.zone_id, zone.franchise_id, len(matching) + len(listed.unreadable_trainer_ids)
        )
        return CandidateList(matching, listed.unreadable_trainer_ids, query)

    def get_candidate(self, trainer_id: str, *, budget_seconds: float | None) -> TrainerCandidate | None:
        self.calls += 1
        if self.unavailable:
            raise TrainerDirectoryUnavailableError("directory down")
        return next((c for c in self.candidates.candidates if c.trainer_id == trainer_id), None)
