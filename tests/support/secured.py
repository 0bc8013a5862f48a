"""In-process servers for the api tests, with or without authentication; raw calls of any RPC.

Each server with authentication on gets a database of its own: the role-table tests call every RPC, writes
included (PromoteWaitlisted with no purchase id tries every waiting purchase), and must not
change what other tests on the shared database see.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grpc
from booking.v1 import booking_service_pb2, trainer_directory_pb2
from booking_server.app import Application, build_application
from booking_server.config import load_settings
from booking_server.db.engine import build_engine
from booking_server.db.migrate import upgrade_to_head
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from sqlalchemy import Engine

from tests.support.databases import create_empty_database
from tools.credentials import AUDIENCE, ISSUER

SERVICES = (
    booking_service_pb2.DESCRIPTOR.services_by_name["BookingService"],
    trainer_directory_pb2.DESCRIPTOR.services_by_name["TrainerDirectoryService"],
)


@dataclass(frozen=True)
class Rpc:
    """One method of our services, as the descriptors declare it."""

    path: str  # "/booking.v1.BookingService/GetZone"
    descriptor: MethodDescriptor

    @property
    def server_streaming(self) -> bool:
        return bool(self.descriptor.server_streaming)

    def empty_request(self) -> Any:
        return message_factory.GetMessageClass(self.descriptor.input_type)()

    def call(self, channel: grpc.Channel, metadata: tuple[tuple[str, str], ...] = ()) -> None:
        """Call with an empty request (reading a stream's first message); raises grpc.RpcError."""
        response_class = message_factory.GetMessageClass(self.descriptor.output_type)
        options: dict[str, Any] = {
            "request_serializer": lambda m: m.SerializeToString(),
            "response_deserializer": response_class.FromString,
        }
        if self.server_streaming:
            stream = channel.unary_stream(self.path, **options)(
                self.empty_request(), metadata=metadata, timeout=10
            )
            next(iter(stream), None)
            stream.cancel()
        else:
            channel.unary_unary(self.path, **options)(self.empty_request(), metadata=metadata, timeout=10)


def every_rpc() -> list[Rpc]:
    return [Rpc(f"/{s.full_name}/{method.name}", method) for s in SERVICES for method in s.methods]


def jwt_env(credentials: Path) -> dict[str, str]:
    """Mode `jwt` with the JWKS of tools/credentials.py (plaintext: the tests read no TLS here)."""
    return {
        "BOOKING_AUTH_MODE": "jwt",
        "BOOKING_AUTH_JWKS_FILE": str(credentials / "jwks.json"),
        "BOOKING_AUTH_ISSUER": ISSUER,
        "BOOKING_AUTH_AUDIENCE": AUDIENCE,
    }


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


@contextlib.contextmanager
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = build_engine(create_empty_database(database_url), pool_size=4)
    upgrade_to_head(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@contextlib.contextmanager
def running_app(engine: Engine, env: Mapping[str, str]) -> Iterator[Application]:
    """An in-process server on 127.0.0.1:0 configured by `env`, background jobs off.

    Promotion is off too: a promotion would change what tests on a shared database assert.
    """
    settings = replace(
        load_settings({"BOOKING_LOG_LEVEL": "warning", **env}),
        listen_addr="127.0.0.1:0",
        health_poll_seconds=0.2,
        shutdown_grace_seconds=2.0,
        reconciler_interval_seconds=0.0,
        certificate_sweep_interval_seconds=0.0,
        promotion_interval_seconds=0.0,
        promotion_poll_seconds=0.0,
    )
    app = build_application(settings, engine=engine)
    app.start()
    try:
        yield app
    finally:
        app.stop()


class _WithMetadata(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self._metadata = metadata

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        details = details._replace(metadata=(*(details.metadata or ()), *self._metadata))
        return continuation(details, request)


def with_token(channel: grpc.Channel, token: str) -> grpc.Channel:
    """A channel whose unary calls all carry `authorization: Bearer <token>` (for World)."""
    return grpc.intercept_channel(channel, _WithMetadata(bearer(token)))
