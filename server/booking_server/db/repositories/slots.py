"""SQL for trainer slots: implements services.ports.slots.SlotRepository.

The exclusion constraint ex_trainer_slots_no_overlap is the real guard; the per-trainer key
row locked by every writer of a trainer's slots (the upserts below, book_trainer_sessions) only
makes concurrent writers of one trainer queue instead of racing (docs/locking.md).
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
from booking_server.services.ports.slots import Reservation

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

# One candidate's reservation, all or nothing, load cap included: the function is defined (and
# its locking explained) in migration 0002; docs/locking.md says why the order cannot deadlock.
_BOOK_SESSIONS = text(
    "SELECT book_trainer_sessions(CAST(:trainer_id AS uuid), CAST(:purchase_id AS uuid), "
    "CAST(:session_ids AS uuid[]), :load_cap)"
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
        return slot if self._conn.execute(_BLOCK, params).first() is not None else None

    def schedule(self, trainer_id: str, *, from_date: date, to_date: date) -> list[TrainerSlot]:
        rows = self._conn.execute(_SCHEDULE, {"trainer_id": trainer_id, "first": from_date, "last": to_date})
        return [_to_slot(r) for r in rows]
