"""Waitlist promotion (product 5) on a database of its own: triggers, order, sweep, the RPC."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent import futures
from datetime import date

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import common_pb2 as common
from booking.v1 import trainer_directory_pb2_grpc
from sqlalchemy import Engine

from tests.support.fake_directory import FakeDirectory
from tests.support.isolated import Isolated, isolated_server
from tests.support.lifecycle import refused
from tests.support.read_model import tutoring_rows
from tests.support.world import World, future_date, new_id

PROMOTED = "Trainer assigned from the waitlist"
# The product asks for a try within 5 s of the freeing change; the promoter polls every 0.2 s here.
WITHIN_SECONDS = 5.0


@pytest.fixture
def promoting(database_url: str) -> Iterator[Isolated]:
    """A server whose promoter reacts to triggers (the sweep is off, so only triggers act)."""
    with isolated_server(database_url, promotion_poll_seconds=0.2) as server:
        yield server


@pytest.fixture
def quiet(database_url: str) -> Iterator[Isolated]:
    """A server with every background job off: only the RPC promotes."""
    with isolated_server(database_url) as server:
        yield server


def _purchase(world: World, purchase_id: str) -> common.Purchase:
    return world.booking.GetPurchase(pb.GetPurchaseRequest(purchase_id=purchase_id)).purchase


def _eventually(check: Callable[[], bool], seconds: float = WITHIN_SECONDS) -> float:
    """How long it took `check` to hold; fails the test past `seconds`."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, "did not happen in time"
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_cancel_promotes_the_oldest_waiting_purchase_that_fits_and_not_a_younger_one(
    promoting: Isolated,
) -> None:
    world = promoting.world()
    trainer_id = world.add_trainer()
    start = future_date(40)
    holder = world.booking.AutoAssignTrainer(world.request(start_date=start)).purchase
    older_request = world.request(start_date=start)
    older = world.booking.AutoAssignTrainer(older_request)
    younger = world.booking.AutoAssignTrainer(world.request(start_date=start)).purchase
    assert (older.purchase.status, younger.status) == (common.PURCHASE_STATUS_WAITLISTED,) * 2

    world.booking.CancelPurchase(pb.CancelPurchaseRequest(purchase_id=holder.purchase_id))

    _eventually(
        lambda: _purchase(world, older.purchase.purchase_id).status == common.PURCHASE_STATUS_ASSIGNED
    )
    promoted = _purchase(world, older.purchase.purchase_id)
    assert (promoted.trainer_id, promoted.message) == (trainer_id, PROMOTED)
    assert len(tutoring_rows(promoting.engine, promoted.purchase_id)) == 10
    time.sleep(0.5)  # a few more promoter rounds: the younger one must still be waiting
    assert _purchase(world, younger.purchase_id).status == common.PURCHASE_STATUS_WAITLISTED
    # A replay of the original request: the purchase as it is now, with the original decision.
    replay = world.booking.AutoAssignTrainer(older_request)
    assert replay.purchase == promoted
    assert replay.decision == older.decision


def test_a_trainer_added_to_the_built_in_directory_promotes_what_it_can_take(promoting: Isolated) -> None:
    world = promoting.world()
    waiting = [
        world.booking.AutoAssignTrainer(world.request(start_date=future_date(30 + 11 * i))) for i in range(2)
    ]
    assert {w.purchase.status for w in waiting} == {common.PURCHASE_STATUS_WAITLISTED}

    trainer_id = world.add_trainer(max_active_purchases=1)

    _eventually(
        lambda: _purchase(world, waiting[0].purchase.purchase_id).status == common.PURCHASE_STATUS_ASSIGNED
    )
    assert _purchase(world, waiting[0].purchase.purchase_id).trainer_id == trainer_id
    time.sleep(0.5)
    assert (
        _purchase(world, waiting[1].purchase.purchase_id).status == common.PURCHASE_STATUS_WAITLISTED
    )  # cap 1


def test_a_purchase_whose_first_session_has_started_is_not_tried(quiet: Isolated) -> None:
    world = quiet.world()
    today = date.today().isoformat()  # the server's "today" is Kolkata's, never behind the UTC date
    started = world.booking.AutoAssignTrainer(world.request(start_date=today, preferred_time_slot="00:00"))
    if started.purchase.status != common.PURCHASE_STATUS_WAITLISTED:
        pytest.skip("the business date is already tomorrow here")
    world.add_trainer()

    result = quiet.booking.PromoteWaitlisted(
        pb.PromoteWaitlistedRequest(purchase_id=started.purchase.purchase_id)
    )

    assert (list(result.promoted), result.purchases_tried) == ([], 0)
    assert _purchase(world, started.purchase.purchase_id).status == common.PURCHASE_STATUS_WAITLISTED


def test_promote_waitlisted_runs_a_pass_oldest_first_and_reports_it(quiet: Isolated) -> None:
    world = quiet.world()
    start = future_date(45)
    first, second = (
        world.booking.AutoAssignTrainer(world.request(start_date=start)).purchase for _ in range(2)
    )
    trainer_id = world.add_trainer()  # no promoter here: nothing happens by itself
    assert _purchase(world, first.purchase_id).status == common.PURCHASE_STATUS_WAITLISTED

    result = quiet.booking.PromoteWaitlisted(pb.PromoteWaitlistedRequest())

    assert [p.purchase_id for p in result.promoted] == [first.purchase_id]
    assert result.promoted[0].trainer_id == trainer_id
    assert result.purchases_tried == 2
    assert _purchase(world, second.purchase_id).status == common.PURCHASE_STATUS_WAITLISTED
    again = quiet.booking.PromoteWaitlisted(pb.PromoteWaitlistedRequest(purchase_id=first.purchase_id))
    assert (list(again.promoted), again.purchases_tried) == ([], 0)  # no longer waiting


def test_promote_waitlisted_refuses_bad_input(quiet: Isolated) -> None:
    error = refused(
        lambda: quiet.booking.PromoteWaitlisted(
            pb.PromoteWaitlistedRequest(purchase_id="x", max_purchases=-1)
        )
    )

    assert (error.code, set(error.violations)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        {"purchase_id", "max_purchases"},
    )


def test_the_sweep_heals_a_directory_outage_and_sees_an_external_directorys_new_trainers(
    database_url: str, engine: Engine
) -> None:
    fake = FakeDirectory()
    fake.always_fail_with = grpc.StatusCode.UNAVAILABLE
    directory_server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trainer_directory_pb2_grpc.add_TrainerDirectoryServiceServicer_to_server(fake, directory_server)
    port = directory_server.add_insecure_port("127.0.0.1:0")
    directory_server.start()
    try:
        with isolated_server(
            database_url,
            trainer_directory_target=f"127.0.0.1:{port}",
            promotion_interval_seconds=0.3,
            directory_breaker_failures=1000,
        ) as server:
            world = World(booking=server.booking, directory=server.directory)
            world.create_zone()
            outage = world.booking.AutoAssignTrainer(world.request())
            assert outage.purchase.waitlist_reason == common.WAITLIST_REASON_TRAINER_DIRECTORY_UNAVAILABLE

            fake.always_fail_with = None
            trainer = common.Trainer(
                trainer_id=new_id(),
                active=True,
                zone_id=world.zone_id,
                certified_course_ids=[world.course_id],
                location=world.near(1.0),
                has_location=True,
            )
            fake.trainers.append(trainer)  # the external directory's change: no trigger reaches us

            _eventually(
                lambda: (
                    _purchase(world, outage.purchase.purchase_id).status == common.PURCHASE_STATUS_ASSIGNED
                )
            )
            promoted = _purchase(world, outage.purchase.purchase_id)
            assert (promoted.trainer_id, promoted.message) == (trainer.trainer_id, PROMOTED)
            assert promoted.waitlist_reason == common.WAITLIST_REASON_UNSPECIFIED
    finally:
        directory_server.stop(None).wait()


def test_purchases_whose_first_session_started_never_crowd_out_the_ones_still_to_serve(
    quiet: Isolated,
) -> None:
    world = quiet.world()
    today = date.today().isoformat()
    started = world.booking.AutoAssignTrainer(
        world.request(start_date=today, preferred_time_slot="00:00")
    ).purchase
    if started.status != common.PURCHASE_STATUS_WAITLISTED:
        pytest.skip("the business date is already tomorrow here")
    waiting = world.booking.AutoAssignTrainer(world.request(start_date=future_date(20))).purchase
    world.add_trainer()

    result = quiet.booking.PromoteWaitlisted(pb.PromoteWaitlistedRequest(max_purchases=1))

    assert [p.purchase_id for p in result.promoted] == [waiting.purchase_id]
