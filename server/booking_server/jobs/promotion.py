"""The waitlist promotion's background loops (product.md section 5).

- The promoter polls `capacity_events` (an index-only look at an empty table when nothing
  changed), claims a batch with a lease, runs a pass over the waiting purchases those changes
  may serve, then removes the events. A replica that dies mid-pass removes nothing: the lease
  runs out and any replica (this one after a restart) claims the events again, so a trigger
  written with its change is never lost.
- The sweep runs a pass over every waiting purchase every BOOKING_PROMOTION_INTERVAL_SECONDS:
  it catches what no trigger announced (an external directory's changes, a directory back up).

Both are safe on any number of replicas: purchases are promoted under their row lock (SKIP
LOCKED) and each zone-and-course group under a lock shared by the replicas.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from booking_server.jobs.periodic import PeriodicJob
from booking_server.services.promote_waitlisted import PromoteWaitlisted
from booking_server.services.unit_of_work import UnitOfWorkFactory

log = structlog.get_logger(__name__)

EVENTS_PER_ROUND = 100
# Longer than a pass should ever take; an expired lease only means the events are tried again.
LEASE_SECONDS = 120.0


def build_promoter(
    promote: PromoteWaitlisted, uow_factory: UnitOfWorkFactory, *, poll_seconds: float
) -> PeriodicJob:
    def run_round(should_stop: Callable[[], bool]) -> bool:
        with uow_factory() as uow:
            events = uow.capacity_events.claim(limit=EVENTS_PER_ROUND, lease_seconds=LEASE_SECONDS)
            uow.commit()
        if not events or should_stop():
            return False
        result = promote.react(events)
        if result.unfinished:
            # Kept: claimed again when the lease runs out; the sweep covers the meantime.
            log.warning("promotion_triggers_kept", events=len(events), promoted=len(result.promoted))
            return False
        with uow_factory() as uow:
            uow.capacity_events.remove([e.event_id for e in events])
            uow.commit()
        log.info("promotion_triggers_handled", events=len(events), promoted=len(result.promoted))
        return len(events) == EVENTS_PER_ROUND  # more may be waiting: go again at once

    return PeriodicJob(name="promoter", interval_seconds=poll_seconds, run_round=run_round)


def build_promotion_sweep(promote: PromoteWaitlisted, *, interval_seconds: float) -> PeriodicJob:
    def run_round(should_stop: Callable[[], bool]) -> bool:
        promote.sweep()
        return False

    return PeriodicJob(name="promotion_sweep", interval_seconds=interval_seconds, run_round=run_round)
