"""A read-model failure never fails or undoes an assignment; a later sync repairs it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import common_pb2 as common
from sqlalchemy import Engine

from tests.support.read_model import (
    allocation_rows,
    assert_read_model_matches,
    failing_read_model,
    synced_flags,
    tutoring_rows,
)
from tests.support.world import World


@pytest.fixture
def world(booking, directory) -> World:  # type: ignore[no-untyped-def]
    w = World(booking=booking, directory=directory)
    w.create_zone()
    return w


def _booked_slots(world: World, trainer_id: str, start: str) -> list[common.Slot]:
    last = (date.fromisoformat(start) + timedelta(days=40)).isoformat()
    request = pb.GetTrainerScheduleRequest(trainer_id=trainer_id, from_date=start, to_date=last)
    return list(world.booking.GetTrainerSchedule(request).slots)


def test_a_failing_read_model_write_leaves_the_assignment_committed_and_a_manual_sync_repairs_it(
    world: World, engine: Engine
) -> None:
    trainer_id = world.add_trainer()
    request = world.request()

    with failing_read_model(engine, trainer_id):
        response = world.booking.AutoAssignTrainer(request)

    purchase_id = response.purchase.purchase_id
    assert response.purchase.status == common.PURCHASE_STATUS_ASSIGNED
    assert response.purchase.trainer_id == trainer_id
    stored = world.booking.GetPurchase(pb.GetPurchaseRequest(purchase_id=purchase_id)).purchase
    assert stored.status == common.PURCHASE_STATUS_ASSIGNED
    assert len(_booked_slots(world, trainer_id, request.start_date)) == 10
    assert tutoring_rows(engine, purchase_id) == []
    assert allocation_rows(engine, [s.id for s in request.students]) == []
    assert synced_flags(engine, purchase_id) == [False] * 10

    result = world.booking.SyncPurchaseSessions(
        pb.SyncPurchaseSessionsRequest(purchase_id=purchase_id)
    ).result

    assert (result.sessions_created, result.sessions_updated, list(result.errors)) == (10, 0, [])
    assert_read_model_matches(engine, response)


def test_a_replayed_request_after_a_failed_sync_returns_the_assignment_without_writing_the_read_model(
    world: World, engine: Engine
) -> None:
    trainer_id = world.add_trainer()
    request = world.request()
    with failing_read_model(engine, trainer_id):
        first = world.booking.AutoAssignTrainer(request)

    again = world.booking.AutoAssignTrainer(request)

    assert again.purchase == first.purchase
    assert tutoring_rows(engine, first.purchase.purchase_id) == []
    assert synced_flags(engine, first.purchase.purchase_id) == [False] * 10


def test_waitlisted_and_invalid_purchases_leave_no_read_model_rows(world: World, engine: Engine) -> None:
    # No trainer at all: the purchase is waitlisted with its sessions, and nothing is synced.
    waitlisted = world.booking.AutoAssignTrainer(world.request())
    invalid = world.booking.AutoAssignTrainer(world.request(total_sessions=12))

    assert waitlisted.purchase.status == common.PURCHASE_STATUS_WAITLISTED
    assert invalid.purchase.status == common.PURCHASE_STATUS_INVALID_PURCHASE
    for response in (waitlisted, invalid):
        assert tutoring_rows(engine, response.purchase.purchase_id) == []
        assert allocation_rows(engine, [s.id for s in response.purchase.students]) == []
    assert synced_flags(engine, waitlisted.purchase.purchase_id) == [False] * 10
