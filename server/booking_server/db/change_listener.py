"""One LISTEN connection per process: wake-up hints for the watch streams (implements ChangeWakeups).

watch_publish() (migration 0006) sends NOTIFY booking_watch when a transaction that changed
something commits. This thread listens on its own autocommit psycopg connection (never a pooled
one: a pooled connection would lose its LISTEN when returned) and moves a generation counter
that the streams wait on. A hint is only a hint: after connecting, and after every reconnect, it
moves the counter too, so every stream re-reads the log and nothing committed while the
listener was away is missed; while it cannot connect, it moves the counter once per retry, so
streams poll the log until it is back.
"""

from __future__ import annotations

import threading

import psycopg
import structlog

from booking_server.services.failures import failure_fields

log = structlog.get_logger(__name__)

CHANNEL = "booking_watch"


class ChangeListener:
    def __init__(self, conninfo: str, *, retry_seconds: float = 1.0) -> None:
        self._conninfo = conninfo
        self._retry_seconds = retry_seconds
        self._condition = threading.Condition()
        self._generation = 0
        self._closing = False
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def closing(self) -> bool:
        return self._closing

    def generation(self) -> int:
        with self._condition:
            return self._generation

    def wait(self, seen_generation: int, timeout_seconds: float) -> None:
        with self._condition:
            self._condition.wait_for(
                lambda: self._closing or self._generation != seen_generation,
                timeout=max(0.0, timeout_seconds),
            )

    def start(self) -> None:
        # Daemon: a connect stuck on a dead database must never keep the process alive.
        self._thread = threading.Thread(target=self._run, name="change_listener", daemon=True)
        self._thread.start()

    def close(self, timeout_seconds: float = 3.0) -> None:
        """End every stream (they see `closing`) and stop listening."""
        with self._condition:
            self._closing = True
            self._condition.notify_all()
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout_seconds)

    def wake_all(self) -> None:
        with self._condition:
            self._generation += 1
            self._condition.notify_all()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._listen()
            except Exception as exc:  # noqa: BLE001 - a lost connection is retried; streams poll meanwhile
                log.warning("change_listener_disconnected", **failure_fields(exc))
            self.wake_all()
            self._stopped.wait(self._retry_seconds)

    def _listen(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            log.info("change_listener_connected")
            self.wake_all()  # re-read after (re)connecting: changes may have committed meanwhile
            while not self._stopped.is_set():
                # Wakes at least once a second to notice close(); several NOTIFYs make one wake-up.
                if any(True for _ in conn.notifies(timeout=1.0, stop_after=1)):
                    self.wake_all()
