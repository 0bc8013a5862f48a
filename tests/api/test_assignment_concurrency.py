"""Concurrent AutoAssignTrainer calls against one in-process server: never a double booking."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import common_pb2 as common
from sqlalchemy import Engine

from tests.support.overlaps import overlapping_slot_pairs
from tests.support.world import World, future_date


@pytest.fixture
def world(booking, directory) -> World:  # type: ignore[no-untyped-def]
    w = World(booking=booking, directory=directory)
    w.create_zone()
    return w


def _run_all(world: World, requests: list[pb.AutoAssignTrainerRequest]) -> list[common.Purchase]:
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return [r.purchase for r in pool.map(world.booking.AutoAssignTrainer, requests)]


def test_concurrent_requests_for_the_only_trainer_have_one_winner(world: World, engine: Engine) -> None:
    trainer_id = world.add_trainer()
    start = future_date(40)

    purchases = _run_all(world, [world.request(start_date=start) for _ in range(20)])

    statuses = Counter(p.status for p in purchases)
    assert statuses == {common.PURCHASE_STATUS_ASSIGNED: 1, common.PURCHASE_STATUS_WAITLISTED: 19}
    [winner] = [p for p in purchases if p.status == common.PURCHASE_STATUS_ASSIGNED]
    slots = world.booking.GetTrainerSchedule(
        pb.GetTrainerScheduleRequest(
            trainer_id=trainer_id,
            from_date=start,
            to_date=(date.fromisoformat(start) + timedelta(days=20)).isoformat(),
        )
    ).slots
    assert len(slots) == 10
    assert {s.purchase_id for s in slots} == {winner.purchase_id}
    assert overlapping_slot_pairs(engine) == []


def test_two_eligible_trainers_give_two_winners_on_different_trainers(world: World, engine: Engine) -> None:
    first = world.add_trainer(north_km=1.0)
    second = world.add_trainer(north_km=2.0)

    purchases = _run_all(world, [world.request(start_date=future_date(80)) for _ in range(12)])

    assigned = [p for p in purchases if p.status == common.PURCHASE_STATUS_ASSIGNED]
    assert sorted(p.trainer_id for p in assigned) == sorted([first, second])
    assert Counter(p.status for p in purchases)[common.PURCHASE_STATUS_WAITLISTED] == 10
    assert overlapping_slot_pairs(engine) == []


def test_overlapping_date_ranges_and_overlapping_times_of_one_day_have_one_winner(
    world: World, engine: Engine
) -> None:
    world.add_trainer()
    base = date.fromisoformat(future_date(120))
    # Every pair of shapes overlaps somewhere (same days, overlapping 40-minute times).
    shapes = [(0, "16:00"), (5, "16:00"), (9, "16:20"), (3, "15:50")]
    requests = [
        world.request(start_date=(base + timedelta(days=days)).isoformat(), preferred_time_slot=slot)
        for _ in range(3)
        for days, slot in shapes
    ]

    purchases = _run_all(world, requests)

    assert Counter(p.status for p in purchases)[common.PURCHASE_STATUS_ASSIGNED] == 1
    assert overlapping_slot_pairs(engine) == []


def test_touching_sessions_of_concurrent_requests_both_win(world: World, engine: Engine) -> None:
    world.add_trainer()
    start = future_date(160)

    purchases = _run_all(
        world,
        [
            world.request(start_date=start, preferred_time_slot="16:00"),
            world.request(start_date=start, preferred_time_slot="16:40"),
        ],
    )

    assert [p.status for p in purchases] == [common.PURCHASE_STATUS_ASSIGNED] * 2
    assert overlapping_slot_pairs(engine) == []


def test_five_concurrent_identical_requests_give_one_purchase(world: World) -> None:
    trainer_id = world.add_trainer()
    request = world.request(start_date=future_date(200))

    purchases = _run_all(world, [request] * 5)

    assert len({p.purchase_id for p in purchases}) == 1
    assert {p.trainer_id for p in purchases} == {trainer_id}
    listed = world.booking.ListPurchases(pb.ListPurchasesRequest(booking_id=request.booking_id)).purchases
    assert len(listed) == 1


def test_a_trainer_with_cap_1_gets_exactly_one_of_eight_concurrent_requests_on_disjoint_dates(
    world: World,
) -> None:
    trainer_id = world.add_trainer(max_active_purchases=1)

    purchases = _run_all(world, [world.request(start_date=future_date(30 + 11 * i)) for i in range(8)])

    assert Counter(p.status for p in purchases) == {
        common.PURCHASE_STATUS_ASSIGNED: 1,
        common.PURCHASE_STATUS_WAITLISTED: 7,
    }
    assigned = world.booking.ListPurchases(
        pb.ListPurchasesRequest(trainer_id=trainer_id, status=common.PURCHASE_STATUS_ASSIGNED)
    ).purchases
    assert len(assigned) == 1


def test_requests_ranking_two_trainers_in_opposite_orders_all_end_in_an_outcome(
    world: World, engine: Engine
) -> None:
    south = world.add_trainer(north_km=0.5)
    north = world.add_trainer(north_km=1.5)
    start = future_date(240)
    requests = [
        world.request(start_date=start, student_location=world.near(-1.0 if i % 2 else 3.0))
        for i in range(16)
    ]

    purchases = _run_all(world, requests)

    assigned = [p for p in purchases if p.status == common.PURCHASE_STATUS_ASSIGNED]
    assert sorted(p.trainer_id for p in assigned) == sorted([south, north])
    assert overlapping_slot_pairs(engine) == []
