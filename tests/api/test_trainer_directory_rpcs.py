"""TrainerDirectoryService through a real in-process server and stub."""

from __future__ import annotations

import grpc
import pytest
from booking.v1 import common_pb2, trainer_directory_pb2_grpc
from booking.v1 import trainer_directory_pb2 as pb
from booking_client import TrainerDirectoryClient
from booking_server.app import Application

from tests.support.factories import fresh_id, trainer_message
from tests.support.rpc_errors import RichError, rich_error

Stub = trainer_directory_pb2_grpc.TrainerDirectoryServiceStub


def upsert(directory: Stub, **overrides: object) -> common_pb2.Trainer:
    return directory.UpsertTrainer(pb.UpsertTrainerRequest(trainer=trainer_message(**overrides))).trainer


def failure(call: object, request: object) -> RichError:
    with pytest.raises(grpc.RpcError) as caught:
        call(request)  # type: ignore[operator]
    return rich_error(caught.value)


def listed_ids(directory: Stub, **filters: object) -> list[str]:
    response = directory.ListTrainers(pb.ListTrainersRequest(page_size=500, **filters))  # type: ignore[arg-type]
    assert response.next_page_token == ""
    return [trainer.trainer_id for trainer in response.trainers]


def test_an_upserted_trainer_is_returned_by_get_as_stored(directory: Stub) -> None:
    course_b, course_a = "b" + fresh_id()[1:], "a" + fresh_id()[1:]
    franchise, zone = fresh_id(), fresh_id()
    sent = trainer_message(
        franchise_id=franchise.upper(), zone_id=zone, certified_course_ids=[course_b.upper(), course_a]
    )
    stored = directory.UpsertTrainer(pb.UpsertTrainerRequest(trainer=sent)).trainer
    assert stored.trainer_id == sent.trainer_id
    assert (stored.display_name, stored.active, stored.max_active_purchases) == ("Asha Verma", True, 0)
    assert (stored.franchise_id, stored.zone_id) == (franchise, zone)
    assert list(stored.certified_course_ids) == [course_a, course_b]
    assert stored.has_location
    assert (stored.location.latitude, stored.location.longitude) == (17.385, 78.4867)
    assert stored.update_time.seconds > 0
    assert directory.GetTrainer(pb.GetTrainerRequest(trainer_id=sent.trainer_id.upper())).trainer == stored


def test_an_upsert_replaces_the_trainer_and_its_courses(directory: Stub) -> None:
    first = upsert(directory)
    new_course = fresh_id()
    replaced = upsert(
        directory,
        trainer_id=first.trainer_id,
        display_name="Asha V.",
        active=False,
        certified_course_ids=[new_course],
        has_location=False,
        max_active_purchases=4,
    )
    assert list(replaced.certified_course_ids) == [new_course]
    assert (replaced.active, replaced.has_location, replaced.max_active_purchases) == (False, False, 4)
    assert replaced.location == common_pb2.GeoPoint()
    assert listed_ids(directory, course_id=first.certified_course_ids[0]) == []
    assert directory.GetTrainer(pb.GetTrainerRequest(trainer_id=first.trainer_id)).trainer == replaced


def test_a_trainer_certified_for_five_courses_is_storable(directory: Stub) -> None:
    courses = sorted(fresh_id() for _ in range(5))
    assert list(upsert(directory, certified_course_ids=courses).certified_course_ids) == courses


def test_a_location_out_of_range_is_ignored_without_has_location(directory: Stub) -> None:
    far_off = common_pb2.GeoPoint(latitude=123.0, longitude=456.0)
    assert not upsert(directory, location=far_off, has_location=False).has_location


def test_every_problem_of_an_upsert_is_an_invalid_argument_violation(directory: Stub) -> None:
    course = fresh_id()
    trainer = trainer_message(
        trainer_id="",
        display_name="x" * 201,
        franchise_id="acme",
        zone_id="north",
        certified_course_ids=[course, "maths", course.upper()],
        location=common_pb2.GeoPoint(latitude=100.0, longitude=0.0),
        max_active_purchases=-1,
    )
    error = failure(directory.UpsertTrainer, pb.UpsertTrainerRequest(trainer=trainer))
    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")
    assert set(error.violations) == {
        "trainer.trainer_id",
        "trainer.display_name",
        "trainer.franchise_id",
        "trainer.zone_id",
        "trainer.certified_course_ids[1]",
        "trainer.certified_course_ids[2]",
        "trainer.location.latitude",
        "trainer.max_active_purchases",
    }


def test_more_than_100_certified_courses_are_refused(directory: Stub) -> None:
    trainer = trainer_message(certified_course_ids=[fresh_id() for _ in range(101)])
    error = failure(directory.UpsertTrainer, pb.UpsertTrainerRequest(trainer=trainer))
    assert list(error.violations) == ["trainer.certified_course_ids"]


def test_get_trainer_with_a_malformed_id_is_invalid_and_an_unknown_one_not_found(directory: Stub) -> None:
    error = failure(directory.GetTrainer, pb.GetTrainerRequest(trainer_id="t-42"))
    assert (error.code, list(error.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, ["trainer_id"])
    error = failure(directory.GetTrainer, pb.GetTrainerRequest(trainer_id=fresh_id()))
    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "TRAINER_NOT_FOUND")


def test_batch_get_returns_trainers_in_request_order(directory: Stub) -> None:
    first, second = upsert(directory), upsert(directory)
    ids = [second.trainer_id, first.trainer_id, second.trainer_id]
    response = directory.BatchGetTrainers(pb.BatchGetTrainersRequest(trainer_ids=ids))
    assert list(response.trainers) == [second, first, second]
    assert list(directory.BatchGetTrainers(pb.BatchGetTrainersRequest()).trainers) == []


def test_batch_get_with_one_unknown_id_fails_the_whole_call(directory: Stub) -> None:
    known, unknown = upsert(directory), fresh_id()
    request = pb.BatchGetTrainersRequest(trainer_ids=[known.trainer_id, unknown])
    error = failure(directory.BatchGetTrainers, request)
    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "TRAINER_NOT_FOUND")
    assert unknown in error.message


def test_batch_get_refuses_malformed_ids_and_more_than_500(directory: Stub) -> None:
    error = failure(directory.BatchGetTrainers, pb.BatchGetTrainersRequest(trainer_ids=[fresh_id(), "t-2"]))
    assert (error.code, list(error.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, ["trainer_ids[1]"])
    request = pb.BatchGetTrainersRequest(trainer_ids=[fresh_id() for _ in range(501)])
    assert list(failure(directory.BatchGetTrainers, request).violations) == ["trainer_ids"]


def test_paging_through_120_trainers_of_a_course_gives_each_once_in_order(directory: Stub) -> None:
    course = fresh_id()
    expected = sorted(upsert(directory, certified_course_ids=[course]).trainer_id for _ in range(120))
    seen: list[str] = []
    sizes: list[int] = []
    token = ""
    while True:
        request = pb.ListTrainersRequest(course_id=course, page_size=50, page_token=token)
        response = directory.ListTrainers(request)
        seen.extend(trainer.trainer_id for trainer in response.trainers)
        sizes.append(len(response.trainers))
        token = response.next_page_token
        if not token:
            break
    assert sizes == [50, 50, 20]
    assert seen == expected


def test_list_filters_select_the_matching_trainers_of_a_course(directory: Stub) -> None:
    course, franchise, zone = fresh_id(), fresh_id(), fresh_id()
    company = upsert(directory, certified_course_ids=[course], zone_id=zone)
    inactive = upsert(directory, certified_course_ids=[course], active=False)
    franchised = upsert(directory, certified_course_ids=[course], franchise_id=franchise)
    everyone = sorted([company.trainer_id, inactive.trainer_id, franchised.trainer_id])
    assert listed_ids(directory, course_id=course) == everyone
    assert listed_ids(directory, course_id=course, active_only=True) == sorted(
        [company.trainer_id, franchised.trainer_id]
    )
    assert listed_ids(directory, course_id=course, company_only=True) == sorted(
        [company.trainer_id, inactive.trainer_id]
    )
    assert listed_ids(directory, franchise_id=franchise) == [franchised.trainer_id]
    assert listed_ids(directory, zone_id=zone) == [company.trainer_id]


def test_a_zones_candidates_are_its_operators_trainers_with_that_home_zone_or_none(directory: Stub) -> None:
    course, franchise, zone = fresh_id(), fresh_id(), fresh_id()
    at_home = upsert(directory, certified_course_ids=[course], zone_id=zone)
    homeless = upsert(directory, certified_course_ids=[course], zone_id="")
    upsert(directory, certified_course_ids=[course], zone_id=fresh_id())  # another home zone
    upsert(directory, certified_course_ids=[course], zone_id=zone, active=False)
    franchised = upsert(directory, certified_course_ids=[course], zone_id=zone, franchise_id=franchise)
    upsert(directory, certified_course_ids=[fresh_id()], zone_id=zone)  # another course
    scope = {"course_id": course, "active_only": True, "zone_id": zone, "include_without_zone": True}

    assert listed_ids(directory, company_only=True, **scope) == sorted(
        [at_home.trainer_id, homeless.trainer_id]
    )
    assert listed_ids(directory, franchise_id=franchise, **scope) == [franchised.trainer_id]
    # Without it, zone_id alone keeps its meaning: that home zone only.
    only_home = listed_ids(directory, course_id=course, zone_id=zone, active_only=True, company_only=True)
    assert only_home == [at_home.trainer_id]


def test_the_zone_or_none_filter_pages_with_its_own_tokens(directory: Stub) -> None:
    course, zone = fresh_id(), fresh_id()
    expected = sorted(
        upsert(directory, certified_course_ids=[course], zone_id=zone if i % 2 else "").trainer_id
        for i in range(5)
    )
    asked = pb.ListTrainersRequest(course_id=course, zone_id=zone, include_without_zone=True, page_size=2)
    seen: list[str] = []
    while True:
        page = directory.ListTrainers(asked)
        seen.extend(t.trainer_id for t in page.trainers)
        if not page.next_page_token:
            break
        asked.page_token = page.next_page_token
    assert seen == expected
    # A token is bound to its filters: the same token without include_without_zone is refused.
    first = directory.ListTrainers(
        pb.ListTrainersRequest(course_id=course, zone_id=zone, include_without_zone=True, page_size=2)
    )
    other = pb.ListTrainersRequest(
        course_id=course, zone_id=zone, page_size=2, page_token=first.next_page_token
    )
    error = failure(directory.ListTrainers, other)
    assert (error.code, list(error.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_token"])


def test_include_without_zone_needs_a_zone(directory: Stub) -> None:
    error = failure(directory.ListTrainers, pb.ListTrainersRequest(include_without_zone=True))
    assert (error.code, list(error.violations)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ["include_without_zone"],
    )


def test_franchise_and_company_only_together_are_invalid(directory: Stub) -> None:
    request = pb.ListTrainersRequest(franchise_id=fresh_id(), company_only=True)
    error = failure(directory.ListTrainers, request)
    assert (error.code, list(error.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, ["company_only"])


@pytest.mark.parametrize("page_size", [-1, 501])
def test_list_trainers_refuses_a_page_size_outside_0_to_500(directory: Stub, page_size: int) -> None:
    error = failure(directory.ListTrainers, pb.ListTrainersRequest(page_size=page_size))
    assert (error.code, list(error.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_size"])


@pytest.mark.parametrize("page_token", ["forged", "eyJ0cmFpbmVyX2lkIjoieCJ9", "' OR 1=1 --"])
def test_list_trainers_refuses_a_forged_page_token(directory: Stub, page_token: str) -> None:
    error = failure(directory.ListTrainers, pb.ListTrainersRequest(page_token=page_token))
    assert (error.code, list(error.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_token"])


def test_list_trainers_refuses_malformed_filters(directory: Stub) -> None:
    request = pb.ListTrainersRequest(course_id="maths", franchise_id="acme", zone_id="north")
    error = failure(directory.ListTrainers, request)
    assert set(error.violations) == {"course_id", "franchise_id", "zone_id"}


def test_a_deleted_trainer_is_gone_and_a_second_delete_is_not_found(directory: Stub) -> None:
    trainer = upsert(directory)
    assert directory.DeleteTrainer(pb.DeleteTrainerRequest(trainer_id=trainer.trainer_id)) == (
        pb.DeleteTrainerResponse()
    )
    error = failure(directory.GetTrainer, pb.GetTrainerRequest(trainer_id=trainer.trainer_id))
    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "TRAINER_NOT_FOUND")
    error = failure(directory.DeleteTrainer, pb.DeleteTrainerRequest(trainer_id=trainer.trainer_id))
    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "TRAINER_NOT_FOUND")
    assert listed_ids(directory, course_id=trainer.certified_course_ids[0]) == []


def test_delete_trainer_with_a_malformed_id_is_invalid(directory: Stub) -> None:
    error = failure(directory.DeleteTrainer, pb.DeleteTrainerRequest(trainer_id="t-1"))
    assert (error.code, list(error.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, ["trainer_id"])


def test_the_directory_client_reads_every_active_trainer_of_a_course_from_this_server(
    directory: Stub, app_server: Application
) -> None:
    course = fresh_id()
    active = sorted(upsert(directory, certified_course_ids=[course]).trainer_id for _ in range(7))
    upsert(directory, certified_course_ids=[course], active=False)
    with grpc.insecure_channel(f"127.0.0.1:{app_server.public.port}") as channel:
        client = TrainerDirectoryClient(channel, page_size=3)
        trainers = client.list_course_trainers(course)
    assert [trainer.trainer_id for trainer in trainers] == active
