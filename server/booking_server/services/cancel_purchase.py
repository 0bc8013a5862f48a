"""Use case: CancelPurchase (product.md 4.1).

One transaction: lock the purchase, cancel it and its sessions not yet completed, release their
slots, mirror it in the read model (isolated like the sync), record the freed time for the
waitlist promotion, commit. Cancelling a CANCELLED purchase returns it unchanged.
"""

from __future__ import annotations

import structlog

from booking_server.domain.errors import FailedPreconditionError, FieldViolation, require_no_violations
from booking_server.domain.lifecycle import CANCELLABLE, check_reason
from booking_server.domain.model import PurchaseStatus, SessionStatus
from booking_server.domain.purchase import CANCELLED_MESSAGE, StoredPurchase
from booking_server.domain.validation import validate_uuid_field
from booking_server.services.ports.capacity_events import CapacityCause
from booking_server.services.purchase_queries import purchase_not_found
from booking_server.services.sync_sessions import SyncSessions
from booking_server.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)


class CancelPurchase:
    def __init__(self, uow_factory: UnitOfWorkFactory, *, sync: SyncSessions) -> None:
        self._uow_factory = uow_factory
        self._sync = sync

    def __call__(self, *, purchase_id: str, reason: str) -> StoredPurchase:
        violations: list[FieldViolation] = []
        validate_uuid_field(purchase_id, "purchase_id", violations)
        check_reason(reason, violations)
        require_no_violations(violations)
        with self._uow_factory() as uow:
            purchase = uow.purchases.lock(purchase_id.lower())
            if purchase is None:
                raise purchase_not_found()
            if purchase.status == PurchaseStatus.CANCELLED:
                return purchase  # a repeat: unchanged
            if purchase.status not in CANCELLABLE:
                raise FailedPreconditionError(
                    f"a {purchase.status.value} purchase cannot be cancelled",
                    reason="PURCHASE_NOT_CANCELLABLE",
                )
            _keep_what_was_taught(uow, purchase)
            cancelled, session_ids = uow.purchases.cancel(
                purchase.purchase_id, reason=reason, message=CANCELLED_MESSAGE
            )
            freed = uow.slots.release(session_ids)
            if purchase.trainer_id and purchase.status == PurchaseStatus.ASSIGNED:
                freed.add(purchase.trainer_id)  # a place under its load cap, even with no slot left
            self._sync.mirror(uow, cancelled)
            uow.capacity_events.record(
                CapacityCause.PURCHASE_CANCELLED,
                trainer_ids=freed,
                zone_id=cancelled.zone_id,
                course_id=cancelled.course_id,
            )
            uow.commit()
        log.info("purchase_cancelled", purchase_id=cancelled.purchase_id, sessions_cancelled=len(session_ids))
        return cancelled


def _keep_what_was_taught(uow: UnitOfWork, purchase: StoredPurchase) -> None:
    """A session the admin side marked completed in the read model (product 3) was taught: it is
    completed here too, and stays, with its slot, as history rather than being cancelled."""
    statuses = uow.read_model.completion_statuses(purchase.purchase_id)
    for session, status in zip(uow.purchases.list_sessions(purchase.purchase_id), statuses, strict=True):
        if status == SessionStatus.COMPLETED and session.status != SessionStatus.COMPLETED:
            uow.read_model.complete_session(session.session_id)
