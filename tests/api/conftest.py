"""An in-process server with the real interceptors, on 127.0.0.1:0, shared by the api tests.

API tests commit for real (the server has its own connections), so every test uses fresh
UUIDs and names and filters what it lists by them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2_grpc
from booking_server.app import Application
from cryptography.hazmat.primitives.asymmetric import ec
from grpc_health.v1 import health_pb2_grpc
from sqlalchemy import Engine

from tests.support.secured import running_app
from tests.support.world import World
from tools.credentials import load_jwt_key, make_all


@pytest.fixture(scope="session")
def app_server(engine: Engine) -> Iterator[Application]:
    # Promotion off (running_app): a promotion would change what other tests assert;
    # tests/api/test_promotion.py runs its own server with the promoter on. Heartbeats short, so
    # that the watch tests see them on a quiet stream quickly.
    with running_app(engine, {"BOOKING_WATCH_HEARTBEAT_SECONDS": "0.5"}) as app:
        yield app


@pytest.fixture(scope="session")
def channel(app_server: Application) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{app_server.public.port}") as ch:
        yield ch


@pytest.fixture(scope="session")
def booking(channel: grpc.Channel) -> booking_service_pb2_grpc.BookingServiceStub:
    return booking_service_pb2_grpc.BookingServiceStub(channel)


@pytest.fixture(scope="session")
def directory(channel: grpc.Channel) -> trainer_directory_pb2_grpc.TrainerDirectoryServiceStub:
    return trainer_directory_pb2_grpc.TrainerDirectoryServiceStub(channel)


@pytest.fixture(scope="session")
def health(channel: grpc.Channel) -> health_pb2_grpc.HealthStub:
    return health_pb2_grpc.HealthStub(channel)


@pytest.fixture
def world(
    booking: booking_service_pb2_grpc.BookingServiceStub,
    directory: trainer_directory_pb2_grpc.TrainerDirectoryServiceStub,
) -> World:
    """A fresh zone and course of this test's own, on the shared server."""
    w = World(booking=booking, directory=directory)
    w.create_zone()
    return w


@pytest.fixture(scope="session")
def dev_credentials(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make credentials` writes (tools/credentials.py): CA, certificates, JWT key and JWKS."""
    directory = tmp_path_factory.mktemp("credentials")
    make_all(directory)
    return directory


@pytest.fixture(scope="session")
def jwt_key(dev_credentials: Path) -> ec.EllipticCurvePrivateKey:
    return load_jwt_key(dev_credentials)
