"""Use cases: the read-model sync (product.md 2) inside assignment, on demand, and for the reconciler.

Every sync of a purchase first locks the purchase row (an assignment already holds it), so two
syncs of one purchase run one after the other and count rows correctly; the reconciler skips
purchases another replica holds instead of waiting for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import structlog

from booking_server.domain.errors import (
    FailedPreconditionError,
    FieldViolation,
    NotFoundError,
    require_no_violations,
)
from booking_server.domain.model import PurchaseStatus
from booking_server.domain.purchase import StoredPurchase
from booking_server.domain.validation import validate_uuid_field
from booking_server.services.failures import failure_fields
from booking_server.services.ports.purchases import PurchaseCursor
from booking_server.services.ports.read_model import SyncCounts
from booking_server.services.purchase_queries import purchase_not_found
from booking_server.services.unit_of_work import TRANSACTION_ENDED, UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

DEFAULT_MAX_PURCHASES = 200
# Purchases examined per read when looking for drift (about 0.16 ms each with 30 sessions).
SCAN_WINDOW = 1000
NOT_ASSIGNED_MESSAGE = "Purchase does not have an assigned trainer"
# What a caller sees for a failed purchase: the cause (SQL, constraint names) stays in the log.
SYNC_FAILED_MESSAGE = "read model sync failed; the reconciler will retry it"


@dataclass(frozen=True, slots=True)
class SyncError:
    purchase_id: str
    session_id: str
    message: str


@dataclass(frozen=True, slots=True)
class SyncResult:
    counts: SyncCounts
    errors: tuple[SyncError, ...] = ()


@dataclass(frozen=True, slots=True)
class SyncAllResult:
    purchases_processed: int
    counts: SyncCounts
    errors: tuple[SyncError, ...]
    next_cursor: PurchaseCursor | None = None  # where a bounded scan stopped; None: at the oldest


def session_not_found() -> NotFoundError:
    return NotFoundError("session not found", reason="SESSION_NOT_FOUND")


def _require_assigned(purchase: StoredPurchase) -> None:
    if purchase.status != PurchaseStatus.ASSIGNED:
        raise FailedPreconditionError(NOT_ASSIGNED_MESSAGE, reason="PURCHASE_NOT_ASSIGNED")


def _require_uuid(value: str, field: str) -> str:
    violations: list[FieldViolation] = []
    validate_uuid_field(value, field, violations)
    require_no_violations(violations)
    return value.lower()


class SyncSessions:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    def mirror(self, uow: UnitOfWork, purchase: StoredPurchase) -> None:
        """Bring the read model in line with a change, inside that change's transaction: an
        assignment, a reschedule, a substitution (ASSIGNED), a cancellation (CANCELLED).

        The write goes in a savepoint: if it fails, only the read-model rows are undone, and the
        change commits as decided. The alternative, a separate transaction after the commit,
        would leave a window where the change is visible with no read model even when nothing
        failed; this way the rows change atomically with the purchase, and only a failure
        defers them to the reconciler, which finds the rows the read model lacks or has wrong.
        """
        try:
            with uow.savepoint():
                _write(uow, purchase)
        except TRANSACTION_ENDED:
            raise  # not the sync's failure: the change itself cannot commit
        except Exception as exc:  # noqa: BLE001 - whatever broke the sync must not break the change
            log.error("read_model_sync_failed", purchase_id=purchase.purchase_id, **failure_fields(exc))

    def sync_purchase(self, purchase_id: str) -> SyncResult:
        purchase_id = _require_uuid(purchase_id, "purchase_id")
        with self._uow_factory() as uow:
            purchase = uow.purchases.lock(purchase_id)
            if purchase is None:
                raise purchase_not_found()
            _require_assigned(purchase)
            counts = uow.read_model.write(purchase)
            uow.commit()
        log.info("read_model_synced", purchase_id=purchase_id, created=counts.sessions_created)
        return SyncResult(counts)

    def sync_session(self, session_id: str) -> SyncResult:
        session_id = _require_uuid(session_id, "session_id")
        with self._uow_factory() as uow:
            session = uow.purchases.get_session(session_id)
            if session is None:
                raise session_not_found()
            purchase = uow.purchases.lock(session.purchase_id)
            if purchase is None:  # deleted meanwhile, with its sessions
                raise session_not_found()
            _require_assigned(purchase)
            counts = uow.read_model.write(purchase, session_id=session_id)
            uow.commit()
        log.info("read_model_synced", purchase_id=purchase.purchase_id, session_id=session_id)
        return SyncResult(counts)

    def sync_unsynced(
        self,
        max_purchases: int = 0,
        *,
        should_stop: Callable[[], bool] = lambda: False,
        start: PurchaseCursor | None = None,
        scan_limit: int | None = None,
    ) -> SyncAllResult:
        """Sync purchases whose read model is behind, newest first (after `start`), each in its
        own transaction; a failure is reported for its purchase and the others still go on.

        Looks at every purchase until `max_purchases` are found, or (the reconciler) at most
        `scan_limit` of them; `next_cursor` says where to go on.
        """
        if max_purchases < 0:
            require_no_violations([FieldViolation("max_purchases", "must be 0 (default) or more")])
        purchase_ids, next_cursor = self._find_unsynced(
            max_purchases or DEFAULT_MAX_PURCHASES, start, scan_limit
        )
        processed, counts, errors = 0, SyncCounts(), []
        for purchase_id in purchase_ids:
            if should_stop():
                break
            try:
                synced = self._sync_if_unsynced(purchase_id)
            except Exception as exc:  # noqa: BLE001 - one purchase's failure is reported, not fatal to the rest
                log.error("read_model_sync_failed", purchase_id=purchase_id, **failure_fields(exc))
                errors.append(SyncError(purchase_id, "", SYNC_FAILED_MESSAGE))
                processed += 1
                continue
            if synced is not None:
                processed, counts = processed + 1, counts + synced
        return SyncAllResult(processed, counts, tuple(errors), next_cursor)

    def _find_unsynced(
        self, limit: int, start: PurchaseCursor | None, scan_limit: int | None
    ) -> tuple[list[str], PurchaseCursor | None]:
        found: list[str] = []
        cursor = start
        with self._uow_factory() as uow:
            while True:
                window = scan_limit or SCAN_WINDOW
                scan = uow.read_model.scan_unsynced(after=cursor, scan=window, limit=limit - len(found))
                found.extend(scan.purchase_ids)
                cursor = scan.next
                if scan_limit is not None or cursor is None or len(found) >= limit:
                    return found, cursor

    def _sync_if_unsynced(self, purchase_id: str) -> SyncCounts | None:
        """None when another worker holds the purchase or synced it since it was listed."""
        with self._uow_factory() as uow:
            purchase = uow.purchases.lock(purchase_id, skip_locked=True)
            if purchase is None:
                return None
            # Checked again under the lock, in a new snapshot: a replica may have just finished it.
            if not uow.read_model.has_unsynced_sessions(purchase_id):
                return None
            counts = _write(uow, purchase)
            uow.commit()
        return counts


def _write(uow: UnitOfWork, purchase: StoredPurchase) -> SyncCounts:
    """The read model of a purchase as its status asks (counts are for ASSIGNED writes)."""
    if purchase.status == PurchaseStatus.CANCELLED:
        uow.read_model.cancel(purchase)
        return SyncCounts()
    return uow.read_model.write(purchase)
