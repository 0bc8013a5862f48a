"""A watch stream read on a thread of its own, so a test can act and then take what arrived."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc

HEARTBEAT = pb.CHANGE_TYPE_HEARTBEAT


class Watcher:
    """Collects the `change` of every message of a stream; `error` once the stream failed."""

    def __init__(self, stream: Iterator[Any]) -> None:
        self._stream = stream
        self._changes: queue.Queue[Any] = queue.Queue()
        self.error: grpc.RpcError | None = None
        self.ended = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for message in self._stream:
                self._changes.put(message.change)
        except grpc.RpcError as error:
            self.error = error
        finally:
            self.ended.set()

    def take(self, count: int, *, timeout_seconds: float = 15.0, heartbeats: bool = False) -> list[Any]:
        """The next `count` changes (heartbeats skipped unless asked for); fails on a timeout, or at
        once when the stream ended (with its error in the message)."""
        taken: list[Any] = []
        deadline = time.monotonic() + timeout_seconds
        while len(taken) < count:
            try:
                change = self._changes.get(timeout=0.1)
            except queue.Empty:
                if self.ended.is_set() and self._changes.empty():
                    raise AssertionError(f"stream ended ({self.error}): {len(taken)}/{count}") from None
                if time.monotonic() > deadline:
                    raise AssertionError(f"got {len(taken)} of {count} changes: {taken}") from None
                continue
            if heartbeats or change.type != HEARTBEAT:
                taken.append(change)
        return taken

    def nothing_more(self, *, within_seconds: float = 1.0) -> list[Any]:
        """Whatever non-heartbeat changes arrive within the time (a test expects none)."""
        extra: list[Any] = []
        deadline = time.monotonic() + within_seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                change = self._changes.get(timeout=left)
            except queue.Empty:
                break
            if change.type != HEARTBEAT:
                extra.append(change)
        return extra

    def close(self) -> None:
        self._stream.cancel()  # type: ignore[attr-defined]
        self.ended.wait(5)


def watch_schedule(
    booking: booking_service_pb2_grpc.BookingServiceStub, trainer_ids: list[str], resume_token: str = ""
) -> Watcher:
    """A schedule watch, started only once its first message (the heartbeat of "now") arrived."""
    watcher = Watcher(
        booking.WatchScheduleChanges(
            pb.WatchScheduleChangesRequest(trainer_ids=trainer_ids, resume_token=resume_token)
        )
    )
    if not resume_token:
        watcher.take(1, heartbeats=True)
    return watcher


def watch_purchases(
    booking: booking_service_pb2_grpc.BookingServiceStub, zone_id: str, resume_token: str = ""
) -> Watcher:
    request = pb.WatchPurchaseChangesRequest(zone_id=zone_id, resume_token=resume_token)
    watcher = Watcher(booking.WatchPurchaseChanges(request))
    if not resume_token:
        watcher.take(1, heartbeats=True)
    return watcher
