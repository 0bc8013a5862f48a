"""SubstituteTrainer (product 4.3): the rest of a course moves to another trainer, all or nothing."""

from __future__ import annotations

from datetime import date, timedelta

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from sqlalchemy import Engine

from tests.support.certificates import assign_course, complete
from tests.support.lifecycle import (
    allocation_statuses,
    assigned,
    capacity_events,
    refused,
    schedule,
    sessions_of,
)
from tests.support.read_model import tutoring_rows
from tests.support.world import World, new_id


def _substitute(
    world: World, purchase_id: str, *, trainer_id: str = "", from_date: str = "", reason: str = "left"
) -> pb.SubstituteTrainerResponse:
    return world.booking.SubstituteTrainer(
        pb.SubstituteTrainerRequest(
            purchase_id=purchase_id, trainer_id=trainer_id, from_date=from_date, reason=reason
        )
    )


def test_the_best_eligible_other_trainer_takes_every_future_session(world: World, engine: Engine) -> None:
    current = world.add_trainer(north_km=1.0)
    farther = world.add_trainer(north_km=3.0)
    nearest_other = world.add_trainer(north_km=2.0)
    response = assigned(world)
    purchase_id = response.purchase.purchase_id

    result = _substitute(world, purchase_id)

    assert result.purchase.trainer_id == nearest_other
    assert list(result.decision.ranked_trainer_ids) == [nearest_other, farther]
    assert [s.session_id for s in result.sessions] == [s.session_id for s in response.sessions]
    assert {s.trainer_id for s in sessions_of(world, purchase_id)} == {nearest_other}
    assert schedule(world, current, around=response.sessions[0].session_date) == []
    assert len(schedule(world, nearest_other, around=response.sessions[0].session_date)) == 10
    assert {r["trainer"] for r in tutoring_rows(engine, purchase_id)} == {nearest_other}
    student = response.purchase.students[0].id
    assert allocation_statuses(engine, student)[nearest_other] == "approved"
    assert capacity_events(engine, current) == ["trainer_substituted"]


def test_a_repeated_substitution_answers_the_same_and_moves_nothing_more(world: World) -> None:
    world.add_trainer(north_km=1.0)
    world.add_trainer(north_km=2.0)
    world.add_trainer(north_km=3.0)
    purchase_id = assigned(world).purchase.purchase_id
    first = _substitute(world, purchase_id)

    second = _substitute(world, purchase_id)

    assert second == first


def test_only_sessions_from_the_given_date_move_and_earlier_ones_keep_their_trainer(world: World) -> None:
    current = world.add_trainer(north_km=1.0)
    other = world.add_trainer(north_km=2.0)
    response = assigned(world)
    from_date = response.sessions[6].session_date

    result = _substitute(world, response.purchase.purchase_id, from_date=from_date)

    assert [s.session_number for s in result.sessions] == [7, 8, 9, 10]
    holders = [s.trainer_id for s in sessions_of(world, response.purchase.purchase_id)]
    assert holders == [current] * 6 + [other] * 4
    assert result.purchase.trainer_id == other


def test_a_named_eligible_trainer_is_taken_even_when_another_ranks_higher(world: World) -> None:
    world.add_trainer(north_km=1.0)
    world.add_trainer(north_km=2.0)
    named = world.add_trainer(north_km=4.0)
    purchase_id = assigned(world).purchase.purchase_id

    result = _substitute(world, purchase_id, trainer_id=named)

    assert result.purchase.trainer_id == named
    assert list(result.decision.ranked_trainer_ids) == [named]


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [({"zone_id": "other"}, "WRONG_ZONE"), ({"north_km": 30.0}, "OUT_OF_TRAVEL_RANGE")],
)
def test_a_named_ineligible_trainer_is_refused_with_the_rule_it_fails(
    world: World, overrides: dict[str, object], rule: str
) -> None:
    current = world.add_trainer(north_km=1.0)
    response = assigned(world)
    if overrides.get("zone_id") == "other":
        overrides = {"zone_id": new_id()}
    named = world.add_trainer(**overrides)  # type: ignore[arg-type]

    error = refused(lambda: _substitute(world, response.purchase.purchase_id, trainer_id=named))

    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "TRAINER_NOT_ELIGIBLE")
    assert error.metadata == {"rejection_reason": rule}
    assert {s.trainer_id for s in sessions_of(world, response.purchase.purchase_id)} == {current}


def test_a_named_trainer_busy_on_one_moved_session_is_refused_with_schedule_conflict(world: World) -> None:
    world.add_trainer(north_km=1.0)
    response = assigned(world)
    named = world.add_trainer(north_km=2.0)
    last = response.sessions[-1]
    world.booking.BlockTrainerTime(
        pb.BlockTrainerTimeRequest(
            trainer_id=named, date=last.session_date, start_time="16:30", duration_minutes=5
        )
    )

    error = refused(lambda: _substitute(world, response.purchase.purchase_id, trainer_id=named))

    assert (error.reason, error.metadata) == (
        "TRAINER_NOT_ELIGIBLE",
        {"rejection_reason": "SCHEDULE_CONFLICT"},
    )


def test_when_nobody_can_take_every_session_nothing_changes(world: World) -> None:
    current = world.add_trainer(north_km=1.0)
    response = assigned(world)
    busy_once = world.add_trainer(north_km=2.0)
    world.booking.BlockTrainerTime(
        pb.BlockTrainerTimeRequest(
            trainer_id=busy_once,
            date=response.sessions[3].session_date,
            start_time="15:00",
            duration_minutes=90,
        )
    )

    error = refused(lambda: _substitute(world, response.purchase.purchase_id))

    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NO_SUBSTITUTE_AVAILABLE")
    assert {s.trainer_id for s in sessions_of(world, response.purchase.purchase_id)} == {current}
    stored = world.booking.GetPurchase(pb.GetPurchaseRequest(purchase_id=response.purchase.purchase_id))
    assert stored.purchase == response.purchase


def test_refusals_of_unknown_unassigned_and_malformed_requests(world: World) -> None:
    world.add_trainer()
    waitlisted = World(booking=world.booking, directory=world.directory)
    waitlisted.create_zone()
    unassigned = waitlisted.booking.AutoAssignTrainer(waitlisted.request()).purchase
    purchase_id = assigned(world).purchase.purchase_id

    not_assigned = refused(lambda: _substitute(world, unassigned.purchase_id))
    unknown_trainer = refused(lambda: _substitute(world, purchase_id, trainer_id=new_id()))
    unknown_purchase = refused(lambda: _substitute(world, new_id()))
    malformed = refused(lambda: _substitute(world, "x", trainer_id="y", from_date="2030-13-01"))

    assert (not_assigned.code, not_assigned.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "PURCHASE_NOT_ASSIGNED",
    )
    assert (unknown_trainer.code, unknown_trainer.reason) == (grpc.StatusCode.NOT_FOUND, "TRAINER_NOT_FOUND")
    assert (unknown_purchase.code, unknown_purchase.reason) == (
        grpc.StatusCode.NOT_FOUND,
        "PURCHASE_NOT_FOUND",
    )
    assert set(malformed.violations) == {"purchase_id", "trainer_id", "from_date"}


def test_a_course_taught_by_two_trainers_earns_its_certificates_when_every_session_is_complete(
    world: World,
) -> None:
    world.add_trainer(north_km=1.0)
    other = world.add_trainer(north_km=2.0)
    response = assign_course(world, student_count=1)
    _substitute(world, response.purchase.purchase_id, from_date=response.sessions[15].session_date)

    issued = [c for s in response.sessions for c in complete(world, s.session_id).certificates_issued]

    assert [c.student_id for c in issued] == [response.purchase.students[0].id]
    assert issued[0].trainer_id == other


def test_a_substitution_from_a_date_after_every_session_has_nothing_to_move(world: World) -> None:
    current = world.add_trainer(north_km=1.0)
    world.add_trainer(north_km=2.0)
    response = assigned(world)
    after_last = date.fromisoformat(response.sessions[-1].session_date) + timedelta(days=1)

    error = refused(
        lambda: _substitute(world, response.purchase.purchase_id, from_date=after_last.isoformat())
    )

    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NO_SESSIONS_TO_MOVE")
    assert {s.trainer_id for s in sessions_of(world, response.purchase.purchase_id)} == {current}
