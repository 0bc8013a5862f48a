"""Event latency of WatchPurchaseChanges across replicas (product 6: "within about a second").

While the driver runs assignments against replica A, a watcher on replica B records, for every
PURCHASE_CHANGED event, the time from the change's commit (its `commit_time`, taken by the
database right before the commit) to the event's arrival here. Both processes and the database
share this machine's clock, so the difference needs no synchronisation.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC
from typing import Any

import grpc
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc

from bench.stats import latency_summary_ms


class WatchLatency:
    def __init__(self, target: str) -> None:
        self._channel = grpc.insecure_channel(target)
        stub = booking_service_pb2_grpc.BookingServiceStub(self._channel)
        self._call = stub.WatchPurchaseChanges(pb.WatchPurchaseChangesRequest())
        self._latencies_s: list[float] = []
        self._error: str | None = None
        self._thread = threading.Thread(target=self._read, name="watch-latency", daemon=True)
        self._started = threading.Event()

    def start(self, timeout_seconds: float = 10.0) -> None:
        """Start watching; returns once the stream is open (its first heartbeat arrived)."""
        self._thread.start()
        if not self._started.wait(timeout_seconds):
            raise RuntimeError(f"the watch stream did not open in {timeout_seconds:g} s: {self._error}")

    def _read(self) -> None:
        try:
            for message in self._call:
                arrived = time.time()
                self._started.set()
                change = message.change
                if change.type == pb.CHANGE_TYPE_PURCHASE_CHANGED:
                    committed = change.commit_time.ToDatetime(tzinfo=UTC).timestamp()
                    self._latencies_s.append(max(0.0, arrived - committed))
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                self._error = f"{exc.code().name}: {exc.details()}"

    def stop(self, drain_seconds: float = 2.0) -> dict[str, Any]:
        """Let the last commits arrive, stop watching, and summarise."""
        time.sleep(drain_seconds)
        self._call.cancel()  # type: ignore[no-untyped-call]
        self._thread.join(5)
        self._channel.close()
        return {
            "events": len(self._latencies_s),
            "latency_ms": latency_summary_ms(self._latencies_s),
            "error": self._error,
        }
