"""Deadline budgets and the retry policy shared by every directory RPC."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import grpc
import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential
from tenacity.stop import stop_base
from tenacity.wait import wait_random

from booking_client.errors import CallerDeadlineExceededError, DirectoryUnavailableError

log = structlog.get_logger(__name__)

T = TypeVar("T")

# Product rule 1.9: only failures that may pass by themselves are worth another attempt.
TRANSIENT_CODES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}
)
# ServicerContext.time_remaining() is ~9e18 when the inbound caller set no deadline.
_NO_DEADLINE_ABOVE_SECONDS = 1e6
# An attempt with less time than this cannot finish a round trip; calling would only add load.
MIN_ATTEMPT_SECONDS = 0.01


def status_code(exc: BaseException) -> grpc.StatusCode | None:
    """The status of a failed call; a bare RpcError (no Call) has none."""
    return exc.code() if isinstance(exc, grpc.Call) else None


class Budget:
    """The caller's remaining time, pinned to a monotonic deadline when the logical call starts."""

    def __init__(self, budget_seconds: float | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        if budget_seconds is not None and budget_seconds > _NO_DEADLINE_ABOVE_SECONDS:
            budget_seconds = None
        self._deadline = None if budget_seconds is None else clock() + budget_seconds

    def remaining_seconds(self) -> float | None:
        """Seconds left, or None when the caller set no deadline."""
        return None if self._deadline is None else self._deadline - self._clock()

    def attempt_timeout(self, method: str, call_timeout_seconds: float) -> float:
        """The deadline of the next attempt; raises when no useful time is left."""
        remaining = self.remaining_seconds()
        if remaining is None:
            return call_timeout_seconds
        if remaining < MIN_ATTEMPT_SECONDS:
            raise CallerDeadlineExceededError(method)
        return min(call_timeout_seconds, remaining)

    def bounds(self, call_timeout_seconds: float) -> bool:
        """Whether the caller's budget, not the per-call timeout, bounded an attempt starting now."""
        remaining = self.remaining_seconds()
        return remaining is not None and remaining < call_timeout_seconds


class _StopWhenSleepOutlastsBudget(stop_base):
    """Stops before sleeping into a budget that would leave no time for the next attempt."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.triggered = False

    def __call__(self, retry_state: RetryCallState) -> bool:
        remaining = self.budget.remaining_seconds()
        if remaining is not None and remaining - retry_state.upcoming_sleep < MIN_ATTEMPT_SECONDS:
            self.triggered = True
        return self.triggered


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    initial_backoff_seconds: float
    max_backoff_seconds: float
    call_timeout_seconds: float


def call_with_retries(
    method: str, attempt: Callable[[float], T], *, policy: RetryPolicy, budget: Budget
) -> T:
    """Run ``attempt(timeout_seconds)`` with retries on transient codes.

    Raises DirectoryUnavailableError for every failure except NOT_FOUND, whose ``grpc.RpcError``
    is re-raised because only the caller knows what was not found.
    """
    budget_stop = _StopWhenSleepOutlastsBudget(budget)
    # Whether the caller's budget, rather than call_timeout_seconds, bounded the last attempt:
    # its DEADLINE_EXCEEDED then measures the caller's patience, not the directory.
    bounded_by_budget = False

    def attempt_once() -> T:
        nonlocal bounded_by_budget
        bounded_by_budget = budget.bounds(policy.call_timeout_seconds)
        return attempt(budget.attempt_timeout(method, policy.call_timeout_seconds))

    retrying = Retrying(
        retry=retry_if_exception(lambda exc: status_code(exc) in TRANSIENT_CODES),
        stop=stop_after_attempt(policy.max_attempts) | budget_stop,
        # About 100 ms then 200 ms; the jitter keeps many callers from retrying in step.
        wait=wait_exponential(multiplier=policy.initial_backoff_seconds, max=policy.max_backoff_seconds)
        + wait_random(0, policy.initial_backoff_seconds / 2),
        before_sleep=lambda state: _log_retry(method, state),
        reraise=True,
    )
    try:
        return retrying(attempt_once)
    except grpc.RpcError as exc:
        code = status_code(exc)
        if code == grpc.StatusCode.NOT_FOUND:
            raise
        if code == grpc.StatusCode.DEADLINE_EXCEEDED and bounded_by_budget:
            raise CallerDeadlineExceededError(method) from exc
        if budget_stop.triggered:
            # The directory kept failing until the caller's budget could not fit another try.
            raise DirectoryUnavailableError(
                f"{method}: failed until the deadline budget ran out", code=code
            ) from exc
        if code in TRANSIENT_CODES:
            raise DirectoryUnavailableError(
                f"{method}: failed after {policy.max_attempts} attempts", code=code
            ) from exc
        raise DirectoryUnavailableError(f"{method}: failed", code=code) from exc


def _log_retry(method: str, state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    code = status_code(exc) if exc is not None else None
    log.info(
        "directory_call_retried",
        method=method,
        attempt=state.attempt_number,
        code=code.name if code is not None else None,
        sleep_seconds=round(state.upcoming_sleep, 3),
    )
