"""The health monitor keeps polling whatever its probe does."""

from __future__ import annotations

import time

from booking_server.rpc.health import BOOKING_SERVICE, HealthMonitor
from grpc_health.v1 import health_pb2

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def _status(monitor: HealthMonitor) -> int:
    request = health_pb2.HealthCheckRequest(service=BOOKING_SERVICE)
    return monitor.servicer.Check(request, None).status  # type: ignore[arg-type]


def test_a_probe_that_raises_reports_not_serving() -> None:
    def probe() -> bool:
        raise RuntimeError("connection terminated")

    monitor = HealthMonitor(probe, interval_seconds=60)

    assert monitor.check_now() is False
    assert _status(monitor) == NOT_SERVING


def test_polling_goes_on_after_a_probe_raised() -> None:
    """A connection terminated mid-probe raised out of the polling thread and froze health at SERVING."""
    calls = 0

    def probe() -> bool:
        nonlocal calls
        calls += 1
        if calls == 2:  # the first poll of the thread
            raise RuntimeError("connection terminated")
        return True

    monitor = HealthMonitor(probe, interval_seconds=0.01)
    monitor.start()
    try:
        deadline = time.monotonic() + 5
        while calls < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert calls >= 4
        assert _status(monitor) == SERVING
    finally:
        monitor.shutdown()
