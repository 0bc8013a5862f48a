"""Health: "" is SERVING while the process runs; the two named services follow the database."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog
from grpc_health.v1 import health, health_pb2

BOOKING_SERVICE = "booking.v1.BookingService"
DIRECTORY_SERVICE = "booking.v1.TrainerDirectoryService"
NAMED_SERVICES = (BOOKING_SERVICE, DIRECTORY_SERVICE)
log = structlog.get_logger(__name__)


class HealthMonitor:
    """Polls `probe` (database reachable and migrated) and publishes the result."""

    def __init__(self, probe: Callable[[], bool], *, interval_seconds: float) -> None:
        self.servicer = health.HealthServicer()
        self._probe = probe
        self._interval_seconds = interval_seconds
        self._stop = threading.Event()
        self._serving: bool | None = None
        self._thread = threading.Thread(target=self._run, name="health-monitor", daemon=True)
        self.servicer.set("", health_pb2.HealthCheckResponse.SERVING)

    def start(self) -> None:
        self.check_now()
        self._thread.start()

    def check_now(self) -> bool:
        try:
            serving = self._probe()
        except Exception as exc:  # noqa: BLE001 - a probe that fails says "not serving"
            # Raised here, it would end the polling thread and freeze the last status forever
            # (found by `make chaos`: a connection terminated mid-probe left health SERVING).
            log.warning("health_probe_failed", error_type=type(exc).__name__)
            serving = False
        if serving != self._serving:
            self._serving = serving
            status = (
                health_pb2.HealthCheckResponse.SERVING
                if serving
                else health_pb2.HealthCheckResponse.NOT_SERVING
            )
            for name in NAMED_SERVICES:
                self.servicer.set(name, status)
            log.info("health_changed", serving=serving)
        return serving

    def _run(self) -> None:
        while not self._stop.wait(self._interval_seconds):
            self.check_now()

    def shutdown(self) -> None:
        """Stop polling and report NOT_SERVING so probes drain traffic away during shutdown."""
        self._stop.set()
        self.servicer.enter_graceful_shutdown()
