"""The auth, rate-limit and metrics interceptors on a server-streaming handler.

The Watch RPCs (product 6) come from another change; this test serves a stand-in stream under
the name WatchScheduleChanges (its row is in the role table already) with the interceptors
the public server uses, so their streaming path is covered before that change lands.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from booking_server.metrics import Metrics
from booking_server.rpc.auth import AuthInterceptor
from booking_server.rpc.auth_jwt import JwtAuthenticator
from booking_server.rpc.metrics_interceptor import MetricsInterceptor
from booking_server.rpc.rate_limit import RateLimitInterceptor
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.rpc_errors import rich_error
from tests.support.secured import bearer
from tools.credentials import AUDIENCE, ISSUER, mint_token

WATCH = "/booking.v1.BookingService/WatchScheduleChanges"
LABELS = {"grpc_type": "server_stream", "grpc_service": "booking.v1.BookingService"}


def _three_events(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
    for n in range(3):
        yield bytes([n])


@pytest.fixture
def served(dev_credentials: Path) -> Iterator[tuple[grpc.Channel, Metrics]]:
    metrics = Metrics()
    authenticator = JwtAuthenticator.from_file(
        dev_credentials / "jwks.json", issuer=ISSUER, audience=AUDIENCE
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        interceptors=[
            MetricsInterceptor(metrics),
            AuthInterceptor(authenticator),
            RateLimitInterceptor(per_second=0.1, burst=2),
        ],
    )
    handler = grpc.unary_stream_rpc_method_handler(_three_events)
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "booking.v1.BookingService", {"WatchScheduleChanges": handler}
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel, metrics
    finally:
        server.stop(None).wait()


def _watch(channel: grpc.Channel, metadata: tuple[tuple[str, str], ...]) -> list[bytes]:
    return list(channel.unary_stream(WATCH)(b"", metadata=metadata, timeout=10))


def _sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(
        name, {**LABELS, "grpc_method": "WatchScheduleChanges", **labels}
    )


def test_a_stream_is_refused_without_credentials_and_without_the_role(
    served: tuple[grpc.Channel, Metrics], jwt_key: ec.EllipticCurvePrivateKey
) -> None:
    channel, _ = served
    booker = mint_token(jwt_key, subject="b", roles=["booking.booker"])

    with pytest.raises(grpc.RpcError) as anonymous:
        _watch(channel, ())
    with pytest.raises(grpc.RpcError) as denied:
        _watch(channel, bearer(booker))

    assert rich_error(anonymous.value).reason == "UNAUTHENTICATED"
    assert rich_error(denied.value).metadata == {"required_role": "booking.reader"}


def test_a_reader_streams_and_the_metrics_count_messages_codes_and_open_streams(
    served: tuple[grpc.Channel, Metrics], jwt_key: ec.EllipticCurvePrivateKey
) -> None:
    channel, metrics = served
    reader = bearer(mint_token(jwt_key, subject="r", roles=["booking.reader"]))

    events = [_watch(channel, reader), _watch(channel, reader)]
    with pytest.raises(grpc.RpcError) as limited:
        _watch(channel, reader)

    assert events == [[b"\x00", b"\x01", b"\x02"]] * 2
    assert rich_error(limited.value).reason == "RATE_LIMITED"
    assert _sample(metrics, "grpc_server_started_total") == 3
    assert _sample(metrics, "grpc_server_msg_sent_total") == 6
    assert _sample(metrics, "grpc_server_handled_total", grpc_code="OK") == 2
    assert _sample(metrics, "grpc_server_handled_total", grpc_code="ResourceExhausted") == 1
    assert metrics.registry.get_sample_value("booking_watch_streams") == 0
