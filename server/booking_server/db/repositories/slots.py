"""SQL for trainer slots: implements services.ports.slots.SlotRepository.

The exclusion constraint ex_trainer_slots_no_overlap is the real guard; the per-trainer key
row taken FOR UPDATE (via the upsert below) only makes concurrent writers of one trainer queue
instead of racing, so a loser sees the winner's committed slots and moves on cleanly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, text

from booking_server.domain.model import BusyInterval, civil_minutes
from booking_server.domain.purchase import StoredSession
from booking_server.domain.slots import SlotStatus, TrainerSlot

_BUSY = text(
    "SELECT trainer_id::text, start_minute, duration_minutes FROM trainer_slots "
    "WHERE trainer_id = ANY(CAST(:ids AS uuid[])) AND slot_date BETWEEN :first AND :last"
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
    RETURNING id
    """
)

_UNRESERVE = text("DELETE FROM trainer_slots WHERE id = ANY(CAST(:ids AS uuid[]))")

# A reservation books the purchase's stored sessions directly: no per-slot parameters to build,
# adapt and send. The civil minute is the SQL twin of domain.model.civil_minutes (minutes since
# 2000-01-01 00:00); tests/integration/test_slot_repository.py checks that the two agree.
_BOOK_SESSIONS = text(
    """
    WITH trainer AS (
        INSERT INTO trainer_slot_keys (trainer_id) VALUES (:trainer_id)
        ON CONFLICT (trainer_id) DO UPDATE SET trainer_id = EXCLUDED.trainer_id
        RETURNING trainer_key
    )
    INSERT INTO trainer_slots (trainer_id, trainer_key, slot_date, start_time, start_minute,
                               duration_minutes, status, purchase_id, session_id)
    SELECT :trainer_id, trainer.trainer_key, ps.session_date, ps.session_time,
           (ps.session_date - DATE '2000-01-01') * 1440
               + split_part(ps.session_time, ':', 1)::int * 60 + split_part(ps.session_time, ':', 2)::int,
           ps.duration_minutes, 'booked', ps.purchase_id, ps.id
    FROM trainer, purchase_sessions ps
    WHERE ps.purchase_id = :purchase_id AND ps.id = ANY(CAST(:session_ids AS uuid[]))
    ORDER BY ps.session_number
    ON CONFLICT DO NOTHING
    RETURNING id::text
    """
)

_SCHEDULE = text(
    "SELECT trainer_id::text, slot_date, start_time, duration_minutes, status, purchase_id::text, "
    "session_id::text, reason FROM trainer_slots "
    "WHERE trainer_id = :trainer_id AND slot_date BETWEEN :first AND :last "
    "ORDER BY slot_date, start_time, start_minute"
)


def _to_slot(row: Row[Any]) -> TrainerSlot:
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
    )


class SqlSlotRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def busy_intervals(
        self, trainer_ids: Sequence[str], *, first_date: date, last_date: date
    ) -> dict[str, list[BusyInterval]]:
        busy: dict[str, list[BusyInterval]] = defaultdict(list)
        if not trainer_ids:
            return busy
        params = {"ids": list(trainer_ids), "first": first_date, "last": last_date}
        for trainer_id, start, duration in self._conn.execute(_BUSY, params):
            busy[trainer_id].append(BusyInterval(start, start + duration))
        return busy

    def reserve(self, trainer_id: str, *, purchase_id: str, sessions: Sequence[StoredSession]) -> bool:
        params = {
            "trainer_id": trainer_id,
            "purchase_id": purchase_id,
            "session_ids": [s.session_id for s in sessions],
        }
        inserted: list[str] = list(self._conn.execute(_BOOK_SESSIONS, params).scalars())
        if len(inserted) == len(sessions):
            return True
        # All or nothing: remove the part that fitted. A compensating delete instead of a
        # savepoint keeps the common (successful) path two round trips shorter; the trainer's
        # key row stays locked until commit, and the rare lock cycle that can cause is broken
        # by PostgreSQL and retried by the use case.
        if inserted:
            self._conn.execute(_UNRESERVE, {"ids": inserted})
        return False

    def block(self, slot: TrainerSlot) -> TrainerSlot | None:
        params = {
            "trainer_id": slot.trainer_id,
            "slot_date": slot.slot_date,
            "start_time": slot.start_time,
            "start_minute": civil_minutes(slot.slot_date, slot.start_time),
            "duration_minutes": slot.duration_minutes,
            "reason": slot.reason,
        }
        return slot if self._conn.execute(_BLOCK, params).first() is not None else None

    def schedule(self, trainer_id: str, *, from_date: date, to_date: date) -> list[TrainerSlot]:
        rows = self._conn.execute(_SCHEDULE, {"trainer_id": trainer_id, "first": from_date, "last": to_date})
        return [_to_slot(r) for r in rows]
