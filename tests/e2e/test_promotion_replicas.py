"""Waitlist promotion across `booking-service serve` replicas on a database of their own:
exactly once however many replicas sweep, nothing lost when a process dies, one winner against
concurrent assignments."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2_grpc
from booking.v1 import common_pb2 as common
from sqlalchemy import Engine

from tests.support.overlaps import overlapping_slot_pairs
from tests.support.processes import ServerProcess, serving
from tests.support.world import World, future_date

pytestmark = pytest.mark.slow

OFF = {"BOOKING_PROMOTION_INTERVAL_SECONDS": "0", "BOOKING_PROMOTION_POLL_SECONDS": "0"}
QUIET = {"BOOKING_RECONCILER_INTERVAL_SECONDS": "0", "BOOKING_CERTIFICATE_SWEEP_INTERVAL_SECONDS": "0"}


def _world(server: ServerProcess, channel: grpc.Channel) -> World:
    world = World(
        booking=booking_service_pb2_grpc.BookingServiceStub(channel),
        directory=trainer_directory_pb2_grpc.TrainerDirectoryServiceStub(channel),
    )
    world.create_zone()
    return world


def _status(world: World, purchase_id: str) -> common.Purchase:
    return world.booking.GetPurchase(pb.GetPurchaseRequest(purchase_id=purchase_id), timeout=10).purchase


def _eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, "did not happen in time"
        time.sleep(0.1)


def test_two_replicas_sweeping_at_once_promote_every_purchase_exactly_once(
    empty_database_url: str, fresh_engine: Engine, tmp_path: Path
) -> None:
    env = {"BOOKING_DATABASE_URL": empty_database_url, **QUIET, **OFF}
    with (
        serving(env, log_dir=tmp_path, name="setup") as setup,
        grpc.insecure_channel(setup.address) as channel,
    ):
        world = _world(setup, channel)
        waiting = [
            world.booking.AutoAssignTrainer(world.request(start_date=future_date(30 + 11 * i))).purchase
            for i in range(12)
        ]
        assert {p.status for p in waiting} == {common.PURCHASE_STATUS_WAITLISTED}
        trainers = [world.add_trainer(north_km=km) for km in (1.0, 2.0)]  # disjoint dates: room for all
        assert setup.terminate() == 0

    sweeping = {
        "BOOKING_DATABASE_URL": empty_database_url,
        **QUIET,
        "BOOKING_PROMOTION_INTERVAL_SECONDS": "0.2",
    }
    with (
        serving(sweeping, log_dir=tmp_path, name="a") as first,
        serving(sweeping, log_dir=tmp_path, name="b") as second,
        grpc.insecure_channel(first.address) as channel,
    ):
        reader = World(
            booking=booking_service_pb2_grpc.BookingServiceStub(channel), directory=world.directory
        )
        ids = [p.purchase_id for p in waiting]
        _eventually(lambda: all(_status(reader, i).status == common.PURCHASE_STATUS_ASSIGNED for i in ids))
        time.sleep(1.0)  # more sweeps on both: a second promotion would show in the logs
        assert first.terminate() == 0
        assert second.terminate() == 0

    promotions = Counter(e["purchase_id"] for s in (first, second) for e in s.events("purchase_promoted"))
    assert promotions == Counter(dict.fromkeys(ids, 1))
    assert all(promotions[i] == 1 for i in ids)
    assert {e["trainer_id"] for s in (first, second) for e in s.events("purchase_promoted")} <= set(trainers)
    assert overlapping_slot_pairs(fresh_engine) == []


def test_a_freeing_change_whose_process_died_before_promoting_is_promoted_after_restart(
    empty_database_url: str, fresh_engine: Engine, tmp_path: Path
) -> None:
    env = {"BOOKING_DATABASE_URL": empty_database_url, **QUIET, **OFF}
    with (
        serving(env, log_dir=tmp_path, name="dies") as dying,
        grpc.insecure_channel(dying.address) as channel,
    ):
        world = _world(dying, channel)
        trainer_id = world.add_trainer()
        start = future_date(50)
        holder = world.booking.AutoAssignTrainer(world.request(start_date=start)).purchase
        waiting = world.booking.AutoAssignTrainer(world.request(start_date=start)).purchase
        assert waiting.status == common.PURCHASE_STATUS_WAITLISTED
        world.booking.CancelPurchase(pb.CancelPurchaseRequest(purchase_id=holder.purchase_id))
        dying.process.kill()  # SIGKILL right after the commit: no promotion ran
        dying.process.wait(timeout=10)

    restarted_env = {
        "BOOKING_DATABASE_URL": empty_database_url,
        **QUIET,
        "BOOKING_PROMOTION_POLL_SECONDS": "0.2",
    }
    with (
        serving(restarted_env, log_dir=tmp_path, name="restarted") as restarted,
        grpc.insecure_channel(restarted.address) as channel,
    ):
        reader = World(
            booking=booking_service_pb2_grpc.BookingServiceStub(channel), directory=world.directory
        )
        _eventually(lambda: _status(reader, waiting.purchase_id).status == common.PURCHASE_STATUS_ASSIGNED)
        assert _status(reader, waiting.purchase_id).trainer_id == trainer_id


def test_a_promotion_racing_a_new_assignment_for_the_same_trainer_leaves_one_winner(
    empty_database_url: str, fresh_engine: Engine, tmp_path: Path
) -> None:
    env = {"BOOKING_DATABASE_URL": empty_database_url, **QUIET, "BOOKING_PROMOTION_POLL_SECONDS": "0.1"}
    with (
        serving(env, log_dir=tmp_path, name="a") as first,
        serving(env, log_dir=tmp_path, name="b") as second,
        grpc.insecure_channel(first.address) as one,
        grpc.insecure_channel(second.address) as two,
    ):
        stubs = (
            booking_service_pb2_grpc.BookingServiceStub(one),
            booking_service_pb2_grpc.BookingServiceStub(two),
        )
        for round_number in range(3):
            world = _world(first, one)
            trainer_id = world.add_trainer()
            start = future_date(60 + 20 * round_number)
            holder = world.booking.AutoAssignTrainer(world.request(start_date=start)).purchase
            waiting = world.booking.AutoAssignTrainer(world.request(start_date=start)).purchase
            newcomer = world.request(start_date=start)
            with ThreadPoolExecutor(max_workers=2) as pool:
                cancel = pool.submit(
                    stubs[0].CancelPurchase,
                    pb.CancelPurchaseRequest(purchase_id=holder.purchase_id),
                    timeout=30,
                )
                assign = pool.submit(stubs[1].AutoAssignTrainer, newcomer, timeout=30)
                cancel.result()
                new = assign.result().purchase  # never an error

            time.sleep(1.5)  # the promoter's reaction to the cancel has run by now
            outcomes = (_status(world, waiting.purchase_id), _status(world, new.purchase_id))
            assigned = [p for p in outcomes if p.status == common.PURCHASE_STATUS_ASSIGNED]
            assert [p.trainer_id for p in assigned] == [trainer_id], f"round {round_number}"
        assert overlapping_slot_pairs(fresh_engine) == []
        assert first.terminate() == 0
        assert second.terminate() == 0
