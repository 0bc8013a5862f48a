"""AutoAssignTrainer through the in-process server: each outcome and what is stored."""

from __future__ import annotations

from datetime import date, timedelta

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import common_pb2 as common
from booking.v1 import trainer_directory_pb2
from google.protobuf import field_mask_pb2

from tests.support.rpc_errors import rich_error
from tests.support.world import World, future_date, new_id, students


@pytest.fixture
def world(booking, directory) -> World:  # type: ignore[no-untyped-def]
    w = World(booking=booking, directory=directory)
    w.create_zone()
    return w


def _schedule(world: World, trainer_id: str) -> list[common.Slot]:
    start = date.today()
    return list(
        world.booking.GetTrainerSchedule(
            pb.GetTrainerScheduleRequest(
                trainer_id=trainer_id,
                from_date=start.isoformat(),
                to_date=(start + timedelta(days=399)).isoformat(),
            )
        ).slots
    )


def _purchases_for(world: World, booking_id: str) -> list[common.Purchase]:
    return list(world.booking.ListPurchases(pb.ListPurchasesRequest(booking_id=booking_id)).purchases)


def test_an_eligible_trainer_is_assigned_with_every_session_and_slot_stored(world: World) -> None:
    trainer_id = world.add_trainer()
    request = world.request()

    response = world.booking.AutoAssignTrainer(request)

    purchase = response.purchase
    assert purchase.status == common.PURCHASE_STATUS_ASSIGNED
    assert purchase.message == "Trainer assigned successfully"
    assert purchase.trainer_id == trainer_id
    assert purchase.zone_id == world.zone_id
    assert purchase.franchise_id == ""
    assert [s.session_number for s in response.sessions] == list(range(1, 11))
    assert response.decision.ranked_trainer_ids == [trainer_id]
    assert response.decision.zone.zone_id == world.zone_id
    stored = world.booking.GetPurchase(pb.GetPurchaseRequest(purchase_id=purchase.purchase_id)).purchase
    assert stored == purchase
    sessions = world.booking.ListPurchaseSessions(
        pb.ListPurchaseSessionsRequest(purchase_id=purchase.purchase_id)
    )
    assert [s.session_date for s in sessions.sessions] == [
        (date.fromisoformat(request.start_date) + timedelta(days=i)).isoformat() for i in range(10)
    ]
    slots = _schedule(world, trainer_id)
    assert len(slots) == 10
    assert {s.purchase_id for s in slots} == {purchase.purchase_id}
    assert {(s.date, s.start_time, s.duration_minutes) for s in slots} == {
        (s.session_date, "16:00", 40) for s in sessions.sessions
    }


def test_a_busy_trainer_leaves_the_purchase_waitlisted_with_its_sessions_and_the_conflict_explained(
    world: World,
) -> None:
    trainer_id = world.add_trainer()
    request = world.request()
    third_day = (date.fromisoformat(request.start_date) + timedelta(days=2)).isoformat()
    world.booking.BlockTrainerTime(
        pb.BlockTrainerTimeRequest(
            trainer_id=trainer_id, date=third_day, start_time="16:20", duration_minutes=30, reason="dentist"
        )
    )

    response = world.booking.AutoAssignTrainer(request)

    assert response.purchase.status == common.PURCHASE_STATUS_WAITLISTED
    assert response.purchase.waitlist_reason == common.WAITLIST_REASON_NO_ELIGIBLE_TRAINER
    assert response.purchase.message == "No eligible trainer available, booking waitlisted"
    assert response.purchase.trainer_id == ""
    assert response.purchase.zone_id == world.zone_id
    assert len(response.sessions) == 10
    [rejection] = response.decision.rejections
    assert rejection.trainer_id == trainer_id
    assert rejection.reason == "SCHEDULE_CONFLICT"
    assert rejection.detail.startswith(f"{third_day} 16:00")
    assert [s.status for s in _schedule(world, trainer_id)] == [common.SLOT_STATUS_BLOCKED]


def test_a_student_outside_every_zone_gets_service_not_available_stored_without_sessions(
    world: World,
) -> None:
    world.add_trainer()
    far_away = world.near(north_km=50.0)

    response = world.booking.AutoAssignTrainer(world.request(student_location=far_away))

    assert response.purchase.status == common.PURCHASE_STATUS_SERVICE_NOT_AVAILABLE
    assert response.purchase.message == "Service not available at this location"
    assert response.purchase.zone_id == ""
    assert response.purchase.purchase_id
    assert list(response.sessions) == []
    stored = world.booking.ListPurchaseSessions(
        pb.ListPurchaseSessionsRequest(purchase_id=response.purchase.purchase_id)
    )
    assert list(stored.sessions) == []


def test_a_purchase_rule_failure_is_stored_as_invalid_purchase_with_the_exact_message(world: World) -> None:
    trainer_id = world.add_trainer()

    response = world.booking.AutoAssignTrainer(
        world.request(class_type=common.CLASS_TYPE_HYBRID, total_sessions=10)
    )

    assert response.purchase.status == common.PURCHASE_STATUS_INVALID_PURCHASE
    assert response.purchase.message == "HYBRID class type requires exactly 30 sessions"
    assert response.purchase.zone_id == ""
    assert list(response.sessions) == []
    assert _schedule(world, trainer_id) == []


def test_bad_input_is_invalid_argument_with_every_violation_and_nothing_is_stored(world: World) -> None:
    request = world.request(
        course_id="not-a-uuid",
        total_sessions=0,
        preferred_time_slot="24:00",
        start_date="2020-02-30",
        students=[common.Student(id=new_id(), name="")],
    )
    request.student_location.latitude = 91.0

    with pytest.raises(grpc.RpcError) as raised:
        world.booking.AutoAssignTrainer(request)

    error = rich_error(raised.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_REQUEST"
    assert error.domain == "booking.v1"
    assert set(error.violations) == {
        "course_id",
        "total_sessions",
        "preferred_time_slot",
        "start_date",
        "students[0].name",
        "student_location.latitude",
    }
    assert _purchases_for(world, request.booking_id) == []


def test_a_missing_student_location_and_unspecified_enums_are_reported_by_field(world: World) -> None:
    request = world.request(class_type=common.CLASS_TYPE_UNSPECIFIED, delivery_mode=99)
    request.ClearField("student_location")

    with pytest.raises(grpc.RpcError) as raised:
        world.booking.AutoAssignTrainer(request)

    assert set(rich_error(raised.value).violations) == {"student_location", "class_type", "delivery_mode"}


def test_a_replay_returns_the_stored_outcome_and_writes_nothing_new(world: World) -> None:
    trainer_id = world.add_trainer()
    request = world.request()
    first = world.booking.AutoAssignTrainer(request)

    second = world.booking.AutoAssignTrainer(request)

    assert second.purchase == first.purchase
    assert [s.session_id for s in second.sessions] == [s.session_id for s in first.sessions]
    assert len(_purchases_for(world, request.booking_id)) == 1
    assert len(_schedule(world, trainer_id)) == 10


def test_a_replay_answers_exactly_as_the_first_call_did_even_after_the_directory_and_zone_changed(
    world: World,
) -> None:
    near = world.add_trainer(north_km=1.0)
    far = world.add_trainer(north_km=3.0)
    world.add_trainer(zone_id=new_id())  # another home zone: the directory does not return it
    world.add_trainer(north_km=11.0)  # rejected: OUT_OF_TRAVEL_RANGE
    request = world.request()
    first = world.booking.AutoAssignTrainer(request)
    assert first.purchase.trainer_id == near
    assert len(first.decision.rejections) == 1
    assert first.decision.candidate_query.trainers_returned == 3

    right_after = world.booking.AutoAssignTrainer(request)
    world.add_trainer(north_km=0.5)  # a nearer trainer now
    world.directory.DeleteTrainer(trainer_directory_pb2.DeleteTrainerRequest(trainer_id=far))
    world.booking.UpdateZone(
        pb.UpdateZoneRequest(
            zone=common.Zone(zone_id=world.zone_id, name=f"renamed-{new_id()}"),
            update_mask=field_mask_pb2.FieldMask(paths=["name"]),
        )
    )
    after_changes = world.booking.AutoAssignTrainer(request)

    assert right_after == first
    assert after_changes == first


def test_a_replay_of_a_waitlisted_purchase_keeps_its_explanation(world: World) -> None:
    busy = world.add_trainer()
    world.booking.BlockTrainerTime(
        pb.BlockTrainerTimeRequest(
            trainer_id=busy, date=future_date(), start_time="16:00", duration_minutes=60, reason="x"
        )
    )
    request = world.request()
    first = world.booking.AutoAssignTrainer(request)
    assert first.purchase.status == common.PURCHASE_STATUS_WAITLISTED
    assert [r.reason for r in first.decision.rejections] == ["SCHEDULE_CONFLICT"]

    assert world.booking.AutoAssignTrainer(request) == first


def test_the_same_booking_id_with_another_payload_is_already_exists_and_changes_nothing(world: World) -> None:
    world.add_trainer()
    request = world.request()
    first = world.booking.AutoAssignTrainer(request)
    changed = pb.AutoAssignTrainerRequest()
    changed.CopyFrom(request)
    changed.preferred_time_slot = "17:00"

    with pytest.raises(grpc.RpcError) as raised:
        world.booking.AutoAssignTrainer(changed)

    error = rich_error(raised.value)
    assert error.code == grpc.StatusCode.ALREADY_EXISTS
    assert error.reason == "BOOKING_ID_REUSED"
    assert _purchases_for(world, request.booking_id) == [first.purchase]


def test_a_dry_run_writes_nothing_and_predicts_the_real_call(world: World) -> None:
    near = world.add_trainer(north_km=1.0)
    far = world.add_trainer(north_km=3.0)
    request = world.request(validate_only=True)

    predicted = world.booking.AutoAssignTrainer(request)

    assert predicted.purchase.status == common.PURCHASE_STATUS_ASSIGNED
    assert predicted.purchase.trainer_id == near
    assert predicted.purchase.purchase_id == ""
    assert list(predicted.decision.ranked_trainer_ids) == [near, far]
    assert len(predicted.sessions) == 10
    assert _purchases_for(world, request.booking_id) == []
    assert _schedule(world, near) == []

    request.validate_only = False
    real = world.booking.AutoAssignTrainer(request)
    assert real.purchase.trainer_id == predicted.purchase.trainer_id
    assert real.decision == predicted.decision


def test_the_nearest_trainer_wins_and_others_are_rejected_with_their_first_failing_rule(world: World) -> None:
    far = world.add_trainer(north_km=4.0)
    near = world.add_trainer(north_km=1.5)
    no_location = world.add_trainer(north_km=None)
    inactive = world.add_trainer(active=False)
    out_of_range = world.add_trainer(north_km=11.0)
    franchise = world.add_trainer(franchise_id=new_id())
    wrong_zone = world.add_trainer(zone_id=new_id())
    too_many = world.add_trainer(certified_course_ids=[world.course_id, new_id(), new_id(), new_id()])

    response = world.booking.AutoAssignTrainer(world.request())

    assert response.purchase.trainer_id == near
    assert list(response.decision.ranked_trainer_ids) == [near, far, no_location]
    reasons = {r.trainer_id: r.reason for r in response.decision.rejections}
    # The directory is asked for the zone's plausible candidates only (active, the zone's
    # operator, home zone equal or none): the others are never candidates, so never rejections.
    assert not {inactive, franchise, wrong_zone} & set(reasons)
    assert reasons == {out_of_range: "OUT_OF_TRAVEL_RANGE", too_many: "TOO_MANY_CERTIFICATIONS"}
    query = response.decision.candidate_query
    assert (query.course_id, query.zone_id, query.company_only, query.franchise_id) == (
        world.course_id,
        world.zone_id,
        True,
        "",
    )
    assert query.trainers_returned == 5  # near, far, no_location, out_of_range, too_many


def test_a_franchise_zone_takes_only_trainers_of_its_own_franchise(booking, directory) -> None:  # type: ignore[no-untyped-def]
    world = World(booking=booking, directory=directory, franchise_id=new_id())
    world.create_zone()
    other = world.add_trainer(north_km=0.5, franchise_id=new_id())
    company = world.add_trainer(north_km=0.6, franchise_id="")
    own = world.add_trainer(north_km=2.0)

    response = world.booking.AutoAssignTrainer(world.request())

    assert response.purchase.trainer_id == own
    assert response.purchase.franchise_id == world.franchise_id
    # Neither was a candidate: the directory was asked for this franchise's trainers only.
    assert not {other, company} & {r.trainer_id for r in response.decision.rejections}
    query = response.decision.candidate_query
    assert (query.franchise_id, query.company_only, query.trainers_returned) == (world.franchise_id, False, 1)


def test_a_load_cap_reached_rejects_the_trainer(world: World) -> None:
    capped = world.add_trainer(max_active_purchases=1)
    first = world.booking.AutoAssignTrainer(world.request())
    assert first.purchase.trainer_id == capped

    second = world.booking.AutoAssignTrainer(world.request(start_date=future_date(120)))

    assert second.purchase.status == common.PURCHASE_STATUS_WAITLISTED
    assert [(r.trainer_id, r.reason) for r in second.decision.rejections] == [(capped, "LOAD_CAP")]


def test_sunday_only_books_two_back_to_back_sessions_per_sunday(world: World) -> None:
    trainer_id = world.add_trainer()

    response = world.booking.AutoAssignTrainer(
        world.request(delivery_mode=common.DELIVERY_MODE_SUNDAY_ONLY, total_sessions=10)
    )

    assert response.purchase.status == common.PURCHASE_STATUS_ASSIGNED
    times = [(s.session_date, s.session_time) for s in response.sessions]
    assert [t for _, t in times] == ["16:00", "16:40"] * 5
    assert all(date.fromisoformat(d).weekday() == 6 for d, _ in times)
    assert len(_schedule(world, trainer_id)) == 10


def test_a_hybrid_purchase_carries_its_session_flags(world: World) -> None:
    world.add_trainer()

    response = world.booking.AutoAssignTrainer(
        world.request(class_type=common.CLASS_TYPE_HYBRID, total_sessions=30, students=students(4))
    )

    assert response.purchase.status == common.PURCHASE_STATUS_ASSIGNED
    online = [s for s in response.sessions if s.session_type == common.SESSION_TYPE_ONLINE]
    offline = [s for s in response.sessions if s.session_type == common.SESSION_TYPE_OFFLINE]
    assert (len(online), len(offline)) == (18, 12)
    assert online[0].flags == common.SessionFlags(is_fixed_time=True)
    assert offline[0].flags == common.SessionFlags(
        is_bookable=True, requires_booking=True, initial_time_slot="16:00"
    )


def test_blocking_time_that_overlaps_is_slot_overlap_and_touching_time_is_fine(world: World) -> None:
    trainer_id = world.add_trainer()
    day = future_date(10)

    def block(start: str, minutes: int) -> pb.BlockTrainerTimeResponse:
        return world.booking.BlockTrainerTime(
            pb.BlockTrainerTimeRequest(
                trainer_id=trainer_id, date=day, start_time=start, duration_minutes=minutes
            )
        )

    block("16:00", 40)
    block("16:40", 20)
    block("15:20", 40)
    with pytest.raises(grpc.RpcError) as raised:
        block("16:20", 10)

    error = rich_error(raised.value)
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SLOT_OVERLAP")
    assert [s.start_time for s in _schedule(world, trainer_id)] == ["15:20", "16:00", "16:40"]


def test_unknown_and_malformed_purchase_ids_are_not_found_and_invalid_argument(world: World) -> None:
    with pytest.raises(grpc.RpcError) as unknown:
        world.booking.GetPurchase(pb.GetPurchaseRequest(purchase_id=new_id()))
    with pytest.raises(grpc.RpcError) as malformed:
        world.booking.ListPurchaseSessions(pb.ListPurchaseSessionsRequest(purchase_id="42"))

    assert (rich_error(unknown.value).code, rich_error(unknown.value).reason) == (
        grpc.StatusCode.NOT_FOUND,
        "PURCHASE_NOT_FOUND",
    )
    assert rich_error(malformed.value).violations.keys() == {"purchase_id"}


def test_list_purchases_pages_through_a_trainers_purchases_newest_first(world: World) -> None:
    trainer_id = world.add_trainer()
    made = [
        world.booking.AutoAssignTrainer(
            world.request(start_date=future_date(20 + 12 * i))
        ).purchase.purchase_id
        for i in range(5)
    ]

    seen: list[str] = []
    token = ""
    while True:
        page = world.booking.ListPurchases(
            pb.ListPurchasesRequest(trainer_id=trainer_id, page_size=2, page_token=token)
        )
        seen += [p.purchase_id for p in page.purchases]
        token = page.next_page_token
        if not token:
            break

    assert seen == list(reversed(made))


def test_schedule_windows_over_400_days_are_refused(world: World) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        world.booking.GetTrainerSchedule(
            pb.GetTrainerScheduleRequest(trainer_id=new_id(), from_date="2027-01-01", to_date="2028-02-05")
        )

    assert rich_error(raised.value).violations.keys() == {"to_date"}
