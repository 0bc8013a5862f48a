"""Use case: ListCertificates (read-only), newest first, paged like every list RPC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking_server.domain.errors import FieldViolation, require_no_violations
from booking_server.domain.pagination import (
    decode_page_token,
    encode_page_token,
    filters_fingerprint,
    reject_page_token,
    resolve_page_size,
)
from booking_server.domain.validation import is_uuid, validate_uuid_field
from booking_server.services.ports.certificates import CertificateCursor, CertificateFilter, StoredCertificate
from booking_server.services.unit_of_work import UnitOfWorkFactory

_TOKEN_KEYS = ("issued_at", "certificate_id", "filters")


@dataclass(frozen=True, slots=True)
class CertificatePage:
    certificates: tuple[StoredCertificate, ...]
    next_page_token: str


def _optional_uuid(value: str, field: str, violations: list[FieldViolation]) -> str | None:
    if not value:
        return None
    validate_uuid_field(value, field, violations)
    return value.lower()


class CertificateQueries:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    def list(self, *, purchase_id: str, student_id: str, page_size: int, page_token: str) -> CertificatePage:
        violations: list[FieldViolation] = []
        where = CertificateFilter(
            purchase_id=_optional_uuid(purchase_id, "purchase_id", violations),
            student_id=_optional_uuid(student_id, "student_id", violations),
        )
        limit = resolve_page_size(page_size, violations)
        fingerprint = filters_fingerprint(
            {"purchase_id": where.purchase_id or "", "student_id": where.student_id or ""}
        )
        cursor = _cursor(page_token, fingerprint, violations)
        require_no_violations(violations)
        with self._uow_factory() as uow:
            rows = uow.certificates.list(where, after=cursor, limit=limit + 1)
        page, more = rows[:limit], len(rows) > limit
        token = ""
        if more:
            last = page[-1]
            token = encode_page_token(
                {
                    "issued_at": last.issued_at.isoformat(),
                    "certificate_id": last.certificate_id,
                    "filters": fingerprint,
                }
            )
        return CertificatePage(tuple(page), token)


def _cursor(token: str, fingerprint: str, violations: list[FieldViolation]) -> CertificateCursor | None:
    values = decode_page_token(token, keys=_TOKEN_KEYS, violations=violations)
    if values is None:
        return None
    try:
        datetime.fromisoformat(values["issued_at"])
    except ValueError:
        reject_page_token(violations)
        return None
    if values["filters"] != fingerprint or not is_uuid(values["certificate_id"]):
        reject_page_token(violations)
        return None
    return CertificateCursor(issued_at_iso=values["issued_at"], certificate_id=values["certificate_id"])
