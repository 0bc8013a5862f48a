"""What AssignTrainer answers in each case: stored, replayed, predicted (dry run)."""

from __future__ import annotations

from booking_server.domain.errors import AlreadyExistsError
from booking_server.domain.model import PurchaseStatus, ScheduledSession, WaitlistReason, Zone
from booking_server.domain.purchase import (
    ASSIGNED_MESSAGE,
    WAITLISTED_MESSAGE,
    AssignmentDecision,
    AssignmentResult,
    PurchaseOutcome,
    StoredPurchase,
    StoredSession,
)
from booking_server.domain.validation import AssignTrainerCommand
from booking_server.services.unit_of_work import UnitOfWork


def assigned(zone: Zone, trainer_id: str) -> PurchaseOutcome:
    return PurchaseOutcome(PurchaseStatus.ASSIGNED, ASSIGNED_MESSAGE, zone=zone, trainer_id=trainer_id)


def waitlisted(zone: Zone, reason: WaitlistReason) -> PurchaseOutcome:
    return PurchaseOutcome(PurchaseStatus.WAITLISTED, WAITLISTED_MESSAGE, zone=zone, waitlist_reason=reason)


def replayed(uow: UnitOfWork, existing: StoredPurchase, fingerprint: str) -> AssignmentResult:
    """The stored outcome for a repeated booking id, or BOOKING_ID_REUSED for another payload.

    The purchase and its sessions as they are now, with the decision the first call answered
    with (AIP-155: the same response), however the zone or the directory changed since.
    """
    if existing.request_fingerprint != fingerprint:
        raise AlreadyExistsError(
            "booking_id was already used for a different request", reason="BOOKING_ID_REUSED"
        )
    sessions = uow.purchases.list_sessions(existing.purchase_id)
    decision = uow.decisions.get(existing.purchase_id) or _rebuilt_decision(uow, existing)
    return AssignmentResult(existing, sessions, decision)


def _rebuilt_decision(uow: UnitOfWork, purchase: StoredPurchase) -> AssignmentDecision:
    """For a purchase stored before decisions were (migration 0002): its zone and trainer."""
    record = uow.zones.get(purchase.zone_id) if purchase.zone_id else None
    return AssignmentDecision(
        zone=record.zone if record is not None else None,
        ranked_trainer_ids=(purchase.trainer_id,) if purchase.trainer_id else (),
    )


def replay_after_race(uow: UnitOfWork, command: AssignTrainerCommand, fingerprint: str) -> AssignmentResult:
    """A concurrent request with the same booking id committed first: answer with its outcome."""
    uow.rollback()
    existing = uow.purchases.get_by_booking_id(command.booking_id)
    if existing is None:  # the other request rolled back; its caller will retry
        raise AlreadyExistsError(
            "booking_id is being processed by another request", reason="BOOKING_ID_REUSED"
        )
    return replayed(uow, existing, fingerprint)


def predicted(command: AssignTrainerCommand, fingerprint: str, outcome: PurchaseOutcome) -> StoredPurchase:
    """The purchase a real call would store now; no id, no timestamps."""
    return StoredPurchase.decided(command, fingerprint=fingerprint, outcome=outcome)


def predicted_result(
    command: AssignTrainerCommand,
    fingerprint: str,
    outcome: PurchaseOutcome,
    sessions: tuple[ScheduledSession, ...],
    decision: AssignmentDecision,
) -> AssignmentResult:
    """A dry run's answer: what would be stored, with the sessions it would have."""
    planned = tuple(StoredSession.planned(s) for s in sessions)
    return AssignmentResult(predicted(command, fingerprint, outcome), planned, decision)
