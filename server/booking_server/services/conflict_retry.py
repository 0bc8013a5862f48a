"""The one retry policy for transactions the database aborted, and the deadline that bounds it.

A conflict (deadlock, serialization failure, a lock not granted in time) rolled back everything
the transaction did, so the whole use case runs again: never one statement. The lock order of
docs/locking.md makes deadlocks impossible between this service's own transactions; what remains
is a lock wait that outlived the caller's budget, and a retry (or, once the budget is spent, an
ABORTED answer) is the honest outcome for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from booking_server.services.unit_of_work import TransactionConflictError

log = structlog.get_logger(__name__)

T = TypeVar("T")

MAX_ATTEMPTS = 5
# Without a caller deadline, a lock wait longer than this means something is badly wrong
# (a stuck transaction); the attempt gives up and is retried rather than queueing forever.
MAX_LOCK_WAIT_SECONDS = 5.0
# The least wait worth trying for: a transaction of this service holds a trainer for a few ms.
MIN_LOCK_WAIT_SECONDS = 0.05
# A statement may outlive the caller's deadline by this much before the database cancels it.
STATEMENT_GRACE_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class Deadline:
    """When the caller stops waiting, on the monotonic clock; None: the caller set no deadline."""

    expires_at: float | None

    @classmethod
    def after(cls, seconds: float | None) -> Deadline:
        return cls(None if seconds is None else time.monotonic() + seconds)

    def remaining_seconds(self) -> float | None:
        return None if self.expires_at is None else self.expires_at - time.monotonic()

    def passed(self) -> bool:
        remaining = self.remaining_seconds()
        return remaining is not None and remaining <= 0

    def statement_seconds(self) -> float | None:
        """How long one statement may run: what is left of the budget, plus a grace so that a lock
        wait ends as a (retried) conflict first. None: the caller set no deadline, and the
        connection's own bound applies (BOOKING_STATEMENT_TIMEOUT_SECONDS)."""
        remaining = self.remaining_seconds()
        if remaining is None:
            return None
        return max(0.0, remaining) + STATEMENT_GRACE_SECONDS

    def lock_wait_seconds(self) -> float:
        """How long one attempt may queue for a lock: what is left of the budget, within bounds."""
        remaining = self.remaining_seconds()
        if remaining is None:
            return MAX_LOCK_WAIT_SECONDS
        return min(MAX_LOCK_WAIT_SECONDS, max(MIN_LOCK_WAIT_SECONDS, remaining))


class _StopAt(stop_base):
    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self._deadline.passed()


def retrying_conflicts(work: Callable[[], T], *, deadline: Deadline, name: str) -> T:
    """Run `work` (one whole transaction) again after a conflict, while attempts and time remain."""

    def before_sleep(state: RetryCallState) -> None:
        log.info("transaction_retried", use_case=name, attempt=state.attempt_number)

    retrying = Retrying(
        retry=retry_if_exception_type(TransactionConflictError),
        stop=stop_any(stop_after_attempt(MAX_ATTEMPTS), _StopAt(deadline)),
        wait=wait_random_exponential(multiplier=0.01, max=0.2),
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(work)
