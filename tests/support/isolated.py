"""An in-process server on a database of its own, for tests whose outcome depends on every row
(global counts, background jobs that act on whatever they find)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import grpc
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2_grpc
from booking_server.app import Application, build_application
from booking_server.config import load_settings
from booking_server.db.engine import build_engine
from booking_server.db.migrate import upgrade_to_head
from sqlalchemy import Engine

from tests.conftest import _create_database
from tests.support.world import World

# Every background job off unless a test turns it on.
JOBS_OFF = {
    "reconciler_interval_seconds": 0.0,
    "certificate_sweep_interval_seconds": 0.0,
    "promotion_interval_seconds": 0.0,
    "promotion_poll_seconds": 0.0,
}


@dataclass
class Isolated:
    app: Application
    engine: Engine
    booking: booking_service_pb2_grpc.BookingServiceStub
    directory: trainer_directory_pb2_grpc.TrainerDirectoryServiceStub

    def world(self) -> World:
        world = World(booking=self.booking, directory=self.directory)
        world.create_zone()
        return world

    def sync_all(self, max_purchases: int = 0) -> pb.SyncAllUnsyncedSessionsResponse:
        return self.booking.SyncAllUnsyncedSessions(
            pb.SyncAllUnsyncedSessionsRequest(max_purchases=max_purchases)
        )


@contextmanager
def isolated_server(database_url: str, **settings: Any) -> Iterator[Isolated]:
    """A fresh migrated database on the test server, and a server on it with `settings`."""
    url = _create_database(database_url, f"booking_isolated_{uuid.uuid4().hex[:12]}")
    engine = build_engine(url, pool_size=8)
    upgrade_to_head(engine)
    app = build_application(
        replace(
            load_settings({"BOOKING_LOG_LEVEL": "warning"}),
            listen_addr="127.0.0.1:0",
            **{**JOBS_OFF, **settings},
        ),
        engine=engine,
    )
    app.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{app.public.port}") as channel:
            yield Isolated(
                app,
                engine,
                booking_service_pb2_grpc.BookingServiceStub(channel),
                trainer_directory_pb2_grpc.TrainerDirectoryServiceStub(channel),
            )
    finally:
        app.stop()
        engine.dispose()
