"""The sync reconciler: brings the read model of purchases back in line when it is behind.

Safe with any number of replicas: each purchase is synced under its row lock, taken with
SKIP LOCKED, so a purchase another replica is syncing is left to it (see SyncSessions).

Bounded per round: a round looks at the newest SCAN_WINDOW purchases (where a failed sync of a
recent change is) and at the next SCAN_WINDOW of a cursor that walks the whole history, round
after round, and starts again from the newest at the end (where drift made by others can be).
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from booking_server.jobs.periodic import PeriodicJob
from booking_server.services.ports.purchases import PurchaseCursor
from booking_server.services.sync_sessions import (
    DEFAULT_MAX_PURCHASES,
    SCAN_WINDOW,
    SyncAllResult,
    SyncSessions,
)

log = structlog.get_logger(__name__)


def build_reconciler(sync: SyncSessions, *, interval_seconds: float) -> PeriodicJob:
    cursor: list[PurchaseCursor | None] = [None]  # where the walk through history goes on

    def sync_window(start: PurchaseCursor | None, should_stop: Callable[[], bool]) -> SyncAllResult:
        return sync.sync_unsynced(
            DEFAULT_MAX_PURCHASES, should_stop=should_stop, start=start, scan_limit=SCAN_WINDOW
        )

    def run_round(should_stop: Callable[[], bool]) -> bool:
        results = [sync_window(None, should_stop)]
        if cursor[0] is not None:
            results.append(sync_window(cursor[0], should_stop))
        cursor[0] = results[-1].next_cursor
        processed = sum(r.purchases_processed for r in results)
        errors = sum(len(r.errors) for r in results)
        log.info(
            "reconciler_round_finished",
            purchases_processed=processed,
            sessions_created=sum(r.counts.sessions_created for r in results),
            sessions_updated=sum(r.counts.sessions_updated for r in results),
            errors=errors,
        )
        # A round that found a full batch may have left more behind: go again without waiting.
        return not errors and any(r.purchases_processed >= DEFAULT_MAX_PURCHASES for r in results)

    return PeriodicJob(name="reconciler", interval_seconds=interval_seconds, run_round=run_round)
