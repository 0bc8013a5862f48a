"""Use case: AutoAssignTrainer (product.md section 1).

Order of work, chosen so that no network call happens inside a transaction:
validate -> [one read: replay check, then "not before today", zone] -> purchase rules ->
schedule -> directory (network) -> one transaction: availability read, eligibility, purchase +
sessions, reservation of the first ranked trainer that still fits (each candidate all or
nothing, load cap included, see docs/locking.md), read-model sync (isolated by the sync
itself), the decision stored for replays, commit. A transaction the database aborts is run
again as a whole (services/conflict_retry.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import structlog

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
    check_assignment_request,
)
from booking_server.services.assignment_outcomes import (
    assigned,
    predicted,
    predicted_result,
    replay_after_race,
    replayed,
    waitlisted,
)
from booking_server.services.clock import Clock
from booking_server.services.conflict_retry import Deadline, retrying_conflicts
from booking_server.services.ports.directory import (
    CandidateList,
    TrainerDirectory,
    TrainerDirectoryUnavailableError,
)
from booking_server.services.ranking import rank_for_sessions
from booking_server.services.reservation import RankedChoice, reserve_first_ranked
from booking_server.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from booking_server.services.zones import find_serving_zone_in

log = structlog.get_logger(__name__)

ZoneFinder = Callable[[UnitOfWork, GeoPoint], "tuple[Zone, float] | None"]
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
    deadline: Deadline


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
        deadline = Deadline.after(budget_seconds)
        checked = check_assignment_request(request, today=self._clock.today())
        command = checked.command
        fingerprint = command.fingerprint()
        rule_failure = check_purchase_rules(
            class_type=command.class_type,
            delivery_mode=command.delivery_mode,
            total_sessions=command.total_sessions,
            student_count=len(command.students),
        )
        with self._uow_factory() as uow:  # one short read: replay check, then the zone
            existing = uow.purchases.get_by_booking_id(command.booking_id)
            if existing is None and checked.past_start_date is not None:
                # Maybe a retry sent after midnight while the first call is still in flight:
                # wait for it before refusing a date that was "today" when it was sent.
                uow.limit_waits(deadline)
                existing = uow.purchases.wait_for_booking_id(command, fingerprint=fingerprint)
            if existing is not None:
                return replayed(uow, existing, fingerprint)
            checked.refuse_if_past()  # a rule for new purchases only
            found = None if rule_failure else self._find_zone(uow, command.student_location)
        if rule_failure is not None:
            outcome = PurchaseOutcome(PurchaseStatus.INVALID_PURCHASE, rule_failure)
            return self._store_unserved(command, fingerprint, outcome, deadline)
        if found is None:
            outcome = PurchaseOutcome(PurchaseStatus.SERVICE_NOT_AVAILABLE, SERVICE_NOT_AVAILABLE_MESSAGE)
            return self._store_unserved(command, fingerprint, outcome, deadline)
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
            candidates=self._read_candidates(command.course_id, found[0], deadline.remaining_seconds()),
            deadline=deadline,
        )
        return retrying_conflicts(lambda: self._decide(plan), deadline=deadline, name="assign_trainer")

    def _read_candidates(
        self, course_id: str, zone: Zone, budget_seconds: float | None
    ) -> CandidateList | None:
        try:
            return self._directory.list_candidates(course_id, zone, budget_seconds=budget_seconds)
        except TrainerDirectoryUnavailableError:
            log.warning("trainer_directory_unavailable", course_id=course_id)
            return None

    def _store_unserved(
        self, command: AssignTrainerCommand, fingerprint: str, outcome: PurchaseOutcome, deadline: Deadline
    ) -> AssignmentResult:
        """INVALID_PURCHASE and SERVICE_NOT_AVAILABLE: a purchase row and nothing else."""
        if command.validate_only:
            return AssignmentResult(predicted(command, fingerprint, outcome), (), AssignmentDecision())
        with self._uow_factory() as uow:
            uow.limit_waits(deadline)
            purchase = uow.purchases.insert(command, fingerprint=fingerprint, outcome=outcome)
            if purchase is None:
                return replay_after_race(uow, command, fingerprint)
            uow.commit()
        log.info("purchase_stored", purchase_id=purchase.purchase_id, status=outcome.status.value)
        return AssignmentResult(purchase, (), AssignmentDecision())

    def _decide(self, plan: _Plan) -> AssignmentResult:
        """One transaction: the decision, then (unless a dry run) its storage."""
        with self._uow_factory() as uow:
            if plan.candidates is None:
                choice = RankedChoice(AssignmentDecision(zone=plan.zone), {})
                outcome = waitlisted(plan.zone, WaitlistReason.TRAINER_DIRECTORY_UNAVAILABLE)
            else:
                command = plan.command
                choice = rank_for_sessions(
                    uow,
                    candidates=plan.candidates,
                    zone=plan.zone,
                    course_id=command.course_id,
                    student_location=command.student_location,
                    sessions=plan.sessions,
                )
                ranked = choice.decision.ranked_trainer_ids
                # Optimistic: the calendar read just found the first ranked trainer free, so the
                # purchase is written as assigned to it; only a lost race rewrites it.
                if ranked:
                    outcome = assigned(plan.zone, ranked[0])
                else:
                    outcome = waitlisted(plan.zone, WaitlistReason.NO_ELIGIBLE_TRAINER)
            if plan.command.validate_only:
                return predicted_result(
                    plan.command, plan.fingerprint, outcome, plan.sessions, choice.decision
                )
            uow.limit_waits(plan.deadline)
            return self._store(uow, plan, outcome, choice)

    def _store(
        self,
        uow: UnitOfWork,
        plan: _Plan,
        outcome: PurchaseOutcome,
        choice: RankedChoice,
    ) -> AssignmentResult:
        """Purchase, sessions and (for ASSIGNED) the first ranked trainer that still fits, in one commit."""
        purchase = uow.purchases.insert(plan.command, fingerprint=plan.fingerprint, outcome=outcome)
        if purchase is None:
            return replay_after_race(uow, plan.command, plan.fingerprint)
        sessions = uow.purchases.insert_sessions(purchase.purchase_id, plan.sessions)
        reserved = reserve_first_ranked(uow, choice, purchase_id=purchase.purchase_id, sessions=sessions)
        if reserved.trainer_id is not None:
            if purchase.trainer_id != reserved.trainer_id:
                purchase = uow.purchases.mark_assigned(
                    purchase.purchase_id, trainer_id=reserved.trainer_id, message=ASSIGNED_MESSAGE
                )
            sessions = tuple(replace(s, trainer_id=reserved.trainer_id) for s in sessions)
            if self._after_assigned is not None:
                self._after_assigned(uow, purchase)
        elif purchase.status == PurchaseStatus.ASSIGNED:  # every ranked trainer was lost meanwhile
            purchase = uow.purchases.mark_waitlisted(
                purchase.purchase_id, reason=WaitlistReason.NO_ELIGIBLE_TRAINER, message=WAITLISTED_MESSAGE
            )
        return _commit(uow, AssignmentResult(purchase, sessions, reserved.decision))


def _commit(uow: UnitOfWork, result: AssignmentResult) -> AssignmentResult:
    """Store the decision with the purchase (a replay answers with it) and commit."""
    purchase = result.purchase
    uow.decisions.save(purchase.purchase_id, result.decision)
    uow.commit()
    if purchase.status == PurchaseStatus.ASSIGNED:
        log.info("trainer_assigned", purchase_id=purchase.purchase_id, trainer_id=purchase.trainer_id)
    else:
        log.info(
            "purchase_waitlisted", purchase_id=purchase.purchase_id, reason=str(purchase.waitlist_reason)
        )
    return result
