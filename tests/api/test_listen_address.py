"""A listen address another program holds: refused with ListenAddressError, never a bare RuntimeError.

`serve` probes the address first (tests/e2e/test_cli.py); this is the bind itself, which still
fails the same way when a listener appears between the probe and the bind.
"""

from __future__ import annotations

import pytest
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2_grpc
from booking_server.rpc.server import ListenAddressError, build_public_server, check_listen_address
from grpc_health.v1 import health, health_pb2_grpc


def test_building_the_server_on_a_busy_address_raises_listen_address_error(busy_address: str) -> None:
    health_servicer: health_pb2_grpc.HealthServicer = health.HealthServicer()

    with pytest.raises(ListenAddressError, match=f"cannot listen on {busy_address}"):
        build_public_server(
            listen_addr=busy_address,
            booking=booking_service_pb2_grpc.BookingServiceServicer(),
            directory=trainer_directory_pb2_grpc.TrainerDirectoryServiceServicer(),
            health_servicer=health_servicer,
            max_workers=1,
            max_concurrent_rpcs=1,
        )


def test_the_probe_names_a_busy_address_in_use(busy_address: str) -> None:
    with pytest.raises(ListenAddressError) as refused:
        check_listen_address(busy_address)

    assert str(refused.value) == f"cannot listen on {busy_address}: address already in use"


def test_the_probe_lets_a_free_address_pass() -> None:
    check_listen_address("127.0.0.1:0")
