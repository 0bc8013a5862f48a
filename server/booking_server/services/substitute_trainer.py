"""Use case: SubstituteTrainer (product.md 4.3).

The directory is read first (the named trainer's record, or the course's candidates), then one
transaction: lock the purchase, choose the trainer (the named one if eligible for every moved
session, else the best-ranked eligible one other than the current trainer), move every future
scheduled or rescheduled session from `from_date` to it (all or nothing), make it the purchase's
trainer, mirror the read model, record the freed time, store the answer, commit.

Idempotency: the request carries no key of its own, so a call that repeats the purchase's latest
substitution (same from_date, trainer_id and reason, as sent) answers as that call did: the
purchase and the moved sessions as they are now, and the stored decision.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

import structlog

from booking_server.domain.errors import (
    FailedPreconditionError,
    FieldViolation,
    NotFoundError,
    require_no_violations,
)
from booking_server.domain.lifecycle import check_reason, movable_from
from booking_server.domain.model import PurchaseStatus, Zone
from booking_server.domain.purchase import AssignmentDecision, StoredPurchase, StoredSession
from booking_server.domain.validation import parse_date_field, validate_uuid_field
from booking_server.services.clock import Clock
from booking_server.services.conflict_retry import Deadline, retrying_conflicts
from booking_server.services.ports.capacity_events import CapacityCause
from booking_server.services.ports.directory import (
    CandidateList,
    TrainerDirectory,
    TrainerDirectoryUnavailableError,
    directory_unavailable,
)
from booking_server.services.ports.substitutions import StoredSubstitution
from booking_server.services.purchase_queries import purchase_not_found
from booking_server.services.ranking import rank_for_sessions
from booking_server.services.reservation import Reserved, reserve_first_ranked
from booking_server.services.sync_sessions import SyncSessions
from booking_server.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SubstitutionResult:
    purchase: StoredPurchase
    sessions: tuple[StoredSession, ...]  # the moved ones, as they are now
    decision: AssignmentDecision


@dataclass(frozen=True, slots=True)
class _Request:
    purchase_id: str
    from_date: date
    trainer_id: str | None  # None: the best eligible trainer
    reason: str
    fingerprint: str


class SubstituteTrainer:
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
        purchase_id: str,
        from_date: str,
        trainer_id: str,
        reason: str,
        budget_seconds: float | None = None,
    ) -> SubstitutionResult:
        request = self._validated(purchase_id, from_date, trainer_id, reason)
        deadline = Deadline.after(budget_seconds)
        with self._uow_factory() as uow:
            purchase = uow.purchases.get(request.purchase_id)
            if purchase is None:
                raise purchase_not_found()
            repeat = _repeat(uow, request)
            if repeat is not None:
                return repeat
            _require_assigned(purchase)
            record = uow.zones.get(purchase.zone_id) if purchase.zone_id else None
            assert record is not None  # an ASSIGNED purchase has its zone (a foreign key keeps it)
        candidates = self._candidates(request, purchase.course_id, record.zone, deadline)
        return retrying_conflicts(
            lambda: self._substitute(request, candidates, deadline),
            deadline=deadline,
            name="substitute_trainer",
        )

    def _validated(self, purchase_id: str, from_date: str, trainer_id: str, reason: str) -> _Request:
        violations: list[FieldViolation] = []
        validate_uuid_field(purchase_id, "purchase_id", violations)
        first = parse_date_field(from_date, "from_date", violations) if from_date else self._clock.today()
        if trainer_id:
            validate_uuid_field(trainer_id, "trainer_id", violations)
        check_reason(reason, violations)
        require_no_violations(violations)
        assert first is not None  # a bad date was reported above
        asked = json.dumps([from_date, trainer_id.lower(), reason])
        return _Request(
            purchase_id=purchase_id.lower(),
            from_date=first,
            trainer_id=trainer_id.lower() or None,
            reason=reason,
            fingerprint=hashlib.sha256(asked.encode("utf-8")).hexdigest(),
        )

    def _candidates(self, request: _Request, course_id: str, zone: Zone, deadline: Deadline) -> CandidateList:
        budget = deadline.remaining_seconds()
        try:
            if request.trainer_id is None:
                return self._directory.list_candidates(course_id, zone, budget_seconds=budget)
            named = self._directory.get_candidate(request.trainer_id, budget_seconds=budget)
        except TrainerDirectoryUnavailableError as exc:
            raise directory_unavailable() from exc
        if named is None:
            raise NotFoundError("trainer not found", reason="TRAINER_NOT_FOUND")
        return CandidateList((named,))

    def _substitute(
        self, request: _Request, candidates: CandidateList, deadline: Deadline
    ) -> SubstitutionResult:
        with self._uow_factory() as uow:
            uow.limit_waits(deadline)
            purchase = uow.purchases.lock(request.purchase_id)
            if purchase is None:
                raise purchase_not_found()
            repeat = _repeat(uow, request)  # a concurrent twin may have committed meanwhile
            if repeat is not None:
                return repeat
            _require_assigned(purchase)
            moving = movable_from(
                uow.purchases.list_sessions(purchase.purchase_id),
                from_date=request.from_date,
                now=self._clock.now_local(),
            )
            if not moving:
                raise FailedPreconditionError(
                    "the purchase has no future scheduled session from that date",
                    reason="NO_SESSIONS_TO_MOVE",
                )
            reserved = self._reserve(uow, request, purchase, moving, candidates)
            assert reserved.trainer_id is not None  # a refusal raises
            return self._finish(uow, request, purchase, moving, reserved)

    def _reserve(
        self,
        uow: UnitOfWork,
        request: _Request,
        purchase: StoredPurchase,
        moving: tuple[StoredSession, ...],
        candidates: CandidateList,
    ) -> Reserved:
        record = uow.zones.get(purchase.zone_id) if purchase.zone_id else None
        assert record is not None  # an ASSIGNED purchase has its zone (a foreign key keeps it)
        # The current trainer is no substitute for itself, unless the caller names it.
        excluded = frozenset() if request.trainer_id else frozenset({purchase.trainer_id or ""})
        choice = rank_for_sessions(
            uow,
            candidates=candidates,
            zone=record.zone,
            course_id=purchase.course_id,
            student_location=purchase.student_location,
            sessions=[s.as_scheduled() for s in moving],
            ignoring_session_ids=[s.session_id for s in moving],
            excluded=excluded,
        )
        reserved = reserve_first_ranked(uow, choice, purchase_id=purchase.purchase_id, sessions=moving)
        if reserved.trainer_id is not None:
            return reserved
        if request.trainer_id is None:
            raise FailedPreconditionError(
                "no eligible trainer can take every moved session", reason="NO_SUBSTITUTE_AVAILABLE"
            )
        [refusal] = [r for r in reserved.decision.all_rejections if r.trainer_id == request.trainer_id]
        raise FailedPreconditionError(
            f"the trainer is not eligible: {refusal.detail}",
            reason="TRAINER_NOT_ELIGIBLE",
            metadata={"rejection_reason": refusal.reason.value},
        )

    def _finish(
        self,
        uow: UnitOfWork,
        request: _Request,
        purchase: StoredPurchase,
        moving: tuple[StoredSession, ...],
        reserved: Reserved,
    ) -> SubstitutionResult:
        new_trainer = reserved.trainer_id
        assert new_trainer is not None
        updated = uow.purchases.mark_assigned(
            purchase.purchase_id, trainer_id=new_trainer, message=purchase.message
        )
        moved_ids = tuple(s.session_id for s in moving)
        self._sync.mirror(uow, updated)
        uow.capacity_events.record(
            CapacityCause.TRAINER_SUBSTITUTED,
            trainer_ids={s.trainer_id for s in moving if s.trainer_id and s.trainer_id != new_trainer},
            zone_id=updated.zone_id,
            course_id=updated.course_id,
        )
        uow.substitutions.save(
            StoredSubstitution(
                updated.purchase_id, request.fingerprint, new_trainer, moved_ids, reserved.decision
            )
        )
        result = SubstitutionResult(
            updated, _sessions(uow, updated.purchase_id, moved_ids), reserved.decision
        )
        uow.commit()
        log.info(
            "trainer_substituted",
            purchase_id=updated.purchase_id,
            from_trainer_id=purchase.trainer_id,
            trainer_id=new_trainer,
            sessions_moved=len(moved_ids),
        )
        return result


def _require_assigned(purchase: StoredPurchase) -> None:
    if purchase.status != PurchaseStatus.ASSIGNED:
        raise FailedPreconditionError(
            "only an ASSIGNED purchase can change its trainer", reason="PURCHASE_NOT_ASSIGNED"
        )


def _sessions(uow: UnitOfWork, purchase_id: str, session_ids: tuple[str, ...]) -> tuple[StoredSession, ...]:
    wanted = set(session_ids)
    return tuple(s for s in uow.purchases.list_sessions(purchase_id) if s.session_id in wanted)


def _repeat(uow: UnitOfWork, request: _Request) -> SubstitutionResult | None:
    latest = uow.substitutions.latest(request.purchase_id)
    if latest is None or latest.request_fingerprint != request.fingerprint:
        return None
    purchase = uow.purchases.get(request.purchase_id)
    assert purchase is not None  # the substitution row belongs to it
    return SubstitutionResult(
        purchase, _sessions(uow, purchase.purchase_id, latest.moved_session_ids), latest.decision
    )
