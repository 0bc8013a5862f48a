"""Builds the gRPC servers: the public one, and a private one the directory client calls as "self"."""

from __future__ import annotations

import errno
import socket
from collections.abc import Sequence
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path

import grpc
from booking.v1 import (
    booking_service_pb2,
    booking_service_pb2_grpc,
    trainer_directory_pb2,
    trainer_directory_pb2_grpc,
)
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from booking_server.rpc.admission import BACKSTOP_FACTOR, AdmissionInterceptor, CountingThreadPool
from booking_server.rpc.interceptors import ErrorBoundaryInterceptor
from booking_server.rpc.reflection import load_described_files

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
# Product 1.1: the server refuses any request message over 1 MB (grpcio answers
# RESOURCE_EXHAUSTED before a handler runs). Answers may be larger (a decision lists candidates).
MAX_REQUEST_BYTES = 1024 * 1024
SERVER_OPTIONS = [
    # One listener per address: a second replica on the same port must fail, not share it.
    ("grpc.so_reuseport", 0),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_REQUEST_BYTES),
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    # Accept the clients' idle keepalive pings (booking_client pings every 30 s).
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
    ("grpc.max_connection_age_ms", 30 * 60_000),
    ("grpc.max_connection_age_grace_ms", 30_000),
]


class ListenAddressError(OSError):
    """The public address cannot be listened on (in use, not local, unresolvable)."""

    def __init__(self, listen_addr: str, problem: str) -> None:
        super().__init__(f"cannot listen on {listen_addr}: {problem}")


def check_listen_address(listen_addr: str) -> None:
    """Raise ListenAddressError when `listen_addr` cannot be bound now, before anything starts.

    gRPC's own bind failure prints a core log line and raises a bare RuntimeError; probing first
    lets `serve` say it in one line. The probe binds as gRPC does (SO_REUSEADDR), so a port left in
    TIME_WAIT passes and only a listener refuses. A listener that appears between this probe and
    the real bind is still refused by `build_public_server`.
    """
    host, _, port = listen_addr.rpartition(":")
    try:
        addresses = socket.getaddrinfo(host.strip("[]") or None, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ListenAddressError(listen_addr, f"cannot resolve it ({exc})") from exc
    for family, kind, protocol, _name, address in addresses:
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                problem = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
                raise ListenAddressError(listen_addr, problem or str(exc)) from exc


@dataclass(frozen=True, slots=True)
class BuiltServer:
    server: grpc.Server
    port: int


def server_credentials(
    *, cert_file: Path, key_file: Path, client_ca_file: Path | None
) -> grpc.ServerCredentials:
    """TLS with our certificate; with a client CA, every client must present a certificate it signed."""
    return grpc.ssl_server_credentials(
        [(key_file.read_bytes(), cert_file.read_bytes())],
        root_certificates=client_ca_file.read_bytes() if client_ca_file else None,
        require_client_auth=client_ca_file is not None,
    )


def _listen(server: grpc.Server, address: str, credentials: grpc.ServerCredentials | None) -> int:
    try:
        port = (
            server.add_secure_port(address, credentials)
            if credentials is not None
            else server.add_insecure_port(address)
        )
    except RuntimeError as exc:  # grpcio's "Failed to bind to address"
        raise ListenAddressError(address, "address in use or not available") from exc
    if port == 0:
        raise ListenAddressError(address, "address in use or not available")
    return port


def build_public_server(
    *,
    listen_addr: str,
    booking: booking_service_pb2_grpc.BookingServiceServicer,
    directory: trainer_directory_pb2_grpc.TrainerDirectoryServiceServicer,
    health_servicer: health_pb2_grpc.HealthServicer,
    max_workers: int,
    max_concurrent_rpcs: int,
    gates: Sequence[grpc.ServerInterceptor] = (),  # type: ignore[type-arg]
    credentials: grpc.ServerCredentials | None = None,
) -> BuiltServer:
    """`gates` (metrics, authentication, rate limit) run in that order before the error boundary;
    the admission limit runs after it, so the boundary logs and answers its refusals too."""
    pool = CountingThreadPool(max_workers, thread_name_prefix="rpc")
    server = grpc.server(
        pool,
        interceptors=[
            *gates,
            ErrorBoundaryInterceptor(),
            AdmissionInterceptor(pool, limit=max_concurrent_rpcs),
        ],
        options=SERVER_OPTIONS,
        maximum_concurrent_rpcs=max_concurrent_rpcs * BACKSTOP_FACTOR,
    )
    booking_service_pb2_grpc.add_BookingServiceServicer_to_server(booking, server)
    trainer_directory_pb2_grpc.add_TrainerDirectoryServiceServicer_to_server(directory, server)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (
            booking_service_pb2.DESCRIPTOR.services_by_name["BookingService"].full_name,
            trainer_directory_pb2.DESCRIPTOR.services_by_name["TrainerDirectoryService"].full_name,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
        # Answers method symbols and carries the protos' comments (rpc/reflection.py); it has the
        # pool's lookups the servicer uses, not the DescriptorPool type the stubs name.
        pool=load_described_files(),  # type: ignore[arg-type]
    )
    return BuiltServer(server=server, port=_listen(server, listen_addr, credentials))


def build_health_server(health_servicer: health_pb2_grpc.HealthServicer, *, listen_addr: str) -> BuiltServer:
    """Plaintext health only (BOOKING_HEALTH_LISTEN_ADDR), for probes that cannot do TLS.

    Kubernetes' native gRPC probes and Docker's HEALTHCHECK speak plaintext without client
    certificates; with TLS (and mTLS) on the public port, they check this one. It serves
    nothing but grpc.health.v1, which reveals only SERVING or NOT_SERVING, and reflection
    listing only that service, so grpcurl can call it too.
    """
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="health"), options=SERVER_OPTIONS
    )
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME), server
    )
    return BuiltServer(server=server, port=_listen(server, listen_addr, None))


def build_internal_directory_server(
    directory: trainer_directory_pb2_grpc.TrainerDirectoryServiceServicer,
    *,
    max_workers: int,
    gate: grpc.ServerInterceptor,  # type: ignore[type-arg]
) -> BuiltServer:
    """The directory on its own loopback port and thread pool.

    With BOOKING_TRAINER_DIRECTORY_TARGET=self, BookingService calls the directory over gRPC like
    any remote client. Giving those calls their own pool means assignments that fill the public
    pool can never starve the directory calls they are waiting for. `gate` authenticates the
    process itself (a secret made at start), whatever BOOKING_AUTH_MODE is.
    """
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="directory"),
        interceptors=[gate, ErrorBoundaryInterceptor()],
        options=SERVER_OPTIONS,
    )
    trainer_directory_pb2_grpc.add_TrainerDirectoryServiceServicer_to_server(directory, server)
    port = server.add_insecure_port("127.0.0.1:0")
    return BuiltServer(server=server, port=port)
