"""The reflection catalog built from the committed descriptor set (rpc/reflection.py)."""

from __future__ import annotations

import pytest
from booking_server.rpc.reflection import load_described_files
from google.protobuf.descriptor_pb2 import FileDescriptorProto


def test_a_method_symbol_is_found_in_its_file() -> None:
    files = load_described_files()

    found = files.FindFileContainingSymbol("booking.v1.BookingService.AutoAssignTrainer")

    assert found.name == "booking/v1/booking_service.proto"


def test_served_files_carry_the_comments_and_their_imports() -> None:
    found = load_described_files().FindFileContainingSymbol("booking.v1.AutoAssignTrainerRequest")
    served = FileDescriptorProto()

    found.CopyToProto(served)

    comments = [location.leading_comments for location in served.source_code_info.location]
    assert " Caller's idempotency key (UUID).\n" in comments
    assert {dependency.name for dependency in found.dependencies} == {
        "booking/v1/common.proto",
        "google/protobuf/field_mask.proto",
        "google/protobuf/timestamp.proto",
    }


def test_served_fields_leave_json_names_out_so_grpcurl_prints_proto_names() -> None:
    found = load_described_files().FindFileByName("booking/v1/common.proto")
    served = FileDescriptorProto()

    found.CopyToProto(served)

    assert served.message_type
    assert not any(field.HasField("json_name") for message in served.message_type for field in message.field)


def test_files_outside_the_set_come_from_the_default_pool_methods_included() -> None:
    files = load_described_files()

    assert files.FindFileContainingSymbol("grpc.health.v1.Health").name == "grpc_health/v1/health.proto"
    assert files.FindFileContainingSymbol("grpc.health.v1.Health.Check").name == "grpc_health/v1/health.proto"


@pytest.mark.parametrize("symbol", ["booking.v1.NoSuchThing", "booking.v1.BookingService.NoSuchMethod"])
def test_an_unknown_symbol_is_a_key_error_as_the_servicer_expects(symbol: str) -> None:
    with pytest.raises(KeyError):
        load_described_files().FindFileContainingSymbol(symbol)
