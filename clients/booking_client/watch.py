"""Watching changes with automatic resume (product 6), the loop every sibling would otherwise write.

    for change in watch_schedule_changes([stub_a, stub_b], trainer_ids=[...]):
        if change.type != booking_service_pb2.CHANGE_TYPE_HEARTBEAT:
            handle(change)            # every change exactly once, in commit order
        save(change.resume_token)     # optional: survive a restart of the watcher too

When a stream fails in a way that passes by itself (UNAVAILABLE on a server's shutdown,
RESOURCE_EXHAUSTED for a watcher too slow or too many streams, DEADLINE_EXCEEDED, a lost
connection), the helper waits (exponential backoff with jitter) and reopens the watch on the next
stub with the last token it handed out, so nothing is missed and nothing repeated. Any other
failure (INVALID_ARGUMENT, FAILED_PRECONDITION RESUME_TOKEN_EXPIRED) is raised: the caller must
decide, typically to start again without a token after a full re-read.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import grpc
import structlog
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc

from booking_client._retries import TRANSIENT_CODES, status_code

log = structlog.get_logger(__name__)


class _Change(Protocol):
    @property
    def resume_token(self) -> str: ...


C = TypeVar("C", bound=_Change)


@dataclass(frozen=True, slots=True)
class Backoff:
    initial_seconds: float = 0.1
    max_seconds: float = 5.0

    def delay_seconds(self, failures: int) -> float:
        """Exponential in the failures in a row, plus jitter so that watchers do not return in step."""
        base: float = min(self.max_seconds, self.initial_seconds * 2.0 ** max(0, failures - 1))
        return base + random.uniform(0, base / 2)


def watch_with_resume(
    open_stream: Callable[[int, str], Iterable[C]],
    *,
    resume_token: str = "",
    backoff: Backoff | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[C]:
    """Changes from `open_stream(attempt, token)`, reopened with the last token after a transient failure."""
    backoff = backoff or Backoff()
    token = resume_token
    failures = 0
    attempt = 0
    while True:
        try:
            for change in open_stream(attempt, token):
                failures = 0
                token = change.resume_token
                yield change
            return  # the server never ends a watch by itself; a finished stream ends the watch
        except grpc.RpcError as exc:
            code = status_code(exc)
            if code not in TRANSIENT_CODES:
                raise
            failures += 1
            attempt += 1
            delay = backoff.delay_seconds(failures)
            log.info("watch_resumed", code=code.name if code else None, sleep_seconds=round(delay, 3))
            sleep(delay)


def watch_schedule_changes(
    stubs: Sequence[booking_service_pb2_grpc.BookingServiceStub],
    *,
    trainer_ids: Sequence[str] = (),
    resume_token: str = "",
    backoff: Backoff | None = None,
) -> Iterator[pb.ScheduleChange]:
    """WatchScheduleChanges with automatic resume, trying the stubs (replicas) in turn."""

    def open_stream(attempt: int, token: str) -> Iterator[pb.ScheduleChange]:
        stub = stubs[attempt % len(stubs)]
        request = pb.WatchScheduleChangesRequest(trainer_ids=list(trainer_ids), resume_token=token)
        return (message.change for message in stub.WatchScheduleChanges(request))

    return watch_with_resume(open_stream, resume_token=resume_token, backoff=backoff)


def watch_purchase_changes(
    stubs: Sequence[booking_service_pb2_grpc.BookingServiceStub],
    *,
    zone_id: str = "",
    resume_token: str = "",
    backoff: Backoff | None = None,
) -> Iterator[pb.PurchaseChange]:
    """WatchPurchaseChanges with automatic resume, trying the stubs (replicas) in turn."""

    def open_stream(attempt: int, token: str) -> Iterator[pb.PurchaseChange]:
        stub = stubs[attempt % len(stubs)]
        request = pb.WatchPurchaseChangesRequest(zone_id=zone_id, resume_token=token)
        return (message.change for message in stub.WatchPurchaseChanges(request))

    return watch_with_resume(open_stream, resume_token=resume_token, backoff=backoff)
