"""SQL for the change log: implements services.ports.changes.ChangeLogRepository.

Each page is one statement, so the head it reports and the rows it returns come from one
snapshot: positions are handed out under the watch_state lock held until commit, so a snapshot
that sees the head sees every change up to it (docs/watch.md).

A change's payload is the table row as the change left it (to_jsonb in migration 0006);
jsonb_populate_record turns it back into that table's row type, so the repositories' own row
mappers read it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, TextClause, text

from booking_server.db.repositories.purchases import to_purchase
from booking_server.db.repositories.slots import to_slot
from booking_server.domain.changes import ChangeKind, ChangePage, LoggedChange
from booking_server.domain.purchase import StoredPurchase
from booking_server.domain.slots import TrainerSlot

T = TypeVar("T")

_PAGE = """
WITH head AS (SELECT position AS head FROM watch_state)
SELECT head.head, c.* FROM head LEFT JOIN LATERAL (
    SELECT c.position, c.change_type, c.commit_time, {columns}
    FROM watch_changes c, jsonb_populate_record(NULL::{table}, c.payload) r
    WHERE c.position > :after AND c.position <= head.head AND c.stream = :stream AND {condition}
    ORDER BY c.position
    LIMIT :limit
) c ON true
ORDER BY c.position
"""

_SCHEDULE_PAGE = text(
    _PAGE.format(
        table="trainer_slots",
        columns=(
            "r.id::text AS slot_id, r.trainer_id::text AS trainer_id, r.slot_date, r.start_time, "
            "r.duration_minutes, r.status, r.purchase_id::text AS purchase_id, "
            "r.session_id::text AS session_id, r.reason"
        ),
        condition=(
            "(cardinality(CAST(:trainer_ids AS uuid[])) = 0 "
            "OR c.trainer_id = ANY(CAST(:trainer_ids AS uuid[])))"
        ),
    )
)

_PURCHASE_PAGE = text(
    _PAGE.format(
        table="purchases",
        columns="r.*",
        condition="(CAST(:zone_id AS uuid) IS NULL OR c.zone_id = CAST(:zone_id AS uuid))",
    )
)

_HEAD = text("SELECT position FROM watch_state")
# Retained: nothing after `after` yet, or the change right after it is still there (positions
# are gap-free, and retention removes the oldest first).
_IS_RETAINED = text(
    "SELECT :after >= position OR EXISTS (SELECT 1 FROM watch_changes WHERE position = :after + 1) "
    "FROM watch_state"
)
_TOKEN_KEY = text("SELECT token_key FROM watch_state")
# Always a prefix of the log (everything up to a position), so is_retained() stays exact.
_REMOVE = text(
    """
    DELETE FROM watch_changes WHERE position <= (
        SELECT coalesce(max(position), 0) FROM (
            SELECT position, commit_time FROM watch_changes ORDER BY position LIMIT :limit
        ) oldest WHERE commit_time < :cutoff
    )
    """
)


class SqlChangeLogRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def head(self) -> int:
        return int(self._conn.execute(_HEAD).scalar_one())

    def is_retained(self, after: int) -> bool:
        return bool(self._conn.execute(_IS_RETAINED, {"after": after}).scalar_one())

    def schedule_changes(
        self, after: int, *, trainer_ids: Sequence[str], limit: int
    ) -> ChangePage[TrainerSlot]:
        params = {"after": after, "stream": "schedule", "trainer_ids": list(trainer_ids), "limit": limit}
        return self._page(_SCHEDULE_PAGE, params, to_slot, limit=limit)

    def purchase_changes(self, after: int, *, zone_id: str | None, limit: int) -> ChangePage[StoredPurchase]:
        params = {"after": after, "stream": "purchase", "zone_id": zone_id, "limit": limit}
        return self._page(_PURCHASE_PAGE, params, to_purchase, limit=limit)

    def _page(
        self,
        statement: TextClause,
        params: dict[str, Any],
        to_subject: Callable[[Row[Any]], T],
        *,
        limit: int,
    ) -> ChangePage[T]:
        rows = self._conn.execute(statement, params).all()
        head = int(rows[0].head)
        changes = tuple(
            LoggedChange(
                position=row.position,
                kind=ChangeKind(row.change_type),
                commit_time=row.commit_time,
                subject=to_subject(row),
            )
            for row in rows
            if row.position is not None
        )
        # A full page may stop short of the head: the next read goes on from its last change.
        read_to = changes[-1].position if len(changes) == limit else head
        return ChangePage(changes=changes, read_to=read_to)

    def token_key(self) -> str:
        return str(self._conn.execute(_TOKEN_KEY).scalar_one())

    def remove_committed_before(self, cutoff: datetime, *, limit: int) -> int:
        return self._conn.execute(_REMOVE, {"cutoff": cutoff, "limit": limit}).rowcount
