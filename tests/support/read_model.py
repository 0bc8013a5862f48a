"""Look at (and tamper with) the read model the way the admin side does: plain SQL.

The api tests share one committed database, so every helper here is scoped to one purchase,
one trainer or one set of students, never to the whole table.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from booking.v1 import booking_service_pb2 as pb
from booking.v1 import common_pb2 as common
from sqlalchemy import Engine, text

CERTIFICATE_NUMBER = r"CERT-[0-9]{8}-[0-9A-F]{8}"


def tutoring_rows(engine: Engine, purchase_id: str) -> list[dict[str, Any]]:
    """Every tutoring session of the purchase, by session number then student."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT t.*, t.id::text AS row_id, t.allocation_id::text AS allocation, "
                "t.purchase_session_id::text AS session_id, t.student_id::text AS student, "
                "t.trainer_id::text AS trainer, t.course_id::text AS course, ps.session_number "
                "FROM tutoring_sessions t JOIN purchase_sessions ps ON ps.id = t.purchase_session_id "
                "WHERE ps.purchase_id = :purchase_id ORDER BY ps.session_number, t.student_id"
            ),
            {"purchase_id": purchase_id},
        ).all()
    return [dict(r._mapping) for r in rows]


def allocation_rows(engine: Engine, student_ids: Sequence[str]) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.*, a.id::text AS allocation, a.student_id::text AS student, "
                "a.trainer_id::text AS trainer, a.course_id::text AS course, "
                "a.requested_by::text AS requester "
                "FROM trainer_allocations a WHERE a.student_id = ANY(CAST(:ids AS uuid[])) "
                "ORDER BY a.student_id, a.created_at"
            ),
            {"ids": list(student_ids)},
        ).all()
    return [dict(r._mapping) for r in rows]


def synced_flags(engine: Engine, purchase_id: str) -> list[bool]:
    """Per purchase session (by number), whether the read model holds its row for every student."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM tutoring_sessions t WHERE t.purchase_session_id = ps.id)"
                    " >= jsonb_array_length(p.students)"
                    " FROM purchase_sessions ps JOIN purchases p ON p.id = ps.purchase_id"
                    " WHERE ps.purchase_id = :purchase_id ORDER BY ps.session_number"
                ),
                {"purchase_id": purchase_id},
            ).scalars()
        )


def execute(engine: Engine, sql: str, **params: Any) -> int:
    """Run one write as the admin side would, committed; returns the row count."""
    with engine.begin() as conn:
        return conn.execute(text(sql), params).rowcount


def unsync(engine: Engine, purchase_id: str, *, session_numbers: Sequence[int] | None = None) -> int:
    """Delete sessions' tutoring rows behind the service's back, as the admin side might;
    returns the number of rows deleted."""
    numbers = list(session_numbers) if session_numbers is not None else list(range(1, 101))
    return execute(
        engine,
        "DELETE FROM tutoring_sessions WHERE purchase_session_id IN (SELECT id FROM purchase_sessions "
        "WHERE purchase_id = :purchase_id AND session_number = ANY(CAST(:numbers AS int[])))",
        purchase_id=purchase_id,
        numbers=numbers,
    )


def set_tutoring_status(
    engine: Engine, purchase_id: str, status: str, *, session_numbers: Sequence[int]
) -> int:
    return execute(
        engine,
        "UPDATE tutoring_sessions SET status = :status WHERE purchase_session_id IN (SELECT id "
        "FROM purchase_sessions WHERE purchase_id = :purchase_id "
        "AND session_number = ANY(CAST(:numbers AS int[])))",
        status=status,
        purchase_id=purchase_id,
        numbers=list(session_numbers),
    )


@contextlib.contextmanager
def failing_read_model(engine: Engine, trainer_id: str) -> Iterator[None]:
    """A trigger that makes every tutoring-session insert for this trainer fail.

    Scoped to one trainer because other tests write the same table of the shared database;
    always dropped, whatever the test does.
    """
    name = f"fail_sync_{uuid.uuid4().hex[:12]}"
    trainer = str(uuid.UUID(trainer_id))  # a UUID, so it is safe inside the function body
    execute(
        engine,
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF NEW.trainer_id = '{trainer}'::uuid THEN RAISE EXCEPTION 'forced read-model failure'; END IF; "
        "RETURN NEW; END $$",
    )
    try:
        execute(
            engine,
            f"CREATE TRIGGER {name} BEFORE INSERT ON tutoring_sessions "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()",
        )
        yield
    finally:
        execute(engine, f"DROP TRIGGER IF EXISTS {name} ON tutoring_sessions")
        execute(engine, f"DROP FUNCTION IF EXISTS {name}()")


def _expected_metadata(purchase: common.Purchase, session: common.PurchaseSession) -> dict[str, Any]:
    expected: dict[str, Any] = {
        "purchaseId": purchase.purchase_id,
        "bookingId": purchase.booking_id,
        "purchaseSessionId": session.session_id,
        "sessionNumber": session.session_number,
        "sessionType": "online" if session.session_type == common.SESSION_TYPE_ONLINE else "offline",
        "studentIds": [s.id for s in purchase.students],
    }
    if session.HasField("flags"):
        expected |= {
            "isBookable": session.flags.is_bookable,
            "isFixedTime": session.flags.is_fixed_time,
            "requiresBooking": session.flags.requires_booking,
        }
        if session.flags.initial_time_slot:
            expected["initialTimeSlot"] = session.flags.initial_time_slot
    return expected


def _assert_allocations(engine: Engine, purchase: common.Purchase) -> dict[str, str]:
    """One approved allocation per student; returns the allocation id by student id."""
    allocations = allocation_rows(engine, [s.id for s in purchase.students])
    assert [a["student"] for a in allocations] == sorted(s.id for s in purchase.students)
    for allocation in allocations:
        assert allocation["trainer"] == purchase.trainer_id
        assert allocation["course"] == purchase.course_id
        assert allocation["requester"] == allocation["student"]
        assert allocation["status"] == "approved"
        assert allocation["allocated_at"] is not None
        assert allocation["metadata"] == {
            "sessionCount": purchase.total_sessions,
            "isSundayOnly": purchase.delivery_mode == common.DELIVERY_MODE_SUNDAY_ONLY,
            "schedule": {"timeSlot": purchase.preferred_time_slot, "date": purchase.start_date},
            "purchaseId": purchase.purchase_id,
            "bookingId": purchase.booking_id,
        }
    return {a["student"]: a["allocation"] for a in allocations}


def assert_read_model_matches(engine: Engine, response: pb.AutoAssignTrainerResponse) -> list[dict[str, Any]]:
    """Field by field: one allocation per student, one tutoring session per (session, student)."""
    purchase = response.purchase
    student_ids = [s.id for s in purchase.students]
    allocation_by_student = _assert_allocations(engine, purchase)
    rows = tutoring_rows(engine, purchase.purchase_id)
    expected = [(s, student) for s in response.sessions for student in sorted(student_ids)]
    assert len(rows) == len(expected) == purchase.total_sessions * len(student_ids)
    home = {"latitude": purchase.student_location.latitude, "longitude": purchase.student_location.longitude}
    if purchase.student_address:
        home["address"] = purchase.student_address  # type: ignore[assignment]
    for row, (session, student) in zip(rows, expected, strict=True):
        assert row["session_id"] == session.session_id
        assert row["student"] == student
        assert row["allocation"] == allocation_by_student[student]
        assert row["trainer"] == purchase.trainer_id
        assert row["course"] == purchase.course_id
        assert row["scheduled_date"].isoformat() == session.session_date
        assert row["scheduled_time"] == session.session_time
        assert row["duration"] == 40
        assert row["status"] == "scheduled"
        assert row["student_home_location"] == home
        assert row["metadata"] == _expected_metadata(purchase, session)
    assert synced_flags(engine, purchase.purchase_id) == [True] * purchase.total_sessions
    return rows


def consecutive_dates(start: str, count: int) -> list[str]:
    first = date.fromisoformat(start)
    return [(first + timedelta(days=i)).isoformat() for i in range(count)]
