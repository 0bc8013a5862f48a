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

from sqlalchemy import Connection, text

from booking_server.db.models import PurchaseRow
from booking_server.db.repositories.purchases import to_session
from booking_server.domain.model import DeliveryMode, SessionStatus
from booking_server.domain.purchase import StoredPurchase, StoredSession
from booking_server.services.ports.purchases import PurchaseCursor
from booking_server.services.ports.read_model import SyncCounts, UnsyncedScan

purchases = PurchaseRow.__table__

# The trainers of a purchase: each session is held by one (a reschedule or a substitution may
# give sessions to another trainer than the purchase's).
_TRAINERS = """
    SELECT DISTINCT trainer_id FROM purchase_sessions
    WHERE purchase_id = CAST(:purchase_id AS uuid) AND trainer_id IS NOT NULL
"""

# trainer_allocations has no unique index on (student, trainer, course) (the table belongs to
# the contract), so concurrent creators of one triple are serialized on a transaction-level
# advisory lock instead; keys are taken in sorted order so two multi-student syncs cannot
# deadlock. A hash collision only makes two unrelated syncs wait for each other.
_LOCK_TRIPLES = text(
    f"""
    SELECT count(pg_advisory_xact_lock(k)) FROM (
        SELECT DISTINCT hashtextextended(s::text || t.trainer_id::text || :course_id, 0) AS k
        FROM unnest(CAST(:students AS uuid[])) AS s CROSS JOIN ({_TRAINERS}) AS t
        ORDER BY k
    ) AS keys
    """
)

# Runs after the locks above, in a new statement, so its snapshot sees every allocation
# committed by whoever held a lock before us. One allocation per (student, trainer): the
# oldest for the triple is reused, and reopened if a cancellation here had closed it (one the
# admin side cancelled stays cancelled).
_ALLOCATIONS = text(
    f"""
    WITH pairs AS (
        SELECT s AS student_id, t.trainer_id
        FROM unnest(CAST(:students AS uuid[])) AS s CROSS JOIN ({_TRAINERS}) AS t
    ), existing AS (
        SELECT DISTINCT ON (a.student_id, a.trainer_id) a.student_id, a.trainer_id, a.id, a.status
        FROM trainer_allocations a JOIN pairs p USING (student_id, trainer_id)
        WHERE a.course_id = CAST(:course_id AS uuid)
        ORDER BY a.student_id, a.trainer_id, a.created_at, a.id
    ), reopened AS (
        DELETE FROM allocation_cancellations
        WHERE allocation_id IN (SELECT id FROM existing WHERE status = 'cancelled')
        RETURNING allocation_id
    ), approved AS (
        UPDATE trainer_allocations SET status = 'approved', updated_at = now()
        WHERE id IN (SELECT allocation_id FROM reopened)
    ), inserted AS (
        INSERT INTO trainer_allocations
            (student_id, trainer_id, course_id, requested_by, status, allocated_at, metadata)
        SELECT p.student_id, p.trainer_id, CAST(:course_id AS uuid), p.student_id,
               'approved', now(), CAST(:metadata AS jsonb)
        FROM pairs p
        WHERE NOT EXISTS (
            SELECT 1 FROM existing e WHERE e.student_id = p.student_id AND e.trainer_id = p.trainer_id
        )
        RETURNING student_id, trainer_id, id
    )
    SELECT student_id, trainer_id, id FROM existing
    UNION ALL
    SELECT student_id, trainer_id, id FROM inserted
    """
)

# One row per (purchase session, student), `scheduled` unless the session was completed or
# cancelled here before its first sync (a late sync by the reconciler). A row still `scheduled`
# mirrors its session: date, time, trainer, allocation. Rows the admin side moved past
# `scheduled` keep their date, time and trainer and only get our metadata keys merged in.
# Unchanged rows are not rewritten, so counts come from the source size and the rows actually
# inserted.
_TUTORING_SESSIONS = text(
    """
    WITH allocations AS (
        SELECT * FROM unnest(CAST(:pair_students AS uuid[]), CAST(:pair_trainers AS uuid[]),
                             CAST(:pair_allocations AS uuid[])) AS a(student_id, trainer_id, allocation_id)
    ), src AS (
        SELECT a.allocation_id, ps.id AS purchase_session_id, a.student_id, ps.trainer_id,
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
                  )) END
                 || CASE WHEN ps.rescheduled_from IS NULL THEN '{}'::jsonb
                  ELSE jsonb_build_object('rescheduledFrom', ps.rescheduled_from) END AS metadata
        FROM purchase_sessions ps
        JOIN allocations a ON a.trainer_id = ps.trainer_id
        WHERE ps.purchase_id = CAST(:purchase_id AS uuid)
          AND (CAST(:session_id AS uuid) IS NULL OR ps.id = CAST(:session_id AS uuid))
    ), upserted AS (
        INSERT INTO tutoring_sessions AS t
            (allocation_id, purchase_session_id, student_id, trainer_id, course_id, scheduled_date,
             scheduled_time, duration, status, student_home_location, metadata)
        SELECT allocation_id, purchase_session_id, student_id, trainer_id,
               CAST(:course_id AS uuid), session_date, session_time, duration_minutes, status,
               CAST(:home AS jsonb), metadata
        FROM src
        ON CONFLICT (purchase_session_id, student_id) DO UPDATE SET
            scheduled_date = CASE WHEN t.status = 'scheduled'
                THEN EXCLUDED.scheduled_date ELSE t.scheduled_date END,
            scheduled_time = CASE WHEN t.status = 'scheduled'
                THEN EXCLUDED.scheduled_time ELSE t.scheduled_time END,
            duration = CASE WHEN t.status = 'scheduled' THEN EXCLUDED.duration ELSE t.duration END,
            trainer_id = CASE WHEN t.status = 'scheduled' THEN EXCLUDED.trainer_id ELSE t.trainer_id END,
            allocation_id = CASE WHEN t.status = 'scheduled'
                THEN EXCLUDED.allocation_id ELSE t.allocation_id END,
            student_home_location = CASE WHEN t.status = 'scheduled'
                THEN EXCLUDED.student_home_location ELSE t.student_home_location END,
            metadata = COALESCE(t.metadata, '{}'::jsonb) || EXCLUDED.metadata,
            updated_at = now()
        WHERE t.metadata IS DISTINCT FROM COALESCE(t.metadata, '{}'::jsonb) || EXCLUDED.metadata
           OR (t.status = 'scheduled'
               AND (t.scheduled_date, t.scheduled_time, t.duration, t.trainer_id, t.allocation_id,
                    t.student_home_location)
                   IS DISTINCT FROM (EXCLUDED.scheduled_date, EXCLUDED.scheduled_time, EXCLUDED.duration,
                                     EXCLUDED.trainer_id, EXCLUDED.allocation_id,
                                     EXCLUDED.student_home_location))
        RETURNING (t.xmax = 0) AS inserted
    )
    SELECT (SELECT count(*) FROM src) AS total, (SELECT count(*) FROM upserted WHERE inserted) AS created
    """
)

# A cancelled purchase in the read model: its rows still `scheduled` become `cancelled` (the
# admin side's others are left as they are), and each allocation it used is cancelled unless
# another ASSIGNED purchase still has rows on it.
_CANCEL = text(
    """
    WITH mine AS (
        SELECT t.id, t.allocation_id, t.status, ps.status AS session_status
        FROM tutoring_sessions t JOIN purchase_sessions ps ON ps.id = t.purchase_session_id
        WHERE ps.purchase_id = CAST(:purchase_id AS uuid)
    ), rows AS (
        UPDATE tutoring_sessions SET status = 'cancelled', updated_at = now()
        WHERE id IN (SELECT id FROM mine WHERE status = 'scheduled' AND session_status = 'cancelled')
    ), closed AS (
        UPDATE trainer_allocations a SET status = 'cancelled', updated_at = now()
        WHERE a.id IN (SELECT allocation_id FROM mine) AND a.status IN ('pending', 'approved', 'active')
          AND NOT EXISTS (
              SELECT 1 FROM tutoring_sessions t
              JOIN purchase_sessions ps ON ps.id = t.purchase_session_id
              JOIN purchases p ON p.id = ps.purchase_id
              WHERE t.allocation_id = a.id AND p.status = 'ASSIGNED' AND p.id <> CAST(:purchase_id AS uuid)
          )
        RETURNING a.id
    )
    INSERT INTO allocation_cancellations (allocation_id) SELECT id FROM closed ON CONFLICT DO NOTHING
    """
)

# "Unsynced" is what the read model lacks or has wrong, whoever changed it. For an ASSIGNED
# purchase `p`: a session still to be taught (scheduled or rescheduled) without its row for one
# of the students, or whose row, still `scheduled`, shows another date, time or trainer (a
# reschedule or substitution whose read-model write failed). For a CANCELLED one: a cancelled
# session whose row is still `scheduled`. Index probes on the unique key (purchase_session_id,
# student_id): finding nothing costs one probe per session and student.
# One session `ps` of purchase `p` that the read model does not reflect: an assigned purchase's
# live session without a row per student, or with a scheduled row elsewhere; a cancelled
# purchase's cancelled session whose row is still scheduled. The metric of unsynced sessions
# (db/backlog.py) counts these; _BEHIND asks whether a purchase has one.
SESSION_BEHIND = """
    (p.status = 'ASSIGNED' AND ps.status IN ('scheduled', 'rescheduled') AND EXISTS (
        SELECT 1 FROM jsonb_array_elements(p.students) AS s(student)
        LEFT JOIN tutoring_sessions t
            ON t.purchase_session_id = ps.id AND t.student_id = CAST(s.student ->> 'id' AS uuid)
        WHERE t.id IS NULL OR (t.status = 'scheduled'
              AND (t.scheduled_date, t.scheduled_time, t.trainer_id)
                  IS DISTINCT FROM (ps.session_date, ps.session_time, ps.trainer_id))
    ))
    OR (p.status = 'CANCELLED' AND ps.status = 'cancelled' AND EXISTS (
        SELECT 1 FROM tutoring_sessions t WHERE t.purchase_session_id = ps.id AND t.status = 'scheduled'
    ))
"""

_BEHIND = f"EXISTS (SELECT 1 FROM purchase_sessions ps WHERE ps.purchase_id = p.id AND ({SESSION_BEHIND}))"

# A bounded window of purchases, newest first after a keyset position, each marked behind or
# not: the cost of one call is at most :scan purchases, whatever the history holds.
_SCAN_UNSYNCED = text(
    f"""
    WITH window_ AS (
        SELECT id, created_at, status, students FROM purchases
        WHERE status IN ('ASSIGNED', 'CANCELLED')
          AND (CAST(:after_at AS timestamptz) IS NULL
               OR (created_at, id) < (CAST(:after_at AS timestamptz), CAST(:after_id AS uuid)))
        ORDER BY created_at DESC, id DESC
        LIMIT :scan
    )
    SELECT p.id::text, p.created_at, {_BEHIND} AS behind FROM window_ p
    ORDER BY p.created_at DESC, p.id DESC
    """
)

_HAS_UNSYNCED = text(f"SELECT EXISTS (SELECT 1 FROM purchases p WHERE p.id = :purchase_id AND {_BEHIND})")

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

    def _lock_triples(self, purchase: StoredPurchase) -> dict[str, Any]:
        common = {
            "students": [s.id for s in purchase.students],
            "purchase_id": purchase.purchase_id,
            "course_id": purchase.course_id,
        }
        self._conn.execute(_LOCK_TRIPLES, common)
        return common

    def write(self, purchase: StoredPurchase, *, session_id: str | None = None) -> SyncCounts:
        student_ids = [s.id for s in purchase.students]
        common = self._lock_triples(purchase)
        pairs = self._conn.execute(_ALLOCATIONS, {**common, "metadata": _allocation_metadata(purchase)}).all()
        total, created = self._conn.execute(
            _TUTORING_SESSIONS,
            {
                "pair_students": [p.student_id for p in pairs],
                "pair_trainers": [p.trainer_id for p in pairs],
                "pair_allocations": [p.id for p in pairs],
                "purchase_id": purchase.purchase_id,
                "course_id": purchase.course_id,
                "booking_id": purchase.booking_id,
                "session_id": session_id,
                "student_ids_json": json.dumps(student_ids),
                "home": _home_location(purchase),
            },
        ).one()
        return SyncCounts(sessions_created=created, sessions_updated=total - created)

    def cancel(self, purchase: StoredPurchase) -> None:
        self._lock_triples(purchase)
        self._conn.execute(_CANCEL, {"purchase_id": purchase.purchase_id})

    def scan_unsynced(self, *, after: PurchaseCursor | None, scan: int, limit: int) -> UnsyncedScan:
        params = {
            "after_at": after.created_at_iso if after else None,
            "after_id": after.purchase_id if after else None,
            "scan": scan,
        }
        rows = self._conn.execute(_SCAN_UNSYNCED, params).all()
        found: list[str] = []
        for purchase_id, created_at, behind in rows:
            if behind:
                found.append(purchase_id)
            if len(found) == limit:  # the rest of the window waits for the next call
                return UnsyncedScan(found, PurchaseCursor(created_at.isoformat(), purchase_id))
        if len(rows) < scan:
            return UnsyncedScan(found, None)
        last_id, last_at, _ = rows[-1]
        return UnsyncedScan(found, PurchaseCursor(last_at.isoformat(), last_id))

    def has_unsynced_sessions(self, purchase_id: str) -> bool:
        return bool(self._conn.execute(_HAS_UNSYNCED, {"purchase_id": purchase_id}).scalar())

    def complete_session(self, session_id: str) -> StoredSession | None:
        row = self._conn.execute(_COMPLETE, {"session_id": session_id}).first()
        return None if row is None else to_session(row)

    def completion_statuses(self, purchase_id: str) -> Sequence[SessionStatus]:
        return [
            SessionStatus(s) for s in self._conn.execute(_COMPLETION, {"purchase_id": purchase_id}).scalars()
        ]
