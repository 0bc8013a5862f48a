"""Use case: RescheduleSession (product.md 4.2).

First one transaction with the session's own trainer: lock the purchase, move the session, and
book the new interval for that trainer (its old slot released in the same step). When that
trainer is not free and the caller allows a substitute, the directory is read (never inside a
transaction) and a second transaction tries the own trainer again, then the best-ranked eligible
trainer for that one interval. Either way the read model follows in the same transaction and
the freed interval is recorded for the waitlist promotion. Moving a session to where it already
is changes nothing and answers with the session as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from booking_server.domain.errors import (
    FailedPreconditionError,
    FieldViolation,
    require_no_violations,
)
from booking_server.domain.lifecycle import (
    MOVABLE_STATUSES,
    NewTime,
    check_new_time,
    is_movable,
    overlaps_another_session,
)
from booking_server.domain.model import PurchaseStatus, Zone
from booking_server.domain.purchase import StoredPurchase, StoredSession
from booking_server.domain.validation import validate_uuid_field
from booking_server.services.clock import Clock
from booking_server.services.conflict_retry import Deadline, retrying_conflicts
from booking_server.services.ports.capacity_events import CapacityCause
from booking_server.services.ports.directory import (
    CandidateList,
    TrainerDirectory,
    TrainerDirectoryUnavailableError,
    directory_unavailable,
)
from booking_server.services.ports.slots import Reservation
from booking_server.services.ranking import rank_for_sessions
from booking_server.services.reservation import reserve_first_ranked
from booking_server.services.sync_sessions import SyncSessions, session_not_found
from booking_server.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _TrainerBusy:
    """The session's own trainer is not free at the new time."""

    course_id: str
    zone: Zone | None  # the purchase's, whose candidates may substitute (None: no zone left)


def slot_overlap() -> FailedPreconditionError:
    return FailedPreconditionError("the trainer is not free at the new time", reason="SLOT_OVERLAP")


class RescheduleSession:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        directory: TrainerDirectory,
        clock: Clock,
        sync: SyncSessions,
    ) -> None:
        self._uow_factory = uow_factory
        self._directory = directory
        self._clock = clock
        self._sync = sync

    def __call__(
        self,
        *,
        session_id: str,
        new_date: str,
        new_time: str,
        allow_substitute: bool,
        budget_seconds: float | None = None,
    ) -> StoredSession:
        violations: list[FieldViolation] = []
        validate_uuid_field(session_id, "session_id", violations)
        target = check_new_time(new_date, new_time, now=self._clock.now_local(), violations=violations)
        require_no_violations(violations)
        assert target is not None  # a bad target was reported above
        deadline = Deadline.after(budget_seconds)
        session_id = session_id.lower()
        first = retrying_conflicts(
            lambda: self._move(session_id, target, deadline, candidates=None),
            deadline=deadline,
            name="reschedule_session",
        )
        if isinstance(first, StoredSession):
            return first
        if not allow_substitute:
            raise slot_overlap()
        if first.zone is None:
            raise _no_substitute()
        try:
            candidates = self._directory.list_candidates(
                first.course_id, first.zone, budget_seconds=deadline.remaining_seconds()
            )
        except TrainerDirectoryUnavailableError as exc:
            raise directory_unavailable() from exc
        second = retrying_conflicts(
            lambda: self._move(session_id, target, deadline, candidates=candidates),
            deadline=deadline,
            name="reschedule_session",
        )
        assert isinstance(second, StoredSession)  # with candidates, a refusal raises
        return second

    def _move(
        self, session_id: str, target: NewTime, deadline: Deadline, *, candidates: CandidateList | None
    ) -> StoredSession | _TrainerBusy:
        """One transaction. Without candidates, only the own trainer is tried."""
        with self._uow_factory() as uow:
            uow.limit_waits(deadline)
            purchase, session = self._locked(uow, session_id)
            if session.status in MOVABLE_STATUSES and (session.session_date, session.session_time) == (
                target.day,
                target.time,
            ):
                return session  # already there: a repeat, or a move to where it is
            holder = session.trainer_id
            if purchase.status != PurchaseStatus.ASSIGNED or holder is None:
                raise _not_reschedulable("its purchase has no assigned trainer")
            if not is_movable(session, now=self._clock.now_local()):
                raise _not_reschedulable("only a future scheduled or rescheduled session can move")
            if overlaps_another_session(
                uow.purchases.list_sessions(purchase.purchase_id),
                moved=session,
                day=target.day,
                time=target.time,
            ):
                raise FailedPreconditionError(
                    "another session of this purchase is at that time", reason="SLOT_OVERLAP"
                )
            moved = uow.purchases.move_session(session_id, new_date=target.day, new_time=target.time)
            booked = uow.slots.reserve(holder, purchase_id=purchase.purchase_id, sessions=[moved], load_cap=0)
            if booked is not Reservation.BOOKED:
                if candidates is None:
                    record = uow.zones.get(purchase.zone_id) if purchase.zone_id else None
                    return _TrainerBusy(purchase.course_id, record.zone if record else None)  # rolled back
                self._substitute(uow, purchase, moved, holder, candidates)
            return self._finish(uow, purchase, session, holder)

    def _locked(self, uow: UnitOfWork, session_id: str) -> tuple[StoredPurchase, StoredSession]:
        found = uow.purchases.get_session(session_id)
        purchase = uow.purchases.lock(found.purchase_id) if found else None
        session = uow.purchases.get_session(session_id) if purchase else None  # again, under the lock
        if purchase is None or session is None:
            raise session_not_found()
        return purchase, session

    def _substitute(
        self,
        uow: UnitOfWork,
        purchase: StoredPurchase,
        moved: StoredSession,
        holder: str,
        candidates: CandidateList,
    ) -> None:
        record = uow.zones.get(purchase.zone_id) if purchase.zone_id else None
        if record is None:
            raise _no_substitute()
        choice = rank_for_sessions(
            uow,
            candidates=candidates,
            zone=record.zone,
            course_id=purchase.course_id,
            student_location=purchase.student_location,
            sessions=[moved.as_scheduled()],
            ignoring_session_ids=[moved.session_id],
            excluded=frozenset({holder}),
        )
        reserved = reserve_first_ranked(uow, choice, purchase_id=purchase.purchase_id, sessions=[moved])
        if reserved.trainer_id is None:
            raise _no_substitute()

    def _finish(
        self, uow: UnitOfWork, purchase: StoredPurchase, before: StoredSession, holder: str
    ) -> StoredSession:
        after = uow.purchases.get_session(before.session_id)
        assert after is not None  # locked with its purchase
        self._sync.mirror(uow, purchase)
        uow.capacity_events.record(
            CapacityCause.SESSION_RESCHEDULED,
            trainer_ids=[holder],
            zone_id=purchase.zone_id,
            course_id=purchase.course_id,
        )
        uow.commit()
        log.info(
            "session_rescheduled",
            session_id=after.session_id,
            from_trainer_id=holder,
            trainer_id=after.trainer_id,
        )
        return after


def _not_reschedulable(why: str) -> FailedPreconditionError:
    return FailedPreconditionError(
        f"the session cannot be rescheduled: {why}", reason="SESSION_NOT_RESCHEDULABLE"
    )


def _no_substitute() -> FailedPreconditionError:
    return FailedPreconditionError(
        "no eligible trainer is free at the new time", reason="NO_SUBSTITUTE_AVAILABLE"
    )
