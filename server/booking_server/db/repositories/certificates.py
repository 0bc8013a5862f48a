"""SQL for certificates: implements services.ports.certificates.CertificateRepository."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, select, text

from booking_server.db.models import CertificateRow
from booking_server.db.repositories.keyset import older_than
from booking_server.domain.certificates import CERTIFICATE_SESSION_COUNT
from booking_server.domain.purchase import StoredPurchase
from booking_server.services.ports.certificates import (
    CertificateCursor,
    CertificateFilter,
    DueCursor,
    DuePurchase,
    StoredCertificate,
)

certificates = CertificateRow.__table__

# ON CONFLICT without a target skips a row that violates either unique constraint: the
# (purchase_id, student_id) one (already certified: idempotency, concurrent runs) or
# uq_certificates_certificate_number (a random number collided). Skipping instead of raising
# keeps the transaction usable without a savepoint per row; the caller retries the students
# left without a certificate with fresh numbers.
_INSERT = text(
    """
    INSERT INTO certificates
        (certificate_number, purchase_id, booking_id, student_id, course_id, trainer_id, issued_at)
    SELECT n.number, CAST(:purchase_id AS uuid), CAST(:booking_id AS uuid), n.student_id,
           CAST(:course_id AS uuid), CAST(:trainer_id AS uuid), :issued_at
    FROM unnest(CAST(:students AS uuid[]), CAST(:numbers AS text[])) AS n(student_id, number)
    ON CONFLICT DO NOTHING
    RETURNING *
    """
)

_CERTIFIED = text("SELECT student_id::text FROM certificates WHERE purchase_id = :purchase_id")

# A superset of the due purchases (the use case rechecks each one under its lock): every
# session is completed here, or has only completed rows in the read model.
_DUE = text(
    f"""
    SELECT p.id::text, p.created_at FROM purchases p
    WHERE p.status = 'ASSIGNED' AND p.total_sessions = {CERTIFICATE_SESSION_COUNT}
      AND (CAST(:after_created AS timestamptz) IS NULL
           OR (p.created_at, p.id) > (CAST(:after_created AS timestamptz), CAST(:after_id AS uuid)))
      AND (SELECT count(*) FROM certificates c WHERE c.purchase_id = p.id) < jsonb_array_length(p.students)
      AND NOT EXISTS (
          SELECT 1 FROM purchase_sessions ps
          WHERE ps.purchase_id = p.id AND ps.status <> 'completed'
            AND (ps.status = 'cancelled'
                 OR NOT EXISTS (SELECT 1 FROM tutoring_sessions t
                                WHERE t.purchase_session_id = ps.id AND t.status = 'completed')
                 OR EXISTS (SELECT 1 FROM tutoring_sessions t
                            WHERE t.purchase_session_id = ps.id AND t.status <> 'completed'))
      )
    ORDER BY p.created_at, p.id
    LIMIT :limit
    """
)


def _to_certificate(row: Row[Any]) -> StoredCertificate:
    m = row._mapping
    return StoredCertificate(
        certificate_id=str(m["id"]),
        certificate_number=m["certificate_number"],
        purchase_id=str(m["purchase_id"]),
        booking_id=str(m["booking_id"]),
        student_id=str(m["student_id"]),
        course_id=str(m["course_id"]),
        trainer_id=str(m["trainer_id"]),
        issued_at=m["issued_at"],
    )


class SqlCertificateRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert_new(
        self, purchase: StoredPurchase, numbers_by_student: Mapping[str, str], *, issued_at: datetime
    ) -> list[StoredCertificate]:
        if not numbers_by_student:
            return []
        params = {
            "purchase_id": purchase.purchase_id,
            "booking_id": purchase.booking_id,
            "course_id": purchase.course_id,
            "trainer_id": purchase.trainer_id,
            "issued_at": issued_at,
            "students": list(numbers_by_student),
            "numbers": list(numbers_by_student.values()),
        }
        return [_to_certificate(r) for r in self._conn.execute(_INSERT, params)]

    def certified_student_ids(self, purchase_id: str) -> set[str]:
        return set(self._conn.execute(_CERTIFIED, {"purchase_id": purchase_id}).scalars())

    def due_purchases(self, *, after: DueCursor | None, limit: int) -> list[DuePurchase]:
        params = {
            "after_created": datetime.fromisoformat(after.created_at_iso) if after else None,
            "after_id": after.purchase_id if after else None,
            "limit": limit,
        }
        return [
            DuePurchase(purchase_id, DueCursor(created_at.isoformat(), purchase_id))
            for purchase_id, created_at in self._conn.execute(_DUE, params)
        ]

    def list(
        self, where: CertificateFilter, *, after: CertificateCursor | None, limit: int
    ) -> list[StoredCertificate]:
        conditions = []
        if where.purchase_id:
            conditions.append(certificates.c.purchase_id == where.purchase_id)
        if where.student_id:
            conditions.append(certificates.c.student_id == where.student_id)
        if after is not None:
            conditions.append(
                older_than(
                    certificates.c.issued_at,
                    certificates.c.id,
                    time_iso=after.issued_at_iso,
                    last_id=after.certificate_id,
                )
            )
        rows = self._conn.execute(
            select(certificates)
            .where(and_(True, *conditions))
            .order_by(certificates.c.issued_at.desc(), certificates.c.id.desc())
            .limit(limit)
        ).all()
        return [_to_certificate(r) for r in rows]
