"""The change log's retention (product 6): changes older than BOOKING_WATCH_RETENTION_HOURS go.

Removing is safe on any number of replicas at once (a delete of rows already gone is a no-op),
and harmless to watchers: a token whose next change was removed is answered
RESUME_TOKEN_EXPIRED, never with a gap.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog

from booking_server.jobs.periodic import PeriodicJob
from booking_server.services.unit_of_work import UnitOfWorkFactory

log = structlog.get_logger(__name__)

# Small batches: each is one short transaction, so cleanup never holds many row locks at once.
REMOVED_PER_BATCH = 5_000


def build_watch_retention(
    uow_factory: UnitOfWorkFactory, *, retention: timedelta, interval_seconds: float
) -> PeriodicJob:
    def run_round(should_stop: Callable[[], bool]) -> bool:
        with uow_factory() as uow:
            removed = uow.changes.remove_committed_before(
                datetime.now(UTC) - retention, limit=REMOVED_PER_BATCH
            )
            uow.commit()
        if removed:
            log.info("watch_changes_removed", removed=removed)
        return removed == REMOVED_PER_BATCH and not should_stop()

    return PeriodicJob(name="watch_retention", interval_seconds=interval_seconds, run_round=run_round)
