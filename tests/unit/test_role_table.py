"""The role table (rpc/roles.py) covers every RPC the services declare, as product 8.1 says."""

from __future__ import annotations

import pytest
from booking_server.domain.errors import PermissionDeniedError
from booking_server.rpc.auth import Caller, authorize
from booking_server.rpc.roles import REQUIRED_ROLE, ROLE_TABLE, is_open, required_role

from tests.support.secured import every_rpc


def test_every_rpc_of_the_service_descriptors_has_a_row_in_the_role_table() -> None:
    missing = [rpc.path for rpc in every_rpc() if required_role(rpc.path) is None]

    assert missing == [], f"add these RPCs to ROLE_TABLE in rpc/roles.py (product 8.1): {missing}"


def test_every_row_of_the_role_table_names_a_declared_rpc() -> None:
    declared = {rpc.path for rpc in every_rpc()}

    assert set(REQUIRED_ROLE) - declared == set()


def test_each_method_belongs_to_exactly_one_role() -> None:
    rows = [method for _service, methods in ROLE_TABLE.values() for method in methods]

    assert len(rows) == len(set(rows)) == len(REQUIRED_ROLE)


def test_the_lifecycle_and_streaming_rpcs_have_the_roles_of_product_8_1() -> None:
    booking = "/booking.v1.BookingService/"
    expected = {
        "CancelPurchase": "booking.booker",
        "RescheduleSession": "booking.booker",
        "SubstituteTrainer": "booking.booker",
        "SuggestAlternatives": "booking.booker",
        "UnblockTrainerTime": "booking.operator",
        "PromoteWaitlisted": "booking.operator",
        "WatchScheduleChanges": "booking.reader",
        "WatchPurchaseChanges": "booking.reader",
    }

    assert {name: required_role(booking + name) for name in expected} == expected


def test_a_method_in_no_row_is_denied_even_to_a_caller_with_every_role() -> None:
    everything = Caller(name="root", roles=frozenset(ROLE_TABLE))

    with pytest.raises(PermissionDeniedError) as raised:
        authorize(everything, "/booking.v1.BookingService/SomethingNew")

    assert "required_role" not in raised.value.metadata


def test_a_caller_without_the_role_is_told_which_role_is_required() -> None:
    reader = Caller(name="r", roles=frozenset({"booking.reader"}))

    with pytest.raises(PermissionDeniedError) as raised:
        authorize(reader, "/booking.v1.BookingService/CreateZone")

    assert raised.value.metadata == {"required_role": "booking.operator"}


def test_health_and_reflection_are_open_and_our_services_are_not() -> None:
    assert is_open("/grpc.health.v1.Health/Check")
    assert is_open("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
    assert not is_open("/booking.v1.BookingService/GetZone")
