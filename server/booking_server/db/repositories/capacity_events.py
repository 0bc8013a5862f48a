"""SQL for capacity events: implements services.ports.capacity_events.CapacityEventRepository."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text

from booking_server.services.ports.capacity_events import CapacityCause

_RECORD = text(
    "INSERT INTO capacity_events (cause, trainer_id, zone_id, course_id) "
    "SELECT :cause, t, :zone_id, :course_id FROM unnest(CAST(:trainer_ids AS uuid[])) AS t"
)


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
