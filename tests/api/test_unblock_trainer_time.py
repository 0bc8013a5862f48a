"""Time off with ids (product 4.4): BlockTrainerTime gives the slot id, UnblockTrainerTime takes it."""

from __future__ import annotations

import grpc
from booking.v1 import booking_service_pb2 as pb
from sqlalchemy import Engine

from tests.support.lifecycle import assigned, capacity_events, refused, schedule
from tests.support.world import World, future_date, new_id


def _block(world: World, trainer_id: str, day: str) -> str:
    request = pb.BlockTrainerTimeRequest(
        trainer_id=trainer_id, date=day, start_time="09:00", duration_minutes=120, reason="dentist"
    )
    return world.booking.BlockTrainerTime(request).slot.slot_id


def _unblock(world: World, slot_id: str) -> None:
    world.booking.UnblockTrainerTime(pb.UnblockTrainerTimeRequest(slot_id=slot_id))


def test_unblocking_removes_the_time_off_and_records_the_freed_time(world: World, engine: Engine) -> None:
    trainer_id = world.add_trainer()
    day = future_date(50)
    slot_id = _block(world, trainer_id, day)
    [listed] = schedule(world, trainer_id, around=day)
    assert listed.slot_id == slot_id

    _unblock(world, slot_id)

    assert schedule(world, trainer_id, around=day) == []
    assert capacity_events(engine, trainer_id) == ["time_unblocked"]
    assert (
        world.booking.AutoAssignTrainer(
            world.request(start_date=day, preferred_time_slot="09:20")
        ).purchase.trainer_id
        == trainer_id
    )


def test_a_removed_slot_is_not_found_the_second_time(world: World) -> None:
    trainer_id = world.add_trainer()
    slot_id = _block(world, trainer_id, future_date(51))
    _unblock(world, slot_id)

    again = refused(lambda: _unblock(world, slot_id))
    unknown = refused(lambda: _unblock(world, new_id()))

    assert (again.code, again.reason) == (grpc.StatusCode.NOT_FOUND, "SLOT_NOT_FOUND")
    assert (unknown.code, unknown.reason) == (grpc.StatusCode.NOT_FOUND, "SLOT_NOT_FOUND")


def test_a_booked_slot_cannot_be_unblocked_and_stays_booked(world: World) -> None:
    trainer_id = world.add_trainer()
    response = assigned(world)
    booked = schedule(world, trainer_id, around=response.sessions[0].session_date)[0]

    error = refused(lambda: _unblock(world, booked.slot_id))

    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SLOT_NOT_BLOCKED")
    assert booked in schedule(world, trainer_id, around=response.sessions[0].session_date)


def test_a_malformed_slot_id_is_invalid_argument(world: World) -> None:
    error = refused(lambda: _unblock(world, "slot-1"))

    assert (error.code, set(error.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, {"slot_id"})


def test_time_off_for_a_trainer_the_directory_does_not_know_is_not_found_and_stores_nothing(
    world: World,
) -> None:
    unknown = new_id()
    day = future_date(50)
    request = pb.BlockTrainerTimeRequest(
        trainer_id=unknown, date=day, start_time="09:00", duration_minutes=120, reason="dentist"
    )

    error = refused(lambda: world.booking.BlockTrainerTime(request))

    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "TRAINER_NOT_FOUND")
    assert schedule(world, unknown, around=day) == []


def test_time_off_for_an_inactive_trainer_is_still_recorded(world: World) -> None:
    trainer_id = world.add_trainer(active=False)
    day = future_date(50)

    slot_id = _block(world, trainer_id, day)

    assert [slot.slot_id for slot in schedule(world, trainer_id, around=day)] == [slot_id]
