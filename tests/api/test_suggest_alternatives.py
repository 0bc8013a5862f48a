"""SuggestAlternatives (product 7): the nearest schedules that would be assigned now, writing nothing."""

from __future__ import annotations

import grpc
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import common_pb2 as common

from tests.support.lifecycle import assigned, refused
from tests.support.world import World, future_date, new_id

_SHARED = (
    "booking_id",
    "course_id",
    "class_type",
    "total_sessions",
    "delivery_mode",
    "start_date",
    "preferred_time_slot",
    "student_location",
    "student_address",
    "students",
)


def _suggest(
    world: World, request: pb.AutoAssignTrainerRequest, **bounds: int
) -> pb.SuggestAlternativesResponse:
    """The AutoAssignTrainer request's fields, as SuggestAlternatives takes them."""
    suggestion = pb.SuggestAlternativesRequest(**bounds)
    for name in _SHARED:
        if name == "students":
            suggestion.students.extend(request.students)
        elif name == "student_location":
            suggestion.student_location.CopyFrom(request.student_location)
        else:
            setattr(suggestion, name, getattr(request, name))
    return world.booking.SuggestAlternatives(suggestion)


def _pairs(response: pb.SuggestAlternativesResponse) -> list[tuple[str, str]]:
    return [(a.start_date, a.time_slot) for a in response.alternatives]


def test_the_requested_schedule_comes_first_when_it_is_free(world: World) -> None:
    near = world.add_trainer(north_km=1.0)
    request = world.request(start_date=future_date(30), preferred_time_slot="16:00")

    response = _suggest(world, request)

    assert _pairs(response)[:3] == [
        (request.start_date, "16:00"),
        (request.start_date, "15:40"),
        (request.start_date, "16:20"),
    ]
    assert len(response.alternatives) == 5
    assert {a.trainer_id for a in response.alternatives} == {near}
    assert 0.4 < response.alternatives[0].distance_km < 0.6  # student 0.5 km north of centre, trainer 1 km
    assert response.status == common.PURCHASE_STATUS_UNSPECIFIED


def test_a_fully_booked_requested_slot_yields_the_nearest_free_times(world: World) -> None:
    trainer_id = world.add_trainer()
    start = future_date(35)
    assigned(world, start_date=start, preferred_time_slot="16:00")  # the only trainer is busy 16:00-16:40
    request = world.request(start_date=start, preferred_time_slot="16:00")

    response = _suggest(world, request)

    # Touching is fine: 15:20 ends at 16:00 and 16:40 starts when the booked lesson ends.
    assert _pairs(response) == [(start, t) for t in ("15:20", "16:40", "15:00", "17:00", "14:40")]
    assert {a.trainer_id for a in response.alternatives} == {trainer_id}


def test_max_results_and_window_days_bound_the_answer(world: World) -> None:
    world.add_trainer()
    start = future_date(40)
    assigned(world, start_date=start, preferred_time_slot="12:00")

    few = _suggest(world, world.request(start_date=start, preferred_time_slot="12:00"), max_results=2)
    many = _suggest(
        world, world.request(start_date=start, preferred_time_slot="12:00"), max_results=20, window_days=1
    )

    assert len(few.alternatives) == 2
    assert len(many.alternatives) == 20
    assert {a.start_date for a in many.alternatives} <= {start, future_date(41)}


def test_every_suggestion_booked_right_after_goes_to_the_suggested_trainer(world: World) -> None:
    world.add_trainer(north_km=1.0)
    world.add_trainer(north_km=2.0)
    start = future_date(45)
    assigned(world, start_date=start, preferred_time_slot="10:00")
    request = world.request(start_date=start, preferred_time_slot="10:00")

    response = _suggest(world, request, max_results=8)

    assert len(response.alternatives) == 8
    for alternative in response.alternatives:
        booking = world.request(
            start_date=alternative.start_date, preferred_time_slot=alternative.time_slot, booking_id=new_id()
        )
        outcome = world.booking.AutoAssignTrainer(booking).purchase
        assert (outcome.status, outcome.trainer_id) == (
            common.PURCHASE_STATUS_ASSIGNED,
            alternative.trainer_id,
        )
        world.booking.CancelPurchase(pb.CancelPurchaseRequest(purchase_id=outcome.purchase_id))


def test_nothing_is_written(world: World) -> None:
    world.add_trainer()
    request = world.request()

    _suggest(world, request)

    listed = world.booking.ListPurchases(pb.ListPurchasesRequest(booking_id=request.booking_id)).purchases
    assert list(listed) == []


def test_a_purchase_rule_failure_or_no_zone_answers_no_alternatives_and_the_reason(world: World) -> None:
    world.add_trainer()

    invalid = _suggest(world, world.request(class_type=common.CLASS_TYPE_HYBRID))
    far = world.request(student_location=common.GeoPoint(latitude=-89.0, longitude=0.0))
    nowhere = _suggest(world, far)

    assert (list(invalid.alternatives), invalid.status, invalid.message) == (
        [],
        common.PURCHASE_STATUS_INVALID_PURCHASE,
        "HYBRID class type requires exactly 30 sessions",
    )
    assert (list(nowhere.alternatives), nowhere.status) == ([], common.PURCHASE_STATUS_SERVICE_NOT_AVAILABLE)
    assert nowhere.message == "Service not available at this location"


def test_bad_input_and_bounds_are_invalid_argument_all_at_once(world: World) -> None:
    request = world.request(start_date="2020-01-01", preferred_time_slot="25:00")

    error = refused(lambda: _suggest(world, request, max_results=21, window_days=61))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(error.violations) == {"start_date", "preferred_time_slot", "max_results", "window_days"}
