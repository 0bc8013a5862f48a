"""Two `booking-service serve` processes on one database: the no-overlap invariant and
idempotency hold across replicas, because the database (not a process) enforces them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2_grpc
from booking.v1 import common_pb2 as common
from sqlalchemy import Engine

from tests.support.overlaps import overlapping_slot_pairs
from tests.support.processes import serving
from tests.support.world import World, future_date

Stubs = tuple[booking_service_pb2_grpc.BookingServiceStub, booking_service_pb2_grpc.BookingServiceStub]


@pytest.fixture(scope="module")
def replicas(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The addresses of two replicas sharing the test database."""
    env = {"BOOKING_DATABASE_URL": database_url}
    log_dir = tmp_path_factory.mktemp("replicas")
    with serving(env, log_dir=log_dir, name="a") as first, serving(env, log_dir=log_dir, name="b") as second:
        yield first.address, second.address


@pytest.fixture(scope="module")
def channels(replicas: tuple[str, str]) -> Iterator[tuple[grpc.Channel, grpc.Channel]]:
    with grpc.insecure_channel(replicas[0]) as first, grpc.insecure_channel(replicas[1]) as second:
        yield first, second


@pytest.fixture
def stubs(channels: tuple[grpc.Channel, grpc.Channel]) -> Stubs:
    return (
        booking_service_pb2_grpc.BookingServiceStub(channels[0]),
        booking_service_pb2_grpc.BookingServiceStub(channels[1]),
    )


@pytest.fixture
def world(channels: tuple[grpc.Channel, grpc.Channel]) -> World:
    """A fresh zone and course, written through the first replica."""
    w = World(
        booking=booking_service_pb2_grpc.BookingServiceStub(channels[0]),
        directory=trainer_directory_pb2_grpc.TrainerDirectoryServiceStub(channels[0]),
    )
    w.create_zone()
    return w


def _assign_across_replicas(
    stubs: Stubs, requests: list[pb.AutoAssignTrainerRequest]
) -> list[common.Purchase]:
    """Send request i to replica i % 2, all at once."""
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        futures = [
            pool.submit(stubs[index % 2].AutoAssignTrainer, request, timeout=60)
            for index, request in enumerate(requests)
        ]
        return [future.result().purchase for future in futures]


def test_twenty_requests_for_one_trainer_split_across_replicas_have_one_winner(
    world: World, stubs: Stubs, engine: Engine
) -> None:
    trainer_id = world.add_trainer()
    start = future_date(45)

    purchases = _assign_across_replicas(stubs, [world.request(start_date=start) for _ in range(20)])

    assert Counter(p.status for p in purchases) == {
        common.PURCHASE_STATUS_ASSIGNED: 1,
        common.PURCHASE_STATUS_WAITLISTED: 19,
    }
    [winner] = [p for p in purchases if p.status == common.PURCHASE_STATUS_ASSIGNED]
    assert winner.trainer_id == trainer_id
    # The second replica sees exactly the winner's ten slots.
    slots = (
        stubs[1]
        .GetTrainerSchedule(
            pb.GetTrainerScheduleRequest(
                trainer_id=trainer_id,
                from_date=start,
                to_date=(date.fromisoformat(start) + timedelta(days=30)).isoformat(),
            ),
            timeout=10,
        )
        .slots
    )
    assert len(slots) == 10
    assert {s.purchase_id for s in slots} == {winner.purchase_id}
    assert overlapping_slot_pairs(engine) == []


def test_five_identical_requests_split_across_replicas_give_one_purchase(world: World, stubs: Stubs) -> None:
    trainer_id = world.add_trainer()
    request = world.request(start_date=future_date(90))

    purchases = _assign_across_replicas(stubs, [request] * 5)

    assert len({p.purchase_id for p in purchases}) == 1
    assert {p.status for p in purchases} == {common.PURCHASE_STATUS_ASSIGNED}
    assert {p.trainer_id for p in purchases} == {trainer_id}
    for stub in stubs:
        listed = stub.ListPurchases(
            pb.ListPurchasesRequest(booking_id=request.booking_id), timeout=10
        ).purchases
        assert [p.purchase_id for p in listed] == [purchases[0].purchase_id]
