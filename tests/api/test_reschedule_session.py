"""RescheduleSession (product 4.2): with its trainer, with a substitute, and every refusal."""

from __future__ import annotations

from datetime import date, timedelta

import grpc
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import common_pb2 as common
from sqlalchemy import Engine

from tests.support.lifecycle import allocation_statuses, assigned, capacity_events, refused, schedule
from tests.support.read_model import tutoring_rows
from tests.support.world import World, new_id


def _move(
    world: World, session_id: str, new_date: str, new_time: str, *, allow_substitute: bool = False
) -> common.PurchaseSession:
    return world.booking.RescheduleSession(
        pb.RescheduleSessionRequest(
            session_id=session_id, new_date=new_date, new_time=new_time, allow_substitute=allow_substitute
        )
    ).session


def _day_after(day: str, days: int = 1) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def test_a_session_moves_with_its_trainer_and_the_read_model_follows(world: World, engine: Engine) -> None:
    trainer_id = world.add_trainer()
    response = assigned(world)
    third = response.sessions[2]
    target = _day_after(response.sessions[-1].session_date, 3)

    moved = _move(world, third.session_id, target, "09:20")

    assert (moved.session_id, moved.session_number) == (third.session_id, 3)
    assert (moved.session_date, moved.session_time) == (target, "09:20")
    assert (moved.status, moved.trainer_id) == (common.SESSION_STATUS_RESCHEDULED, trainer_id)
    slots = {s.session_id: s for s in schedule(world, trainer_id, around=response.sessions[0].session_date)}
    assert (slots[third.session_id].date, slots[third.session_id].start_time) == (target, "09:20")
    assert len(slots) == 10
    row = next(r for r in tutoring_rows(engine, response.purchase.purchase_id) if r["session_number"] == 3)
    assert (row["scheduled_date"].isoformat(), row["scheduled_time"]) == (target, "09:20")
    assert row["metadata"]["rescheduledFrom"] == f"{third.session_date} {third.session_time}"
    assert capacity_events(engine, trainer_id) == ["session_rescheduled"]


def test_repeating_a_reschedule_answers_the_same_and_changes_nothing_more(
    world: World, engine: Engine
) -> None:
    trainer_id = world.add_trainer()
    session = assigned(world).sessions[0]
    target = _day_after(session.session_date, 20)
    first = _move(world, session.session_id, target, "10:00")

    second = _move(world, session.session_id, target, "10:00")

    assert second == first
    assert capacity_events(engine, trainer_id) == ["session_rescheduled"]


def test_a_move_that_overlaps_only_the_sessions_own_old_slot_is_fine(world: World) -> None:
    world.add_trainer()
    session = assigned(world, preferred_time_slot="16:00").sessions[0]

    moved = _move(world, session.session_id, session.session_date, "16:20")

    assert moved.session_time == "16:20"


def test_a_move_onto_blocked_time_is_slot_overlap_and_changes_nothing(world: World) -> None:
    trainer_id = world.add_trainer()
    response = assigned(world)
    session = response.sessions[0]
    target = _day_after(response.sessions[-1].session_date, 2)
    world.booking.BlockTrainerTime(
        pb.BlockTrainerTimeRequest(
            trainer_id=trainer_id, date=target, start_time="09:00", duration_minutes=60
        )
    )
    before = schedule(world, trainer_id, around=session.session_date)

    error = refused(lambda: _move(world, session.session_id, target, "09:30"))

    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SLOT_OVERLAP")
    assert schedule(world, trainer_id, around=session.session_date) == before


def test_with_allow_substitute_the_best_free_trainer_takes_that_session_alone(
    world: World, engine: Engine
) -> None:
    own = world.add_trainer(north_km=1.0)
    other = world.add_trainer(north_km=2.0)
    response = assigned(world)
    assert response.purchase.trainer_id == own
    session = response.sessions[4]
    target = _day_after(response.sessions[-1].session_date, 2)
    world.booking.BlockTrainerTime(
        pb.BlockTrainerTimeRequest(trainer_id=own, date=target, start_time="08:00", duration_minutes=120)
    )

    moved = _move(world, session.session_id, target, "08:40", allow_substitute=True)

    assert (moved.trainer_id, moved.status) == (other, common.SESSION_STATUS_RESCHEDULED)
    purchase = world.booking.GetPurchase(pb.GetPurchaseRequest(purchase_id=response.purchase.purchase_id))
    assert purchase.purchase.trainer_id == own  # the course stays with its trainer
    assert [s.session_id for s in schedule(world, other, around=target)] == [session.session_id]
    row = next(r for r in tutoring_rows(engine, response.purchase.purchase_id) if r["session_number"] == 5)
    assert row["trainer"] == other
    student = response.purchase.students[0].id
    assert allocation_statuses(engine, student) == {own: "approved", other: "approved"}


def test_with_allow_substitute_and_nobody_free_it_is_no_substitute_available(world: World) -> None:
    own = world.add_trainer()
    response = assigned(world)
    target = _day_after(response.sessions[-1].session_date, 2)
    world.booking.BlockTrainerTime(
        pb.BlockTrainerTimeRequest(trainer_id=own, date=target, start_time="08:00", duration_minutes=120)
    )

    error = refused(
        lambda: _move(world, response.sessions[0].session_id, target, "08:40", allow_substitute=True)
    )

    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NO_SUBSTITUTE_AVAILABLE")


def test_a_completed_session_is_not_reschedulable(world: World) -> None:
    world.add_trainer()
    response = assigned(world)
    session = response.sessions[0]
    world.booking.CompleteSession(pb.CompleteSessionRequest(session_id=session.session_id))

    error = refused(lambda: _move(world, session.session_id, _day_after(session.session_date, 30), "10:00"))

    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SESSION_NOT_RESCHEDULABLE")


def test_a_session_of_a_cancelled_purchase_is_not_reschedulable(world: World) -> None:
    world.add_trainer()
    response = assigned(world)
    world.booking.CancelPurchase(pb.CancelPurchaseRequest(purchase_id=response.purchase.purchase_id))
    session = response.sessions[0]

    error = refused(lambda: _move(world, session.session_id, _day_after(session.session_date, 30), "10:00"))

    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SESSION_NOT_RESCHEDULABLE")


def test_past_and_malformed_targets_are_invalid_argument_on_their_field(world: World) -> None:
    world.add_trainer()
    session = assigned(world).sessions[0]
    yesterday = (date.today() - timedelta(days=2)).isoformat()

    past = refused(lambda: _move(world, session.session_id, yesterday, "10:00"))
    malformed = refused(lambda: _move(world, "nope", "2030-02-30", "24:00"))
    unknown = refused(lambda: _move(world, new_id(), _day_after(session.session_date, 30), "10:00"))

    assert (past.code, set(past.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, {"new_date"})
    assert set(malformed.violations) == {"session_id", "new_date", "new_time"}
    assert (unknown.code, unknown.reason) == (grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND")


def test_a_session_cannot_move_onto_another_session_of_its_purchase_even_with_a_substitute(
    world: World,
) -> None:
    world.add_trainer(north_km=1.0)
    world.add_trainer(north_km=2.0)  # free: it could take the moved session, but the students are busy
    response = assigned(world)
    second = response.sessions[1]

    error = refused(
        lambda: _move(
            world, response.sessions[0].session_id, second.session_date, "16:20", allow_substitute=True
        )
    )

    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SLOT_OVERLAP")
