"""CancelPurchase (product 4.1): what a cancel changes, what it keeps, and what it refuses."""

from __future__ import annotations

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import common_pb2 as common
from sqlalchemy import Engine

from tests.support.lifecycle import (
    allocation_statuses,
    assigned,
    capacity_events,
    refused,
    schedule,
    sessions_of,
)
from tests.support.read_model import tutoring_rows
from tests.support.world import World, future_date, new_id


def _cancel(world: World, purchase_id: str, reason: str = "moved away") -> common.Purchase:
    return world.booking.CancelPurchase(
        pb.CancelPurchaseRequest(purchase_id=purchase_id, reason=reason)
    ).purchase


def test_cancelling_an_assigned_purchase_cancels_its_sessions_frees_the_trainer_and_the_read_model(
    world: World, engine: Engine
) -> None:
    trainer_id = world.add_trainer()
    response = assigned(world)
    purchase_id = response.purchase.purchase_id
    student = response.purchase.students[0].id

    cancelled = _cancel(world, purchase_id)

    assert cancelled.status == common.PURCHASE_STATUS_CANCELLED
    assert cancelled.cancellation_reason == "moved away"
    assert cancelled.message == "Purchase cancelled"
    assert {s.status for s in sessions_of(world, purchase_id)} == {common.SESSION_STATUS_CANCELLED}
    assert schedule(world, trainer_id, around=response.sessions[0].session_date) == []
    assert {r["status"] for r in tutoring_rows(engine, purchase_id)} == {"cancelled"}
    assert allocation_statuses(engine, student) == {trainer_id: "cancelled"}
    assert capacity_events(engine, trainer_id) == ["purchase_cancelled"]
    # The freed time can be booked again at once.
    again = world.booking.AutoAssignTrainer(world.request(start_date=response.purchase.start_date))
    assert again.purchase.trainer_id == trainer_id


def test_cancelling_twice_returns_the_cancelled_purchase_unchanged(world: World, engine: Engine) -> None:
    trainer_id = world.add_trainer()
    purchase_id = assigned(world).purchase.purchase_id
    first = _cancel(world, purchase_id)

    second = _cancel(world, purchase_id, reason="another reason")

    assert second == first
    assert capacity_events(engine, trainer_id) == ["purchase_cancelled"]


def test_completed_sessions_and_their_slots_stay_as_history(world: World, engine: Engine) -> None:
    trainer_id = world.add_trainer()
    response = assigned(world)
    first = response.sessions[0]
    world.booking.CompleteSession(pb.CompleteSessionRequest(session_id=first.session_id))

    _cancel(world, response.purchase.purchase_id)

    statuses = [s.status for s in sessions_of(world, response.purchase.purchase_id)]
    assert statuses == [common.SESSION_STATUS_COMPLETED] + [common.SESSION_STATUS_CANCELLED] * 9
    assert [s.session_id for s in schedule(world, trainer_id, around=first.session_date)] == [
        first.session_id
    ]
    rows = {r["session_number"]: r["status"] for r in tutoring_rows(engine, response.purchase.purchase_id)}
    assert rows[1] == "completed"
    assert {rows[n] for n in range(2, 11)} == {"cancelled"}


def test_read_model_rows_the_admin_side_moved_on_are_left_as_they_are(world: World, engine: Engine) -> None:
    world.add_trainer()
    response = assigned(world)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE tutoring_sessions SET status = 'in_progress' WHERE purchase_session_id = %s",
            (response.sessions[1].session_id,),
        )

    _cancel(world, response.purchase.purchase_id)

    rows = {r["session_number"]: r["status"] for r in tutoring_rows(engine, response.purchase.purchase_id)}
    assert rows[2] == "in_progress"
    assert rows[1] == rows[3] == "cancelled"


def test_an_allocation_another_assigned_purchase_uses_stays_approved(world: World, engine: Engine) -> None:
    trainer_id = world.add_trainer()
    student = common.Student(id=new_id(), name="Asha")
    first = assigned(world, students=[student], start_date=future_date(30))
    assigned(world, students=[student], start_date=future_date(60))

    _cancel(world, first.purchase.purchase_id)

    assert allocation_statuses(engine, student.id) == {trainer_id: "approved"}


def test_a_waitlisted_purchase_can_be_cancelled_and_frees_nothing(world: World, engine: Engine) -> None:
    waitlisted = world.booking.AutoAssignTrainer(world.request())
    assert waitlisted.purchase.status == common.PURCHASE_STATUS_WAITLISTED

    cancelled = _cancel(world, waitlisted.purchase.purchase_id)

    assert cancelled.status == common.PURCHASE_STATUS_CANCELLED
    assert cancelled.waitlist_reason == common.WAITLIST_REASON_UNSPECIFIED
    with engine.connect() as conn:
        events = conn.exec_driver_sql(
            "SELECT count(*) FROM capacity_events WHERE zone_id = %s", (world.zone_id,)
        ).scalar()
    assert events == 0


@pytest.mark.parametrize("total_sessions", [12])
def test_an_invalid_purchase_is_not_cancellable_and_stays_as_it_was(
    world: World, total_sessions: int
) -> None:
    invalid = world.booking.AutoAssignTrainer(world.request(total_sessions=total_sessions)).purchase
    assert invalid.status == common.PURCHASE_STATUS_INVALID_PURCHASE

    error = refused(lambda: _cancel(world, invalid.purchase_id))

    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "PURCHASE_NOT_CANCELLABLE")
    stored = world.booking.GetPurchase(pb.GetPurchaseRequest(purchase_id=invalid.purchase_id)).purchase
    assert stored == invalid


def test_a_replay_of_the_original_request_returns_the_purchase_as_it_is_now_with_the_original_decision(
    world: World,
) -> None:
    world.add_trainer()
    request = world.request()
    first = world.booking.AutoAssignTrainer(request)
    cancelled = _cancel(world, first.purchase.purchase_id)

    replay = world.booking.AutoAssignTrainer(request)

    assert replay.purchase == cancelled
    assert replay.decision == first.decision


def test_bad_input_and_unknown_purchases_are_refused_with_their_reasons(world: World) -> None:
    malformed = refused(lambda: _cancel(world, "not-a-uuid", reason="x" * 501))
    unknown = refused(lambda: _cancel(world, new_id()))

    assert (malformed.code, set(malformed.violations)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        {"purchase_id", "reason"},
    )
    assert (unknown.code, unknown.reason) == (grpc.StatusCode.NOT_FOUND, "PURCHASE_NOT_FOUND")


def test_an_allocation_cancelled_here_is_reopened_by_a_later_purchase_but_not_one_the_admin_side_cancelled(
    world: World, engine: Engine
) -> None:
    trainer_id = world.add_trainer()
    student = common.Student(id=new_id(), name="Asha")
    first = assigned(world, students=[student], start_date=future_date(30))
    _cancel(world, first.purchase.purchase_id)
    assert allocation_statuses(engine, student.id) == {trainer_id: "cancelled"}

    later = assigned(world, students=[student], start_date=future_date(60))
    assert allocation_statuses(engine, student.id) == {trainer_id: "approved"}  # ours: reopened

    with engine.begin() as conn:  # now the admin side closes it
        conn.exec_driver_sql(
            "UPDATE trainer_allocations SET status = 'cancelled' WHERE student_id = %s", (student.id,)
        )
    session = later.sessions[0]
    world.booking.RescheduleSession(
        pb.RescheduleSessionRequest(session_id=session.session_id, new_date=future_date(90), new_time="08:00")
    )
    assert allocation_statuses(engine, student.id) == {trainer_id: "cancelled"}  # theirs: left alone


def test_a_session_the_read_model_says_was_taught_is_kept_as_completed(world: World, engine: Engine) -> None:
    trainer_id = world.add_trainer()
    response = assigned(world)
    taught = response.sessions[0]
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE tutoring_sessions SET status = 'completed' WHERE purchase_session_id = %s",
            (taught.session_id,),
        )

    _cancel(world, response.purchase.purchase_id)

    statuses = [s.status for s in sessions_of(world, response.purchase.purchase_id)]
    assert statuses == [common.SESSION_STATUS_COMPLETED] + [common.SESSION_STATUS_CANCELLED] * 9
    kept = schedule(world, trainer_id, around=taught.session_date)
    assert [s.session_id for s in kept] == [taught.session_id]
