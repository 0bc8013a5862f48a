"""A tiny thread-safe TTL cache (cachetools is not a dependency and this needs ~40 lines)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    """Maps string keys to values for ``ttl_seconds``; ``ttl_seconds <= 0`` disables it.

    ``max_entries`` bounds memory: when full, the oldest insertion is dropped first.
    """

    def __init__(
        self,
        *,
        ttl_seconds: float = 0.0,
        max_entries: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_seconds = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, V]] = {}

    @property
    def enabled(self) -> bool:
        return self._ttl_seconds > 0

    def get(self, key: str) -> V | None:
        """Return the value stored for ``key`` if it has not expired, else None."""
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires_at, value = entry
            if self._clock() >= expires_at:
                del self._entries[key]
                return None
            return value

    def put(self, key: str, value: V) -> None:
        """Store ``value`` for ``key`` until ``ttl_seconds`` from now (no-op when disabled)."""
        if not self.enabled:
            return
        with self._lock:
            self._entries.pop(key, None)
            while len(self._entries) >= self._max_entries:
                # dicts keep insertion order, so the first key is the oldest entry.
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (self._clock() + self._ttl_seconds, value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
