"""A caller's budget running out is DEADLINE_EXCEEDED with nothing stored, never an outcome.

Product 1.9 stores TRAINER_DIRECTORY_UNAVAILABLE when the directory fails; a caller whose own
deadline ran out before the directory could answer is not that, and a stored outcome would be
returned by every replay.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
from booking.v1 import common_pb2 as common
from sqlalchemy import Engine, text

from tests.support.world import World, future_date


def test_deadlines_too_short_for_the_directory_store_nothing_and_replays_are_assigned(world: World) -> None:
    for index in range(30):
        world.add_trainer(north_km=0.1 + index * 0.01)
    requests = [world.request() for _ in range(12)]

    codes = set()
    for index, request in enumerate(requests):
        try:
            world.booking.AutoAssignTrainer(request, timeout=0.002 + 0.001 * index)
            codes.add(grpc.StatusCode.OK)
        except grpc.RpcError as error:
            codes.add(error.code())
    replays = [world.booking.AutoAssignTrainer(request, timeout=10) for request in requests]

    assert codes <= {grpc.StatusCode.OK, grpc.StatusCode.DEADLINE_EXCEEDED}
    assert grpc.StatusCode.DEADLINE_EXCEEDED in codes
    assert [r.purchase.status for r in replays] == [common.PURCHASE_STATUS_ASSIGNED] * len(requests)
    # And the breaker did not count them: a fresh request still reads the directory.
    fresh = world.booking.AutoAssignTrainer(world.request(), timeout=10)
    assert fresh.purchase.status == common.PURCHASE_STATUS_ASSIGNED


def _lock_waiters(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )


def test_a_call_cancelled_by_its_caller_stops_waiting_in_the_database(world: World, engine: Engine) -> None:
    """No deadline, so only the cancellation can end the work: without it, the lock wait would
    go on for its 5 s bound, holding a thread and a connection for a caller who has gone."""
    trainer_id = world.add_trainer()
    assert world.booking.AutoAssignTrainer(world.request()).purchase.trainer_id == trainer_id
    with engine.connect() as holder:
        holder.execute(
            text("SELECT 1 FROM trainer_slot_keys WHERE trainer_id = :t FOR UPDATE"), {"t": trainer_id}
        )
        call = world.booking.AutoAssignTrainer.future(world.request(start_date=future_date(90)))
        waited = _wait_until(lambda: _lock_waiters(engine) > 0, seconds=5)
        call.cancel()
        released = _wait_until(lambda: _lock_waiters(engine) == 0, seconds=1.5)
        holder.rollback()

    assert waited, "the assignment never waited for the trainer's lock"
    assert released, "the cancelled call's statement kept waiting for the lock"
    assert call.cancelled()


def _wait_until(condition: Callable[[], bool], *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()
