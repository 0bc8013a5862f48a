"""The read model an assignment writes, field by field, whatever the server's OS timezone.

Dates in the read model are the purchase sessions' civil dates. The old system shifted them
by the host's offset; here the same purchases are assigned by a server whose OS timezone is
Asia/Kolkata (in-process) and by one in America/New_York (a real `booking-service serve`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2_grpc
from booking.v1 import common_pb2 as common
from sqlalchemy import Engine

from tests.support.processes import serving
from tests.support.read_model import assert_read_model_matches, consecutive_dates
from tests.support.world import World, future_date, students


@pytest.fixture
def kolkata_os_timezone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The in-process server runs in this process: give the process the OS timezone."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _assign(world: World, **fields: object) -> pb.AutoAssignTrainerResponse:
    response = world.booking.AutoAssignTrainer(world.request(**fields))
    assert response.purchase.status == common.PURCHASE_STATUS_ASSIGNED, response.purchase.message
    stored = world.booking.ListPurchaseSessions(
        pb.ListPurchaseSessionsRequest(purchase_id=response.purchase.purchase_id)
    ).sessions
    assert list(stored) == list(response.sessions)  # the purchase sessions the read model must mirror
    return response


def _assign_and_check_every_kind(world: World, engine: Engine) -> None:
    world.add_trainer()
    start = future_date(45)

    # Just after midnight: a date computed through UTC or New York time would land a day early.
    daily = _assign(world, start_date=start, preferred_time_slot="00:20")
    rows = assert_read_model_matches(engine, daily)
    assert [r["scheduled_date"].isoformat() for r in rows] == consecutive_dates(start, 10)
    assert {r["scheduled_time"] for r in rows} == {"00:20"}

    # The latest slot: the second lesson of each Sunday ends exactly at midnight.
    sunday = _assign(
        world, delivery_mode=common.DELIVERY_MODE_SUNDAY_ONLY, start_date=start, preferred_time_slot="22:40"
    )
    rows = assert_read_model_matches(engine, sunday)
    days = [r["scheduled_date"] for r in rows]
    assert all(day.weekday() == 6 for day in days)
    assert len(set(days)) == 5
    assert [(r["scheduled_time"], r["duration"]) for r in rows] == [("22:40", 40), ("23:20", 40)] * 5

    hybrid = _assign(
        world,
        class_type=common.CLASS_TYPE_HYBRID,
        total_sessions=30,
        start_date=start,
        preferred_time_slot="18:00",
    )
    rows = assert_read_model_matches(engine, hybrid)
    assert [r["scheduled_date"].isoformat() for r in rows] == consecutive_dates(start, 30)
    online = [r["metadata"] for r in rows if r["metadata"]["sessionType"] == "online"]
    offline = [r["metadata"] for r in rows if r["metadata"]["sessionType"] == "offline"]
    assert len(online) == 18
    assert len(offline) == 12
    assert all(m["isFixedTime"] and not m["isBookable"] and not m["requiresBooking"] for m in online)
    assert all("initialTimeSlot" not in m for m in online)
    assert all(m["isBookable"] and m["requiresBooking"] and m["initialTimeSlot"] == "18:00" for m in offline)

    pair = students(2)
    two = _assign(
        world,
        class_type=common.CLASS_TYPE_ONE_ON_TWO,
        start_date=start,
        preferred_time_slot="12:00",
        students=pair,
    )
    rows = assert_read_model_matches(engine, two)
    assert {r["student"] for r in rows} == {s.id for s in pair}
    assert all(r["metadata"]["studentIds"] == [s.id for s in pair] for r in rows)


def test_every_kind_of_purchase_is_mirrored_field_by_field_by_a_server_in_kolkata(
    booking: booking_service_pb2_grpc.BookingServiceStub,
    directory: trainer_directory_pb2_grpc.TrainerDirectoryServiceStub,
    engine: Engine,
    kolkata_os_timezone: None,
) -> None:
    assert time.localtime().tm_gmtoff == 5 * 3600 + 1800
    world = World(booking=booking, directory=directory)
    world.create_zone()

    _assign_and_check_every_kind(world, engine)


@pytest.mark.slow
def test_every_kind_of_purchase_is_mirrored_field_by_field_by_a_server_in_new_york(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    env = {
        "BOOKING_DATABASE_URL": database_url,
        "BOOKING_RECONCILER_INTERVAL_SECONDS": "0",
        "BOOKING_CERTIFICATE_SWEEP_INTERVAL_SECONDS": "0",
        "BOOKING_PROMOTION_INTERVAL_SECONDS": "0",
        "BOOKING_PROMOTION_POLL_SECONDS": "0",
        "BOOKING_LOG_LEVEL": "warning",
        "TZ": "America/New_York",
    }
    with (
        serving(env, log_dir=tmp_path, name="new-york") as server,
        grpc.insecure_channel(server.address) as channel,
    ):
        world = World(
            booking=booking_service_pb2_grpc.BookingServiceStub(channel),
            directory=trainer_directory_pb2_grpc.TrainerDirectoryServiceStub(channel),
        )
        world.create_zone()

        _assign_and_check_every_kind(world, engine)

        assert server.terminate() == 0, server.describe()
    assert "read_model_sync_failed" not in server.stderr()
