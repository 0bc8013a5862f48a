"""Changes after assignment (product 4) racing each other on two `booking-service serve` replicas.

Each round starts a fresh zone and trainers, then sends two competing calls at the same moment,
one per replica. The database decides every race: one winner, a documented refusal or a waitlist
for the loser, never an overlap and never any other error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2_grpc
from booking.v1 import common_pb2 as common
from grpc_status import rpc_status
from sqlalchemy import Engine

from tests.e2e.conftest import Stubs
from tests.support.lifecycle import assigned
from tests.support.overlaps import overlapping_slot_pairs
from tests.support.rpc_errors import RichError, rich_error
from tests.support.world import World, future_date, new_id

ROUNDS = 4
DEADLINE_SECONDS = 30.0
LOST_THE_TIME = {"SCHEDULE_CONFLICT", "SLOT_TAKEN_CONCURRENTLY"}

pytestmark = pytest.mark.timeout(60)  # server start-up included; the rounds take a few seconds


def _fresh_world(stubs: Stubs, channels: tuple[grpc.Channel, grpc.Channel]) -> World:
    """A new zone and course, written through the first replica."""
    world = World(
        booking=stubs[0], directory=trainer_directory_pb2_grpc.TrainerDirectoryServiceStub(channels[0])
    )
    world.create_zone()
    return world


@dataclass(frozen=True)
class Outcome:
    """One raced call: its response, or the error it ended with, and how long it took."""

    response: Any
    error: RichError | None
    seconds: float


def _error_of(exc: grpc.RpcError) -> RichError:
    if rpc_status.from_call(exc) is None:  # type: ignore[arg-type]
        # No rich status, e.g. a deadline the client enforced: keep the code and the message.
        return RichError(exc.code(), exc.details() or "", "", "", {}, {})
    return rich_error(exc)


def _at_once(*calls: Callable[[], Any]) -> list[Outcome]:
    """Run the calls on their own threads, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Outcome:
        barrier.wait(timeout=10)
        started = time.monotonic()
        try:
            response = call()
        except grpc.RpcError as exc:
            return Outcome(None, _error_of(exc), time.monotonic() - started)
        return Outcome(response, None, time.monotonic() - started)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        outcomes = [future.result() for future in [pool.submit(run, call) for call in calls]]
    assert all(o.seconds < DEADLINE_SECONDS for o in outcomes), outcomes
    return outcomes


def _schedule(
    stub: booking_service_pb2_grpc.BookingServiceStub, trainer_id: str, first: str
) -> list[common.Slot]:
    """The trainer's slots in the 60 days from two days before `first`."""
    start = date.fromisoformat(first) - timedelta(days=2)
    request = pb.GetTrainerScheduleRequest(
        trainer_id=trainer_id, from_date=start.isoformat(), to_date=(start + timedelta(days=60)).isoformat()
    )
    return list(stub.GetTrainerSchedule(request, timeout=DEADLINE_SECONDS).slots)


def _purchase(stub: booking_service_pb2_grpc.BookingServiceStub, purchase_id: str) -> common.Purchase:
    return stub.GetPurchase(pb.GetPurchaseRequest(purchase_id=purchase_id), timeout=DEADLINE_SECONDS).purchase


def _sessions(
    stub: booking_service_pb2_grpc.BookingServiceStub, purchase_id: str
) -> list[common.PurchaseSession]:
    request = pb.ListPurchaseSessionsRequest(purchase_id=purchase_id)
    return list(stub.ListPurchaseSessions(request, timeout=DEADLINE_SECONDS).sessions)


def _lost_reasons(decision: pb.AssignmentDecision, trainer_id: str) -> list[str]:
    return [r.reason for r in decision.rejections if r.trainer_id == trainer_id]


# 1. A cancel racing an assignment of the time it frees.


def _race_a_cancel_against_an_assignment(
    stubs: Stubs, channels: tuple[grpc.Channel, grpc.Channel], round_number: int
) -> str:
    """One round; returns the status the racing assignment got, by name."""
    world = _fresh_world(stubs, channels)
    trainer_id = world.add_trainer()
    start = future_date(40 + 15 * round_number)
    held = assigned(world, start_date=start).purchase
    racing = world.request(start_date=start)

    cancel, assignment = _at_once(
        partial(
            stubs[0].CancelPurchase,
            pb.CancelPurchaseRequest(purchase_id=held.purchase_id, reason="moved away"),
            timeout=DEADLINE_SECONDS,
        ),
        partial(stubs[1].AutoAssignTrainer, racing, timeout=DEADLINE_SECONDS),
    )

    where = f"round {round_number}"
    assert (cancel.error, assignment.error) == (None, None), where
    assert cancel.response.purchase.status == common.PURCHASE_STATUS_CANCELLED, where
    assert _purchase(stubs[1], held.purchase_id).status == common.PURCHASE_STATUS_CANCELLED, where
    assert {s.status for s in _sessions(stubs[1], held.purchase_id)} == {common.SESSION_STATUS_CANCELLED}
    raced = assignment.response.purchase
    if raced.status == common.PURCHASE_STATUS_ASSIGNED:
        assert raced.trainer_id == trainer_id, where
    else:
        assert raced.status == common.PURCHASE_STATUS_WAITLISTED, where
        [reason] = _lost_reasons(assignment.response.decision, trainer_id)
        assert reason in LOST_THE_TIME, where
    # The time is really free: a later request gets the trainer exactly when the racer did not.
    later = (
        stubs[round_number % 2]
        .AutoAssignTrainer(world.request(start_date=start), timeout=DEADLINE_SECONDS)
        .purchase
    )
    racer_holds_it = _purchase(stubs[0], raced.purchase_id).status == common.PURCHASE_STATUS_ASSIGNED
    assert (later.trainer_id == trainer_id) is not racer_holds_it, where
    holder = raced.purchase_id if racer_holds_it else later.purchase_id
    slots = _schedule(stubs[1], trainer_id, start)
    assert (len(slots), {s.purchase_id for s in slots}) == (10, {holder}), where
    return common.PurchaseStatus.Name(raced.status)


def test_a_cancel_racing_an_assignment_of_the_freed_time_leaves_that_time_to_exactly_one_purchase(
    stubs: Stubs, channels: tuple[grpc.Channel, grpc.Channel], engine: Engine
) -> None:
    started = time.monotonic()

    for round_number in range(ROUNDS):
        _race_a_cancel_against_an_assignment(stubs, channels, round_number)

    assert overlapping_slot_pairs(engine) == []
    assert time.monotonic() - started < DEADLINE_SECONDS


# 2. Two reschedules of different purchases onto one new interval of their trainer.


def _race_two_reschedules_onto_one_interval(
    stubs: Stubs, channels: tuple[grpc.Channel, grpc.Channel], round_number: int
) -> None:
    world = _fresh_world(stubs, channels)
    trainer_id = world.add_trainer()
    first_start = future_date(40 + 40 * round_number)
    first = assigned(world, start_date=first_start)
    second = assigned(world, start_date=future_date(55 + 40 * round_number))  # ten days later
    target = future_date(70 + 40 * round_number)  # after both courses
    moving = [first.sessions[3], second.sessions[6]]

    outcomes = _at_once(
        *(
            partial(
                stub.RescheduleSession,
                pb.RescheduleSessionRequest(session_id=session.session_id, new_date=target, new_time="09:00"),
                timeout=DEADLINE_SECONDS,
            )
            for stub, session in zip(stubs, moving, strict=True)
        )
    )

    where = f"round {round_number}: {outcomes}"
    [winner] = [i for i, o in enumerate(outcomes) if o.error is None]
    loser = 1 - winner
    moved = outcomes[winner].response.session
    assert (moved.session_id, moved.session_date, moved.session_time) == (
        moving[winner].session_id,
        target,
        "09:00",
    ), where
    assert (moved.status, moved.trainer_id) == (common.SESSION_STATUS_RESCHEDULED, trainer_id), where
    refusal = outcomes[loser].error
    assert refusal is not None
    assert (refusal.code, refusal.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SLOT_OVERLAP"), where
    # The trainer holds the new interval once, and the refused session stayed where it was.
    slots = _schedule(stubs[round_number % 2], trainer_id, first_start)
    at_target = [s for s in slots if (s.date, s.start_time) == (target, "09:00")]
    assert [s.session_id for s in at_target] == [moving[winner].session_id], where
    assert len(slots) == 20, where
    purchases = (first, second)
    [kept] = [
        s
        for s in _sessions(stubs[loser], purchases[loser].purchase.purchase_id)
        if s.session_id == moving[loser].session_id
    ]
    assert (kept.session_date, kept.session_time, kept.status) == (
        moving[loser].session_date,
        moving[loser].session_time,
        common.SESSION_STATUS_SCHEDULED,
    ), where


def test_two_reschedules_onto_one_interval_of_a_trainer_on_two_replicas_have_one_winner(
    stubs: Stubs, channels: tuple[grpc.Channel, grpc.Channel], engine: Engine
) -> None:
    started = time.monotonic()

    for round_number in range(ROUNDS):
        _race_two_reschedules_onto_one_interval(stubs, channels, round_number)

    assert overlapping_slot_pairs(engine) == []
    assert time.monotonic() - started < DEADLINE_SECONDS


# 3. A substitution racing an assignment of the substitute.


def _race_a_substitution_against_an_assignment(
    stubs: Stubs, channels: tuple[grpc.Channel, grpc.Channel], round_number: int
) -> bool:
    """One round; returns whether the substitution won the substitute's time."""
    world = _fresh_world(stubs, channels)
    # The racing purchase is for a course only the substitute teaches, so it can go nowhere else
    # (not even to the current trainer once the substitution frees it).
    other_course = new_id()
    current = world.add_trainer(north_km=1.0)
    substitute = world.add_trainer(north_km=2.0, certified_course_ids=[world.course_id, other_course])
    start = future_date(40 + 15 * round_number)
    held = assigned(world, start_date=start)
    assert held.purchase.trainer_id == current
    purchase_id = held.purchase.purchase_id
    racing = world.request(start_date=start, course_id=other_course)  # the very same days and times

    substitution, assignment = _at_once(
        partial(
            stubs[0].SubstituteTrainer,
            pb.SubstituteTrainerRequest(purchase_id=purchase_id, reason="trainer left"),
            timeout=DEADLINE_SECONDS,
        ),
        partial(stubs[1].AutoAssignTrainer, racing, timeout=DEADLINE_SECONDS),
    )

    where = f"round {round_number}: {substitution}, {assignment}"
    assert assignment.error is None, where
    raced = assignment.response.purchase
    substituted = substitution.error is None
    if substituted:
        assert substitution.response.purchase.trainer_id == substitute, where
        assert raced.status == common.PURCHASE_STATUS_WAITLISTED, where
        [reason] = _lost_reasons(assignment.response.decision, substitute)
        assert reason in LOST_THE_TIME, where
    else:
        assert substitution.error is not None
        assert (substitution.error.code, substitution.error.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "NO_SUBSTITUTE_AVAILABLE",
        ), where
        assert (raced.status, raced.trainer_id) == (common.PURCHASE_STATUS_ASSIGNED, substitute), where
    # What either replica shows afterwards agrees with who won.
    holder = substitute if substituted else current
    assert _purchase(stubs[1], purchase_id).trainer_id == holder, where
    assert {s.trainer_id for s in _sessions(stubs[1], purchase_id)} == {holder}, where
    substitute_slots = _schedule(stubs[round_number % 2], substitute, start)
    winner = purchase_id if substituted else raced.purchase_id
    assert (len(substitute_slots), {s.purchase_id for s in substitute_slots}) == (10, {winner}), where
    assert len(_schedule(stubs[0], current, start)) == (0 if substituted else 10), where
    return substituted


def test_a_substitution_racing_an_assignment_of_the_substitute_leaves_the_substitute_to_one_of_them(
    stubs: Stubs, channels: tuple[grpc.Channel, grpc.Channel], engine: Engine
) -> None:
    started = time.monotonic()

    for round_number in range(ROUNDS):
        _race_a_substitution_against_an_assignment(stubs, channels, round_number)

    assert overlapping_slot_pairs(engine) == []
    assert time.monotonic() - started < DEADLINE_SECONDS
