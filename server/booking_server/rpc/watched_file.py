"""A file read at start and read again when it changes: the JWKS and the mTLS roles file.

A background job (app.py) calls `refresh()` every RELOAD_INTERVAL_SECONDS; it compares the
file's modification time and size (product 8.1: a new JWKS is in force within 10 s). Requests
only read the parsed value in memory: nothing is read or fetched on the request path. A
changed file that cannot be parsed leaves the previous value in force and is logged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import structlog

T = TypeVar("T")
log = structlog.get_logger(__name__)

RELOAD_INTERVAL_SECONDS = 2.0


class WatchedFile(Generic[T]):
    def __init__(self, path: Path, parse: Callable[[bytes], T]) -> None:
        self.path = path
        self._parse = parse
        self._signature = self._stat()
        # At start a bad file is fatal (raises): the service must not serve with no keys.
        self._value = parse(path.read_bytes())

    @property
    def value(self) -> T:
        return self._value

    def _stat(self) -> tuple[int, int]:
        stat = self.path.stat()
        return (stat.st_mtime_ns, stat.st_size)

    def refresh(self) -> bool:
        """Parse the file again if it changed; True when a new value is in force."""
        try:
            signature = self._stat()
        except OSError as exc:
            log.warning("watched_file_unreadable", path=str(self.path), error=type(exc).__name__)
            return False
        if signature == self._signature:
            return False
        # Remembered even if parsing fails, so a bad file is reported once, not every interval.
        self._signature = signature
        try:
            value = self._parse(self.path.read_bytes())
        except Exception as exc:  # noqa: BLE001 - any failure keeps the previous value
            log.warning("watched_file_unreadable", path=str(self.path), error=type(exc).__name__)
            return False
        self._value = value
        log.info("watched_file_reloaded", path=str(self.path))
        return True
