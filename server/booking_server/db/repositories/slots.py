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

# Lock (creating if needed) the trainer's key row, then insert every slot in one statement.
# ON CONFLICT DO NOTHING skips slots refused by the exclusion constraint, so the caller
# compares the count inserted with the count asked.
_RESERVE = text(
    """
    WITH trainer AS (
        INSERT INTO trainer_slot_keys (trainer_id) VALUES (:trainer_id)
        ON CONFLICT (trainer_id) DO UPDATE SET trainer_id = EXCLUDED.trainer_id
        RETURNING trainer_key
    )
    INSERT INTO trainer_slots (trainer_id, trainer_key, slot_date, start_time, start_minute,
                               duration_minutes, status, purchase_id, session_id, reason)
    SELECT :trainer_id, trainer.trainer_key, s.slot_date, s.start_time, s.start_minute,
           s.duration_minutes, :status, :purchase_id, s.session_id, :reason
    FROM trainer,
         unnest(CAST(:dates AS date[]), CAST(:times AS text[]), CAST(:minutes AS bigint[]),
                CAST(:durations AS int[]), CAST(:session_ids AS uuid[]))
             AS s(slot_date, start_time, start_minute, duration_minutes, session_id)
    ON CONFLICT DO NOTHING
    RETURNING id
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

    def _insert(
        self,
        trainer_id: str,
        *,
        status: SlotStatus,
        purchase_id: str | None,
        reason: str,
        slots: Sequence[tuple[date, str, int, str | None]],
    ) -> int:
        params = {
            "trainer_id": trainer_id,
            "status": status.value,
            "purchase_id": purchase_id,
            "reason": reason,
            "dates": [s[0] for s in slots],
            "times": [s[1] for s in slots],
            "minutes": [civil_minutes(s[0], s[1]) for s in slots],
            "durations": [s[2] for s in slots],
            "session_ids": [s[3] for s in slots],
        }
        return len(self._conn.execute(_RESERVE, params).all())

    def reserve(self, trainer_id: str, *, purchase_id: str, sessions: Sequence[StoredSession]) -> bool:
        slots = [(s.session_date, s.session_time, s.duration_minutes, s.session_id) for s in sessions]
        inserted = self._insert(
            trainer_id, status=SlotStatus.BOOKED, purchase_id=purchase_id, reason="", slots=slots
        )
        return inserted == len(slots)

    def block(self, slot: TrainerSlot) -> TrainerSlot | None:
        inserted = self._insert(
            slot.trainer_id,
            status=SlotStatus.BLOCKED,
            purchase_id=None,
            reason=slot.reason,
            slots=[(slot.slot_date, slot.start_time, slot.duration_minutes, None)],
        )
        return slot if inserted == 1 else None

    def schedule(self, trainer_id: str, *, from_date: date, to_date: date) -> list[TrainerSlot]:
        rows = self._conn.execute(_SCHEDULE, {"trainer_id": trainer_id, "first": from_date, "last": to_date})
        return [_to_slot(r) for r in rows]
