"""Two `booking-service serve` processes on one database: the no-overlap invariant and
idempotency hold across replicas, because the database (not a process) enforces them."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2_grpc
from booking.v1 import common_pb2 as common
from sqlalchemy import Engine

from tests.e2e.conftest import Stubs
from tests.support.overlaps import overlapping_slot_pairs
from tests.support.processes import ServerProcess
from tests.support.world import World, future_date


@pytest.fixture
def world(channels: tuple[grpc.Channel, grpc.Channel]) -> World:
    """A fresh zone and course, written through the first replica."""
    w = World(
        booking=booking_service_pb2_grpc.BookingServiceStub(channels[0]),
        directory=trainer_directory_pb2_grpc.TrainerDirectoryServiceStub(channels[0]),
    )
    w.create_zone()
    return w


def _assign_all(
    stubs: Stubs, requests: list[pb.AutoAssignTrainerRequest]
) -> list[pb.AutoAssignTrainerResponse]:
    """Send request i to replica i % 2, all at once; an error of any call fails the test."""
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        futures = [
            pool.submit(stubs[index % 2].AutoAssignTrainer, request, timeout=60)
            for index, request in enumerate(requests)
        ]
        return [future.result() for future in futures]


def _assign_across_replicas(
    stubs: Stubs, requests: list[pb.AutoAssignTrainerRequest]
) -> list[common.Purchase]:
    return [response.purchase for response in _assign_all(stubs, requests)]


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


# Contention (product 1.6): a row of four trainers, students south and north of it, so that
# concurrent requests rank the same trainers in opposite orders and take their locks in opposite
# orders. Every call must end in an outcome, never an error, on either replica.
ROW_KM = (0.5, 1.0, 1.5, 2.0)
CALLERS = 32
ROUNDS = 4


def _row_of_trainers(world: World, **fields: object) -> list[str]:
    return [world.add_trainer(north_km=km, **fields) for km in ROW_KM]


def _opposite_requests(world: World, start_dates: list[str]) -> list[pb.AutoAssignTrainerRequest]:
    """One request per start date, alternately from south and north of the row."""
    return [
        world.request(start_date=start, student_location=world.near(-1.0 if i % 2 else 3.5))
        for i, start in enumerate(start_dates)
    ]


def _assert_explained(
    purchases: list[common.Purchase], responses_decisions: list[pb.AssignmentDecision]
) -> None:
    """Every waitlisted purchase says why each trainer of the row was not its own."""
    lost = {"SCHEDULE_CONFLICT", "SLOT_TAKEN_CONCURRENTLY", "LOAD_CAP"}
    for purchase, decision in zip(purchases, responses_decisions, strict=True):
        if purchase.status == common.PURCHASE_STATUS_WAITLISTED:
            assert len(decision.rejections) == len(ROW_KM)
            assert {r.reason for r in decision.rejections} <= lost


def test_opposite_rankings_over_two_replicas_give_one_winner_per_trainer_and_no_error(
    world: World, stubs: Stubs, replicas: tuple[ServerProcess, ServerProcess], engine: Engine
) -> None:
    trainers = _row_of_trainers(world)
    for round_number in range(ROUNDS):
        start = future_date(300 + 20 * round_number)  # every caller of a round wants the same days

        responses = _assign_all(stubs, _opposite_requests(world, [start] * CALLERS))

        purchases = [r.purchase for r in responses]
        assigned = [p for p in purchases if p.status == common.PURCHASE_STATUS_ASSIGNED]
        assert sorted(p.trainer_id for p in assigned) == sorted(trainers), f"round {round_number}"
        assert Counter(p.status for p in purchases)[common.PURCHASE_STATUS_WAITLISTED] == CALLERS - 4
        _assert_explained(purchases, [r.decision for r in responses])
    assert overlapping_slot_pairs(engine) == []
    # Not even retried inside the service: the lock order leaves the database nothing to abort.
    assert [e for server in replicas for e in server.events("transaction_retried")] == []


def test_capped_trainers_in_opposite_rankings_over_two_replicas_take_one_purchase_each(
    channels: tuple[grpc.Channel, grpc.Channel], stubs: Stubs, engine: Engine
) -> None:
    for round_number in range(ROUNDS):
        world = World(
            booking=stubs[0],
            directory=trainer_directory_pb2_grpc.TrainerDirectoryServiceStub(channels[round_number % 2]),
        )
        world.create_zone()
        trainers = _row_of_trainers(world, max_active_purchases=1)
        # Disjoint 10-day ranges: only the cap can refuse a trainer.
        requests = _opposite_requests(world, [future_date(30 + 11 * i) for i in range(CALLERS)])

        responses = _assign_all(stubs, requests)

        purchases = [r.purchase for r in responses]
        assigned = [p for p in purchases if p.status == common.PURCHASE_STATUS_ASSIGNED]
        assert sorted(p.trainer_id for p in assigned) == sorted(trainers), f"round {round_number}"
        _assert_explained(purchases, [r.decision for r in responses])
    assert overlapping_slot_pairs(engine) == []


def test_a_trainer_with_cap_1_gets_one_of_eight_requests_on_disjoint_dates_over_two_replicas(
    world: World, stubs: Stubs
) -> None:
    trainer_id = world.add_trainer(max_active_purchases=1)
    requests = [world.request(start_date=future_date(30 + 11 * i)) for i in range(8)]

    purchases = _assign_across_replicas(stubs, requests)

    assert Counter(p.status for p in purchases) == {
        common.PURCHASE_STATUS_ASSIGNED: 1,
        common.PURCHASE_STATUS_WAITLISTED: 7,
    }
    listed = (
        stubs[1]
        .ListPurchases(
            pb.ListPurchasesRequest(trainer_id=trainer_id, status=common.PURCHASE_STATUS_ASSIGNED), timeout=10
        )
        .purchases
    )
    assert len(listed) == 1
