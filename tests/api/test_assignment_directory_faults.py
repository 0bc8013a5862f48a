"""AutoAssignTrainer against a scripted directory: retries, deadlines, paging, failures."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, replace

import grpc
import pytest
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2_grpc
from booking.v1 import common_pb2 as common
from booking_server.app import build_application
from booking_server.config import load_settings
from sqlalchemy import Engine

from tests.support.fake_directory import FakeDirectory
from tests.support.world import World, new_id


@dataclass
class FaultyWorld:
    fake: FakeDirectory
    world: World

    def trainer(self, *, north_km: float = 1.0, **fields: object) -> common.Trainer:
        trainer = common.Trainer(
            trainer_id=new_id(),
            active=True,
            zone_id=self.world.zone_id,
            certified_course_ids=[self.world.course_id],
            location=self.world.near(north_km),
            has_location=True,
        )
        for key, value in fields.items():
            setattr(trainer, key, value)
        self.fake.trainers.append(trainer)
        return trainer


@pytest.fixture
def faulty(engine: Engine) -> Iterator[FaultyWorld]:
    fake = FakeDirectory()
    directory_server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    trainer_directory_pb2_grpc.add_TrainerDirectoryServiceServicer_to_server(fake, directory_server)
    port = directory_server.add_insecure_port("127.0.0.1:0")
    directory_server.start()
    settings = replace(
        load_settings({"BOOKING_LOG_LEVEL": "warning"}),
        listen_addr="127.0.0.1:0",
        trainer_directory_target=f"127.0.0.1:{port}",
        # Keep the breaker out of these tests: each one scripts its own failures.
        directory_breaker_failures=1000,
        # Nor promotion passes, which would spend the scripted failures on their own calls.
        promotion_interval_seconds=0.0,
        promotion_poll_seconds=0.0,
    )
    app = build_application(settings, engine=engine)
    app.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{app.public.port}")
    world = World(
        booking=booking_service_pb2_grpc.BookingServiceStub(channel),
        directory=trainer_directory_pb2_grpc.TrainerDirectoryServiceStub(channel),
    )
    world.create_zone()
    yield FaultyWorld(fake=fake, world=world)
    fake.release.set()
    channel.close()
    app.stop()
    directory_server.stop(None).wait()


def test_two_unavailable_answers_are_retried_and_the_assignment_succeeds_on_the_third_attempt(
    faulty: FaultyWorld,
) -> None:
    trainer = faulty.trainer()
    faulty.fake.scripted_failures = [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAVAILABLE]

    response = faulty.world.booking.AutoAssignTrainer(faulty.world.request())

    assert response.purchase.status == common.PURCHASE_STATUS_ASSIGNED
    assert response.purchase.trainer_id == trainer.trainer_id
    assert faulty.fake.attempts("ListTrainers") == 3


def test_a_directory_that_always_fails_leaves_the_purchase_waitlisted_as_directory_unavailable(
    faulty: FaultyWorld,
) -> None:
    faulty.trainer()
    faulty.fake.always_fail_with = grpc.StatusCode.UNAVAILABLE

    response = faulty.world.booking.AutoAssignTrainer(faulty.world.request())

    assert response.purchase.status == common.PURCHASE_STATUS_WAITLISTED
    assert response.purchase.waitlist_reason == common.WAITLIST_REASON_TRAINER_DIRECTORY_UNAVAILABLE
    assert response.purchase.zone_id == faulty.world.zone_id
    assert len(response.sessions) == 10
    assert faulty.fake.attempts("ListTrainers") == 3


def test_a_non_transient_directory_error_is_not_retried(faulty: FaultyWorld) -> None:
    faulty.trainer()
    faulty.fake.always_fail_with = grpc.StatusCode.INVALID_ARGUMENT

    response = faulty.world.booking.AutoAssignTrainer(faulty.world.request())

    assert response.purchase.waitlist_reason == common.WAITLIST_REASON_TRAINER_DIRECTORY_UNAVAILABLE
    assert faulty.fake.attempts("ListTrainers") == 1


def test_a_slow_directory_does_not_hold_the_caller_past_its_deadline(faulty: FaultyWorld) -> None:
    faulty.trainer()
    faulty.fake.delay_seconds = 5.0

    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as raised:
        faulty.world.booking.AutoAssignTrainer(faulty.world.request(), timeout=1.0)
    elapsed = time.monotonic() - started

    assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert elapsed < 1.5
    # The directory call carried a deadline no later than the caller's.
    assert 0 < faulty.fake.attempts("ListTrainers") <= 3


def test_the_only_eligible_trainer_on_the_last_of_several_pages_is_found_with_one_call_per_page(
    faulty: FaultyWorld,
) -> None:
    for _ in range(159):
        faulty.trainer(north_km=12.0)  # out of travel range: rejected as OUT_OF_TRAVEL_RANGE
    eligible = faulty.trainer(north_km=2.0)
    faulty.fake.max_page_size = 50

    response = faulty.world.booking.AutoAssignTrainer(faulty.world.request())

    assert response.purchase.trainer_id == eligible.trainer_id
    assert faulty.fake.attempts("ListTrainers") == 4
    assert len(response.decision.rejections) == 159


def test_a_directory_that_ignores_the_zone_filters_still_cannot_place_another_zones_trainer(
    faulty: FaultyWorld,
) -> None:
    """The filters only spare work: rules 1-3 are still checked on whatever the directory returns
    (this scripted directory applies only course and active, whatever else is asked)."""
    faulty.fake.zone_filters = "none"
    other_zone = faulty.trainer(north_km=0.5, zone_id=new_id())
    other_operator = faulty.trainer(north_km=0.6, franchise_id=new_id())
    eligible = faulty.trainer(north_km=3.0)

    response = faulty.world.booking.AutoAssignTrainer(faulty.world.request())

    assert response.purchase.trainer_id == eligible.trainer_id
    reasons = {r.trainer_id: r.reason for r in response.decision.rejections}
    assert reasons == {other_zone.trainer_id: "WRONG_ZONE", other_operator.trainer_id: "WRONG_OPERATOR"}
    asked, again = faulty.fake.list_requests  # its answer did not say the zone filter was honored
    assert (again.zone_id, again.include_without_zone, again.company_only) == ("", False, True)
    assert (asked.course_id, asked.active_only, asked.zone_id, asked.include_without_zone) == (
        faulty.world.course_id,
        True,
        faulty.world.zone_id,
        True,
    )
    assert (asked.company_only, asked.franchise_id) == (True, "")
    assert response.decision.candidate_query.trainers_returned == 3


def test_a_directory_older_than_include_without_zone_is_asked_again_without_the_zone(
    faulty: FaultyWorld,
) -> None:
    """Such a directory reads zone_id alone as "that home zone only": trusting its answer would drop
    every trainer without a home zone (eligible by rule 3). Its answer does not say the filter was
    honored, so the client lists again with the operator's filter only."""
    faulty.fake.zone_filters = "zone_id only"
    without_zone = faulty.trainer(north_km=0.5, zone_id="")
    at_home = faulty.trainer(north_km=3.0)
    other_zone = faulty.trainer(north_km=1.0, zone_id=new_id())

    response = faulty.world.booking.AutoAssignTrainer(faulty.world.request())

    assert response.purchase.trainer_id == without_zone.trainer_id
    assert list(response.decision.ranked_trainer_ids) == [without_zone.trainer_id, at_home.trainer_id]
    assert {r.trainer_id: r.reason for r in response.decision.rejections} == {
        other_zone.trainer_id: "WRONG_ZONE"
    }
    first, second = faulty.fake.list_requests
    assert (first.zone_id, first.include_without_zone) == (faulty.world.zone_id, True)
    assert (second.zone_id, second.include_without_zone, second.company_only) == ("", False, True)


def test_this_services_directory_honors_include_without_zone_in_one_listing(faulty: FaultyWorld) -> None:
    without_zone = faulty.trainer(north_km=0.5, zone_id="")
    faulty.trainer(north_km=1.0, zone_id=new_id())  # another home zone: not returned

    response = faulty.world.booking.AutoAssignTrainer(faulty.world.request())

    assert response.purchase.trainer_id == without_zone.trainer_id
    assert not response.decision.rejections
    assert faulty.fake.attempts("ListTrainers") == 1
