"""Purchases written straight into the database, for repository tests that need only their ids."""

from __future__ import annotations

from datetime import date, timedelta

from booking_server.domain.model import ScheduledSession, SessionStatus, SessionType
from booking_server.domain.purchase import StoredSession
from booking_server.services.unit_of_work import UnitOfWorkFactory
from sqlalchemy import text

_INSERT = text(
    "INSERT INTO purchases (booking_id, request_fingerprint, course_id, class_type, total_sessions,"
    " delivery_mode, start_date, preferred_time_slot, student_latitude, student_longitude,"
    " students, status, waitlist_reason) VALUES (gen_random_uuid(), 'x', gen_random_uuid(),"
    " 'ONE_ON_ONE', :n, 'WEEKDAY_DAILY', :d, :t, 0, 0, '[]', 'WAITLISTED', 'NO_ELIGIBLE_TRAINER')"
    " RETURNING id::text"
)
_ASSIGN = text(
    "UPDATE purchases SET status = 'ASSIGNED', waitlist_reason = NULL, trainer_id = :trainer_id"
    " WHERE id = :id"
)


def purchase_with_sessions(
    uow_factory: UnitOfWorkFactory, *, first_day: date, days: int, time: str
) -> tuple[str, list[StoredSession]]:
    """A committed WAITLISTED purchase with `days` daily sessions at `time` from `first_day`."""
    with uow_factory() as uow:
        conn = uow.connection  # type: ignore[attr-defined]
        purchase_id = conn.execute(_INSERT, {"n": days, "d": first_day, "t": time}).scalar_one()
        sessions = uow.purchases.insert_sessions(
            purchase_id,
            [
                ScheduledSession(i + 1, first_day + timedelta(days=i), time, 40, SessionType.OFFLINE, None)
                for i in range(days)
            ],
        )
        uow.commit()
    assert all(s.status == SessionStatus.SCHEDULED for s in sessions)
    return purchase_id, list(sessions)


def mark_assigned(conn: object, purchase_id: str, trainer_id: str) -> None:
    """Make a purchase ASSIGNED to `trainer_id` on the given connection (not committed)."""
    conn.execute(_ASSIGN, {"id": purchase_id, "trainer_id": trainer_id})  # type: ignore[attr-defined]
