"""Use case: issue the certificates a completed 30-session purchase earned (product.md 3).

Idempotent and safe under concurrent runs twice over: the purchase row is locked while its
certificates are issued, and the database keeps one certificate per (purchase, student).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import structlog

from booking_server.domain.certificates import is_certificate_due, new_certificate_number
from booking_server.domain.errors import FieldViolation, require_no_violations
from booking_server.domain.purchase import StoredPurchase
from booking_server.domain.validation import validate_uuid_field
from booking_server.services.clock import Clock
from booking_server.services.failures import failure_fields
from booking_server.services.ports.certificates import DueCursor, StoredCertificate
from booking_server.services.purchase_queries import purchase_not_found
from booking_server.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

NumberFactory = Callable[[date], str]
# 2^32 random numbers per day: a second collision in a row means a broken generator, not bad luck.
MAX_NUMBER_ATTEMPTS = 5
DEFAULT_BATCH_SIZE = 100


class CertificateNumbersExhaustedError(RuntimeError):
    """Every number tried for a student was already taken."""


class IssueCertificates:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        clock: Clock,
        new_number: NumberFactory = new_certificate_number,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._new_number = new_number
        self._batch_size = batch_size

    def generate(self, purchase_id: str) -> tuple[StoredCertificate, ...]:
        """GenerateCertificates: one purchase, or every due purchase when the id is empty."""
        return self.for_purchase(purchase_id) if purchase_id else self.for_all_due()

    def for_purchase(self, purchase_id: str) -> tuple[StoredCertificate, ...]:
        violations: list[FieldViolation] = []
        validate_uuid_field(purchase_id, "purchase_id", violations)
        require_no_violations(violations)
        purchase_id = purchase_id.lower()
        with self._uow_factory() as uow:
            purchase = uow.purchases.lock(purchase_id)
            if purchase is None:
                raise purchase_not_found()
            issued = self.issue_locked(uow, purchase)
            uow.commit()
        return issued

    def for_all_due(
        self, *, should_stop: Callable[[], bool] = lambda: False
    ) -> tuple[StoredCertificate, ...]:
        """Every due purchase, in batches; each purchase in its own transaction, skipped when
        another worker holds it (it is issuing them), logged and skipped when it fails.
        """
        issued: list[StoredCertificate] = []
        after: DueCursor | None = None
        while not should_stop():
            with self._uow_factory() as uow:
                batch = uow.certificates.due_purchases(after=after, limit=self._batch_size)
            for due in batch:
                try:
                    issued.extend(self._issue_unless_locked(due.purchase_id))
                except Exception as exc:  # noqa: BLE001 - one purchase's failure must not stop the others
                    log.error("certificate_issue_failed", purchase_id=due.purchase_id, **failure_fields(exc))
            if len(batch) < self._batch_size:
                break
            after = batch[-1].cursor
        return tuple(issued)

    def _issue_unless_locked(self, purchase_id: str) -> tuple[StoredCertificate, ...]:
        with self._uow_factory() as uow:
            purchase = uow.purchases.lock(purchase_id, skip_locked=True)
            if purchase is None:
                return ()
            issued = self.issue_locked(uow, purchase)
            uow.commit()
        return issued

    def issue_locked(self, uow: UnitOfWork, purchase: StoredPurchase) -> tuple[StoredCertificate, ...]:
        """Issue what is due for a purchase the caller has locked, in the caller's transaction."""
        statuses = uow.read_model.completion_statuses(purchase.purchase_id)
        if not is_certificate_due(
            status=purchase.status, total_sessions=purchase.total_sessions, session_statuses=statuses
        ):
            return ()
        certified = uow.certificates.certified_student_ids(purchase.purchase_id)
        pending = [s.id for s in purchase.students if s.id not in certified]
        if not pending:
            return ()
        issued = self._insert_with_fresh_numbers(uow, purchase, pending)
        log.info("certificates_issued", purchase_id=purchase.purchase_id, count=len(issued))
        return issued

    def _insert_with_fresh_numbers(
        self, uow: UnitOfWork, purchase: StoredPurchase, pending: list[str]
    ) -> tuple[StoredCertificate, ...]:
        """Insert, then give the students whose number collided a new one, a few times at most."""
        issued: list[StoredCertificate] = []
        # One instant for the number's date and issue_time, so the two can never disagree.
        now = self._clock.now_utc()
        for attempt in range(1, MAX_NUMBER_ATTEMPTS + 1):
            numbers = {student_id: self._new_number(now.date()) for student_id in pending}
            issued.extend(uow.certificates.insert_new(purchase, numbers, issued_at=now))
            certified = uow.certificates.certified_student_ids(purchase.purchase_id)
            pending = [student_id for student_id in pending if student_id not in certified]
            if not pending:
                return tuple(issued)
            log.warning("certificate_number_collided", purchase_id=purchase.purchase_id, attempt=attempt)
        raise CertificateNumbersExhaustedError(purchase.purchase_id)
