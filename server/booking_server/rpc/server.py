"""Builds the gRPC servers: the public one, and a private one the directory client calls as "self"."""

from __future__ import annotations

import errno
import socket
from concurrent import futures
from dataclasses import dataclass

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


def build_public_server(
    *,
    listen_addr: str,
    booking: booking_service_pb2_grpc.BookingServiceServicer,
    directory: trainer_directory_pb2_grpc.TrainerDirectoryServiceServicer,
    health_servicer: health_pb2_grpc.HealthServicer,
    max_workers: int,
    max_concurrent_rpcs: int,
) -> BuiltServer:
    pool = CountingThreadPool(max_workers, thread_name_prefix="rpc")
    server = grpc.server(
        pool,
        # The boundary first (outermost): it logs and answers the admission's refusals too.
        interceptors=[ErrorBoundaryInterceptor(), AdmissionInterceptor(pool, limit=max_concurrent_rpcs)],
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
    try:
        port = server.add_insecure_port(listen_addr)
    except RuntimeError as exc:  # grpcio's "Failed to bind to address"
        raise ListenAddressError(listen_addr, "address in use or not available") from exc
    if port == 0:
        raise ListenAddressError(listen_addr, "address in use or not available")
    return BuiltServer(server=server, port=port)


def build_internal_directory_server(
    directory: trainer_directory_pb2_grpc.TrainerDirectoryServiceServicer, *, max_workers: int
) -> BuiltServer:
    """The directory on its own loopback port and thread pool.

    With BOOKING_TRAINER_DIRECTORY_TARGET=self, BookingService calls the directory over gRPC like
    any remote client. Giving those calls their own pool means assignments that fill the public
    pool can never starve the directory calls they are waiting for.
    """
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="directory"),
        interceptors=[ErrorBoundaryInterceptor()],
        options=SERVER_OPTIONS,
    )
    trainer_directory_pb2_grpc.add_TrainerDirectoryServiceServicer_to_server(directory, server)
    port = server.add_insecure_port("127.0.0.1:0")
    return BuiltServer(server=server, port=port)
