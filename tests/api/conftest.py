"""An in-process server with the real interceptors, on 127.0.0.1:0, shared by the api tests.

API tests commit for real (the server has its own connections), so every test uses fresh
UUIDs and names and filters what it lists by them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import grpc
import pytest
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2_grpc
from booking_server.app import Application, build_application
from booking_server.config import load_settings
from grpc_health.v1 import health_pb2_grpc
from sqlalchemy import Engine

from tests.support.world import World


@pytest.fixture(scope="session")
def app_server(engine: Engine) -> Iterator[Application]:
    settings = replace(
        load_settings({"BOOKING_LOG_LEVEL": "warning"}),
        listen_addr="127.0.0.1:0",
        health_poll_seconds=0.2,
        shutdown_grace_seconds=2.0,
        reconciler_interval_seconds=0.0,
        certificate_sweep_interval_seconds=0.0,
        # Off here: a promotion would change what other tests assert; tests/api/test_promotion.py
        # runs its own server with the promoter on.
        promotion_interval_seconds=0.0,
        promotion_poll_seconds=0.0,
        # Short, so that the watch tests see heartbeats on a quiet stream quickly.
        watch_heartbeat_seconds=0.5,
    )
    app = build_application(settings, engine=engine)
    app.start()
    yield app
    app.stop()


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
