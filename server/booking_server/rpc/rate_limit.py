"""Per-caller rate limits, per replica (product 8.2), with the `limits` library.

A caller may make `burst` calls in any moving window of `burst / per_second` seconds (rounded
up to whole seconds, the library's granularity): a burst of `burst` at once, and no more than
`per_second` a second on average. Over it: RESOURCE_EXHAUSTED `RATE_LIMITED` with QuotaFailure
and RetryInfo (when the oldest call of the window leaves it). The caller is the one
authentication found (in mode `none`, the peer's address). Health and reflection are never
limited. Counters live in this process: N replicas admit up to N times the limit in total.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import grpc
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from booking_server.domain.errors import RateLimitedError
from booking_server.rpc.auth import caller_of
from booking_server.rpc.handlers import AroundInterceptor, no_message_hook, refuse
from booking_server.rpc.roles import is_open


class RateLimitInterceptor(AroundInterceptor):
    """Runs after AuthInterceptor, which has put the caller in CURRENT_CALLER."""

    def __init__(self, *, per_second: float, burst: int) -> None:
        window_seconds = max(1, math.ceil(burst / per_second))
        self._item = RateLimitItemPerSecond(burst, window_seconds)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._description = f"at most {burst} calls in {window_seconds} s per caller on this replica"

    def applies_to(self, method: str) -> bool:
        return not is_open(method)

    @contextmanager
    def around(
        self, method: str, context: grpc.ServicerContext, *, streaming: bool
    ) -> Iterator[Callable[[], None]]:
        name = caller_of(context)
        if not self._limiter.hit(self._item, name):
            reset_at, _ = self._limiter.get_window_stats(self._item, name)
            error = RateLimitedError(
                self._description, caller=name, retry_after_seconds=max(0.001, reset_at - time.time())
            )
            refuse(context, error, method=method, caller=name)
        yield no_message_hook
