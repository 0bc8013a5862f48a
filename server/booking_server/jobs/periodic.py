"""A background loop on a daemon thread: one round now, then one per interval, until stopped."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from booking_server.services.failures import failure_fields

log = structlog.get_logger(__name__)

# A round gets "should I stop?" to check between units of work, and answers whether more work
# is waiting (then the next round starts at once instead of after the interval).
Round = Callable[[Callable[[], bool]], bool]


class PeriodicJob:
    def __init__(self, *, name: str, interval_seconds: float, run_round: Round) -> None:
        self.name = name
        self._interval_seconds = interval_seconds
        self._run_round = run_round
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the loop; an interval of 0 means the job is off."""
        if self._interval_seconds <= 0:
            log.info("job_disabled", job=self.name)
            return
        # Daemon: a round stuck on the database must never keep the process alive after stop().
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()
        log.info("job_started", job=self.name, interval_seconds=self._interval_seconds)

    def stop(self, timeout_seconds: float = 5.0) -> None:
        """Ask the loop to stop and wait for the round in progress to finish its current unit."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout_seconds)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            more_work = self._round()
            if not more_work:
                self._stopping.wait(self._interval_seconds)

    def _round(self) -> bool:
        try:
            return self._run_round(self._stopping.is_set)
        except Exception as exc:  # noqa: BLE001 - a failed round (database down, ...) is retried next interval
            log.error("job_round_failed", job=self.name, **failure_fields(exc))
            return False
