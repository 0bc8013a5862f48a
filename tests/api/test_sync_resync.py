"""Manual syncs: idempotent, respectful of the admin side's rows, safe when run concurrently."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import common_pb2 as common
from sqlalchemy import Engine

from tests.support.read_model import (
    allocation_rows,
    assert_read_model_matches,
    execute,
    synced_flags,
    tutoring_rows,
    unsync,
)
from tests.support.rpc_errors import rich_error
from tests.support.world import World, future_date, new_id, students


@pytest.fixture
def world(booking, directory) -> World:  # type: ignore[no-untyped-def]
    w = World(booking=booking, directory=directory)
    w.create_zone()
    return w


def _assigned(world: World, **fields: object) -> pb.AutoAssignTrainerResponse:
    response = world.booking.AutoAssignTrainer(world.request(**fields))
    assert response.purchase.status == common.PURCHASE_STATUS_ASSIGNED
    return response


def _sync(world: World, purchase_id: str) -> tuple[int, int]:
    result = world.booking.SyncPurchaseSessions(
        pb.SyncPurchaseSessionsRequest(purchase_id=purchase_id)
    ).result
    assert list(result.errors) == []
    return result.sessions_created, result.sessions_updated


def _set_row(engine: Engine, session_id: str, **values: object) -> None:
    assignments = ", ".join(f"{column} = :{column}" for column in values)
    execute(
        engine,
        f"UPDATE tutoring_sessions SET {assignments} WHERE purchase_session_id = :session_id",
        session_id=session_id,
        **values,
    )


def test_a_repeated_sync_creates_nothing_and_counts_every_existing_row(world: World, engine: Engine) -> None:
    world.add_trainer()
    response = _assigned(world, class_type=common.CLASS_TYPE_ONE_ON_TWO, students=students(2))
    before = tutoring_rows(engine, response.purchase.purchase_id)

    assert _sync(world, response.purchase.purchase_id) == (0, 20)
    assert _sync(world, response.purchase.purchase_id) == (0, 20)

    after = tutoring_rows(engine, response.purchase.purchase_id)
    assert after == before  # not even updated_at moved: nothing had changed
    assert len(allocation_rows(engine, [s.id for s in response.purchase.students])) == 2


def test_a_resync_leaves_rows_the_admin_side_moved_past_scheduled_as_they_are(
    world: World, engine: Engine
) -> None:
    world.add_trainer()
    response = _assigned(world)
    sessions = response.sessions
    substitute = new_id()
    tampered = {
        1: {"status": "in_progress", "scheduled_time": "09:00"},
        2: {
            "status": "completed",
            "scheduled_date": date.fromisoformat(sessions[1].session_date) + timedelta(days=1),
        },
        3: {"status": "cancelled", "trainer_id": substitute},
        4: {"status": "disputed", "scheduled_time": "07:30", "trainer_id": substitute},
    }
    for number, values in tampered.items():
        _set_row(engine, sessions[number - 1].session_id, **values)
    _set_row(engine, sessions[4].session_id, trainer_id=substitute)  # a row still scheduled
    execute(
        engine,
        'UPDATE tutoring_sessions SET metadata = metadata || \'{"adminNote": "kept"}\' '
        "WHERE purchase_session_id = :session_id",
        session_id=sessions[1].session_id,
    )
    _set_row(engine, sessions[5].session_id, scheduled_time="05:55")  # a scheduled row gone stale
    before = {r["session_number"]: r for r in tutoring_rows(engine, response.purchase.purchase_id)}

    assert _sync(world, response.purchase.purchase_id) == (0, 10)

    after = {r["session_number"]: r for r in tutoring_rows(engine, response.purchase.purchase_id)}
    kept = ("status", "trainer", "scheduled_date", "scheduled_time")
    for number in tampered:
        assert [after[number][k] for k in kept] == [before[number][k] for k in kept]
    assert after[3]["trainer"] == after[4]["trainer"] == substitute
    # A row still scheduled follows its session, trainer included (reschedules and substitutions
    # here reach the read model that way).
    assert after[5]["trainer"] == response.purchase.trainer_id
    assert after[1]["scheduled_time"] == "09:00"
    assert after[2]["metadata"]["adminNote"] == "kept"
    assert after[2]["metadata"]["purchaseId"] == response.purchase.purchase_id
    assert after[6]["scheduled_time"] == sessions[5].session_time  # this service owns scheduled rows
    assert after[6]["status"] == "scheduled"
    assert [after[n]["status"] for n in range(7, 11)] == ["scheduled"] * 4


def test_syncing_one_session_writes_only_that_session(world: World, engine: Engine) -> None:
    world.add_trainer()
    response = _assigned(world, class_type=common.CLASS_TYPE_ONE_ON_TWO, students=students(2))
    purchase_id = response.purchase.purchase_id
    unsync(engine, purchase_id, session_numbers=[3, 4])

    result = world.booking.SyncSession(
        pb.SyncSessionRequest(session_id=response.sessions[2].session_id)
    ).result

    assert (result.sessions_created, result.sessions_updated) == (2, 0)
    assert Counter(r["session_number"] for r in tutoring_rows(engine, purchase_id))[4] == 0
    assert synced_flags(engine, purchase_id) == [True, True, True, False] + [True] * 6
    assert _sync(world, purchase_id) == (2, 18)
    assert_read_model_matches(engine, response)


def test_two_concurrent_syncs_of_one_purchase_create_each_row_once(world: World, engine: Engine) -> None:
    world.add_trainer()
    response = _assigned(
        world, class_type=common.CLASS_TYPE_ONE_ON_TWO, students=students(2), total_sessions=30
    )
    purchase_id = response.purchase.purchase_id
    unsync(engine, purchase_id)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: _sync(world, purchase_id), range(2)))

    assert sorted(results) == [(0, 60), (60, 0)]
    rows = tutoring_rows(engine, purchase_id)
    assert Counter((r["session_id"], r["student"]) for r in rows).most_common(1)[0][1] == 1
    assert_read_model_matches(engine, response)


def test_concurrent_syncs_of_two_purchases_of_one_student_share_one_allocation(
    world: World, engine: Engine
) -> None:
    world.add_trainer()
    student = students(1)
    start = future_date(60)
    first = _assigned(world, students=student, start_date=start, preferred_time_slot="09:00")
    second = _assigned(world, students=student, start_date=start, preferred_time_slot="11:00")
    assert first.purchase.trainer_id == second.purchase.trainer_id
    for response in (first, second):
        unsync(engine, response.purchase.purchase_id)
    execute(engine, "DELETE FROM trainer_allocations WHERE student_id = :student", student=student[0].id)

    purchase_ids = [first.purchase.purchase_id, second.purchase.purchase_id]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda purchase_id: _sync(world, purchase_id), purchase_ids))

    assert results == [(10, 0), (10, 0)]
    [allocation] = allocation_rows(engine, [student[0].id])
    rows = tutoring_rows(engine, purchase_ids[0]) + tutoring_rows(engine, purchase_ids[1])
    assert {r["allocation"] for r in rows} == {allocation["allocation"]}


@pytest.mark.parametrize("rpc", ["SyncPurchaseSessions", "SyncSession"])
def test_a_malformed_id_is_invalid_argument(world: World, rpc: str) -> None:
    method, request, field = {
        "SyncPurchaseSessions": (
            world.booking.SyncPurchaseSessions,
            pb.SyncPurchaseSessionsRequest,
            "purchase_id",
        ),
        "SyncSession": (world.booking.SyncSession, pb.SyncSessionRequest, "session_id"),
    }[rpc]

    with pytest.raises(grpc.RpcError) as raised:
        method(request(**{field: "not-a-uuid"}))

    error = rich_error(raised.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_REQUEST"
    assert set(error.violations) == {field}


def test_syncing_an_unknown_purchase_is_purchase_not_found(world: World) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        world.booking.SyncPurchaseSessions(pb.SyncPurchaseSessionsRequest(purchase_id=str(uuid.uuid4())))

    error = rich_error(raised.value)
    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "PURCHASE_NOT_FOUND")


def test_syncing_an_unknown_session_is_session_not_found(world: World) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        world.booking.SyncSession(pb.SyncSessionRequest(session_id=str(uuid.uuid4())))

    error = rich_error(raised.value)
    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND")


def test_syncing_a_waitlisted_purchase_or_its_session_is_purchase_not_assigned(
    world: World, engine: Engine
) -> None:
    waitlisted = world.booking.AutoAssignTrainer(world.request())
    assert waitlisted.purchase.status == common.PURCHASE_STATUS_WAITLISTED
    calls = [
        lambda: world.booking.SyncPurchaseSessions(
            pb.SyncPurchaseSessionsRequest(purchase_id=waitlisted.purchase.purchase_id)
        ),
        lambda: world.booking.SyncSession(
            pb.SyncSessionRequest(session_id=waitlisted.sessions[0].session_id)
        ),
    ]
    for call in calls:
        with pytest.raises(grpc.RpcError) as raised:
            call()
        error = rich_error(raised.value)
        assert error.code == grpc.StatusCode.FAILED_PRECONDITION
        assert error.reason == "PURCHASE_NOT_ASSIGNED"
        assert error.message == "Purchase does not have an assigned trainer"
    assert tutoring_rows(engine, waitlisted.purchase.purchase_id) == []


def test_a_negative_max_purchases_is_invalid_argument(world: World) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        world.booking.SyncAllUnsyncedSessions(pb.SyncAllUnsyncedSessionsRequest(max_purchases=-1))

    error = rich_error(raised.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(error.violations) == {"max_purchases"}
