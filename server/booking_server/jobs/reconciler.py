"""The sync reconciler: syncs ASSIGNED purchases whose read model is missing or incomplete.

Safe with any number of replicas: each purchase is synced under its row lock, taken with
SKIP LOCKED, so a purchase another replica is syncing is left to it (see SyncSessions).
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from booking_server.jobs.periodic import PeriodicJob
from booking_server.services.sync_sessions import DEFAULT_MAX_PURCHASES, SyncSessions

log = structlog.get_logger(__name__)


def build_reconciler(sync: SyncSessions, *, interval_seconds: float) -> PeriodicJob:
    def run_round(should_stop: Callable[[], bool]) -> bool:
        result = sync.sync_unsynced(DEFAULT_MAX_PURCHASES, should_stop=should_stop)
        log.info(
            "reconciler_round_finished",
            purchases_processed=result.purchases_processed,
            sessions_created=result.counts.sessions_created,
            sessions_updated=result.counts.sessions_updated,
            errors=len(result.errors),
        )
        # A full round without failures may have left more behind: go again without waiting.
        return not result.errors and result.purchases_processed >= DEFAULT_MAX_PURCHASES

    return PeriodicJob(name="reconciler", interval_seconds=interval_seconds, run_round=run_round)
