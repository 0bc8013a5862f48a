"""ListCertificates, the errors of the certificate RPCs, and the background certificate sweep."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc
from booking.v1 import common_pb2 as common
from booking_server.app import build_application
from booking_server.config import load_settings
from sqlalchemy import Engine

from tests.support.certificates import assert_one_per_student, assign_course, complete, generate
from tests.support.read_model import set_tutoring_status
from tests.support.rpc_errors import rich_error
from tests.support.world import World


@pytest.fixture
def world(booking, directory) -> World:  # type: ignore[no-untyped-def]
    w = World(booking=booking, directory=directory)
    w.create_zone()
    w.add_trainer()
    return w


def test_list_certificates_filters_by_student_and_pages(world: World, engine: Engine) -> None:
    response = assign_course(world)
    purchase_id = response.purchase.purchase_id
    set_tutoring_status(engine, purchase_id, "completed", session_numbers=range(1, 31))
    issued = generate(world, purchase_id)
    student = response.purchase.students[1].id

    by_student = world.booking.ListCertificates(pb.ListCertificatesRequest(student_id=student)).certificates
    first = world.booking.ListCertificates(pb.ListCertificatesRequest(purchase_id=purchase_id, page_size=1))
    second = world.booking.ListCertificates(
        pb.ListCertificatesRequest(purchase_id=purchase_id, page_size=1, page_token=first.next_page_token)
    )

    assert [c.student_id for c in by_student] == [student]
    assert first.next_page_token
    assert second.next_page_token == ""
    assert {c.certificate_id for c in [*first.certificates, *second.certificates]} == {
        c.certificate_id for c in issued
    }
    with pytest.raises(grpc.RpcError) as raised:
        world.booking.ListCertificates(
            pb.ListCertificatesRequest(student_id=student, page_token=first.next_page_token)
        )
    assert rich_error(raised.value).violations.keys() == {"page_token"}


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (
            lambda b: b.CompleteSession(pb.CompleteSessionRequest(session_id=str(uuid.uuid4()))),
            "SESSION_NOT_FOUND",
        ),
        (
            lambda b: b.GenerateCertificates(pb.GenerateCertificatesRequest(purchase_id=str(uuid.uuid4()))),
            "PURCHASE_NOT_FOUND",
        ),
    ],
)
def test_unknown_ids_are_not_found(
    booking: booking_service_pb2_grpc.BookingServiceStub, call, reason: str
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as raised:
        call(booking)

    error = rich_error(raised.value)
    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, reason)


def test_malformed_ids_are_invalid_argument(booking: booking_service_pb2_grpc.BookingServiceStub) -> None:
    calls = {
        "session_id": lambda: booking.CompleteSession(pb.CompleteSessionRequest(session_id="nope")),
        "purchase_id": lambda: booking.GenerateCertificates(
            pb.GenerateCertificatesRequest(purchase_id="nope")
        ),
        "student_id": lambda: booking.ListCertificates(pb.ListCertificatesRequest(student_id="nope")),
    }
    for field, call in calls.items():
        with pytest.raises(grpc.RpcError) as raised:
            call()
        error = rich_error(raised.value)
        assert error.code == grpc.StatusCode.INVALID_ARGUMENT
        assert set(error.violations) == {field}


def test_completing_a_session_of_a_waitlisted_purchase_is_purchase_not_assigned(world: World) -> None:
    nobody = World(
        booking=world.booking, directory=world.directory, center=world.center, zone_id=world.zone_id
    )
    waitlisted = nobody.booking.AutoAssignTrainer(nobody.request())  # no trainer teaches its course
    assert waitlisted.purchase.status == common.PURCHASE_STATUS_WAITLISTED

    with pytest.raises(grpc.RpcError) as raised:
        complete(world, waitlisted.sessions[0].session_id)

    error = rich_error(raised.value)
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "PURCHASE_NOT_ASSIGNED")


@pytest.fixture
def sweeping_booking(engine: Engine) -> Iterator[booking_service_pb2_grpc.BookingServiceStub]:
    settings = replace(
        load_settings({"BOOKING_LOG_LEVEL": "warning"}),
        listen_addr="127.0.0.1:0",
        reconciler_interval_seconds=0.0,
        certificate_sweep_interval_seconds=0.2,
        promotion_interval_seconds=0.0,
        promotion_poll_seconds=0.0,
    )
    app = build_application(settings, engine=engine)
    app.start()
    with grpc.insecure_channel(f"127.0.0.1:{app.public.port}") as channel:
        yield booking_service_pb2_grpc.BookingServiceStub(channel)
    app.stop()


def test_the_background_sweep_issues_certificates_for_courses_completed_in_the_read_model(
    world: World, engine: Engine, sweeping_booking: booking_service_pb2_grpc.BookingServiceStub
) -> None:
    response = assign_course(world)
    purchase_id = response.purchase.purchase_id

    set_tutoring_status(engine, purchase_id, "completed", session_numbers=range(1, 31))

    deadline = time.monotonic() + 15
    listed: list[common.Certificate] = []
    while time.monotonic() < deadline and len(listed) < 2:
        time.sleep(0.1)
        listed = list(
            sweeping_booking.ListCertificates(
                pb.ListCertificatesRequest(purchase_id=purchase_id)
            ).certificates
        )
    assert_one_per_student(listed, response.purchase)
