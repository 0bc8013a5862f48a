"""Prometheus metrics (product 8.3): exact counts by final code after a known sequence of calls.

The scrape is parsed with prometheus_client's own text parser, as Prometheus would read it.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2_grpc
from booking.v1 import common_pb2 as common
from booking_server.app import Application
from booking_server.db.backlog import Backlog, read_backlog
from cryptography.hazmat.primitives.asymmetric import ec
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from tests.support.secured import bearer, jwt_env, migrated_engine, running_app, with_token
from tests.support.world import World
from tools.credentials import ALL_ROLES, mint_token

BOOKING = "booking.v1.BookingService"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def metered_app(database_url: str, dev_credentials: Path) -> Iterator[Application]:
    env = {**jwt_env(dev_credentials), "BOOKING_METRICS_ADDR": "127.0.0.1:0"}
    with migrated_engine(database_url) as engine, running_app(engine, env) as app:
        yield app


def scrape(app: Application) -> Samples:
    assert app.metrics_server is not None
    with urllib.request.urlopen(
        f"http://127.0.0.1:{app.metrics_server.server_port}/metrics", timeout=10
    ) as r:
        text = r.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _world(channel: grpc.Channel, token: str) -> World:
    """A zone of its own, created through stubs that send `token` with every call."""
    authorized = with_token(channel, token)
    world = World(
        booking=booking_service_pb2_grpc.BookingServiceStub(authorized),
        directory=trainer_directory_pb2_grpc.TrainerDirectoryServiceStub(authorized),
    )
    world.create_zone()
    return world


def grpc_labels(method: str, **extra: str) -> tuple[tuple[str, str], ...]:
    service = "grpc.health.v1.Health" if method == "Check" else BOOKING
    if method in ("UpsertTrainer",):
        service = "booking.v1.TrainerDirectoryService"
    labels = {"grpc_type": "unary", "grpc_service": service, "grpc_method": method, **extra}
    return tuple(sorted(labels.items()))


def test_a_known_sequence_of_calls_shows_exact_counts_by_code_and_moves_the_business_counters(
    metered_app: Application, jwt_key: ec.EllipticCurvePrivateKey
) -> None:
    everything = mint_token(jwt_key, subject="ops", roles=list(ALL_ROLES))
    reader = mint_token(jwt_key, subject="reader", roles=["booking.reader"])
    with grpc.insecure_channel(f"127.0.0.1:{metered_app.public.port}") as plain:
        stub = booking_service_pb2_grpc.BookingServiceStub(plain)
        for metadata in [(), bearer(reader), bearer(reader)]:  # Unauthenticated, then InvalidArgument x2
            with pytest.raises(grpc.RpcError):
                stub.GetZone(pb.GetZoneRequest(zone_id="x"), metadata=metadata)
        with pytest.raises(grpc.RpcError):  # PermissionDenied
            stub.CreateZone(pb.CreateZoneRequest(), metadata=bearer(reader))
        health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest())
        world = _world(plain, everything)
        world.add_trainer()
        assigned = world.booking.AutoAssignTrainer(world.request())
        world.booking.AutoAssignTrainer(world.request(validate_only=True))
        waiting = world.booking.AutoAssignTrainer(world.request())  # the only trainer is taken
    samples = scrape(metered_app)

    handled = {
        key: value for key, value in samples.items() if key[0] == "grpc_server_handled_total" and value
    }
    assert handled == {
        ("grpc_server_handled_total", grpc_labels("GetZone", grpc_code="Unauthenticated")): 1,
        ("grpc_server_handled_total", grpc_labels("GetZone", grpc_code="InvalidArgument")): 2,
        ("grpc_server_handled_total", grpc_labels("CreateZone", grpc_code="PermissionDenied")): 1,
        ("grpc_server_handled_total", grpc_labels("CreateZone", grpc_code="OK")): 1,
        ("grpc_server_handled_total", grpc_labels("UpsertTrainer", grpc_code="OK")): 1,
        ("grpc_server_handled_total", grpc_labels("AutoAssignTrainer", grpc_code="OK")): 3,
        ("grpc_server_handled_total", grpc_labels("Check", grpc_code="OK")): 1,
    }
    assert samples[("grpc_server_started_total", grpc_labels("GetZone"))] == 3
    assert samples[("grpc_server_msg_received_total", grpc_labels("GetZone"))] == 3
    assert samples[("grpc_server_msg_sent_total", grpc_labels("AutoAssignTrainer"))] == 3
    assert samples[("grpc_server_handling_seconds_count", grpc_labels("AutoAssignTrainer"))] == 3
    assert (assigned.purchase.status, waiting.purchase.status) == (
        common.PURCHASE_STATUS_ASSIGNED,
        common.PURCHASE_STATUS_WAITLISTED,
    )
    # The dry run is not an assignment, but it did read the directory.
    assert samples[("booking_assignments_total", (("outcome", "ASSIGNED"),))] == 1
    assert samples[("booking_assignments_total", (("outcome", "WAITLISTED"),))] == 1
    assert samples[("booking_assignment_duration_seconds_count", ())] == 2
    assert samples[("booking_directory_requests_total", (("outcome", "ok"),))] == 3
    assert samples[("booking_directory_breaker_open", ())] == 0
    assert samples[("booking_promotions_total", ())] == 0
    assert samples[("booking_watch_streams", ())] == 0
    for gauge in ("booking_waitlisted_purchases", "booking_read_model_unsynced_sessions"):
        assert (gauge, ()) in samples
    assert ("booking_db_pool_connections_in_use", ()) in samples


def test_the_backlog_counts_waiting_purchases_and_sessions_the_read_model_lacks(
    metered_app: Application, jwt_key: ec.EllipticCurvePrivateKey
) -> None:
    token = mint_token(jwt_key, subject="ops", roles=list(ALL_ROLES))
    with grpc.insecure_channel(f"127.0.0.1:{metered_app.public.port}") as plain:
        world = _world(plain, token)
        world.add_trainer()
        world.booking.AutoAssignTrainer(world.request(total_sessions=10))
        world.booking.AutoAssignTrainer(world.request())  # waits: the only trainer is taken
    before = read_backlog(metered_app.engine)
    with metered_app.engine.begin() as conn:
        conn.execute(text("DELETE FROM tutoring_sessions"))  # this test's own database

    assert before == Backlog(waitlisted_purchases=1, unsynced_sessions=0)
    assert read_backlog(metered_app.engine) == Backlog(waitlisted_purchases=1, unsynced_sessions=10)
