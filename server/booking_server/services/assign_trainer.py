"""Use case: AutoAssignTrainer (product.md section 1).

Order of work, chosen so that no network call happens inside a transaction:
validate -> replay check -> purchase rules -> zone -> schedule -> directory (network) ->
one transaction: availability read, eligibility, purchase + sessions, reservation of the
first trainer whose slots all fit, read-model sync in a savepoint, commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

import structlog
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_random

from booking_server.domain.eligibility import (
    EligibilityResult,
    Rejection,
    RejectionReason,
    evaluate_candidates,
    screen_candidates,
)
from booking_server.domain.errors import AlreadyExistsError
from booking_server.domain.model import GeoPoint, PurchaseStatus, ScheduledSession, WaitlistReason, Zone
from booking_server.domain.purchase import (
    ASSIGNED_MESSAGE,
    SERVICE_NOT_AVAILABLE_MESSAGE,
    WAITLISTED_MESSAGE,
    AssignmentDecision,
    AssignmentResult,
    PurchaseOutcome,
    StoredPurchase,
    StoredSession,
)
from booking_server.domain.purchase_rules import check_purchase_rules
from booking_server.domain.schedule import generate_schedule
from booking_server.domain.validation import (
    AssignmentRequest,
    AssignTrainerCommand,
    validate_assignment_request,
)
from booking_server.services.clock import Clock
from booking_server.services.ports.directory import (
    CandidateList,
    TrainerDirectory,
    TrainerDirectoryUnavailableError,
)
from booking_server.services.unit_of_work import TransactionConflictError, UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

ZoneFinder = Callable[[GeoPoint], "tuple[Zone, float] | None"]
# Called inside the assignment transaction for an ASSIGNED purchase (the read-model sync).
AfterAssigned = Callable[[UnitOfWork, StoredPurchase], None]


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything decided before the transaction opens."""

    command: AssignTrainerCommand
    fingerprint: str
    zone: Zone
    sessions: tuple[ScheduledSession, ...]
    candidates: CandidateList | None  # None: the directory could not be read


class AssignTrainer:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        directory: TrainerDirectory,
        find_zone: ZoneFinder,
        clock: Clock,
        after_assigned: AfterAssigned | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._directory = directory
        self._find_zone = find_zone
        self._clock = clock
        self._after_assigned = after_assigned

    def __call__(
        self, request: AssignmentRequest, *, budget_seconds: float | None = None
    ) -> AssignmentResult:
        command = validate_assignment_request(request, today=self._clock.today())
        fingerprint = command.fingerprint()
        stored = self._replay(command, fingerprint)
        if stored is not None:
            return stored
        rule_failure = check_purchase_rules(
            class_type=command.class_type,
            delivery_mode=command.delivery_mode,
            total_sessions=command.total_sessions,
            student_count=len(command.students),
        )
        if rule_failure is not None:
            outcome = PurchaseOutcome(PurchaseStatus.INVALID_PURCHASE, rule_failure)
            return self._store_unserved(command, fingerprint, outcome)
        found = self._find_zone(command.student_location)
        if found is None:
            outcome = PurchaseOutcome(PurchaseStatus.SERVICE_NOT_AVAILABLE, SERVICE_NOT_AVAILABLE_MESSAGE)
            return self._store_unserved(command, fingerprint, outcome)
        plan = _Plan(
            command=command,
            fingerprint=fingerprint,
            zone=found[0],
            sessions=generate_schedule(
                class_type=command.class_type,
                delivery_mode=command.delivery_mode,
                total_sessions=command.total_sessions,
                start_date=command.start_date,
                time_slot=command.preferred_time_slot,
            ),
            candidates=self._read_candidates(command.course_id, budget_seconds),
        )
        return self._decide(plan)

    def _read_candidates(self, course_id: str, budget_seconds: float | None) -> CandidateList | None:
        try:
            return self._directory.list_candidates(course_id, budget_seconds=budget_seconds)
        except TrainerDirectoryUnavailableError:
            log.warning("trainer_directory_unavailable", course_id=course_id)
            return None

    def _replay(self, command: AssignTrainerCommand, fingerprint: str) -> AssignmentResult | None:
        with self._uow_factory() as uow:
            existing = uow.purchases.get_by_booking_id(command.booking_id)
            if existing is None:
                return None
            return _replayed(uow, existing, fingerprint)

    def _store_unserved(
        self, command: AssignTrainerCommand, fingerprint: str, outcome: PurchaseOutcome
    ) -> AssignmentResult:
        """INVALID_PURCHASE and SERVICE_NOT_AVAILABLE: a purchase row and nothing else."""
        if command.validate_only:
            return AssignmentResult(_predicted(command, fingerprint, outcome), (), AssignmentDecision())
        with self._uow_factory() as uow:
            purchase = uow.purchases.insert(command, fingerprint=fingerprint, outcome=outcome)
            if purchase is None:
                return _replay_after_race(uow, command, fingerprint)
            uow.commit()
        log.info("purchase_stored", purchase_id=purchase.purchase_id, status=outcome.status.value)
        return AssignmentResult(purchase, (), AssignmentDecision())

    # PostgreSQL may break a rare lock cycle between concurrent assignments by aborting one
    # of them; nothing of it was committed, so the whole transaction is simply run again.
    @retry(
        retry=retry_if_exception_type(TransactionConflictError),
        stop=stop_after_attempt(3),
        wait=wait_random(0.005, 0.05),
        reraise=True,
    )
    def _decide(self, plan: _Plan) -> AssignmentResult:
        with self._uow_factory() as uow:
            if plan.candidates is None:
                outcome = _waitlisted(plan.zone, WaitlistReason.TRAINER_DIRECTORY_UNAVAILABLE)
                decision = AssignmentDecision(zone=plan.zone)
                return self._store_waitlisted(uow, plan, outcome, decision)
            eligibility = _evaluate(uow, plan, plan.candidates)
            decision = AssignmentDecision(
                zone=plan.zone,
                ranked_trainer_ids=tuple(t.trainer_id for t in eligibility.ranked),
                rejections=eligibility.rejections,
            )
            if plan.command.validate_only:
                return _dry_run_result(plan, eligibility, decision)
            return self._reserve_first_free(uow, plan, eligibility, decision)

    def _store_waitlisted(
        self, uow: UnitOfWork, plan: _Plan, outcome: PurchaseOutcome, decision: AssignmentDecision
    ) -> AssignmentResult:
        if plan.command.validate_only:
            sessions = tuple(StoredSession.planned(s) for s in plan.sessions)
            return AssignmentResult(_predicted(plan.command, plan.fingerprint, outcome), sessions, decision)
        purchase = uow.purchases.insert(plan.command, fingerprint=plan.fingerprint, outcome=outcome)
        if purchase is None:
            return _replay_after_race(uow, plan.command, plan.fingerprint)
        sessions = uow.purchases.insert_sessions(purchase.purchase_id, plan.sessions)
        uow.commit()
        log.info("purchase_waitlisted", purchase_id=purchase.purchase_id, reason=str(outcome.waitlist_reason))
        return AssignmentResult(purchase, sessions, decision)

    def _reserve_first_free(
        self, uow: UnitOfWork, plan: _Plan, eligibility: EligibilityResult, decision: AssignmentDecision
    ) -> AssignmentResult:
        waitlisted = _waitlisted(plan.zone, WaitlistReason.NO_ELIGIBLE_TRAINER)
        purchase = uow.purchases.insert(plan.command, fingerprint=plan.fingerprint, outcome=waitlisted)
        if purchase is None:
            return _replay_after_race(uow, plan.command, plan.fingerprint)
        sessions = uow.purchases.insert_sessions(purchase.purchase_id, plan.sessions)
        taken: list[Rejection] = []
        for trainer in eligibility.ranked:
            if self._try_reserve(uow, trainer.trainer_id, purchase.purchase_id, sessions):
                assigned = uow.purchases.mark_assigned(
                    purchase.purchase_id, trainer_id=trainer.trainer_id, message=ASSIGNED_MESSAGE
                )
                self._sync(uow, assigned)
                uow.commit()
                log.info("trainer_assigned", purchase_id=assigned.purchase_id, trainer_id=trainer.trainer_id)
                return AssignmentResult(assigned, sessions, _with_taken(decision, taken))
            taken.append(
                Rejection(
                    trainer.trainer_id, RejectionReason.SLOT_TAKEN_CONCURRENTLY, "a slot was booked meanwhile"
                )
            )
        uow.commit()
        log.info("purchase_waitlisted", purchase_id=purchase.purchase_id, reason="NO_ELIGIBLE_TRAINER")
        return AssignmentResult(purchase, sessions, _with_taken(decision, taken))

    @staticmethod
    def _try_reserve(
        uow: UnitOfWork, trainer_id: str, purchase_id: str, sessions: Sequence[StoredSession]
    ) -> bool:
        """Reserve every slot or none: a partial reservation is undone with its savepoint."""
        with uow.savepoint() as savepoint:
            if uow.slots.reserve(trainer_id, purchase_id=purchase_id, sessions=sessions):
                return True
            savepoint.rollback()
        return False

    def _sync(self, uow: UnitOfWork, purchase: StoredPurchase) -> None:
        if self._after_assigned is not None:
            self._after_assigned(uow, purchase)


def _evaluate(uow: UnitOfWork, plan: _Plan, candidates: CandidateList) -> EligibilityResult:
    """The record rules first, then one calendar read and one load read for the survivors."""
    command = plan.command
    screening = screen_candidates(
        candidates=candidates.candidates,
        zone=plan.zone,
        course_id=command.course_id,
        student_location=command.student_location,
    )
    trainer_ids = [c.trainer_id for c in screening.passed]
    first = plan.sessions[0].session_date - timedelta(days=1)  # a slot may start the day before
    busy = uow.slots.busy_intervals(trainer_ids, first_date=first, last_date=plan.sessions[-1].session_date)
    result = evaluate_candidates(
        candidates=screening.passed,
        zone=plan.zone,
        course_id=command.course_id,
        student_location=command.student_location,
        sessions=plan.sessions,
        busy_by_trainer=busy,
        active_assignments=uow.purchases.active_assignment_counts(trainer_ids),
    )
    unreadable = tuple(
        Rejection(t, RejectionReason.RECORD_UNAVAILABLE, "the directory record could not be read")
        for t in candidates.unreadable_trainer_ids
    )
    rejections = screening.rejections + result.rejections + unreadable
    return replace(result, rejections=tuple(sorted(rejections, key=lambda r: r.trainer_id)))


def _waitlisted(zone: Zone, reason: WaitlistReason) -> PurchaseOutcome:
    return PurchaseOutcome(PurchaseStatus.WAITLISTED, WAITLISTED_MESSAGE, zone=zone, waitlist_reason=reason)


def _with_taken(decision: AssignmentDecision, taken: list[Rejection]) -> AssignmentDecision:
    return replace(decision, rejections=decision.rejections + tuple(taken)) if taken else decision


def _replayed(uow: UnitOfWork, existing: StoredPurchase, fingerprint: str) -> AssignmentResult:
    if existing.request_fingerprint != fingerprint:
        raise AlreadyExistsError(
            "booking_id was already used for a different request", reason="BOOKING_ID_REUSED"
        )
    sessions = uow.purchases.list_sessions(existing.purchase_id)
    trainer_ids = (existing.trainer_id,) if existing.trainer_id else ()
    record = uow.zones.get(existing.zone_id) if existing.zone_id else None
    zone = record.zone if record is not None else None
    return AssignmentResult(existing, sessions, AssignmentDecision(zone=zone, ranked_trainer_ids=trainer_ids))


def _replay_after_race(uow: UnitOfWork, command: AssignTrainerCommand, fingerprint: str) -> AssignmentResult:
    """A concurrent request with the same booking id committed first: answer with its outcome."""
    uow.rollback()
    existing = uow.purchases.get_by_booking_id(command.booking_id)
    if existing is None:  # the other request rolled back; its caller will retry
        raise AlreadyExistsError(
            "booking_id is being processed by another request", reason="BOOKING_ID_REUSED"
        )
    return _replayed(uow, existing, fingerprint)


def _predicted(command: AssignTrainerCommand, fingerprint: str, outcome: PurchaseOutcome) -> StoredPurchase:
    """The purchase a real call would store now; no id, no timestamps."""
    return StoredPurchase(
        purchase_id="",
        booking_id=command.booking_id,
        request_fingerprint=fingerprint,
        course_id=command.course_id,
        class_type=command.class_type,
        total_sessions=command.total_sessions,
        delivery_mode=command.delivery_mode,
        start_date=command.start_date,
        preferred_time_slot=command.preferred_time_slot,
        student_location=command.student_location,
        student_address=command.student_address,
        students=command.students,
        zone_id=outcome.zone.zone_id if outcome.zone else None,
        franchise_id=outcome.zone.franchise_id if outcome.zone else None,
        trainer_id=outcome.trainer_id,
        status=outcome.status,
        waitlist_reason=outcome.waitlist_reason,
        message=outcome.message,
        created_at=None,
        updated_at=None,
    )


def _dry_run_result(
    plan: _Plan, eligibility: EligibilityResult, decision: AssignmentDecision
) -> AssignmentResult:
    if eligibility.ranked:
        outcome = PurchaseOutcome(
            PurchaseStatus.ASSIGNED,
            ASSIGNED_MESSAGE,
            zone=plan.zone,
            trainer_id=eligibility.ranked[0].trainer_id,
        )
    else:
        outcome = _waitlisted(plan.zone, WaitlistReason.NO_ELIGIBLE_TRAINER)
    sessions = tuple(StoredSession.planned(s) for s in plan.sessions)
    return AssignmentResult(_predicted(plan.command, plan.fingerprint, outcome), sessions, decision)
