"""SQL for the read model: implements services.ports.read_model.ReadModelRepository.

A sync runs inside every assignment, so it is three statements whatever the purchase size:
advisory locks on the allocation triples, select-or-insert of the allocations, and one
INSERT ... SELECT that upserts every tutoring session of the purchase. Dates are copied column
to column (date to date): no timezone is ever involved.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select, text

from booking_server.db.models import PurchaseRow
from booking_server.db.repositories.purchases import to_purchase, to_session
from booking_server.domain.model import DeliveryMode, SessionStatus
from booking_server.domain.purchase import StoredPurchase, StoredSession
from booking_server.services.ports.read_model import SyncCounts

purchases = PurchaseRow.__table__

# trainer_allocations has no unique index on (student, trainer, course) (the table belongs to
# the contract), so concurrent creators of one triple are serialized on a transaction-level
# advisory lock instead; keys are taken in sorted order so two multi-student syncs cannot
# deadlock. A hash collision only makes two unrelated syncs wait for each other.
_LOCK_TRIPLES = text(
    """
    SELECT count(pg_advisory_xact_lock(k)) FROM (
        SELECT hashtextextended(s::text || :trainer_id || :course_id, 0) AS k
        FROM unnest(CAST(:students AS uuid[])) AS s
        ORDER BY k
    ) AS keys
    """
)

# Runs after the locks above, in a new statement, so its snapshot sees every allocation
# committed by whoever held a lock before us.
_ALLOCATIONS = text(
    """
    WITH existing AS (
        SELECT DISTINCT ON (a.student_id) a.student_id, a.id
        FROM trainer_allocations a
        WHERE a.student_id = ANY(CAST(:students AS uuid[]))
          AND a.trainer_id = CAST(:trainer_id AS uuid) AND a.course_id = CAST(:course_id AS uuid)
        ORDER BY a.student_id, a.created_at, a.id
    ), inserted AS (
        INSERT INTO trainer_allocations
            (student_id, trainer_id, course_id, requested_by, status, allocated_at, metadata)
        SELECT w.student_id, CAST(:trainer_id AS uuid), CAST(:course_id AS uuid), w.student_id,
               'approved', now(), CAST(:metadata AS jsonb)
        FROM unnest(CAST(:students AS uuid[])) AS w(student_id)
        WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.student_id = w.student_id)
        RETURNING student_id, id
    )
    SELECT student_id::text, id::text FROM existing
    UNION ALL
    SELECT student_id::text, id::text FROM inserted
    """
)

# One row per (purchase session, student), `scheduled` unless the session was completed or
# cancelled here before its first sync (a late sync by the reconciler). Existing rows keep their
# trainer and allocation (a different trainer there is the admin side's substitution); rows the
# admin side moved past `scheduled` keep their date and time too and only get our metadata keys
# merged in. Unchanged rows are not rewritten, so counts come from the source size and the rows
# actually inserted.
_TUTORING_SESSIONS = text(
    """
    WITH src AS (
        SELECT a.allocation_id, ps.id AS purchase_session_id, a.student_id,
               ps.session_date, ps.session_time, ps.duration_minutes,
               CASE WHEN ps.status IN ('completed', 'cancelled') THEN ps.status ELSE 'scheduled' END
                   AS status,
               jsonb_build_object(
                   'purchaseId', CAST(:purchase_id AS text), 'bookingId', CAST(:booking_id AS text),
                   'purchaseSessionId', ps.id::text, 'sessionNumber', ps.session_number,
                   'sessionType', ps.session_type, 'studentIds', CAST(:student_ids_json AS jsonb)
               ) || CASE WHEN ps.is_bookable IS NULL THEN '{}'::jsonb
                  ELSE jsonb_strip_nulls(jsonb_build_object(
                      'isBookable', ps.is_bookable, 'isFixedTime', ps.is_fixed_time,
                      'requiresBooking', ps.requires_booking, 'initialTimeSlot', ps.initial_time_slot
                  )) END AS metadata
        FROM purchase_sessions ps
        CROSS JOIN unnest(CAST(:students AS uuid[]), CAST(:allocations AS uuid[]))
            AS a(student_id, allocation_id)
        WHERE ps.purchase_id = CAST(:purchase_id AS uuid)
          AND (CAST(:session_id AS uuid) IS NULL OR ps.id = CAST(:session_id AS uuid))
    ), upserted AS (
        INSERT INTO tutoring_sessions AS t
            (allocation_id, purchase_session_id, student_id, trainer_id, course_id, scheduled_date,
             scheduled_time, duration, status, student_home_location, metadata)
        SELECT allocation_id, purchase_session_id, student_id, CAST(:trainer_id AS uuid),
               CAST(:course_id AS uuid), session_date, session_time, duration_minutes, status,
               CAST(:home AS jsonb), metadata
        FROM src
        ON CONFLICT (purchase_session_id, student_id) DO UPDATE SET
            scheduled_date = CASE WHEN t.status = 'scheduled'
                THEN EXCLUDED.scheduled_date ELSE t.scheduled_date END,
            scheduled_time = CASE WHEN t.status = 'scheduled'
                THEN EXCLUDED.scheduled_time ELSE t.scheduled_time END,
            duration = CASE WHEN t.status = 'scheduled' THEN EXCLUDED.duration ELSE t.duration END,
            student_home_location = CASE WHEN t.status = 'scheduled'
                THEN EXCLUDED.student_home_location ELSE t.student_home_location END,
            metadata = COALESCE(t.metadata, '{}'::jsonb) || EXCLUDED.metadata,
            updated_at = now()
        WHERE t.metadata IS DISTINCT FROM COALESCE(t.metadata, '{}'::jsonb) || EXCLUDED.metadata
           OR (t.status = 'scheduled'
               AND (t.scheduled_date, t.scheduled_time, t.duration, t.student_home_location)
                   IS DISTINCT FROM (EXCLUDED.scheduled_date, EXCLUDED.scheduled_time, EXCLUDED.duration,
                                     EXCLUDED.student_home_location))
        RETURNING (t.xmax = 0) AS inserted
    )
    SELECT (SELECT count(*) FROM src) AS total, (SELECT count(*) FROM upserted WHERE inserted) AS created
    """
)

# "Unsynced" is what the read model lacks, whoever removed it: a session still to be taught
# (scheduled or rescheduled) of an ASSIGNED purchase `p` without its tutoring-session row for
# one of the purchase's students. An anti-join on the unique key (purchase_session_id,
# student_id), so finding nothing costs one index probe per session and student.
_LACKS_READ_MODEL_ROWS = """
    EXISTS (
        SELECT 1 FROM purchase_sessions ps
        CROSS JOIN jsonb_array_elements(p.students) AS s(student)
        WHERE ps.purchase_id = p.id AND ps.status IN ('scheduled', 'rescheduled')
          AND NOT EXISTS (
              SELECT 1 FROM tutoring_sessions t
              WHERE t.purchase_session_id = ps.id AND t.student_id = CAST(s.student ->> 'id' AS uuid)
          )
    )
"""

_UNSYNCED = text(
    f"""
    SELECT p.id::text FROM purchases p
    WHERE p.status = 'ASSIGNED' AND {_LACKS_READ_MODEL_ROWS}
    ORDER BY p.created_at DESC, p.id DESC
    LIMIT :limit
    """
)

_HAS_UNSYNCED = text(
    f"SELECT EXISTS (SELECT 1 FROM purchases p WHERE p.id = :purchase_id AND {_LACKS_READ_MODEL_ROWS})"
)

# The read model mirrors a completion done here only on rows still `scheduled`: the rows the
# admin side has taken over (in progress, disputed, ...) are its to move.
_COMPLETE = text(
    """
    WITH done AS (
        UPDATE purchase_sessions SET status = 'completed', completed_at = now(), updated_at = now()
        WHERE id = :session_id AND status IN ('scheduled', 'rescheduled')
        RETURNING *
    ), mirrored AS (
        UPDATE tutoring_sessions SET status = 'completed', updated_at = now()
        WHERE purchase_session_id IN (SELECT id FROM done) AND status = 'scheduled'
    )
    SELECT * FROM done
    """
)

# A session completed only in the read model counts when a completed row exists for every
# student of the purchase and no row of it is in another status.
_COMPLETION = text(
    """
    SELECT CASE
        WHEN ps.status IN ('completed', 'cancelled') THEN ps.status
        WHEN t.completed >= jsonb_array_length(p.students) AND t.other = 0 THEN 'completed'
        ELSE ps.status
    END
    FROM purchase_sessions ps
    JOIN purchases p ON p.id = ps.purchase_id
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE status = 'completed') AS completed,
               count(*) FILTER (WHERE status <> 'completed') AS other
        FROM tutoring_sessions WHERE purchase_session_id = ps.id
    ) AS t
    WHERE ps.purchase_id = :purchase_id
    ORDER BY ps.session_number
    """
)


def _allocation_metadata(purchase: StoredPurchase) -> str:
    return json.dumps(
        {
            "sessionCount": purchase.total_sessions,
            "isSundayOnly": purchase.delivery_mode == DeliveryMode.SUNDAY_ONLY,
            "schedule": {"timeSlot": purchase.preferred_time_slot, "date": purchase.start_date.isoformat()},
            "purchaseId": purchase.purchase_id,
            "bookingId": purchase.booking_id,
        }
    )


def _home_location(purchase: StoredPurchase) -> str:
    home: dict[str, Any] = {
        "latitude": purchase.student_location.latitude,
        "longitude": purchase.student_location.longitude,
    }
    if purchase.student_address:
        home["address"] = purchase.student_address
    return json.dumps(home)


class SqlReadModelRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def lock_purchase(self, purchase_id: str, *, skip_locked: bool = False) -> StoredPurchase | None:
        statement = select(purchases).where(purchases.c.id == purchase_id)
        row = self._conn.execute(statement.with_for_update(skip_locked=skip_locked)).first()
        return None if row is None else to_purchase(row)

    def write(self, purchase: StoredPurchase, *, session_id: str | None = None) -> SyncCounts:
        if purchase.trainer_id is None:
            msg = f"purchase {purchase.purchase_id} has no trainer to sync"
            raise ValueError(msg)
        student_ids = [s.id for s in purchase.students]
        common = {"students": student_ids, "trainer_id": purchase.trainer_id, "course_id": purchase.course_id}
        self._conn.execute(_LOCK_TRIPLES, common)
        rows = self._conn.execute(_ALLOCATIONS, {**common, "metadata": _allocation_metadata(purchase)})
        allocation_by_student: dict[str, str] = dict(rows.all())
        total, created = self._conn.execute(
            _TUTORING_SESSIONS,
            {
                **common,
                "allocations": [allocation_by_student[s] for s in student_ids],
                "purchase_id": purchase.purchase_id,
                "booking_id": purchase.booking_id,
                "session_id": session_id,
                "student_ids_json": json.dumps(student_ids),
                "home": _home_location(purchase),
            },
        ).one()
        return SyncCounts(sessions_created=created, sessions_updated=total - created)

    def unsynced_purchase_ids(self, *, limit: int) -> list[str]:
        return list(self._conn.execute(_UNSYNCED, {"limit": limit}).scalars())

    def has_unsynced_sessions(self, purchase_id: str) -> bool:
        return bool(self._conn.execute(_HAS_UNSYNCED, {"purchase_id": purchase_id}).scalar())

    def complete_session(self, session_id: str) -> StoredSession | None:
        row = self._conn.execute(_COMPLETE, {"session_id": session_id}).first()
        return None if row is None else to_session(row)

    def completion_statuses(self, purchase_id: str) -> Sequence[SessionStatus]:
        return [
            SessionStatus(s) for s in self._conn.execute(_COMPLETION, {"purchase_id": purchase_id}).scalars()
        ]
