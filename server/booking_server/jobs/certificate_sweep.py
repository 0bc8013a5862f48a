"""The certificate sweep: issues certificates that completions seen only in the read model made due.

CompleteSession issues what its own completion makes due; the admin side completes sessions
by writing tutoring_sessions, which this service does not hear about, so the sweep looks.
Safe with any number of replicas: a purchase is issued under its row lock, taken with SKIP
LOCKED, and the database keeps one certificate per (purchase, student) anyway.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from booking_server.jobs.periodic import PeriodicJob
from booking_server.services.issue_certificates import IssueCertificates

log = structlog.get_logger(__name__)


def build_certificate_sweep(issuer: IssueCertificates, *, interval_seconds: float) -> PeriodicJob:
    def run_round(should_stop: Callable[[], bool]) -> bool:
        issued = issuer.for_all_due(should_stop=should_stop)
        log.info("certificate_sweep_finished", certificates_issued=len(issued))
        return False  # for_all_due already walks every due purchase, batch after batch

    return PeriodicJob(name="certificate_sweep", interval_seconds=interval_seconds, run_round=run_round)
