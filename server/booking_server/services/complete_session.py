"""Use case: CompleteSession, and the certificates that completion makes due (product.md 3)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from booking_server.domain.errors import (
    DomainError,
    FailedPreconditionError,
    FieldViolation,
    require_no_violations,
)
from booking_server.domain.model import PurchaseStatus, SessionStatus
from booking_server.domain.purchase import StoredPurchase, StoredSession
from booking_server.domain.validation import validate_uuid_field
from booking_server.services.issue_certificates import IssueCertificates
from booking_server.services.ports.certificates import StoredCertificate
from booking_server.services.sync_sessions import NOT_ASSIGNED_MESSAGE, session_not_found
from booking_server.services.unit_of_work import UnitOfWorkFactory

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CompletionResult:
    session: StoredSession
    certificates_issued: tuple[StoredCertificate, ...]


def _refusal(session: StoredSession, purchase: StoredPurchase) -> DomainError:
    if session.status == SessionStatus.CANCELLED:
        return FailedPreconditionError("a cancelled session cannot be completed", reason="SESSION_CANCELLED")
    if purchase.status != PurchaseStatus.ASSIGNED:
        return FailedPreconditionError(NOT_ASSIGNED_MESSAGE, reason="PURCHASE_NOT_ASSIGNED")
    return FailedPreconditionError(
        f"a {session.status.value} session cannot be completed", reason="SESSION_NOT_COMPLETABLE"
    )


class CompleteSession:
    def __init__(self, uow_factory: UnitOfWorkFactory, *, issuer: IssueCertificates) -> None:
        self._uow_factory = uow_factory
        self._issuer = issuer

    def __call__(self, session_id: str) -> CompletionResult:
        violations: list[FieldViolation] = []
        validate_uuid_field(session_id, "session_id", violations)
        require_no_violations(violations)
        session_id = session_id.lower()
        with self._uow_factory() as uow:
            found = uow.purchases.get_session(session_id)
            # The purchase lock comes first (as in every sync and certificate run), then the session.
            purchase = uow.purchases.lock(found.purchase_id) if found else None
            if purchase is None:
                raise session_not_found()
            completed = None
            if purchase.status == PurchaseStatus.ASSIGNED:
                completed = uow.read_model.complete_session(session_id)
            if completed is None:
                current = uow.purchases.get_session(session_id)  # re-read under the lock
                if current is None:
                    raise session_not_found()
                if current.status == SessionStatus.COMPLETED:
                    return CompletionResult(current, ())  # idempotent: nothing new is issued
                raise _refusal(current, purchase)
            issued = self._issuer.issue_locked(uow, purchase)
            uow.commit()
        log.info("session_completed", purchase_id=purchase.purchase_id, session_id=session_id)
        return CompletionResult(completed, issued)
