"""SQL for trainer slots: implements services.ports.slots.SlotRepository.

The exclusion constraint ex_trainer_slots_no_overlap is the real guard; the per-trainer key
row locked by every writer of a trainer's slots (the upserts below, book_trainer_sessions) only
makes concurrent writers of one trainer queue instead of racing (docs/locking.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, text

from booking_server.domain.model import BusyInterval, civil_minutes
from booking_server.domain.purchase import StoredSession
from booking_server.domain.slots import SlotStatus, TrainerSlot
from booking_server.services.ports.slots import Reservation, Unblocked

# Slots of the sessions being moved are left out: a session does not conflict with itself.
_BUSY = text(
    "SELECT trainer_id::text, start_minute, duration_minutes FROM trainer_slots "
    "WHERE trainer_id = ANY(CAST(:ids AS uuid[])) AND slot_date BETWEEN :first AND :last "
    "AND (session_id IS NULL OR session_id <> ALL(CAST(:ignored AS uuid[])))"
)

# Time off: lock (creating if needed) the trainer's key row, then insert the one blocked slot;
# ON CONFLICT DO NOTHING turns an overlap (the exclusion constraint) into "no row".
_BLOCK = text(
    """
    WITH trainer AS (
        INSERT INTO trainer_slot_keys (trainer_id) VALUES (:trainer_id)
        ON CONFLICT (trainer_id) DO UPDATE SET trainer_id = EXCLUDED.trainer_id
        RETURNING trainer_key
    )
    INSERT INTO trainer_slots (trainer_id, trainer_key, slot_date, start_time, start_minute,
                               duration_minutes, status, reason)
    SELECT :trainer_id, trainer.trainer_key, :slot_date, :start_time, :start_minute,
           :duration_minutes, 'blocked', :reason
    FROM trainer
    ON CONFLICT DO NOTHING
    RETURNING id::text
    """
)

# Time off only: a booked slot is released with its session (cancel, reschedule, substitute).
_UNBLOCK = text(
    """
    WITH removed AS (
        DELETE FROM trainer_slots WHERE id = :slot_id AND status = 'blocked' RETURNING trainer_id::text
    )
    SELECT (SELECT trainer_id FROM removed),
           (SELECT status FROM trainer_slots WHERE id = :slot_id AND NOT EXISTS (SELECT 1 FROM removed))
    """
)

# Releasing needs no trainer lock: a delete cannot create an overlap (docs/locking.md).
_RELEASE = text(
    "DELETE FROM trainer_slots WHERE session_id = ANY(CAST(:session_ids AS uuid[])) "
    "RETURNING trainer_id::text"
)

# One candidate's reservation, all or nothing, load cap included: the function is defined (and
# its locking explained) in migration 0002; docs/locking.md says why the order cannot deadlock.
_BOOK_SESSIONS = text(
    "SELECT book_trainer_sessions(CAST(:trainer_id AS uuid), CAST(:purchase_id AS uuid), "
    "CAST(:session_ids AS uuid[]), :load_cap)"
)

_SCHEDULE = text(
    "SELECT id::text AS slot_id, trainer_id::text, slot_date, start_time, duration_minutes, status, "
    "purchase_id::text, session_id::text, reason FROM trainer_slots "
    "WHERE trainer_id = :trainer_id AND slot_date BETWEEN :first AND :last "
    "ORDER BY slot_date, start_time, start_minute"
)


def to_slot(row: Row[Any]) -> TrainerSlot:
    m = row._mapping
    return TrainerSlot(
        trainer_id=m["trainer_id"],
        slot_date=m["slot_date"],
        start_time=m["start_time"],
        duration_minutes=m["duration_minutes"],
        status=SlotStatus(m["status"]),
        purchase_id=m["purchase_id"],
        session_id=m["session_id"],
        reason=m["reason"],
        slot_id=m["slot_id"],
    )


class SqlSlotRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def busy_intervals(
        self,
        trainer_ids: Sequence[str],
        *,
        first_date: date,
        last_date: date,
        ignoring_session_ids: Sequence[str] = (),
    ) -> dict[str, list[BusyInterval]]:
        busy: dict[str, list[BusyInterval]] = defaultdict(list)
        if not trainer_ids:
            return busy
        params = {
            "ids": list(trainer_ids),
            "first": first_date,
            "last": last_date,
            "ignored": list(ignoring_session_ids),
        }
        for trainer_id, start, duration in self._conn.execute(_BUSY, params):
            busy[trainer_id].append(BusyInterval(start, start + duration))
        return busy

    def reserve(
        self,
        trainer_id: str,
        *,
        purchase_id: str,
        sessions: Sequence[StoredSession],
        load_cap: int,
    ) -> Reservation:
        params = {
            "trainer_id": trainer_id,
            "purchase_id": purchase_id,
            "session_ids": [s.session_id for s in sessions],
            "load_cap": load_cap,
        }
        return Reservation(self._conn.execute(_BOOK_SESSIONS, params).scalar_one())

    def block(self, slot: TrainerSlot) -> TrainerSlot | None:
        params = {
            "trainer_id": slot.trainer_id,
            "slot_date": slot.slot_date,
            "start_time": slot.start_time,
            "start_minute": civil_minutes(slot.slot_date, slot.start_time),
            "duration_minutes": slot.duration_minutes,
            "reason": slot.reason,
        }
        slot_id = self._conn.execute(_BLOCK, params).scalar_one_or_none()
        return None if slot_id is None else replace(slot, slot_id=slot_id)

    def unblock(self, slot_id: str) -> Unblocked:
        trainer_id, other_status = self._conn.execute(_UNBLOCK, {"slot_id": slot_id}).one()
        if trainer_id is not None:
            return Unblocked(trainer_id=trainer_id)
        return Unblocked(was_booked=other_status == SlotStatus.BOOKED.value)

    def release(self, session_ids: Sequence[str]) -> set[str]:
        if not session_ids:
            return set()
        rows = self._conn.execute(_RELEASE, {"session_ids": list(session_ids)}).scalars()
        return set(rows)

    def schedule(self, trainer_id: str, *, from_date: date, to_date: date) -> list[TrainerSlot]:
        rows = self._conn.execute(_SCHEDULE, {"trainer_id": trainer_id, "first": from_date, "last": to_date})
        return [to_slot(r) for r in rows]
