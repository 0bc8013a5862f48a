"""Use cases: GetPurchase, ListPurchases, ListPurchaseSessions (read-only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking_server.domain.errors import FieldViolation, NotFoundError, require_no_violations
from booking_server.domain.model import PurchaseStatus
from booking_server.domain.pagination import (
    decode_page_token,
    encode_page_token,
    filters_fingerprint,
    reject_page_token,
    resolve_page_size,
)
from booking_server.domain.purchase import StoredPurchase, StoredSession
from booking_server.domain.validation import is_uuid, validate_uuid_field
from booking_server.services.ports.purchases import PurchaseCursor, PurchaseFilter
from booking_server.services.unit_of_work import UnitOfWorkFactory

_TOKEN_KEYS = ("created_at", "purchase_id", "filters")


@dataclass(frozen=True, slots=True)
class PurchasePage:
    purchases: tuple[StoredPurchase, ...]
    next_page_token: str


def purchase_not_found() -> NotFoundError:
    return NotFoundError("purchase not found", reason="PURCHASE_NOT_FOUND")


def _optional_uuid(value: str, field: str, violations: list[FieldViolation]) -> str | None:
    if not value:
        return None
    validate_uuid_field(value, field, violations)
    return value.lower()


class PurchaseQueries:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    def get(self, purchase_id: str) -> StoredPurchase:
        violations: list[FieldViolation] = []
        validate_uuid_field(purchase_id, "purchase_id", violations)
        require_no_violations(violations)
        with self._uow_factory() as uow:
            purchase = uow.purchases.get(purchase_id.lower())
        if purchase is None:
            raise purchase_not_found()
        return purchase

    def sessions(self, purchase_id: str) -> tuple[StoredSession, ...]:
        violations: list[FieldViolation] = []
        validate_uuid_field(purchase_id, "purchase_id", violations)
        require_no_violations(violations)
        with self._uow_factory() as uow:
            if uow.purchases.get(purchase_id.lower()) is None:
                raise purchase_not_found()
            return uow.purchases.list_sessions(purchase_id.lower())

    def list(
        self,
        *,
        booking_id: str,
        status: PurchaseStatus | None,
        trainer_id: str,
        zone_id: str,
        page_size: int,
        page_token: str,
    ) -> PurchasePage:
        violations: list[FieldViolation] = []
        where = PurchaseFilter(
            booking_id=_optional_uuid(booking_id, "booking_id", violations),
            status=status,
            trainer_id=_optional_uuid(trainer_id, "trainer_id", violations),
            zone_id=_optional_uuid(zone_id, "zone_id", violations),
        )
        limit = resolve_page_size(page_size, violations)
        fingerprint = filters_fingerprint(
            {"booking_id": booking_id, "status": status or "", "trainer_id": trainer_id, "zone_id": zone_id}
        )
        cursor = _cursor(page_token, fingerprint, violations)
        require_no_violations(violations)
        with self._uow_factory() as uow:
            rows = uow.purchases.list(where, after=cursor, limit=limit + 1)
        page, more = rows[:limit], len(rows) > limit
        token = ""
        last_created = page[-1].created_at if page else None
        if more and last_created is not None:
            token = encode_page_token(
                {
                    "created_at": last_created.isoformat(),
                    "purchase_id": page[-1].purchase_id,
                    "filters": fingerprint,
                }
            )
        return PurchasePage(tuple(page), token)


def _cursor(token: str, fingerprint: str, violations: list[FieldViolation]) -> PurchaseCursor | None:
    values = decode_page_token(token, keys=_TOKEN_KEYS, violations=violations)
    if values is None:
        return None
    try:
        datetime.fromisoformat(values["created_at"])
    except ValueError:
        reject_page_token(violations)
        return None
    if values["filters"] != fingerprint or not is_uuid(values["purchase_id"]):
        reject_page_token(violations)
        return None
    return PurchaseCursor(created_at_iso=values["created_at"], purchase_id=values["purchase_id"])
