"""Use case: AutoAssignTrainer (product.md section 1).

Order of work, chosen so that no network call happens inside a transaction:
validate -> [one read: replay check, zone] -> purchase rules -> schedule -> directory (network)
-> one transaction: availability read, eligibility, purchase + sessions, reservation of the
first trainer whose slots all fit, read-model sync (isolated by the sync itself), commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import structlog
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_random

from booking_server.domain.eligibility import (
    Rejection,
    RejectionReason,
    evaluate_candidates,
    qualify_candidates,
)
from booking_server.domain.model import GeoPoint, PurchaseStatus, ScheduledSession, WaitlistReason, Zone
from booking_server.domain.purchase import (
    ASSIGNED_MESSAGE,
    SERVICE_NOT_AVAILABLE_MESSAGE,
    WAITLISTED_MESSAGE,
    AssignmentDecision,
    AssignmentResult,
    PurchaseOutcome,
    StoredPurchase,
)
from booking_server.domain.purchase_rules import check_purchase_rules
from booking_server.domain.schedule import generate_schedule
from booking_server.domain.validation import (
    AssignmentRequest,
    AssignTrainerCommand,
    validate_assignment_request,
)
from booking_server.services.assignment_outcomes import (
    assigned,
    predicted,
    predicted_result,
    replay_after_race,
    replayed,
    waitlisted,
    with_taken,
)
from booking_server.services.clock import Clock
from booking_server.services.ports.directory import (
    CandidateList,
    TrainerDirectory,
    TrainerDirectoryUnavailableError,
)
from booking_server.services.unit_of_work import TransactionConflictError, UnitOfWork, UnitOfWorkFactory
from booking_server.services.zones import find_serving_zone_in

log = structlog.get_logger(__name__)

ZoneFinder = Callable[[UnitOfWork, GeoPoint], "tuple[Zone, float] | None"]
# Called inside the assignment transaction for an ASSIGNED purchase (the read-model sync).
AfterAssigned = Callable[[UnitOfWork, StoredPurchase], None]
_TAKEN_DETAIL = "a slot was booked meanwhile"


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
        clock: Clock,
        find_zone: ZoneFinder = find_serving_zone_in,
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
        rule_failure = check_purchase_rules(
            class_type=command.class_type,
            delivery_mode=command.delivery_mode,
            total_sessions=command.total_sessions,
            student_count=len(command.students),
        )
        with self._uow_factory() as uow:  # one short read: replay check, then the zone
            existing = uow.purchases.get_by_booking_id(command.booking_id)
            if existing is not None:
                return replayed(uow, existing, fingerprint)
            found = None if rule_failure else self._find_zone(uow, command.student_location)
        if rule_failure is not None:
            outcome = PurchaseOutcome(PurchaseStatus.INVALID_PURCHASE, rule_failure)
            return self._store_unserved(command, fingerprint, outcome)
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

    def _store_unserved(
        self, command: AssignTrainerCommand, fingerprint: str, outcome: PurchaseOutcome
    ) -> AssignmentResult:
        """INVALID_PURCHASE and SERVICE_NOT_AVAILABLE: a purchase row and nothing else."""
        if command.validate_only:
            return AssignmentResult(predicted(command, fingerprint, outcome), (), AssignmentDecision())
        with self._uow_factory() as uow:
            purchase = uow.purchases.insert(command, fingerprint=fingerprint, outcome=outcome)
            if purchase is None:
                return replay_after_race(uow, command, fingerprint)
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
                decision = AssignmentDecision(zone=plan.zone)
                outcome = waitlisted(plan.zone, WaitlistReason.TRAINER_DIRECTORY_UNAVAILABLE)
                if plan.command.validate_only:
                    return predicted_result(plan.command, plan.fingerprint, outcome, plan.sessions, decision)
                return self._store(uow, plan, outcome, decision)
            evaluation = _evaluate(uow, plan, plan.candidates)
            ranked = evaluation.ranked
            decision = AssignmentDecision(
                plan.zone, ranked, evaluation.rejections, evaluation.zone_rejections
            )
            # Optimistic: the calendar read just found the first ranked trainer free, so the
            # purchase is written as assigned to it; only a lost race rewrites it.
            if ranked:
                outcome = assigned(plan.zone, ranked[0])
            else:
                outcome = waitlisted(plan.zone, WaitlistReason.NO_ELIGIBLE_TRAINER)
            if plan.command.validate_only:
                return predicted_result(plan.command, plan.fingerprint, outcome, plan.sessions, decision)
            return self._store(uow, plan, outcome, decision)

    def _store(
        self, uow: UnitOfWork, plan: _Plan, outcome: PurchaseOutcome, decision: AssignmentDecision
    ) -> AssignmentResult:
        """Purchase, sessions and (for ASSIGNED) the first ranked trainer that still fits, in one commit."""
        purchase = uow.purchases.insert(plan.command, fingerprint=plan.fingerprint, outcome=outcome)
        if purchase is None:
            return replay_after_race(uow, plan.command, plan.fingerprint)
        # Sessions of an assignment are written as synced: the sync runs before the commit,
        # and resets the mark itself if it fails. That saves rewriting every session row.
        syncs = outcome.status == PurchaseStatus.ASSIGNED and self._after_assigned is not None
        sessions = uow.purchases.insert_sessions(purchase.purchase_id, plan.sessions, synced=syncs)
        taken: list[Rejection] = []
        for trainer_id in decision.ranked_trainer_ids:
            if uow.slots.reserve(trainer_id, purchase_id=purchase.purchase_id, sessions=sessions):
                if purchase.trainer_id != trainer_id:
                    purchase = uow.purchases.mark_assigned(
                        purchase.purchase_id, trainer_id=trainer_id, message=ASSIGNED_MESSAGE
                    )
                if self._after_assigned is not None:
                    self._after_assigned(uow, purchase)
                uow.commit()
                log.info("trainer_assigned", purchase_id=purchase.purchase_id, trainer_id=trainer_id)
                return AssignmentResult(purchase, sessions, with_taken(decision, taken))
            taken.append(Rejection(trainer_id, RejectionReason.SLOT_TAKEN_CONCURRENTLY, _TAKEN_DETAIL))
        if purchase.status == PurchaseStatus.ASSIGNED:  # every ranked trainer was taken meanwhile
            purchase = uow.purchases.mark_waitlisted(
                purchase.purchase_id, reason=WaitlistReason.NO_ELIGIBLE_TRAINER, message=WAITLISTED_MESSAGE
            )
        uow.commit()
        log.info(
            "purchase_waitlisted", purchase_id=purchase.purchase_id, reason=str(purchase.waitlist_reason)
        )
        return AssignmentResult(purchase, sessions, with_taken(decision, taken))


@dataclass(frozen=True, slots=True)
class _Evaluation:
    ranked: tuple[str, ...]
    zone_rejections: tuple[Rejection, ...]  # rules 1-3, shared by the zone (see AssignmentDecision)
    rejections: tuple[Rejection, ...]  # this purchase's own


def _evaluate(uow: UnitOfWork, plan: _Plan, candidates: CandidateList) -> _Evaluation:
    """The record rules first, then one calendar read and one load read for the survivors."""
    command = plan.command
    placement = candidates.placement_for(plan.zone)
    qualified = qualify_candidates(
        placement.passed,
        zone=plan.zone,
        course_id=command.course_id,
        student_location=command.student_location,
    )
    trainer_ids = [c.trainer_id for c in qualified.passed]
    first = plan.sessions[0].session_date - timedelta(days=1)  # a slot may start the day before
    busy = uow.slots.busy_intervals(trainer_ids, first_date=first, last_date=plan.sessions[-1].session_date)
    result = evaluate_candidates(
        candidates=qualified.passed,
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
    own = qualified.rejections + result.rejections + unreadable
    return _Evaluation(
        ranked=tuple(t.trainer_id for t in result.ranked),
        zone_rejections=placement.rejections,
        rejections=tuple(sorted(own, key=lambda r: r.trainer_id)),
    )
