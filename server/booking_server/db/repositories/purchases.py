"""SQL for purchases and purchase sessions: implements services.ports.purchases.PurchaseRepository."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, and_, func, select, text, update

from booking_server.db.models import PurchaseRow, PurchaseSessionRow
from booking_server.db.repositories.keyset import older_than
from booking_server.domain.model import (
    ClassType,
    DeliveryMode,
    GeoPoint,
    PurchaseStatus,
    ScheduledSession,
    SessionFlags,
    SessionStatus,
    SessionType,
    Student,
    WaitlistReason,
)
from booking_server.domain.purchase import PurchaseOutcome, StoredPurchase, StoredSession
from booking_server.domain.validation import AssignTrainerCommand
from booking_server.services.ports.purchases import (
    PurchaseCursor,
    PurchaseFilter,
    WaitingPurchase,
    WaitlistQuery,
)

purchases = cast("Table", PurchaseRow.__table__)
sessions_table = cast("Table", PurchaseSessionRow.__table__)

_ACTIVE_COUNTS = text(
    "SELECT trainer_id::text, count(*) FROM purchases "
    "WHERE trainer_id = ANY(CAST(:ids AS uuid[])) AND status = 'ASSIGNED' GROUP BY trainer_id"
)


def _opt(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def to_purchase(row: Row[Any]) -> StoredPurchase:
    m = row._mapping
    return StoredPurchase(
        purchase_id=str(m["id"]),
        booking_id=str(m["booking_id"]),
        request_fingerprint=m["request_fingerprint"],
        course_id=str(m["course_id"]),
        class_type=ClassType(m["class_type"]),
        total_sessions=m["total_sessions"],
        delivery_mode=DeliveryMode(m["delivery_mode"]),
        start_date=m["start_date"],
        preferred_time_slot=m["preferred_time_slot"],
        student_location=GeoPoint(m["student_latitude"], m["student_longitude"]),
        student_address=m["student_address"],
        students=tuple(Student(**s) for s in m["students"]),
        zone_id=_opt(m["zone_id"]),
        franchise_id=_opt(m["franchise_id"]),
        trainer_id=_opt(m["trainer_id"]),
        status=PurchaseStatus(m["status"]),
        waitlist_reason=WaitlistReason(m["waitlist_reason"]) if m["waitlist_reason"] else None,
        message=m["message"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        cancellation_reason=m["cancellation_reason"],
    )


def to_session(row: Row[Any]) -> StoredSession:
    m = row._mapping
    flags = None
    if m["is_bookable"] is not None:
        flags = SessionFlags(
            is_bookable=m["is_bookable"],
            is_fixed_time=bool(m["is_fixed_time"]),
            requires_booking=bool(m["requires_booking"]),
            initial_time_slot=m["initial_time_slot"] or "",
        )
    return StoredSession(
        session_id=str(m["id"]),
        purchase_id=str(m["purchase_id"]),
        session_number=m["session_number"],
        session_date=m["session_date"],
        session_time=m["session_time"],
        duration_minutes=m["duration_minutes"],
        session_type=SessionType(m["session_type"]),
        status=SessionStatus(m["status"]),
        flags=flags,
        trainer_id=_opt(m["trainer_id"]),
    )


# Hot-path statements are written once as text: building and cache-keying a Core statement with
# twenty values cost more Python time per assignment than the database took to run it.
_BY_BOOKING_ID = text("SELECT * FROM purchases WHERE booking_id = :booking_id")

# ON CONFLICT waits for an in-flight insert of the same booking id, then yields nothing: the
# caller then answers with the stored outcome (idempotency, product 1.8).
_INSERT_PURCHASE = text(
    """
    INSERT INTO purchases (booking_id, request_fingerprint, course_id, class_type, total_sessions,
        delivery_mode, start_date, preferred_time_slot, student_latitude, student_longitude,
        student_address, students, zone_id, franchise_id, trainer_id, status, waitlist_reason, message)
    VALUES (:booking_id, :request_fingerprint, :course_id, :class_type, :total_sessions,
        :delivery_mode, :start_date, :preferred_time_slot, :student_latitude, :student_longitude,
        :student_address, CAST(:students AS jsonb), :zone_id, :franchise_id, :trainer_id, :status,
        :waitlist_reason, :message)
    ON CONFLICT (booking_id) DO NOTHING
    RETURNING *
    """
)

_MARK_WAITLISTED = text(
    """
    UPDATE purchases SET status = 'WAITLISTED', waitlist_reason = :reason, trainer_id = NULL,
        message = :message, updated_at = now()
    WHERE id = :purchase_id
    RETURNING *
    """
)

_INSERT_SESSIONS = text(
    """
    INSERT INTO purchase_sessions (purchase_id, session_number, session_date, session_time,
        duration_minutes, session_type, is_bookable, is_fixed_time, requires_booking, initial_time_slot)
    SELECT :purchase_id, s.* FROM unnest(
        CAST(:numbers AS int[]), CAST(:dates AS date[]), CAST(:times AS text[]), CAST(:durations AS int[]),
        CAST(:types AS text[]), CAST(:bookable AS boolean[]), CAST(:fixed AS boolean[]),
        CAST(:requires AS boolean[]), CAST(:initial AS text[])) AS s
    RETURNING session_number, id::text
    """
)


# Completed sessions (and their slots) stay as history; every other session is cancelled.
_CANCEL = text(
    """
    WITH cancelled AS (
        UPDATE purchase_sessions SET status = 'cancelled', updated_at = now()
        WHERE purchase_id = :purchase_id AND status IN ('scheduled', 'rescheduled')
        RETURNING id::text
    ), purchase AS (
        UPDATE purchases SET status = 'CANCELLED', cancellation_reason = :reason, waitlist_reason = NULL,
            message = :message, updated_at = now()
        WHERE id = :purchase_id
        RETURNING *
    )
    SELECT purchase.*, ARRAY(SELECT id FROM cancelled) AS cancelled_session_ids FROM purchase
    """
)

_MOVE_SESSION = text(
    """
    UPDATE purchase_sessions SET session_date = :new_date, session_time = :new_time, status = 'rescheduled',
        rescheduled_from = to_char(session_date, 'YYYY-MM-DD') || ' ' || session_time, updated_at = now()
    WHERE id = :session_id
    RETURNING *
    """
)


_WAITING_WHERE = """
    FROM purchases p
    JOIN purchase_sessions ps ON ps.purchase_id = p.id AND ps.session_number = 1
    WHERE p.status = 'WAITLISTED'
      AND (CAST(:purchase_id AS uuid) IS NULL OR p.id = CAST(:purchase_id AS uuid))
      AND (CAST(:zone_id AS uuid) IS NULL OR p.zone_id = CAST(:zone_id AS uuid))
      AND (CAST(:course_ids AS uuid[]) IS NULL OR p.course_id = ANY(CAST(:course_ids AS uuid[])))
      AND (NOT :any_zone_of_operator
           OR p.franchise_id IS NOT DISTINCT FROM CAST(:franchise_id AS uuid))
"""
_STARTED = "(ps.session_date, ps.session_time) <= (CAST(:today AS date), CAST(:now_hhmm AS text))"
# Purchases whose first session has started are never tried again: left out before the limit,
# so however many of them pile up, they cannot crowd out the ones still to be served.
_WAITING = text(
    f"SELECT p.id::text, p.zone_id::text, p.course_id::text {_WAITING_WHERE} AND NOT {_STARTED} "
    "ORDER BY p.created_at, p.id LIMIT :limit"
)
_WAITING_STARTED = text(f"SELECT count(*) {_WAITING_WHERE} AND {_STARTED}")


class SqlPurchaseRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def lock(self, purchase_id: str, *, skip_locked: bool = False) -> StoredPurchase | None:
        statement = select(purchases).where(purchases.c.id == purchase_id)
        row = self._conn.execute(statement.with_for_update(skip_locked=skip_locked)).first()
        return None if row is None else to_purchase(row)

    def cancel(self, purchase_id: str, *, reason: str, message: str) -> tuple[StoredPurchase, list[str]]:
        row = self._conn.execute(
            _CANCEL, {"purchase_id": purchase_id, "reason": reason, "message": message}
        ).one()
        return to_purchase(row), list(row._mapping["cancelled_session_ids"])

    def waiting(self, query: WaitlistQuery, *, now: datetime, limit: int) -> list[WaitingPurchase]:
        params = _waiting_params(query, now) | {"limit": limit}
        return [WaitingPurchase(*row) for row in self._conn.execute(_WAITING, params)]

    def count_started_waiting(self, query: WaitlistQuery, *, now: datetime) -> int:
        return int(self._conn.execute(_WAITING_STARTED, _waiting_params(query, now)).scalar_one())

    def move_session(self, session_id: str, *, new_date: date, new_time: str) -> StoredSession:
        row = self._conn.execute(
            _MOVE_SESSION, {"session_id": session_id, "new_date": new_date, "new_time": new_time}
        ).one()
        return to_session(row)

    def get(self, purchase_id: str) -> StoredPurchase | None:
        row = self._conn.execute(select(purchases).where(purchases.c.id == purchase_id)).first()
        return None if row is None else to_purchase(row)

    def get_by_booking_id(self, booking_id: str) -> StoredPurchase | None:
        row = self._conn.execute(_BY_BOOKING_ID, {"booking_id": booking_id}).first()
        return None if row is None else to_purchase(row)

    def wait_for_booking_id(
        self, command: AssignTrainerCommand, *, fingerprint: str
    ) -> StoredPurchase | None:
        # An insert of the same booking id waits on the unique index for a transaction still
        # inserting it; the savepoint then takes our probe row back whatever happened.
        probe = PurchaseOutcome(PurchaseStatus.INVALID_PURCHASE, "")
        with self._conn.begin_nested() as savepoint:
            claimed = self.insert(command, fingerprint=fingerprint, outcome=probe)
            savepoint.rollback()
        return self.get_by_booking_id(command.booking_id) if claimed is None else None

    def insert(
        self, command: AssignTrainerCommand, *, fingerprint: str, outcome: PurchaseOutcome
    ) -> StoredPurchase | None:
        zone = outcome.zone
        values = {
            "booking_id": command.booking_id,
            "request_fingerprint": fingerprint,
            "course_id": command.course_id,
            "class_type": command.class_type.value,
            "total_sessions": command.total_sessions,
            "delivery_mode": command.delivery_mode.value,
            "start_date": command.start_date,
            "preferred_time_slot": command.preferred_time_slot,
            "student_latitude": command.student_location.latitude,
            "student_longitude": command.student_location.longitude,
            "student_address": command.student_address,
            "students": json.dumps(
                [{"id": s.id, "name": s.name, "email": s.email, "phone": s.phone} for s in command.students]
            ),
            "zone_id": zone.zone_id if zone else None,
            "franchise_id": zone.franchise_id if zone else None,
            "trainer_id": outcome.trainer_id,
            "status": outcome.status.value,
            "waitlist_reason": outcome.waitlist_reason.value if outcome.waitlist_reason else None,
            "message": outcome.message,
        }
        row = self._conn.execute(_INSERT_PURCHASE, values).first()
        return None if row is None else to_purchase(row)

    def insert_sessions(
        self, purchase_id: str, sessions: Sequence[ScheduledSession]
    ) -> tuple[StoredSession, ...]:
        # One statement for the whole schedule (up to 100 rows): arrays in, ids out.
        rows = self._conn.execute(
            _INSERT_SESSIONS,
            {
                "purchase_id": purchase_id,
                "numbers": [s.session_number for s in sessions],
                "dates": [s.session_date for s in sessions],
                "times": [s.session_time for s in sessions],
                "durations": [s.duration_minutes for s in sessions],
                "types": [s.session_type.value for s in sessions],
                "bookable": [s.flags.is_bookable if s.flags else None for s in sessions],
                "fixed": [s.flags.is_fixed_time if s.flags else None for s in sessions],
                "requires": [s.flags.requires_booking if s.flags else None for s in sessions],
                "initial": [(s.flags.initial_time_slot or None) if s.flags else None for s in sessions],
            },
        ).all()
        ids: dict[int, str] = dict(rows)
        return tuple(
            StoredSession.planned(s, purchase_id=purchase_id, session_id=ids[s.session_number])
            for s in sessions
        )

    def mark_assigned(self, purchase_id: str, *, trainer_id: str, message: str) -> StoredPurchase:
        row = self._conn.execute(
            update(purchases)
            .where(purchases.c.id == purchase_id)
            .values(
                status=PurchaseStatus.ASSIGNED.value,
                trainer_id=trainer_id,
                waitlist_reason=None,
                message=message,
                updated_at=func.now(),
            )
            .returning(*purchases.c)
        ).one()
        return to_purchase(row)

    def mark_waitlisted(self, purchase_id: str, *, reason: WaitlistReason, message: str) -> StoredPurchase:
        row = self._conn.execute(
            _MARK_WAITLISTED, {"purchase_id": purchase_id, "reason": reason.value, "message": message}
        ).one()
        return to_purchase(row)

    def list_sessions(self, purchase_id: str) -> tuple[StoredSession, ...]:
        rows = self._conn.execute(
            select(sessions_table)
            .where(sessions_table.c.purchase_id == purchase_id)
            .order_by(sessions_table.c.session_number)
        ).all()
        return tuple(to_session(r) for r in rows)

    def get_session(self, session_id: str) -> StoredSession | None:
        row = self._conn.execute(select(sessions_table).where(sessions_table.c.id == session_id)).first()
        return None if row is None else to_session(row)

    def list(
        self, where: PurchaseFilter, *, after: PurchaseCursor | None, limit: int
    ) -> list[StoredPurchase]:
        conditions = []
        if where.booking_id:
            conditions.append(purchases.c.booking_id == where.booking_id)
        if where.status:
            conditions.append(purchases.c.status == where.status.value)
        if where.trainer_id:
            conditions.append(purchases.c.trainer_id == where.trainer_id)
        if where.zone_id:
            conditions.append(purchases.c.zone_id == where.zone_id)
        if after is not None:
            conditions.append(
                older_than(
                    purchases.c.created_at,
                    purchases.c.id,
                    time_iso=after.created_at_iso,
                    last_id=after.purchase_id,
                )
            )
        rows = self._conn.execute(
            select(purchases)
            .where(and_(True, *conditions))
            .order_by(purchases.c.created_at.desc(), purchases.c.id.desc())
            .limit(limit)
        ).all()
        return [to_purchase(r) for r in rows]

    def active_assignment_counts(self, trainer_ids: Sequence[str]) -> dict[str, int]:
        if not trainer_ids:
            return {}
        rows = self._conn.execute(_ACTIVE_COUNTS, {"ids": list(trainer_ids)}).all()
        return {str(trainer_id): int(count) for trainer_id, count in rows}


def _waiting_params(query: WaitlistQuery, now: datetime) -> dict[str, object]:
    return {
        "purchase_id": query.purchase_id,
        "zone_id": query.zone_id,
        "course_ids": list(query.course_ids) if query.course_ids is not None else None,
        "any_zone_of_operator": query.any_zone_of_operator,
        "franchise_id": query.operator_franchise_id,
        "today": now.date(),
        "now_hhmm": now.strftime("%H:%M"),
    }
