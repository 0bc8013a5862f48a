"""The error boundary interceptor: one table maps every domain error; nothing else leaks.

A small servicer raises each kind of error from inside a real in-process gRPC server that
uses the production interceptor, so each row of rpc/errors.py is checked end to end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2_grpc
from booking.v1 import common_pb2 as common
from booking_server.domain.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    FieldViolation,
    InvalidRequestError,
    NotFoundError,
    UnavailableError,
)
from booking_server.metrics import Metrics
from booking_server.rpc.interceptors import ErrorBoundaryInterceptor
from booking_server.rpc.metrics_interceptor import MetricsInterceptor
from booking_server.rpc.server import build_public_server
from booking_server.services.unit_of_work import TransactionConflictError
from google.rpc import error_details_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from tests.support.logs import captured_logs
from tests.support.rpc_errors import rich_error

ERRORS: dict[str, Exception] = {
    "invalid": InvalidRequestError([FieldViolation("zone_id", "must be a UUID")]),
    "not_found": NotFoundError("zone not found", reason="ZONE_NOT_FOUND"),
    "exists": AlreadyExistsError("name taken", reason="ZONE_NAME_TAKEN"),
    "precondition": FailedPreconditionError("overlap", reason="SLOT_OVERLAP"),
    "unavailable": UnavailableError("database unavailable", reason="DATABASE_UNAVAILABLE"),
    "conflict": TransactionConflictError("the transaction was aborted by a concurrent one"),
    "bug": RuntimeError('relation "zones" does not exist: SELECT * FROM zones WHERE host=db-7.internal'),
}


class RaisingServicer(booking_service_pb2_grpc.BookingServiceServicer):
    """GetZone raises the error named by the request's zone_id."""

    def GetZone(self, request: pb.GetZoneRequest, context: grpc.ServicerContext) -> pb.GetZoneResponse:  # noqa: N802
        raise ERRORS[request.zone_id]


@pytest.fixture(scope="module")
def stub() -> Iterator[booking_service_pb2_grpc.BookingServiceStub]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), interceptors=[ErrorBoundaryInterceptor()])
    booking_service_pb2_grpc.add_BookingServiceServicer_to_server(RaisingServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield booking_service_pb2_grpc.BookingServiceStub(channel)
    server.stop(None).wait()


@pytest.mark.parametrize(
    ("name", "code", "reason"),
    [
        ("invalid", grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST"),
        ("not_found", grpc.StatusCode.NOT_FOUND, "ZONE_NOT_FOUND"),
        ("exists", grpc.StatusCode.ALREADY_EXISTS, "ZONE_NAME_TAKEN"),
        ("precondition", grpc.StatusCode.FAILED_PRECONDITION, "SLOT_OVERLAP"),
        ("unavailable", grpc.StatusCode.UNAVAILABLE, "DATABASE_UNAVAILABLE"),
        ("conflict", grpc.StatusCode.ABORTED, "CONCURRENT_UPDATE"),
    ],
)
def test_each_domain_error_becomes_its_status_code_with_error_info(
    stub: booking_service_pb2_grpc.BookingServiceStub, name: str, code: grpc.StatusCode, reason: str
) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetZone(pb.GetZoneRequest(zone_id=name))

    error = rich_error(raised.value)
    assert (error.code, error.reason, error.domain) == (code, reason, "booking.v1")
    assert error.message == str(ERRORS[name])


def test_invalid_argument_carries_its_field_violations(
    stub: booking_service_pb2_grpc.BookingServiceStub,
) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetZone(pb.GetZoneRequest(zone_id="invalid"))

    assert rich_error(raised.value).violations == {"zone_id": "must be a UUID"}


def test_an_unexpected_failure_is_internal_error_and_its_detail_only_reaches_the_log(
    stub: booking_service_pb2_grpc.BookingServiceStub,
) -> None:
    with captured_logs() as logs, pytest.raises(grpc.RpcError) as raised:
        stub.GetZone(pb.GetZoneRequest(zone_id="bug"), metadata=(("x-request-id", "req-42"),))

    error = rich_error(raised.value)
    assert (error.code, error.message, error.reason) == (
        grpc.StatusCode.INTERNAL,
        "internal error",
        "INTERNAL",
    )
    assert "SELECT" not in str(raised.value)
    assert "db-7" not in str(raised.value)
    [failure] = [e for e in logs if e["event"] == "rpc_failed"]
    assert failure["request_id"] == "req-42"
    assert "RuntimeError" in failure["exception"]
    assert "db-7.internal" in failure["exception"]


def test_every_rpc_logs_one_line_with_method_code_duration_and_request_id(
    stub: booking_service_pb2_grpc.BookingServiceStub,
) -> None:
    with captured_logs() as logs, pytest.raises(grpc.RpcError):
        stub.GetZone(pb.GetZoneRequest(zone_id="not_found"), metadata=(("x-request-id", "trace-7"),))

    [line] = [e for e in logs if e["event"] == "rpc_handled"]
    assert line["method"] == "/booking.v1.BookingService/GetZone"
    assert line["code"] == "NOT_FOUND"
    assert line["request_id"] == "trace-7"
    assert line["duration_ms"] >= 0


def test_the_callers_request_id_is_echoed_and_a_missing_one_is_generated(
    stub: booking_service_pb2_grpc.BookingServiceStub,
) -> None:
    with pytest.raises(grpc.RpcError) as given:
        stub.GetZone(pb.GetZoneRequest(zone_id="not_found"), metadata=(("x-request-id", "abc-123"),))
    with pytest.raises(grpc.RpcError) as generated:
        stub.GetZone(pb.GetZoneRequest(zone_id="not_found"))

    assert dict(given.value.initial_metadata())["x-request-id"] == "abc-123"  # type: ignore[attr-defined]
    new_id = dict(generated.value.initial_metadata())["x-request-id"]  # type: ignore[attr-defined]
    assert len(new_id) == 32
    assert new_id != "abc-123"


def test_an_rpc_a_servicer_does_not_implement_is_unimplemented(
    stub: booking_service_pb2_grpc.BookingServiceStub,
) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetPurchase(pb.GetPurchaseRequest(purchase_id="x"))

    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED  # type: ignore[attr-defined]


class SlowServicer(booking_service_pb2_grpc.BookingServiceServicer):
    def __init__(self) -> None:
        self.release = threading.Event()

    def GetZone(self, request: pb.GetZoneRequest, context: grpc.ServicerContext) -> pb.GetZoneResponse:  # noqa: N802
        self.release.wait(5)
        return pb.GetZoneResponse()


@dataclass
class Served:
    booking: booking_service_pb2_grpc.BookingServiceStub
    health: health_pb2_grpc.HealthStub


@contextmanager
def slow_server(
    slow: SlowServicer, *, max_workers: int, limit: int, gates: tuple[grpc.ServerInterceptor, ...] = ()
) -> Iterator[Served]:
    health_servicer = health.HealthServicer()
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    built = build_public_server(
        listen_addr="127.0.0.1:0",
        booking=slow,
        directory=trainer_directory_pb2_grpc.TrainerDirectoryServiceServicer(),
        health_servicer=health_servicer,
        max_workers=max_workers,
        max_concurrent_rpcs=limit,
        gates=gates,
    )
    built.server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{built.port}") as channel:
            yield Served(
                booking_service_pb2_grpc.BookingServiceStub(channel), health_pb2_grpc.HealthStub(channel)
            )
    finally:
        slow.release.set()
        built.server.stop(None).wait()


def _retry_delay_seconds(error: grpc.RpcError) -> float:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return info.retry_delay.ToTimedelta().total_seconds()
    raise AssertionError("no RetryInfo in the status")


def test_calls_beyond_the_concurrency_bound_are_answered_resource_exhausted_with_error_info() -> None:
    slow = SlowServicer()
    with slow_server(slow, max_workers=4, limit=1) as served:
        stub = served.booking
        first = stub.GetZone.future(pb.GetZoneRequest(zone_id="a"))
        time.sleep(0.3)  # let the first call occupy the only place
        with pytest.raises(grpc.RpcError) as raised:
            stub.GetZone(pb.GetZoneRequest(zone_id="b"), timeout=5)
        slow.release.set()
        assert first.result(timeout=5) == pb.GetZoneResponse()

    error = rich_error(raised.value)
    assert (error.code, error.reason, error.domain) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "OVERLOADED",
        "booking.v1",
    )
    assert _retry_delay_seconds(raised.value) == 1.0


def test_health_checks_are_answered_while_the_server_refuses_calls_as_overloaded() -> None:
    """A busy replica must not fail its health check: that would take it out of rotation."""
    slow = SlowServicer()
    with slow_server(slow, max_workers=4, limit=1) as served:
        first = served.booking.GetZone.future(pb.GetZoneRequest(zone_id="a"))
        time.sleep(0.3)  # the only place is taken: our own calls are refused now
        with pytest.raises(grpc.RpcError) as refused:
            served.booking.GetZone(pb.GetZoneRequest(zone_id="b"), timeout=5)
        checked = served.health.Check(health_pb2.HealthCheckRequest(), timeout=5)
        slow.release.set()
        first.result(timeout=5)

    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
    assert checked.status == health_pb2.HealthCheckResponse.SERVING


def test_open_health_watches_hold_no_worker_even_behind_the_metrics_interceptor() -> None:
    """gRPC runs health's Watch without a thread only if the handler it calls says so; wrapped,
    each open watch held a worker, and a few watches left no worker for anyone else."""
    slow = SlowServicer()
    slow.release.set()  # GetZone answers at once
    with slow_server(slow, max_workers=2, limit=10, gates=(MetricsInterceptor(Metrics()),)) as served:
        watches = [served.health.Watch(health_pb2.HealthCheckRequest(), timeout=10) for _ in range(4)]
        statuses = [next(watch).status for watch in watches]
        answered = served.booking.GetZone(pb.GetZoneRequest(zone_id="a"), timeout=5)
        for watch in watches:
            watch.cancel()

    assert statuses == [health_pb2.HealthCheckResponse.SERVING] * 4
    assert answered == pb.GetZoneResponse()


def test_calls_cancelled_while_queued_give_their_place_back() -> None:
    """Places are counted by the pool, so a call that expires in the queue (and never reaches a
    handler) still frees its place; counted in the handler, each one would leak a place forever."""
    slow = SlowServicer()
    with slow_server(slow, max_workers=1, limit=3) as served:
        stub = served.booking
        holder = stub.GetZone.future(pb.GetZoneRequest(zone_id="a"))
        time.sleep(0.3)  # the only worker is busy: the next calls wait in the queue
        queued = [stub.GetZone.future(pb.GetZoneRequest(zone_id="q"), timeout=0.3) for _ in range(2)]
        for call in queued:
            with pytest.raises(grpc.RpcError):
                call.result(timeout=5)
        slow.release.set()
        holder.result(timeout=5)
        slow.release.clear()

        # All three places are free again: three slow calls at once are admitted.
        again = [stub.GetZone.future(pb.GetZoneRequest(zone_id="b")) for _ in range(3)]
        time.sleep(0.3)
        slow.release.set()
        assert [call.result(timeout=10) for call in again] == [pb.GetZoneResponse()] * 3


def test_a_request_with_hundreds_of_violations_gets_a_readable_bounded_answer(
    booking: booking_service_pb2_grpc.BookingServiceStub,
) -> None:
    duplicate = "5f3e2d1c-0000-4000-8000-000000000001"
    many = pb.AutoAssignTrainerRequest(students=[common.Student(id=duplicate, name="") for _ in range(50)])

    with pytest.raises(grpc.RpcError) as raised:
        booking.AutoAssignTrainer(many)

    error = rich_error(raised.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT  # not RESOURCE_EXHAUSTED from oversized metadata
    assert len(error.violations) == 21  # 20 shown and one counting the rest (keyed by field)
    assert error.violations[""].startswith("and ")
    assert error.message.endswith("more")


def test_a_request_over_1_mb_is_refused_before_any_handler(
    booking: booking_service_pb2_grpc.BookingServiceStub,
) -> None:
    huge = pb.AutoAssignTrainerRequest(student_address="x" * (1024 * 1024 + 1))

    with pytest.raises(grpc.RpcError) as raised:
        booking.AutoAssignTrainer(huge)

    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
