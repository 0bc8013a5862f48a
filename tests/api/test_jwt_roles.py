"""Every RPC in mode `jwt`, table-driven from the descriptors and the role table (product 8.1).

For each RPC the services declare: no credentials, an expired token, a token signed by another
key, `alg: none`, the wrong audience and a caller without the role are refused before any
validation (the empty request would be INVALID_ARGUMENT); a caller with the role gets past
authentication and authorization. A new RPC joins this table by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import jwt
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc
from booking.v1 import common_pb2 as common
from booking_server.app import Application
from booking_server.rpc.roles import ROLE_TABLE, required_role
from cryptography.hazmat.primitives.asymmetric import ec
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from sqlalchemy import Engine

from tests.support.logs import captured_logs
from tests.support.rpc_errors import rich_error
from tests.support.secured import Rpc, bearer, every_rpc, jwt_env, migrated_engine, running_app
from tools.credentials import AUDIENCE, ISSUER, mint_token

Metadata = tuple[tuple[str, str], ...]
REFUSED = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


@pytest.fixture(scope="module")
def own_engine(database_url: str) -> Iterator[Engine]:
    with migrated_engine(database_url) as engine:
        yield engine


@pytest.fixture(scope="module")
def jwt_app(own_engine: Engine, dev_credentials: Path) -> Iterator[Application]:
    with running_app(own_engine, jwt_env(dev_credentials)) as app:
        yield app


@pytest.fixture(scope="module")
def channel(jwt_app: Application) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{jwt_app.public.port}") as ch:
        yield ch


def _all_roles_but(role: str) -> list[str]:
    return [r for r in ROLE_TABLE if r != role]


def _alg_none(jwt_key: ec.EllipticCurvePrivateKey, role: str) -> str:
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "mallory",
        "roles": [role],
        "exp": int(time.time()) + 300,
    }
    return jwt.encode(claims, None, algorithm="none", headers={"kid": "dev"})


CASES: dict[str, tuple[Callable[[ec.EllipticCurvePrivateKey, str], Metadata], grpc.StatusCode]] = {
    "no credentials": (lambda k, role: (), grpc.StatusCode.UNAUTHENTICATED),
    "expired token": (
        lambda k, role: bearer(mint_token(k, subject="late", roles=[role], ttl_seconds=-300)),
        grpc.StatusCode.UNAUTHENTICATED,
    ),
    "token signed by another key": (
        lambda k, role: bearer(
            mint_token(ec.generate_private_key(ec.SECP256R1()), subject="x", roles=[role])
        ),
        grpc.StatusCode.UNAUTHENTICATED,
    ),
    "alg none": (lambda k, role: bearer(_alg_none(k, role)), grpc.StatusCode.UNAUTHENTICATED),
    "wrong audience": (
        lambda k, role: bearer(mint_token(k, subject="x", roles=[role], audience="another-service")),
        grpc.StatusCode.UNAUTHENTICATED,
    ),
    "caller without the role": (
        lambda k, role: bearer(mint_token(k, subject="other", roles=_all_roles_but(role))),
        grpc.StatusCode.PERMISSION_DENIED,
    ),
}


@pytest.mark.parametrize("rpc", every_rpc(), ids=lambda rpc: rpc.path.rsplit("/", 1)[1])
def test_each_rpc_refuses_bad_credentials_and_callers_without_its_role(
    rpc: Rpc, channel: grpc.Channel, jwt_key: ec.EllipticCurvePrivateKey
) -> None:
    role = required_role(rpc.path)
    assert role is not None, f"{rpc.path} has no row in the role table"
    outcomes = {}
    for case, (metadata, _) in CASES.items():
        with pytest.raises(grpc.RpcError) as raised:
            rpc.call(channel, metadata(jwt_key, role))
        error = rich_error(raised.value)
        outcomes[case] = (error.code, error.reason, error.metadata.get("required_role"))

    assert outcomes == {
        case: (code, code.name, role if code == grpc.StatusCode.PERMISSION_DENIED else None)
        for case, (_, code) in CASES.items()
    }


@pytest.mark.parametrize("rpc", every_rpc(), ids=lambda rpc: rpc.path.rsplit("/", 1)[1])
def test_each_rpc_lets_a_caller_with_its_role_through(
    rpc: Rpc, channel: grpc.Channel, jwt_key: ec.EllipticCurvePrivateKey
) -> None:
    role = required_role(rpc.path)
    assert role is not None
    token = mint_token(jwt_key, subject="svc", roles=[role])
    code = grpc.StatusCode.OK
    try:
        rpc.call(channel, bearer(token))
    except grpc.RpcError as raised:
        # The empty request may be invalid or name nothing: that is the servicer answering.
        code = raised.code()  # type: ignore[attr-defined]

    assert code not in REFUSED


def test_a_refused_write_writes_nothing(channel: grpc.Channel, jwt_key: ec.EllipticCurvePrivateKey) -> None:
    booking = booking_service_pb2_grpc.BookingServiceStub(channel)
    zone_id = "5c0a7e1e-2f4b-4c55-9d3a-0000000000aa"
    zone = common.Zone(zone_id=zone_id, name="refused", center=common.GeoPoint(), radius_km=1, active=True)
    reader = bearer(mint_token(jwt_key, subject="reader", roles=["booking.reader"]))

    with pytest.raises(grpc.RpcError) as refused:
        booking.CreateZone(pb.CreateZoneRequest(zone=zone), metadata=reader)
    with pytest.raises(grpc.RpcError) as lookup:
        booking.GetZone(pb.GetZoneRequest(zone_id=zone_id), metadata=reader)

    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED  # type: ignore[attr-defined]
    assert lookup.value.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]


def test_health_and_reflection_answer_without_credentials(
    jwt_app: Application, channel: grpc.Channel
) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service="booking.v1.BookingService"), timeout=5)
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    answers = list(
        reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
    )

    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert "booking.v1.BookingService" in {s.name for s in answers[0].list_services_response.service}


def test_the_caller_is_logged_with_the_rpc_and_the_token_never_is(
    channel: grpc.Channel, jwt_key: ec.EllipticCurvePrivateKey
) -> None:
    booking = booking_service_pb2_grpc.BookingServiceStub(channel)
    token = mint_token(jwt_key, subject="svc-logged", roles=["booking.reader"])
    with captured_logs() as logs:
        with pytest.raises(grpc.RpcError):
            booking.GetZone(pb.GetZoneRequest(zone_id="nope"), metadata=bearer(token))
        with pytest.raises(grpc.RpcError):
            booking.CreateZone(pb.CreateZoneRequest(), metadata=bearer(token))

    handled = [e for e in logs if e["event"] in ("rpc_handled", "rpc_refused")]
    assert [(e["event"], e["caller"], e["code"]) for e in handled] == [
        ("rpc_handled", "svc-logged", "INVALID_ARGUMENT"),
        ("rpc_refused", "svc-logged", "PERMISSION_DENIED"),
    ]
    assert token not in repr(logs)
    assert token.split(".")[2] not in repr(logs)
