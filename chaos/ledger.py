"""The client-side ledger: what every caller was told, checked against the database afterwards.

An OK answer must be durable (the purchase is stored as answered); any other answer must be
safe to send again: the replay answers OK, and exactly one purchase exists for the booking id.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
import psycopg
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc
from booking.v1 import common_pb2 as common

from chaos.calls import Answer

REPLAY_DEADLINE_SECONDS = 30.0
REPLAY_ATTEMPTS = 5
REPLAY_CALLERS = 8

# Purchases whose writes are incomplete: sessions missing, or an ASSIGNED one not holding its slots.
HALF_WRITTEN = """
    SELECT count(*) FROM purchases p
    WHERE (p.status IN ('ASSIGNED', 'WAITLISTED')
           AND (SELECT count(*) FROM purchase_sessions ps WHERE ps.purchase_id = p.id) <> p.total_sessions)
       OR (p.status = 'ASSIGNED'
           AND (SELECT count(*) FROM trainer_slots s WHERE s.purchase_id = p.id AND s.status = 'booked')
               <> p.total_sessions)
"""
# Sessions of ASSIGNED purchases without a read-model row for every student.
MISSING_READ_MODEL = """
    SELECT count(*) FROM purchases p JOIN purchase_sessions ps ON ps.purchase_id = p.id
    WHERE p.status = 'ASSIGNED'
      AND (SELECT count(*) FROM tutoring_sessions t WHERE t.purchase_session_id = ps.id)
          < jsonb_array_length(p.students)
"""
# Two booked or blocked slots of one trainer that overlap, on the raw columns (bench/checks.py).
OVERLAPS = """
    SELECT count(*) FROM trainer_slots a JOIN trainer_slots b
      ON a.trainer_id = b.trainer_id AND a.id < b.id
     AND a.start_minute < b.start_minute + b.duration_minutes
     AND b.start_minute < a.start_minute + a.duration_minutes
"""


@dataclass
class Entry:
    request: pb.AutoAssignTrainerRequest
    answer: Answer
    response: pb.AutoAssignTrainerResponse | None


class Ledger:
    """Thread-safe record of the first answer to every booking id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.entries: dict[str, Entry] = {}

    def record(
        self,
        request: pb.AutoAssignTrainerRequest,
        answer: Answer,
        response: pb.AutoAssignTrainerResponse | None,
    ) -> None:
        with self._lock:
            self.entries.setdefault(request.booking_id, Entry(request, answer, response))

    def verify(self, target: str, libpq_url: str, *, replays_of_ok: int = 20) -> list[str]:
        """Check every OK answer against the database, replay every other answer (and a sample
        of OK ones) on a healthy server, then look for overlaps, half-written purchases and
        missing read-model rows. Returns the findings."""
        findings: list[str] = []
        answered_ok = {b: e for b, e in self.entries.items() if e.response is not None}
        failed = {b: e for b, e in self.entries.items() if e.response is None}
        sampled = list(answered_ok.items())[:replays_of_ok]
        with grpc.insecure_channel(target) as channel, ThreadPoolExecutor(REPLAY_CALLERS) as pool:
            stub = booking_service_pb2_grpc.BookingServiceStub(channel)
            replays = pool.map(lambda item: _replay(stub, item[1].request), [*failed.items(), *sampled])
            for (booking_id, entry), replay in zip([*failed.items(), *sampled], replays, strict=True):
                if replay is None:
                    findings.append(f"{booking_id}: the replay of a '{entry.answer.key}' never answered OK")
                elif entry.response is not None and not _same_outcome(entry.response, replay):
                    findings.append(f"{booking_id}: answered OK, but its replay answers differently")
        with psycopg.connect(libpq_url, autocommit=True) as conn:
            stored = {
                booking_id: (count, status, trainer)
                for booking_id, count, status, trainer in conn.execute(
                    "SELECT booking_id::text, count(*), min(status), min(coalesce(trainer_id::text, ''))"
                    " FROM purchases WHERE booking_id = ANY(%s) GROUP BY booking_id",
                    (list(self.entries),),
                ).fetchall()
            }
            for booking_id, entry in self.entries.items():
                count, status, trainer = stored.get(booking_id, (0, "", ""))
                if count != 1:
                    findings.append(f"{booking_id}: {count} purchases stored, not 1")
                elif entry.response is not None and (status, trainer) != _answered(entry.response):
                    findings.append(f"{booking_id}: stored {status} {trainer}, answered otherwise")
            for name, query in (("overlapping slots", OVERLAPS), ("half-written purchases", HALF_WRITTEN)):
                count = _count(conn, query)
                if count:
                    findings.append(f"{count} {name}")
            missing = _wait_for_zero(conn, MISSING_READ_MODEL, seconds=15.0)
            if missing:
                findings.append(f"{missing} sessions missing read-model rows after 15 s")
        return findings

    @property
    def ok_responses(self) -> list[pb.AutoAssignTrainerResponse]:
        return [e.response for e in self.entries.values() if e.response is not None]


def _answered(response: pb.AutoAssignTrainerResponse) -> tuple[str, str]:
    """The stored form (status name, trainer id) of what a caller was told."""
    status = common.PurchaseStatus.Name(response.purchase.status).removeprefix("PURCHASE_STATUS_")
    return status, response.purchase.trainer_id


def _replay(
    stub: booking_service_pb2_grpc.BookingServiceStub, request: pb.AutoAssignTrainerRequest
) -> pb.AutoAssignTrainerResponse | None:
    """The same request again, a few times if the server is still recovering; None if never OK."""
    for attempt in range(REPLAY_ATTEMPTS):
        try:
            return stub.AutoAssignTrainer(request, timeout=REPLAY_DEADLINE_SECONDS)  # type: ignore[no-any-return]
        except grpc.RpcError:
            time.sleep(0.5 * (attempt + 1))
    return None


def _same_outcome(first: pb.AutoAssignTrainerResponse, replay: pb.AutoAssignTrainerResponse) -> bool:
    a, b = first.purchase, replay.purchase
    return (a.purchase_id, a.status, a.trainer_id, a.waitlist_reason) == (
        b.purchase_id,
        b.status,
        b.trainer_id,
        b.waitlist_reason,
    )


def _count(conn: psycopg.Connection[tuple[int]], query: str) -> int:
    row = conn.execute(query).fetchone()  # type: ignore[arg-type]
    return int(row[0]) if row else 0


def _wait_for_zero(conn: psycopg.Connection[tuple[int]], query: str, *, seconds: float) -> int:
    """The reconciler repairs what a failed in-transaction sync deferred: give it a few passes."""
    deadline = time.monotonic() + seconds
    while True:
        count = _count(conn, query)
        if count == 0 or time.monotonic() > deadline:
            return count
        time.sleep(0.5)
