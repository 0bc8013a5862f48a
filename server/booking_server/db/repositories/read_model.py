"""SQL for read model: implements services.ports.read_model.ReadModelRepository."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlReadModelRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
