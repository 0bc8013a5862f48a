"""The invariant, checked by SQL on the raw columns (independent of the exclusion constraint)."""

from __future__ import annotations

from sqlalchemy import Engine, text

_OVERLAPS = text(
    """
    SELECT a.trainer_id::text, a.slot_date, a.start_time, b.slot_date, b.start_time
    FROM trainer_slots a
    JOIN trainer_slots b
      ON a.trainer_id = b.trainer_id AND a.id < b.id
     AND a.start_minute < b.start_minute + b.duration_minutes
     AND b.start_minute < a.start_minute + a.duration_minutes
    """
)


def overlapping_slot_pairs(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(_OVERLAPS)]
