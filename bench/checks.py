"""After a world's runs: the no-double-booking invariant and a cross-check of what was stored.

The overlap query is the one in tests/support/overlaps.py, on the raw columns, so it does not
trust the exclusion constraint it is checking.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

OVERLAPS = """
    SELECT a.trainer_id::text, a.slot_date, a.start_time, b.slot_date, b.start_time
    FROM trainer_slots a
    JOIN trainer_slots b
      ON a.trainer_id = b.trainer_id AND a.id < b.id
     AND a.start_minute < b.start_minute + b.duration_minutes
     AND b.start_minute < a.start_minute + a.duration_minutes
"""
# Every ASSIGNED purchase holds exactly total_sessions booked slots; nothing else holds any.
STORED = """
    SELECT
      (SELECT count(*) FROM purchases WHERE status = 'ASSIGNED'),
      (SELECT coalesce(sum(total_sessions), 0) FROM purchases WHERE status = 'ASSIGNED'),
      (SELECT count(*) FROM trainer_slots WHERE status = 'booked'),
      (SELECT count(*) FROM purchases)
"""
EXAMPLES = 5


def check_world(libpq_url: str) -> dict[str, Any]:
    started = time.perf_counter()
    with psycopg.connect(libpq_url, autocommit=True) as conn:
        pairs = conn.execute(OVERLAPS).fetchall()
        row = conn.execute(STORED).fetchone()
    assert row is not None
    assigned, expected_slots, booked_slots, purchases = (int(v) for v in row)
    return {
        "overlapping_pairs": len(pairs),
        "overlap_examples": [[str(v) for v in pair] for pair in pairs[:EXAMPLES]],
        "purchases_stored": purchases,
        "assigned_stored": assigned,
        "booked_slots": booked_slots,
        "booked_slots_expected": expected_slots,
        "slots_consistent": booked_slots == expected_slots,
        "check_seconds": round(time.perf_counter() - started, 2),
    }
