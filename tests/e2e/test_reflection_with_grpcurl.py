"""grpcurl against the real `booking-service serve`: reflection describes methods and shows comments.

The server answers reflection from the descriptor set `make generate` commits with source info
(clients/booking/v1/booking.binpb), so `describe` works on a method (grpc/grpc#34743) and prints
the comments written in protos/booking/v1.
"""

from __future__ import annotations

import pytest
from booking.v1 import booking_service_pb2, trainer_directory_pb2

from tests.support.processes import ServerProcess, run_grpcurl

METHODS = [
    f"{service.full_name}.{method.name}"
    for module in (booking_service_pb2, trainer_directory_pb2)
    for service in module.DESCRIPTOR.services_by_name.values()
    for method in service.methods
]


def test_grpcurl_describes_a_method_with_its_comment(demo_server: ServerProcess) -> None:
    result = run_grpcurl(demo_server.address, "describe", "booking.v1.BookingService.AutoAssignTrainer")

    assert result.returncode == 0, result.stderr
    assert "booking.v1.BookingService.AutoAssignTrainer is a method:" in result.stdout
    assert (
        "// Validates a purchase, finds its zone and reserves a trainer for every session." in result.stdout
    )
    assert (
        "rpc AutoAssignTrainer ( .booking.v1.AutoAssignTrainerRequest ) "
        "returns ( .booking.v1.AutoAssignTrainerResponse );"
    ) in result.stdout


@pytest.mark.parametrize("method", METHODS)
def test_grpcurl_describes_every_method_of_both_services(demo_server: ServerProcess, method: str) -> None:
    result = run_grpcurl(demo_server.address, "describe", method)

    assert result.returncode == 0, result.stderr
    assert f"{method} is a method:" in result.stdout


def test_grpcurl_shows_the_comments_of_a_message_and_its_fields(demo_server: ServerProcess) -> None:
    result = run_grpcurl(demo_server.address, "describe", "booking.v1.AutoAssignTrainerRequest")

    assert result.returncode == 0, result.stderr
    assert "// Request of AutoAssignTrainer." in result.stdout
    assert "// Number of sessions (1-100; the purchase rules allow 10, 20 or 30)." in result.stdout
    assert "int32 total_sessions = 4;" in result.stdout


def test_grpcurl_shows_the_rule_written_on_an_enum_value(demo_server: ServerProcess) -> None:
    result = run_grpcurl(demo_server.address, "describe", "booking.v1.DeliveryMode")

    assert result.returncode == 0, result.stderr
    assert "Sundays included" in result.stdout


def test_grpcurl_lists_the_error_reasons_with_their_status_codes(demo_server: ServerProcess) -> None:
    result = run_grpcurl(demo_server.address, "describe", "booking.v1.ErrorReason")

    assert result.returncode == 0, result.stderr
    assert "// FAILED_PRECONDITION: the time overlaps a booked or blocked slot" in result.stdout
    assert "SLOT_OVERLAP = 11;" in result.stdout


def test_grpcurl_still_describes_the_health_service(demo_server: ServerProcess) -> None:
    result = run_grpcurl(demo_server.address, "describe", "grpc.health.v1.Health.Check")

    assert result.returncode == 0, result.stderr
    assert "grpc.health.v1.Health.Check is a method:" in result.stdout
