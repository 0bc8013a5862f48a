"""The real `booking-service serve` process, driven with grpcurl and with the generated client.

The module's server runs exactly as `make run` does: no BOOKING_DATABASE_URL, so it starts an
embedded PostgreSQL under a fresh BOOKING_DATA_DIR. Other tests start their own processes to
watch startup refusal, health following the database, and shutdown.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pgserver
import psycopg
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2, trainer_directory_pb2_grpc
from booking.v1 import common_pb2 as common
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc
from psycopg import sql

from bench.pg import start_cluster
from tests.support.demo import (
    DEMO_CENTRAL_ZONE,
    DEMO_TRAINER_PREFIX,
    demo_request,
    in_days,
)
from tests.support.factories import trainer_message, zone_message
from tests.support.processes import (
    HEALTH_NAMES,
    NAMED_SERVICES,
    NOT_SERVING,
    SERVING,
    ServerProcess,
    embedded_pgdata,
    grpcurl_json,
    lines,
    postgres_processes,
    run_cli,
    run_grpcurl,
    service_env,
    serving,
    spawn_server,
    stop_postgres,
    wait_for_health,
    wait_until_serving,
)
from tests.support.rpc_errors import rich_error

# The contract: health notices the database going away (and coming back) within 10 s.
HEALTH_DEADLINE_SECONDS = 10.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`serve` on its own embedded database, with the demo data loaded by `seed-demo`."""
    data_dir = Path(tempfile.mkdtemp(prefix="bke2e-"))
    try:
        with serving(
            {"BOOKING_DATA_DIR": str(data_dir)}, log_dir=tmp_path_factory.mktemp("serve")
        ) as running:
            seeded = run_cli("seed-demo", running.env)
            assert seeded.returncode == 0, seeded.stderr
            yield running
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def channel(server: ServerProcess) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as ch:
        yield ch


def _as_json(message: Any) -> str:
    return json_format.MessageToJson(message, preserving_proto_field_name=True)


# --- grpcurl -------------------------------------------------------------------------------


def test_grpcurl_lists_both_services_and_health_through_reflection(server: ServerProcess) -> None:
    result = run_grpcurl(server.address, "list")

    assert result.returncode == 0, result.stderr
    assert {
        "booking.v1.BookingService",
        "booking.v1.TrainerDirectoryService",
        "grpc.health.v1.Health",
    } <= set(lines(result.stdout))


def test_grpcurl_describes_the_booking_service(server: ServerProcess) -> None:
    result = run_grpcurl(server.address, "describe", "booking.v1.BookingService")

    assert result.returncode == 0, result.stderr
    assert "booking.v1.BookingService is a service:" in result.stdout
    assert "rpc AutoAssignTrainer ( .booking.v1.AutoAssignTrainerRequest )" in result.stdout
    assert "rpc BlockTrainerTime ( .booking.v1.BlockTrainerTimeRequest )" in result.stdout


@pytest.mark.parametrize("service", HEALTH_NAMES)
def test_grpcurl_health_check_is_serving(server: ServerProcess, service: str) -> None:
    answer = grpcurl_json(server.address, "grpc.health.v1.Health/Check", {"service": service})

    assert answer == {"status": "SERVING"}


def test_a_trainer_upserted_with_grpcurl_is_listed_by_its_course(server: ServerProcess) -> None:
    trainer = trainer_message(display_name="Ravi Kumar")
    course_id = trainer.certified_course_ids[0]

    stored = grpcurl_json(
        server.address,
        "booking.v1.TrainerDirectoryService/UpsertTrainer",
        f'{{"trainer": {_as_json(trainer)}}}',
    )
    listed = grpcurl_json(
        server.address, "booking.v1.TrainerDirectoryService/ListTrainers", {"course_id": course_id}
    )

    assert stored["trainer"]["trainer_id"] == trainer.trainer_id
    assert "update_time" in stored["trainer"]
    assert [t["trainer_id"] for t in listed["trainers"]] == [trainer.trainer_id]
    assert listed["trainers"][0]["display_name"] == "Ravi Kumar"
    assert listed["trainers"][0]["certified_course_ids"] == [course_id]


def test_a_zone_created_with_grpcurl_is_found_at_its_centre(server: ServerProcess) -> None:
    zone = zone_message()

    created = grpcurl_json(
        server.address, "booking.v1.BookingService/CreateZone", f'{{"zone": {_as_json(zone)}}}'
    )
    found = grpcurl_json(
        server.address, "booking.v1.BookingService/FindZones", {"location": _as_json_dict(zone.center)}
    )

    zone_id = created["zone"]["zone_id"]
    assert created["zone"]["name"] == zone.name
    assert [m["zone"]["zone_id"] for m in found["matches"]] == [zone_id]
    assert found["matches"][0].get("distance_km", 0.0) < 0.001


def test_seed_demo_runs_again_beside_serve_and_leaves_the_shared_database_running(
    server: ServerProcess,
) -> None:
    result = run_cli("seed-demo", server.env)

    assert result.returncode == 0, result.stderr
    zone = grpcurl_json(server.address, "booking.v1.BookingService/GetZone", {"zone_id": DEMO_CENTRAL_ZONE})
    assert zone["zone"]["name"] == "Demo Hyderabad Central"
    # seed-demo's exit must not stop the embedded PostgreSQL the server still uses.
    for name in NAMED_SERVICES:
        assert grpcurl_json(server.address, "grpc.health.v1.Health/Check", {"service": name}) == {
            "status": "SERVING"
        }


def test_grpcurl_auto_assign_on_demo_data_assigns_a_demo_trainer(server: ServerProcess) -> None:
    body = demo_request(start_date=in_days(30), time_slot="16:00")

    answer = grpcurl_json(server.address, "booking.v1.BookingService/AutoAssignTrainer", body)

    purchase = answer["purchase"]
    assert purchase["status"] == "PURCHASE_STATUS_ASSIGNED", answer
    assert purchase["booking_id"] == body["booking_id"]
    assert purchase["zone_id"] == DEMO_CENTRAL_ZONE
    assert purchase["trainer_id"].startswith(DEMO_TRAINER_PREFIX)
    assert [s["session_date"] for s in answer["sessions"]] == [in_days(30 + i) for i in range(10)]
    assert answer["decision"]["ranked_trainer_ids"][0] == purchase["trainer_id"]
    again = grpcurl_json(server.address, "booking.v1.BookingService/AutoAssignTrainer", body)
    assert again["purchase"]["purchase_id"] == purchase["purchase_id"]


def test_grpcurl_reports_a_malformed_id_as_invalid_argument(server: ServerProcess) -> None:
    result = run_grpcurl(
        server.address, "booking.v1.BookingService/GetPurchase", data={"purchase_id": "not-a-uuid"}
    )

    assert result.returncode != 0
    assert "Code: InvalidArgument" in result.stderr
    assert '"reason":"INVALID_REQUEST"' in result.stderr.replace(" ", "")
    assert '"field":"purchase_id"' in result.stderr.replace(" ", "")


def _schedule_with_grpcurl(server: ServerProcess, trainer_id: str, first: str, last: str) -> list[Any]:
    body = {"trainer_id": trainer_id, "from_date": first, "to_date": last}
    return grpcurl_json(server.address, "booking.v1.BookingService/GetTrainerSchedule", body).get("slots", [])


def test_grpcurl_reschedules_substitutes_and_cancels_and_the_schedules_follow(server: ServerProcess) -> None:
    call = "booking.v1.BookingService/"
    body = demo_request(start_date=in_days(90), time_slot="07:00")
    assigned = grpcurl_json(server.address, call + "AutoAssignTrainer", body)
    purchase_id, trainer = assigned["purchase"]["purchase_id"], assigned["purchase"]["trainer_id"]
    first, last = in_days(85), in_days(130)
    assert len(_schedule_with_grpcurl(server, trainer, first, last)) == 10

    second = assigned["sessions"][1]["session_id"]
    moved = grpcurl_json(
        server.address,
        call + "RescheduleSession",
        {"session_id": second, "new_date": in_days(120), "new_time": "07:20"},
    )["session"]
    assert (moved["status"], moved["session_date"], moved["trainer_id"]) == (
        "SESSION_STATUS_RESCHEDULED",
        in_days(120),
        trainer,
    )
    slots = {s["session_id"]: s for s in _schedule_with_grpcurl(server, trainer, first, last)}
    assert (slots[second]["date"], slots[second]["start_time"]) == (in_days(120), "07:20")

    substituted = grpcurl_json(
        server.address, call + "SubstituteTrainer", {"purchase_id": purchase_id, "reason": "trainer left"}
    )
    new_trainer = substituted["purchase"]["trainer_id"]
    assert new_trainer != trainer
    assert new_trainer.startswith(DEMO_TRAINER_PREFIX)
    assert _schedule_with_grpcurl(server, trainer, first, last) == []
    assert len(_schedule_with_grpcurl(server, new_trainer, first, last)) == 10

    cancelled = grpcurl_json(
        server.address, call + "CancelPurchase", {"purchase_id": purchase_id, "reason": "moved away"}
    )["purchase"]
    assert (cancelled["status"], cancelled["cancellation_reason"]) == (
        "PURCHASE_STATUS_CANCELLED",
        "moved away",
    )
    assert _schedule_with_grpcurl(server, new_trainer, first, last) == []


def test_grpcurl_blocks_and_unblocks_time_by_slot_id(server: ServerProcess) -> None:
    call = "booking.v1.BookingService/"
    trainer = "d3e07000-0000-4000-8000-000000000002"
    day = in_days(140)
    block = {"trainer_id": trainer, "date": day, "start_time": "05:00", "duration_minutes": 30, "reason": "x"}
    slot = grpcurl_json(server.address, call + "BlockTrainerTime", block)["slot"]

    assert grpcurl_json(server.address, call + "UnblockTrainerTime", {"slot_id": slot["slot_id"]}) == {}
    assert _schedule_with_grpcurl(server, trainer, day, day) == []
    again = run_grpcurl(server.address, call + "UnblockTrainerTime", data={"slot_id": slot["slot_id"]})
    assert again.returncode != 0
    assert "Code: NotFound" in again.stderr


# --- the generated Python client -------------------------------------------------------------


def test_the_generated_client_sees_every_service_serving(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)

    for name in HEALTH_NAMES:
        assert health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5).status == SERVING


def test_the_generated_client_upserts_and_lists_trainers(channel: grpc.Channel) -> None:
    directory = trainer_directory_pb2_grpc.TrainerDirectoryServiceStub(channel)
    trainer = trainer_message()

    directory.UpsertTrainer(trainer_directory_pb2.UpsertTrainerRequest(trainer=trainer), timeout=10)
    listed = directory.ListTrainers(
        trainer_directory_pb2.ListTrainersRequest(course_id=trainer.certified_course_ids[0]), timeout=10
    )

    assert [t.trainer_id for t in listed.trainers] == [trainer.trainer_id]
    assert listed.next_page_token == ""


def test_the_generated_client_creates_and_finds_zones(channel: grpc.Channel) -> None:
    booking = booking_service_pb2_grpc.BookingServiceStub(channel)
    zone = zone_message(radius_km=8.0)

    created = booking.CreateZone(pb.CreateZoneRequest(zone=zone), timeout=10).zone
    found = booking.FindZones(pb.FindZonesRequest(location=zone.center), timeout=10)

    assert [m.zone.zone_id for m in found.matches] == [created.zone_id]
    assert found.matches[0].zone.radius_km == 8.0


def test_the_generated_client_auto_assigns_on_demo_data(channel: grpc.Channel) -> None:
    booking = booking_service_pb2_grpc.BookingServiceStub(channel)
    request = json_format.ParseDict(
        demo_request(start_date=in_days(60), time_slot="10:00"), pb.AutoAssignTrainerRequest()
    )

    response = booking.AutoAssignTrainer(request, timeout=30)

    assert response.purchase.status == common.PURCHASE_STATUS_ASSIGNED
    assert response.purchase.trainer_id.startswith(DEMO_TRAINER_PREFIX)
    assert response.decision.zone.name == "Demo Hyderabad Central"
    assert len(response.sessions) == 10
    # The decision says what the directory was asked: the zone's company trainers of the course.
    query = response.decision.candidate_query
    assert (query.zone_id, query.company_only) == (response.decision.zone.zone_id, True)
    assert query.trainers_returned >= 1
    assert "WRONG_OPERATOR" not in {r.reason for r in response.decision.rejections}


def test_the_generated_client_gets_invalid_argument_for_a_malformed_id(channel: grpc.Channel) -> None:
    booking = booking_service_pb2_grpc.BookingServiceStub(channel)

    with pytest.raises(grpc.RpcError) as failure:
        booking.GetPurchase(pb.GetPurchaseRequest(purchase_id="not-a-uuid"), timeout=10)

    error = rich_error(failure.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_REQUEST"
    assert error.domain == "booking.v1"
    assert "purchase_id" in error.violations


# --- process lifecycle -------------------------------------------------------------------------


def test_sigterm_exits_0_and_stops_the_embedded_postgres(
    short_dir: Callable[[str], Path], log_dir: Path
) -> None:
    data_dir = short_dir("bke2e-")
    server = spawn_server({"BOOKING_DATA_DIR": str(data_dir)}, log_dir=log_dir)
    try:
        wait_until_serving(server)
        pgdata = embedded_pgdata(data_dir)
        assert postgres_processes(pgdata), "the embedded postgres should run while serving"

        started = time.monotonic()
        exit_code = server.terminate(timeout_seconds=15)
        elapsed = time.monotonic() - started

        assert exit_code == 0, server.describe()
        assert elapsed < 10, f"shutdown took {elapsed:.1f} s"
        _wait_for(lambda: not postgres_processes(pgdata), timeout_seconds=10, what="postgres to stop")
        assert '"event": "server_stopped"' in server.stderr()
    finally:
        server.kill()
        stop_postgres(embedded_pgdata(data_dir))


def test_after_a_kill_9_the_next_server_adopts_the_embedded_postgres_and_stops_it_on_exit(
    short_dir: Callable[[str], Path], log_dir: Path
) -> None:
    """pgserver keeps the killed server's pid as a user of the cluster; it must not keep PostgreSQL up."""
    data_dir = short_dir("bke2e-")
    env = {"BOOKING_DATA_DIR": str(data_dir)}
    pgdata = embedded_pgdata(data_dir)
    first = spawn_server(env, log_dir=log_dir, name="first")
    second = None
    try:
        wait_until_serving(first)
        first.process.kill()  # SIGKILL: no atexit, so pgserver keeps its pid as a user
        first.process.wait(timeout=10)
        assert postgres_processes(pgdata), "a killed server cannot stop its embedded postgres"

        second = spawn_server(env, log_dir=log_dir, name="second")
        wait_until_serving(second)
        assert second.events("embedded_postgres_started")
        assert second.events("embedded_postgres_dead_users_dropped")
        assert second.terminate(timeout_seconds=15) == 0, second.describe()

        _wait_for(lambda: not postgres_processes(pgdata), timeout_seconds=10, what="postgres to stop")
    finally:
        first.kill()
        if second is not None:
            second.kill()
        stop_postgres(pgdata)


def test_a_second_server_on_the_same_data_dir_says_it_joined_and_the_first_keeps_serving(
    short_dir: Callable[[str], Path], log_dir: Path
) -> None:
    data_dir = short_dir("bke2e-")
    env = {"BOOKING_DATA_DIR": str(data_dir)}
    with serving(env, log_dir=log_dir, name="first") as first:
        second = spawn_server(env, log_dir=log_dir, name="second")
        try:
            wait_until_serving(second)
            assert first.events("embedded_postgres_started")
            assert second.events("embedded_postgres_joined")
            assert not second.events("embedded_postgres_started")
        finally:
            assert second.terminate(timeout_seconds=15) == 0, second.describe()
        # The second's exit left the database to the first.
        wait_until_serving(first, timeout_seconds=5)


def test_serve_refuses_an_unmigrated_database_until_migrate_runs(
    empty_database_url: str, log_dir: Path
) -> None:
    env = {"BOOKING_DATABASE_URL": empty_database_url}

    refused = run_cli("serve", service_env(env), timeout_seconds=60)

    assert refused.returncode != 0
    assert "booking-service migrate" in refused.stderr

    migrated = run_cli("migrate", service_env(env))
    assert migrated.returncode == 0, migrated.stderr

    with serving(env, log_dir=log_dir) as server, grpc.insecure_channel(server.address) as channel:
        booking = booking_service_pb2_grpc.BookingServiceStub(channel)
        assert list(booking.ListZones(pb.ListZonesRequest(), timeout=10).zones) == []
        assert server.terminate() == 0, server.describe()


@pytest.fixture
def own_postgres(short_dir: Callable[[str], Path]) -> Iterator[tuple[str, Path, Path]]:
    """A PostgreSQL this test stops and starts: (database URL, pgdata, socket dir)."""
    pgdata = short_dir("bkpg-") / "pg"
    handle = pgserver.get_server(pgdata, cleanup_mode=None)  # this test, not pgserver, stops it
    try:
        socket_dir = handle.get_postmaster_info().socket_dir
        with psycopg.connect(handle.get_uri(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier("booking")))
        yield f"postgresql+psycopg://postgres@/booking?host={socket_dir}", pgdata, socket_dir
    finally:
        stop_postgres(pgdata)


def test_health_follows_the_database_down_and_back_up(
    own_postgres: tuple[str, Path, Path], log_dir: Path
) -> None:
    url, pgdata, socket_dir = own_postgres
    env = {"BOOKING_DATABASE_URL": url, "BOOKING_HEALTH_POLL_SECONDS": "0.5"}

    assert run_cli("migrate", service_env(env)).returncode == 0
    with serving(env, log_dir=log_dir) as server, grpc.insecure_channel(server.address) as channel:
        booking = booking_service_pb2_grpc.BookingServiceStub(channel)

        stop_postgres(pgdata)
        assert not postgres_processes(pgdata)
        wait_for_health(
            server,
            {"": SERVING, **dict.fromkeys(NAMED_SERVICES, NOT_SERVING)},
            timeout_seconds=HEALTH_DEADLINE_SECONDS,
        )
        with pytest.raises(grpc.RpcError) as failure:
            booking.ListZones(pb.ListZonesRequest(), timeout=10)
        error = rich_error(failure.value)
        assert (error.code, error.reason) == (grpc.StatusCode.UNAVAILABLE, "DATABASE_UNAVAILABLE")

        start_cluster(pgdata, socket_dir=socket_dir)
        wait_for_health(server, dict.fromkeys(HEALTH_NAMES, SERVING), timeout_seconds=HEALTH_DEADLINE_SECONDS)
        created = booking.CreateZone(pb.CreateZoneRequest(zone=zone_message()), timeout=10).zone
        assert booking.GetZone(pb.GetZoneRequest(zone_id=created.zone_id), timeout=10).zone == created
        assert server.terminate() == 0, server.describe()


def _as_json_dict(message: Any) -> dict[str, Any]:
    result: dict[str, Any] = json_format.MessageToDict(message, preserving_proto_field_name=True)
    return result


def _wait_for(condition: Callable[[], bool], *, timeout_seconds: float, what: str) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
