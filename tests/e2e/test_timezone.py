"""The OS timezone of the process changes nothing: civil dates follow BOOKING_TIMEZONE only.

Two replicas share the test database, one run with TZ=America/New_York and one with
TZ=Asia/Kolkata; neither sets BOOKING_TIMEZONE, so both must work in Asia/Kolkata.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2_grpc
from booking.v1 import common_pb2 as common

from tests.support.processes import serving
from tests.support.rpc_errors import rich_error
from tests.support.world import World, students

BUSINESS_ZONE = ZoneInfo("Asia/Kolkata")
OS_ZONES = ("America/New_York", "Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def replicas(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, grpc.Channel]]:
    """A channel to a replica per OS timezone."""
    log_dir = tmp_path_factory.mktemp("timezones")
    env = {
        "BOOKING_DATABASE_URL": database_url,
        "BOOKING_PROMOTION_INTERVAL_SECONDS": "0",
        "BOOKING_PROMOTION_POLL_SECONDS": "0",
    }
    with (
        serving({**env, "TZ": OS_ZONES[0]}, log_dir=log_dir, name="new-york") as new_york,
        serving({**env, "TZ": OS_ZONES[1]}, log_dir=log_dir, name="kolkata") as kolkata,
        grpc.insecure_channel(new_york.address) as first,
        grpc.insecure_channel(kolkata.address) as second,
    ):
        yield {OS_ZONES[0]: first, OS_ZONES[1]: second}


@pytest.fixture
def booking(replicas: dict[str, grpc.Channel]) -> dict[str, booking_service_pb2_grpc.BookingServiceStub]:
    return {name: booking_service_pb2_grpc.BookingServiceStub(channel) for name, channel in replicas.items()}


@pytest.fixture
def world(replicas: dict[str, grpc.Channel]) -> World:
    w = World(
        booking=booking_service_pb2_grpc.BookingServiceStub(replicas[OS_ZONES[0]]),
        directory=trainer_directory_pb2_grpc.TrainerDirectoryServiceStub(replicas[OS_ZONES[0]]),
    )
    w.create_zone()
    w.add_trainer()
    return w


def _start_before_new_york_dst_change() -> str:
    """A start date a few days before New York's next DST switch: a course runs across it."""
    first_allowed = date.today() + timedelta(days=1)
    day = first_allowed
    for _ in range(400):
        noon_offset = datetime.combine(day, time(12), NEW_YORK).utcoffset()
        if datetime.combine(day + timedelta(days=1), time(12), NEW_YORK).utcoffset() != noon_offset:
            return max(day - timedelta(days=3), first_allowed).isoformat()
        day += timedelta(days=1)
    raise AssertionError("New York has no DST switch in the next 400 days")


def _timeline(sessions: list[common.PurchaseSession]) -> list[tuple[str, str, int]]:
    return [(s.session_date, s.session_time, s.session_type) for s in sessions]


SHAPES = {
    "daily": {
        "class_type": common.CLASS_TYPE_ONE_ON_ONE,
        "delivery_mode": common.DELIVERY_MODE_WEEKDAY_DAILY,
    },
    "sunday-late-evening": {
        "class_type": common.CLASS_TYPE_ONE_ON_ONE,
        "delivery_mode": common.DELIVERY_MODE_SUNDAY_ONLY,
        "preferred_time_slot": "22:40",
    },
    "hybrid": {
        "class_type": common.CLASS_TYPE_HYBRID,
        "delivery_mode": common.DELIVERY_MODE_WEEKDAY_DAILY,
        "total_sessions": 30,
        "preferred_time_slot": "23:00",
    },
}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_a_dry_run_gives_the_same_civil_sessions_under_either_os_timezone(
    world: World, booking: dict[str, booking_service_pb2_grpc.BookingServiceStub], shape: dict[str, object]
) -> None:
    request = world.request(start_date=_start_before_new_york_dst_change(), validate_only=True, **shape)

    answers = {name: stub.AutoAssignTrainer(request, timeout=30) for name, stub in booking.items()}

    new_york, kolkata = (answers[name] for name in OS_ZONES)
    assert new_york.purchase.status == kolkata.purchase.status == common.PURCHASE_STATUS_ASSIGNED
    assert new_york.purchase.start_date == kolkata.purchase.start_date == request.start_date
    assert _timeline(list(new_york.sessions)) == _timeline(list(kolkata.sessions))
    assert len(new_york.sessions) == request.total_sessions


def test_stored_session_dates_read_back_the_same_through_either_replica(
    world: World, booking: dict[str, booking_service_pb2_grpc.BookingServiceStub]
) -> None:
    start = _start_before_new_york_dst_change()
    expected = [(date.fromisoformat(start) + timedelta(days=i)).isoformat() for i in range(10)]
    # Different bookings at different hours, so the one trainer can hold both.
    purchases = {
        name: stub.AutoAssignTrainer(
            world.request(start_date=start, preferred_time_slot=slot), timeout=30
        ).purchase
        for (name, stub), slot in zip(booking.items(), ("09:00", "18:00"), strict=True)
    }

    for purchase in purchases.values():
        assert purchase.status == common.PURCHASE_STATUS_ASSIGNED
        for stub in booking.values():
            sessions = stub.ListPurchaseSessions(
                pb.ListPurchaseSessionsRequest(purchase_id=purchase.purchase_id), timeout=10
            ).sessions
            assert [s.session_date for s in sessions] == expected


def _business_today() -> date:
    return datetime.now(BUSINESS_ZONE).date()


@pytest.mark.parametrize("os_zone", OS_ZONES)
def test_today_in_the_business_timezone_is_accepted_and_yesterday_refused(
    world: World, booking: dict[str, booking_service_pb2_grpc.BookingServiceStub], os_zone: str
) -> None:
    stub = booking[os_zone]
    for _ in range(2):  # retried once if Kolkata's midnight passes during the calls
        today = _business_today()
        accepted = stub.AutoAssignTrainer(
            world.request(start_date=today.isoformat(), validate_only=True, students=students(1)), timeout=30
        )
        with pytest.raises(grpc.RpcError) as refused:
            stub.AutoAssignTrainer(
                world.request(start_date=(today - timedelta(days=1)).isoformat(), validate_only=True),
                timeout=30,
            )
        if _business_today() == today:
            break

    assert accepted.purchase.start_date == today.isoformat()
    assert accepted.sessions[0].session_date == today.isoformat()
    error = rich_error(refused.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.violations == {"start_date": "must not be before today"}
