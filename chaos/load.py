"""Steady assignment load: caller threads sending distinct requests round-robin over servers."""

from __future__ import annotations

import itertools
import threading
from types import TracebackType

import grpc
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc

from bench.workload import Workload
from chaos.calls import OK, answer_of
from chaos.ledger import Ledger
from chaos.report import DrillResult


class Load:
    """`callers` threads, each sending one request at a time with `deadline_seconds`, until exit.

    Every answer goes to the ledger (checked after the drill) and to the drill's answer counts.
    """

    def __init__(
        self,
        targets: list[str],
        workload: Workload,
        ledger: Ledger,
        result: DrillResult,
        *,
        callers: int,
        deadline_seconds: float,
    ) -> None:
        self._channels = [grpc.insecure_channel(target) for target in targets]
        self._stubs = [booking_service_pb2_grpc.BookingServiceStub(c) for c in self._channels]
        self._workload = workload
        self._ledger = ledger
        self._result = result
        self._deadline_seconds = deadline_seconds
        self._stop = threading.Event()
        self._lock = threading.Lock()  # the workload and the result counts are not thread-safe
        self._turn = itertools.count()
        self._threads = [threading.Thread(target=self._caller, name=f"caller-{i}") for i in range(callers)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        for channel in self._channels:
            channel.close()

    def _next(self) -> tuple[pb.AutoAssignTrainerRequest, booking_service_pb2_grpc.BookingServiceStub]:
        with self._lock:
            return self._workload.next_request(), self._stubs[next(self._turn) % len(self._stubs)]

    def _caller(self) -> None:
        while not self._stop.is_set():
            request, stub = self._next()
            try:
                response = stub.AutoAssignTrainer(request, timeout=self._deadline_seconds)
                answer = OK
            except grpc.RpcError as error:
                response, answer = None, answer_of(error)
                self._stop.wait(0.05)  # a failing server is not hammered in a tight loop
            self._ledger.record(request, answer, response)
            with self._lock:
                self._result.answer(answer.key)
