"""What the service has still to do, for the metrics: waiting purchases, unsynced sessions.

Counted over the whole database (every replica sees the same numbers), by a background job
(app.py), so a scrape never waits for these queries.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text

from booking_server.db.repositories.read_model import SESSION_BEHIND

_COUNTS = text(
    f"""
    SELECT
        (SELECT count(*) FROM purchases WHERE status = 'WAITLISTED'),
        (SELECT count(*) FROM purchases p JOIN purchase_sessions ps ON ps.purchase_id = p.id
         WHERE p.status IN ('ASSIGNED', 'CANCELLED') AND ({SESSION_BEHIND}))
    """
)


@dataclass(frozen=True, slots=True)
class Backlog:
    waitlisted_purchases: int
    unsynced_sessions: int


def read_backlog(engine: Engine) -> Backlog:
    with engine.connect() as conn:
        waitlisted, unsynced = conn.execute(_COUNTS).one()
    return Backlog(waitlisted_purchases=waitlisted, unsynced_sessions=unsynced)
