"""Port: what the use cases need from storage for certificates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from booking_server.domain.purchase import StoredPurchase


@dataclass(frozen=True, slots=True)
class StoredCertificate:
    certificate_id: str
    certificate_number: str
    purchase_id: str
    booking_id: str
    student_id: str
    course_id: str
    trainer_id: str
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class CertificateFilter:
    purchase_id: str | None = None
    student_id: str | None = None


@dataclass(frozen=True, slots=True)
class CertificateCursor:
    """Keyset position: certificates are listed newest first, ties by id."""

    issued_at_iso: str
    certificate_id: str


@dataclass(frozen=True, slots=True)
class DueCursor:
    """Keyset position in the scan for due purchases: oldest first, ties by id."""

    created_at_iso: str
    purchase_id: str


@dataclass(frozen=True, slots=True)
class DuePurchase:
    purchase_id: str
    cursor: DueCursor


class CertificateRepository(Protocol):
    """Storage of certificates; implemented in booking_server.db.repositories.certificates."""

    def insert_new(
        self, purchase: StoredPurchase, numbers_by_student: Mapping[str, str], *, issued_at: datetime
    ) -> list[StoredCertificate]:
        """Insert one certificate per student with the number given; returns those inserted.

        A student who already has a certificate of this purchase, or whose number is taken, is
        skipped without error: the caller tells the two apart with `certified_student_ids`.
        """
        ...

    def certified_student_ids(self, purchase_id: str) -> set[str]: ...

    def due_purchases(self, *, after: DueCursor | None, limit: int) -> list[DuePurchase]:
        """ASSIGNED 30-session purchases with every session complete and a student without a
        certificate (a superset check: the caller applies domain.certificates.is_certificate_due).
        """
        ...

    def list(
        self, where: CertificateFilter, *, after: CertificateCursor | None, limit: int
    ) -> list[StoredCertificate]: ...
