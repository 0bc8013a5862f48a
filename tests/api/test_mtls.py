"""Mode `mtls` (product 8.1): the handshake refuses clients without a certificate of our CA;
the caller is the SPIFFE id (else the common name) and its roles come from the roles file.

Probes reach health without a certificate on the plaintext health-only port
(BOOKING_HEALTH_LISTEN_ADDR); on the TLS port, health and reflection need a valid certificate
and no role.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2_grpc
from booking.v1 import common_pb2 as common
from booking_server.app import Application
from booking_server.rpc.auth_mtls import certificate_identity
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from sqlalchemy import Engine

from tests.support.processes import free_port
from tests.support.rpc_errors import rich_error
from tests.support.secured import migrated_engine, running_app
from tests.support.world import World
from tools.credentials import CLIENT_SPIFFE_ID, Issued, issue, make_all, make_ca, write_pair

READER_CN = "reporting-job"  # a certificate without SPIFFE id: the caller is its common name
STRANGER_CN = "stranger"  # a valid certificate whose caller the roles file does not list


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("mtls")
    make_all(directory)
    ca = Issued(
        x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes()),
        _load_key(directory / "ca-key.pem"),
    )
    write_pair(directory, "reader", issue(ca, READER_CN, names=[x509.DNSName("reader.local")], server=False))
    write_pair(directory, "stranger", issue(ca, STRANGER_CN, names=[x509.DNSName("x.local")], server=False))
    other_ca = make_ca("another CA")
    write_pair(
        directory, "foreign", issue(other_ca, "foreign", names=[x509.DNSName("f.local")], server=False)
    )
    roles = json.loads((directory / "roles.json").read_text())
    roles[READER_CN] = ["booking.reader"]
    (directory / "roles.json").write_text(json.dumps(roles))
    return directory


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


@pytest.fixture(scope="module")
def health_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def mtls_app(database_url: str, credentials: Path, health_port: int) -> Iterator[Application]:
    env = {
        "BOOKING_AUTH_MODE": "mtls",
        "BOOKING_AUTH_ROLES_FILE": str(credentials / "roles.json"),
        "BOOKING_TLS_CERT_FILE": str(credentials / "server.pem"),
        "BOOKING_TLS_KEY_FILE": str(credentials / "server-key.pem"),
        "BOOKING_TLS_CLIENT_CA_FILE": str(credentials / "ca.pem"),
        "BOOKING_HEALTH_LISTEN_ADDR": f"127.0.0.1:{health_port}",
    }
    engine: Engine
    with migrated_engine(database_url) as engine, running_app(engine, env) as app:
        yield app


def _channel(app: Application, credentials: Path, client: str | None) -> grpc.Channel:
    chain = (credentials / f"{client}.pem").read_bytes() if client else None
    key = (credentials / f"{client}-key.pem").read_bytes() if client else None
    tls = grpc.ssl_channel_credentials(
        root_certificates=(credentials / "ca.pem").read_bytes(), private_key=key, certificate_chain=chain
    )
    return grpc.secure_channel(f"localhost:{app.public.port}", tls)


def _get_zone_code(channel: grpc.Channel) -> grpc.StatusCode:
    with channel:
        try:
            booking_service_pb2_grpc.BookingServiceStub(channel).GetZone(
                pb.GetZoneRequest(zone_id="x"), timeout=10
            )
        except grpc.RpcError as raised:
            return raised.code()  # type: ignore[attr-defined,no-any-return]
    return grpc.StatusCode.OK


@pytest.mark.parametrize("client", [None, "foreign"], ids=["no certificate", "certificate of another CA"])
def test_the_handshake_refuses_a_client_without_a_certificate_of_our_ca(
    mtls_app: Application, credentials: Path, client: str | None
) -> None:
    assert _get_zone_code(_channel(mtls_app, credentials, client)) == grpc.StatusCode.UNAVAILABLE


def test_a_valid_certificate_with_the_role_reaches_the_servicer(
    mtls_app: Application, credentials: Path
) -> None:
    # The SPIFFE client holds every role; the CN-only reader holds booking.reader.
    assert _get_zone_code(_channel(mtls_app, credentials, "client")) == grpc.StatusCode.INVALID_ARGUMENT
    assert _get_zone_code(_channel(mtls_app, credentials, "reader")) == grpc.StatusCode.INVALID_ARGUMENT


def test_a_valid_certificate_without_the_role_is_permission_denied(
    mtls_app: Application, credentials: Path
) -> None:
    with _channel(mtls_app, credentials, "reader") as channel, pytest.raises(grpc.RpcError) as raised:
        booking_service_pb2_grpc.BookingServiceStub(channel).CreateZone(pb.CreateZoneRequest(), timeout=10)

    error = rich_error(raised.value)
    assert (error.code, error.reason, error.metadata) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "PERMISSION_DENIED",
        {"required_role": "booking.operator"},
    )
    assert _get_zone_code(_channel(mtls_app, credentials, "stranger")) == grpc.StatusCode.PERMISSION_DENIED


def test_health_and_reflection_answer_a_valid_certificate_without_roles(
    mtls_app: Application, credentials: Path
) -> None:
    with _channel(mtls_app, credentials, "stranger") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=10
        )
        answers = list(
            reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10
            )
        )

    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert "booking.v1.BookingService" in {s.name for s in answers[0].list_services_response.service}


def test_probes_reach_health_in_plaintext_on_the_health_port(mtls_app: Application, health_port: int) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{health_port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="booking.v1.BookingService"), timeout=10
        )
        with pytest.raises(grpc.RpcError) as raised:
            booking_service_pb2_grpc.BookingServiceStub(channel).GetZone(
                pb.GetZoneRequest(zone_id="x"), timeout=10
            )

    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED  # type: ignore[attr-defined]


def test_an_assignment_reads_the_built_in_directory_in_mtls_mode(
    mtls_app: Application, credentials: Path
) -> None:
    with _channel(mtls_app, credentials, "client") as channel:
        world = World(
            booking=booking_service_pb2_grpc.BookingServiceStub(channel),
            directory=trainer_directory_pb2_grpc.TrainerDirectoryServiceStub(channel),
        )
        world.create_zone()
        trainer_id = world.add_trainer()
        response = world.booking.AutoAssignTrainer(world.request(), timeout=30)

    assert (response.purchase.status, response.purchase.trainer_id) == (
        common.PURCHASE_STATUS_ASSIGNED,
        trainer_id,
    )


def test_the_caller_of_a_spiffe_certificate_is_its_spiffe_id() -> None:
    ca = make_ca("ca")
    spiffe = issue(ca, "cn-ignored", names=[x509.UniformResourceIdentifier(CLIENT_SPIFFE_ID)], server=False)
    plain = issue(ca, "plain-cn", names=[x509.DNSName("a.local")], server=False)

    assert certificate_identity(spiffe.certificate) == CLIENT_SPIFFE_ID
    assert certificate_identity(plain.certificate) == "plain-cn"
