"""Watch streams' bounds (product 6): token retention, stream caps, unary calls never starved."""

from __future__ import annotations

import time

import grpc
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc
from sqlalchemy import text

from tests.support.isolated import isolated_server
from tests.support.lifecycle import refused
from tests.support.watching import watch_purchases, watch_schedule
from tests.support.world import new_id


def _seconds_until_a_stream_opens(booking: booking_service_pb2_grpc.BookingServiceStub) -> float:
    started = time.monotonic()
    while True:
        try:
            watch_schedule(booking, []).close()
            return time.monotonic() - started
        except AssertionError:  # refused: the stream ended before its first heartbeat
            if time.monotonic() - started > 10:
                raise
            time.sleep(0.1)


def test_a_token_older_than_the_retention_is_resume_token_expired(database_url: str) -> None:
    with isolated_server(database_url, watch_retention_hours=1 / 3600, watch_heartbeat_seconds=0.5) as server:
        watcher = watch_schedule(server.booking, [])
        token = watcher.take(1, heartbeats=True)[0].resume_token
        watcher.close()
        fresh = watch_schedule(server.booking, [], resume_token=token)  # still within the second
        fresh.close()
        time.sleep(1.5)

        stream = server.booking.WatchScheduleChanges(pb.WatchScheduleChangesRequest(resume_token=token))
        error = refused(lambda: next(stream))

    assert fresh.error is None or fresh.error.code() == grpc.StatusCode.CANCELLED
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "RESUME_TOKEN_EXPIRED")


def test_the_cleanup_job_removes_changes_older_than_the_retention(database_url: str) -> None:
    with isolated_server(
        database_url, watch_retention_hours=1 / 3600, watch_cleanup_interval_seconds=0.2
    ) as server:
        world = server.world()
        world.add_trainer()
        world.booking.AutoAssignTrainer(world.request())
        deadline = time.monotonic() + 15
        while True:
            with server.engine.connect() as conn:
                remaining = conn.execute(text("SELECT count(*) FROM watch_changes")).scalar_one()
                head = conn.execute(text("SELECT position FROM watch_state")).scalar_one()
            if not remaining or time.monotonic() > deadline:
                break
            time.sleep(0.2)

    assert head == 11  # the purchase and its ten booked slots were logged (this database is the test's)
    assert remaining == 0


def test_streams_past_the_replica_cap_are_refused_and_unary_calls_still_run(database_url: str) -> None:
    with isolated_server(
        database_url, watch_max_streams=2, watch_max_streams_per_caller=5, watch_heartbeat_seconds=0.5
    ) as server:
        world = server.world()
        open_streams = [watch_schedule(server.booking, []), watch_purchases(server.booking, "")]
        third = server.booking.WatchScheduleChanges(pb.WatchScheduleChangesRequest())
        error = refused(lambda: next(third))
        zone = server.booking.GetZone(pb.GetZoneRequest(zone_id=world.zone_id), timeout=5).zone
        open_streams[0].close()
        freed_after = _seconds_until_a_stream_opens(server.booking)
        open_streams[1].close()

    assert (error.code, error.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "TOO_MANY_STREAMS")
    assert error.metadata == {"limit": "2", "scope": "replica"}
    assert zone.zone_id == world.zone_id
    assert freed_after < 5.0  # a cancelled stream gives its place back without waiting for a heartbeat


def test_streams_past_the_per_caller_cap_are_refused(database_url: str) -> None:
    with isolated_server(database_url, watch_max_streams=10, watch_max_streams_per_caller=1) as server:
        first = watch_schedule(server.booking, [new_id()])
        second = server.booking.WatchPurchaseChanges(pb.WatchPurchaseChangesRequest())
        error = refused(lambda: next(second))
        first.close()

    assert (error.code, error.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "TOO_MANY_STREAMS")
    assert error.metadata == {"limit": "1", "scope": "caller"}
