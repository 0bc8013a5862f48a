"""Bounds on open watch streams (product 6): the sync server gives each stream a thread.

Per replica: at most `total` open streams, and at most `per_caller` for one caller. Past
either bound a new stream is refused RESOURCE_EXHAUSTED `TOO_MANY_STREAMS` (ErrorInfo metadata
`limit` and `scope`: `replica` or `caller`); the thread pool has room for `total` streams on top
of the unary workers, so streams can never starve unary calls (rpc/server.py, docs/watch.md).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from booking_server.domain.errors import ResourceExhaustedError


class StreamLimits:
    def __init__(self, *, total: int, per_caller: int) -> None:
        self._total = total
        self._per_caller = per_caller
        self._lock = threading.Lock()
        self._open: Counter[str] = Counter()

    @property
    def open_streams(self) -> int:
        with self._lock:
            return sum(self._open.values())

    @contextmanager
    def hold(self, caller: str) -> Iterator[None]:
        """One open stream of `caller` for the duration of the block, or TOO_MANY_STREAMS."""
        with self._lock:
            if sum(self._open.values()) >= self._total:
                raise _refused(self._total, "replica")
            if self._open[caller] >= self._per_caller:
                raise _refused(self._per_caller, "caller")
            self._open[caller] += 1
        try:
            yield
        finally:
            with self._lock:
                self._open[caller] -= 1
                if not self._open[caller]:
                    del self._open[caller]


def _refused(limit: int, scope: str) -> ResourceExhaustedError:
    return ResourceExhaustedError(
        f"too many open watch streams ({limit} per {scope}); close one or retry later",
        reason="TOO_MANY_STREAMS",
        metadata={"limit": str(limit), "scope": scope},
    )
