"""A consecutive-failure circuit breaker: stop calling a dependency that keeps failing.

While the directory is down, every purchase would otherwise spend its whole budget on
retries; the open breaker answers at once and lets one probe find out when it is back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

import structlog

log = structlog.get_logger(__name__)

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """closed → open after ``failure_threshold`` consecutive failed calls; open → one probe.

    A "call" is one logical call after its retries. Callers ask ``allow()`` first and then
    report ``record_success()``, ``record_failure()`` or ``record_abandoned()`` exactly once per
    allowed call.
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        reset_timeout_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self._failure_threshold = failure_threshold
        self._reset_timeout_seconds = reset_timeout_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._state: BreakerState = "closed"
        self._consecutive_failures = 0
        # When the breaker opened, or when the current probe was let through.
        self._since = 0.0

    @property
    def state(self) -> BreakerState:
        """The state as of the last transition; "open" lasts until a caller asks after the timeout."""
        with self._lock:
            return self._state

    def allow(self) -> bool:
        """Whether a call may go out now; False means answer without calling."""
        with self._lock:
            if self._state == "closed":
                return True
            if self._clock() - self._since < self._reset_timeout_seconds:
                # Open and cooling down, or half-open with the probe in flight. A probe that
                # never reported for a whole timeout is presumed lost, so another may go.
                return False
            previous = self._state
            self._state = "half_open"
            self._since = self._clock()
        if previous == "open":
            log.info("circuit_breaker_half_opened")
        return True

    def record_success(self) -> None:
        with self._lock:
            previous = self._state
            self._consecutive_failures = 0
            if previous == "open":
                # A call admitted before the breaker opened; the probe decides, not it.
                return
            self._state = "closed"
        if previous == "half_open":
            log.info("circuit_breaker_closed")

    def record_abandoned(self) -> None:
        """The call ended without a verdict on the dependency (the caller's deadline ran out).

        Consecutive failures are neither reset nor extended; an abandoned probe lets the next
        caller probe at once instead of waiting out another reset timeout.
        """
        with self._lock:
            if self._state == "half_open":
                self._since = self._clock() - self._reset_timeout_seconds

    def record_failure(self) -> None:
        with self._lock:
            if self._state == "open":
                return
            self._consecutive_failures += 1
            probe_failed = self._state == "half_open"
            if not probe_failed and self._consecutive_failures < self._failure_threshold:
                return
            self._state = "open"
            self._since = self._clock()
            failures = self._consecutive_failures
        log.warning(
            "circuit_breaker_opened",
            consecutive_failures=failures,
            probe_failed=probe_failed,
            reset_timeout_seconds=self._reset_timeout_seconds,
        )
