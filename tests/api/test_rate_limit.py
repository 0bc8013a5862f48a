"""Per-caller rate limits per replica (product 8.2): RATE_LIMITED with QuotaFailure and RetryInfo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc
from booking_server.app import Application
from cryptography.hazmat.primitives.asymmetric import ec
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from tests.support.rpc_errors import rich_error
from tests.support.secured import bearer, jwt_env, migrated_engine, running_app
from tools.credentials import mint_token

BURST = 3


@pytest.fixture(scope="module")
def limited_app(database_url: str, dev_credentials: Path) -> Iterator[Application]:
    # 3 calls in any 30 s window: the whole test runs inside one window however slow the machine.
    env = {
        **jwt_env(dev_credentials),
        "BOOKING_RATE_LIMIT_PER_SECOND": "0.1",
        "BOOKING_RATE_LIMIT_BURST": "3",
    }
    with migrated_engine(database_url) as engine, running_app(engine, env) as app:
        yield app


@pytest.fixture(scope="module")
def channel(limited_app: Application) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{limited_app.public.port}") as ch:
        yield ch


def _get_zone(channel: grpc.Channel, token: str) -> grpc.RpcError:
    stub = booking_service_pb2_grpc.BookingServiceStub(channel)
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetZone(pb.GetZoneRequest(zone_id="not-a-uuid"), metadata=bearer(token), timeout=10)
    return raised.value


def test_a_burst_over_the_limit_is_rate_limited_and_other_callers_are_not(
    channel: grpc.Channel, jwt_key: ec.EllipticCurvePrivateKey
) -> None:
    alice = mint_token(jwt_key, subject="alice", roles=["booking.reader"])
    bob = mint_token(jwt_key, subject="bob", roles=["booking.reader"])

    codes = [_get_zone(channel, alice).code() for _ in range(BURST)]  # type: ignore[attr-defined]
    limited = _get_zone(channel, alice)
    bobs = _get_zone(channel, bob)

    assert codes == [grpc.StatusCode.INVALID_ARGUMENT] * BURST  # within the burst: the servicer answers
    error = rich_error(limited)
    assert (error.code, error.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    status = rpc_status.from_call(limited)  # type: ignore[arg-type]
    details = {d.type_url.rsplit("/", 1)[1]: d for d in status.details}
    retry, quota = error_details_pb2.RetryInfo(), error_details_pb2.QuotaFailure()
    details["google.rpc.RetryInfo"].Unpack(retry)
    details["google.rpc.QuotaFailure"].Unpack(quota)
    assert 0 < retry.retry_delay.ToTimedelta().total_seconds() <= 30
    assert [v.subject for v in quota.violations] == ["caller:alice"]
    assert bobs.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]


def test_health_is_never_rate_limited(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)

    statuses = {health.Check(health_pb2.HealthCheckRequest(), timeout=10).status for _ in range(3 * BURST)}

    assert statuses == {health_pb2.HealthCheckResponse.SERVING}
