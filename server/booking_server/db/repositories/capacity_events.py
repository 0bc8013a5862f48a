"""SQL for capacity events: implements services.ports.capacity_events.CapacityEventRepository."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, text

from booking_server.services.ports.capacity_events import CapacityCause, CapacityEvent

_RECORD = text(
    "INSERT INTO capacity_events (cause, trainer_id, zone_id, course_id) "
    "SELECT :cause, t, :zone_id, :course_id FROM unnest(CAST(:trainer_ids AS uuid[])) AS t"
)
_RECORD_ZONE = text("INSERT INTO capacity_events (cause, zone_id) VALUES (:cause, :zone_id)")

# SKIP LOCKED: replicas claiming at the same moment take different events.
_CLAIM = text(
    """
    UPDATE capacity_events SET claimed_until = now() + make_interval(secs => :lease_seconds)
    WHERE id IN (
        SELECT id FROM capacity_events
        WHERE claimed_until IS NULL OR claimed_until < now()
        ORDER BY id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id, cause, trainer_id::text, zone_id::text, course_id::text
    """
)
_REMOVE = text("DELETE FROM capacity_events WHERE id = ANY(CAST(:ids AS bigint[]))")


class SqlCapacityEventRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def record(
        self,
        cause: CapacityCause,
        *,
        trainer_ids: Iterable[str],
        zone_id: str | None = None,
        course_id: str | None = None,
    ) -> None:
        ids = sorted(set(trainer_ids))
        if ids:
            params = {"cause": cause.value, "trainer_ids": ids, "zone_id": zone_id, "course_id": course_id}
            self._conn.execute(_RECORD, params)

    def record_zone(self, cause: CapacityCause, *, zone_id: str) -> None:
        self._conn.execute(_RECORD_ZONE, {"cause": cause.value, "zone_id": zone_id})

    def claim(self, *, limit: int, lease_seconds: float) -> list[CapacityEvent]:
        rows = self._conn.execute(_CLAIM, {"limit": limit, "lease_seconds": lease_seconds}).all()
        return sorted(
            (CapacityEvent(row[0], CapacityCause(row[1]), row[2], row[3], row[4]) for row in rows),
            key=lambda e: e.event_id,
        )

    def remove(self, event_ids: Sequence[int]) -> None:
        if event_ids:
            self._conn.execute(_REMOVE, {"ids": list(event_ids)})
