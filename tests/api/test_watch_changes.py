"""WatchScheduleChanges and WatchPurchaseChanges (product 6) on the in-process server."""

from __future__ import annotations

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import common_pb2 as common

from tests.support.lifecycle import assigned, refused
from tests.support.watching import HEARTBEAT, watch_purchases, watch_schedule
from tests.support.world import World, future_date, new_id

BOOKED = pb.CHANGE_TYPE_SLOT_BOOKED
BLOCKED = pb.CHANGE_TYPE_SLOT_BLOCKED
RELEASED = pb.CHANGE_TYPE_SLOT_RELEASED
CHANGED = pb.CHANGE_TYPE_PURCHASE_CHANGED


def _slots(changes: list[pb.ScheduleChange]) -> set[tuple[int, str, str, str]]:
    return {(c.type, c.slot.trainer_id, c.slot.date, c.slot.start_time) for c in changes}


def _in_commit_order(changes: list[pb.ScheduleChange] | list[pb.PurchaseChange]) -> bool:
    times = [c.commit_time.ToDatetime() for c in changes]
    return times == sorted(times) and len({c.resume_token for c in changes}) == len(changes)


def test_every_kind_of_change_produces_exactly_its_documented_events_in_commit_order(world: World) -> None:
    first, second, third = new_id(), new_id(), new_id()
    world.add_trainer(north_km=1.0, trainer_id=first)
    world.add_trainer(north_km=2.0, trainer_id=second)
    slots = watch_schedule(world.booking, [first, second, third])
    purchases = watch_purchases(world.booking, world.zone_id)
    seen_slots: list[pb.ScheduleChange] = []
    seen_purchases: list[pb.PurchaseChange] = []

    # An assignment: the purchase (ASSIGNED) and one booked slot per session.
    response = assigned(world)
    purchase_id = response.purchase.purchase_id
    [change] = purchases.take(1)
    assert (change.type, change.purchase.purchase_id, change.purchase.status, change.purchase.trainer_id) == (
        CHANGED,
        purchase_id,
        common.PURCHASE_STATUS_ASSIGNED,
        first,
    )
    booked = slots.take(10)
    assert _slots(booked) == {(BOOKED, first, s.session_date, s.session_time) for s in response.sessions}
    assert {c.slot.purchase_id for c in booked} == {purchase_id}
    seen_purchases.append(change)
    seen_slots += booked

    # Time off, then removing it: the same slot blocked, then released.
    day = future_date(90)
    block = world.booking.BlockTrainerTime(
        pb.BlockTrainerTimeRequest(
            trainer_id=first, date=day, start_time="09:00", duration_minutes=60, reason="x"
        )
    )
    [blocked] = slots.take(1)
    assert (blocked.type, blocked.slot.slot_id, blocked.slot.reason) == (BLOCKED, block.slot.slot_id, "x")
    world.booking.UnblockTrainerTime(pb.UnblockTrainerTimeRequest(slot_id=block.slot.slot_id))
    [released] = slots.take(1)
    assert (released.type, released.slot.slot_id) == (RELEASED, block.slot.slot_id)
    seen_slots += [blocked, released]

    # A reschedule: the old interval released, the new one booked; the purchase did not change.
    moved = response.sessions[0]
    world.booking.RescheduleSession(
        pb.RescheduleSessionRequest(session_id=moved.session_id, new_date=day, new_time="18:00")
    )
    move = slots.take(2)
    assert [(c.type, c.slot.date, c.slot.start_time) for c in move] == [
        (RELEASED, moved.session_date, moved.session_time),
        (BOOKED, day, "18:00"),
    ]
    seen_slots += move

    # A substitution: every slot moves from the first trainer to the second; the purchase's trainer changes.
    world.booking.SubstituteTrainer(pb.SubstituteTrainerRequest(purchase_id=purchase_id, trainer_id=second))
    [change] = purchases.take(1)
    assert (change.purchase.purchase_id, change.purchase.trainer_id) == (purchase_id, second)
    substituted = slots.take(20)
    assert sorted(c.type for c in substituted) == [BOOKED] * 10 + [RELEASED] * 10
    assert {c.slot.trainer_id for c in substituted if c.type == RELEASED} == {first}
    assert {c.slot.trainer_id for c in substituted if c.type == BOOKED} == {second}
    seen_purchases.append(change)
    seen_slots += substituted

    # A cancel: the purchase CANCELLED, every slot released.
    world.booking.CancelPurchase(pb.CancelPurchaseRequest(purchase_id=purchase_id, reason="moved away"))
    [change] = purchases.take(1)
    assert (change.purchase.status, change.purchase.cancellation_reason) == (
        common.PURCHASE_STATUS_CANCELLED,
        "moved away",
    )
    cancelled = slots.take(10)
    assert {(c.type, c.slot.trainer_id) for c in cancelled} == {(RELEASED, second)}
    seen_purchases.append(change)
    seen_slots += cancelled

    # Waitlisted (nobody teaches the course yet), then promoted once a trainer does.
    course_id = new_id()
    waiting = world.booking.AutoAssignTrainer(world.request(course_id=course_id))
    [change] = purchases.take(1)
    assert (change.purchase.purchase_id, change.purchase.status) == (
        waiting.purchase.purchase_id,
        common.PURCHASE_STATUS_WAITLISTED,
    )
    seen_purchases.append(change)
    world.add_trainer(north_km=1.0, trainer_id=third, certified_course_ids=[course_id])
    world.booking.PromoteWaitlisted(pb.PromoteWaitlistedRequest(purchase_id=waiting.purchase.purchase_id))
    [change] = purchases.take(1)
    assert (change.purchase.status, change.purchase.trainer_id, change.purchase.message) == (
        common.PURCHASE_STATUS_ASSIGNED,
        third,
        "Trainer assigned from the waitlist",
    )
    promoted = slots.take(10)
    assert {(c.type, c.slot.trainer_id) for c in promoted} == {(BOOKED, third)}
    seen_purchases.append(change)
    seen_slots += promoted

    assert slots.nothing_more() == []
    assert purchases.nothing_more() == []
    assert _in_commit_order(seen_slots)
    assert _in_commit_order(seen_purchases)
    slots.close()
    purchases.close()


def test_a_quiet_stream_gets_heartbeats_that_carry_a_token(world: World) -> None:
    """The in-process server beats every 0.5 s (tests/api/conftest.py); the product default is 10 s."""
    slots = watch_schedule(world.booking, [new_id()])

    beats = slots.take(3, heartbeats=True, timeout_seconds=10)

    assert {b.type for b in beats} == {HEARTBEAT}
    assert all(b.resume_token and not b.HasField("slot") for b in beats)
    slots.close()


def test_a_watcher_resuming_from_a_token_gets_what_followed_it_once(world: World) -> None:
    trainer_id = world.add_trainer()
    slots = watch_schedule(world.booking, [trainer_id])
    first = assigned(world, start_date=future_date(30))
    before = slots.take(10)
    slots.close()
    second = assigned(world, start_date=future_date(60))

    resumed = watch_schedule(world.booking, [trainer_id], resume_token=before[3].resume_token)

    after = resumed.take(16)
    assert [c.slot.date for c in after[:6]] == [c.slot.date for c in before[4:]]
    assert {c.slot.purchase_id for c in after[6:]} == {second.purchase.purchase_id}
    assert {c.slot.purchase_id for c in after[:6]} == {first.purchase.purchase_id}
    assert resumed.nothing_more() == []
    resumed.close()


@pytest.mark.parametrize(
    "token",
    [
        "not a token",
        "1; DROP TABLE watch_changes; --",
        "v1.1.1700000000000.AAAAAAAAAAAAAAAAAAAAAA",
        "v1.99999999999999999999.1.AAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_a_forged_token_is_invalid_argument_on_resume_token(world: World, token: str) -> None:
    stream = world.booking.WatchScheduleChanges(pb.WatchScheduleChangesRequest(resume_token=token))

    error = refused(lambda: next(stream))

    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")
    assert set(error.violations) == {"resume_token"}


def test_a_token_with_a_tampered_position_is_refused(world: World) -> None:
    slots = watch_purchases(world.booking, world.zone_id)
    token = slots.take(1, heartbeats=True)[0].resume_token
    slots.close()
    version, position, issued, signature = token.split(".")
    tampered = ".".join([version, str(int(position) - 1), issued, signature])
    stream = world.booking.WatchPurchaseChanges(pb.WatchPurchaseChangesRequest(resume_token=tampered))

    error = refused(lambda: next(stream))

    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")


def test_malformed_filters_are_invalid_argument_on_their_field(world: World) -> None:
    schedule = world.booking.WatchScheduleChanges(pb.WatchScheduleChangesRequest(trainer_ids=["nope"]))
    purchases = world.booking.WatchPurchaseChanges(pb.WatchPurchaseChangesRequest(zone_id="nope"))

    assert set(refused(lambda: next(schedule)).violations) == {"trainer_ids[0]"}
    assert set(refused(lambda: next(purchases)).violations) == {"zone_id"}


def test_answers_that_change_nothing_produce_no_events(world: World) -> None:
    trainer_id = world.add_trainer()
    slots = watch_schedule(world.booking, [trainer_id])
    purchases = watch_purchases(world.booking, "")  # every zone: an answer with no zone would show too
    request = world.request()

    dry_run = world.booking.AutoAssignTrainer(world.request(validate_only=True))
    invalid = world.booking.AutoAssignTrainer(world.request(total_sessions=7))
    first = world.booking.AutoAssignTrainer(request)
    replay = world.booking.AutoAssignTrainer(request)

    assert dry_run.purchase.status == common.PURCHASE_STATUS_ASSIGNED
    assert invalid.purchase.status == common.PURCHASE_STATUS_INVALID_PURCHASE
    assert replay.purchase == first.purchase
    [change] = purchases.take(1)
    assert change.purchase.purchase_id == first.purchase.purchase_id
    assert {c.slot.purchase_id for c in slots.take(10)} == {first.purchase.purchase_id}
    assert slots.nothing_more() == []
    assert purchases.nothing_more() == []
    slots.close()
    purchases.close()
