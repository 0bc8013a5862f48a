"""SyncAllUnsyncedSessions (and the reconciler round it is) on a database of its own.

Its counts are global, so these tests run against a fresh database with its own in-process
server: every purchase there is one these tests made.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import common_pb2 as common

from tests.support.isolated import Isolated, isolated_server
from tests.support.read_model import (
    assert_read_model_matches,
    execute,
    failing_read_model,
    synced_flags,
    tutoring_rows,
    unsync,
)
from tests.support.world import World, future_date, students


@pytest.fixture
def isolated(database_url: str) -> Iterator[Isolated]:
    with isolated_server(database_url) as server:
        yield server


def _assign(world: World, **fields: object) -> pb.AutoAssignTrainerResponse:
    response = world.booking.AutoAssignTrainer(world.request(**fields))
    assert response.purchase.status == common.PURCHASE_STATUS_ASSIGNED
    return response


def test_sync_all_repairs_unsynced_and_partly_synced_purchases_and_skips_the_rest(isolated: Isolated) -> None:
    engine = isolated.engine
    failing = isolated.world()
    trainer_id = failing.add_trainer()
    with failing_read_model(engine, trainer_id):
        unsynced = _assign(failing)  # 10 rows missing: the sync failed inside the assignment
    healthy = isolated.world()
    healthy.add_trainer()
    partly = _assign(
        healthy, class_type=common.CLASS_TYPE_ONE_ON_TWO, students=students(2), start_date=future_date(40)
    )
    unsync(engine, partly.purchase.purchase_id, session_numbers=[1, 2, 3])  # 6 of 20 rows missing
    complete = _assign(healthy, start_date=future_date(80))
    nobody = isolated.world()  # no trainer teaches its course
    waitlisted = nobody.booking.AutoAssignTrainer(nobody.request())
    assert waitlisted.purchase.status == common.PURCHASE_STATUS_WAITLISTED

    first = isolated.sync_all()

    assert (first.purchases_processed, first.sessions_created, first.sessions_updated) == (2, 16, 14)
    assert list(first.errors) == []
    for response in (unsynced, partly, complete):
        assert_read_model_matches(engine, response)
    assert tutoring_rows(engine, waitlisted.purchase.purchase_id) == []
    second = isolated.sync_all()
    assert (second.purchases_processed, second.sessions_created, second.sessions_updated) == (0, 0, 0)


def test_sync_all_takes_the_newest_purchases_first_and_at_most_max_purchases(isolated: Isolated) -> None:
    world = isolated.world()
    world.add_trainer()
    older = _assign(world, start_date=future_date(40))
    newer = _assign(world, start_date=future_date(80))
    for response in (older, newer):
        unsync(isolated.engine, response.purchase.purchase_id)

    first = isolated.sync_all(max_purchases=1)

    assert (first.purchases_processed, first.sessions_created) == (1, 10)
    assert synced_flags(isolated.engine, newer.purchase.purchase_id) == [True] * 10
    assert synced_flags(isolated.engine, older.purchase.purchase_id) == [False] * 10
    second = isolated.sync_all(max_purchases=1)
    assert (second.purchases_processed, second.sessions_created) == (1, 10)
    assert_read_model_matches(isolated.engine, older)


def test_a_purchase_that_fails_to_sync_is_reported_and_the_others_are_still_synced(
    isolated: Isolated,
) -> None:
    broken_world, fine_world = isolated.world(), isolated.world()
    broken_trainer = broken_world.add_trainer()
    fine_world.add_trainer()
    broken = _assign(broken_world)
    fine = _assign(fine_world)
    for response in (broken, fine):
        unsync(isolated.engine, response.purchase.purchase_id)

    with failing_read_model(isolated.engine, broken_trainer):
        result = isolated.sync_all()

    assert (result.purchases_processed, result.sessions_created, result.sessions_updated) == (2, 10, 0)
    [error] = result.errors
    assert error.purchase_id == broken.purchase.purchase_id
    assert error.message == "read model sync failed; the reconciler will retry it"
    assert "forced" not in error.message  # the cause stays in the server's log
    assert_read_model_matches(isolated.engine, fine)
    assert synced_flags(isolated.engine, broken.purchase.purchase_id) == [False] * 10
    retry = isolated.sync_all()
    assert (retry.purchases_processed, retry.sessions_created, list(retry.errors)) == (1, 10, [])


def test_rows_deleted_behind_the_services_back_are_recreated_and_synced_purchases_are_untouched(
    isolated: Isolated,
) -> None:
    """Unsynced means what the read model lacks, whoever removed it (no flag to trust)."""
    world = isolated.world()
    world.add_trainer()
    drifted = _assign(
        world, class_type=common.CLASS_TYPE_ONE_ON_TWO, students=students(2), start_date=future_date(30)
    )
    whole = _assign(world, start_date=future_date(60))
    deleted = unsync(isolated.engine, drifted.purchase.purchase_id, session_numbers=[2, 5])
    assert deleted == 4  # two sessions x two students
    untouched_before = tutoring_rows(isolated.engine, whole.purchase.purchase_id)

    result = isolated.sync_all()

    # Counts in rows (product 2): the 4 recreated, the other 16 of that purchase already there.
    assert (result.purchases_processed, result.sessions_created, result.sessions_updated) == (1, 4, 16)
    assert list(result.errors) == []
    assert_read_model_matches(isolated.engine, drifted)
    assert tutoring_rows(isolated.engine, whole.purchase.purchase_id) == untouched_before
    again = isolated.sync_all()
    assert (again.purchases_processed, again.sessions_created, again.sessions_updated) == (0, 0, 0)


def test_a_cancelled_or_completed_session_without_rows_is_not_drift(isolated: Isolated) -> None:
    """Only sessions still to be taught (scheduled, rescheduled) must be in the read model."""
    world = isolated.world()
    world.add_trainer()
    response = _assign(world)
    purchase_id = response.purchase.purchase_id
    execute(
        isolated.engine,
        "UPDATE purchase_sessions SET status = 'cancelled' WHERE purchase_id = :p AND session_number = 1",
        p=purchase_id,
    )
    unsync(isolated.engine, purchase_id, session_numbers=[1])

    result = isolated.sync_all()

    assert result.purchases_processed == 0


def test_a_reschedule_whose_read_model_write_failed_is_repaired_by_sync_all(isolated: Isolated) -> None:
    world = isolated.world()
    trainer_id = world.add_trainer()
    response = _assign(world)
    session = response.sessions[0]
    target = (date.fromisoformat(response.sessions[-1].session_date) + timedelta(days=5)).isoformat()
    with failing_read_model(isolated.engine, trainer_id):
        moved = world.booking.RescheduleSession(
            pb.RescheduleSessionRequest(session_id=session.session_id, new_date=target, new_time="08:00")
        ).session
    assert moved.status == common.SESSION_STATUS_RESCHEDULED
    stale = next(
        r for r in tutoring_rows(isolated.engine, response.purchase.purchase_id) if r["session_number"] == 1
    )
    assert stale["scheduled_date"].isoformat() == session.session_date  # the write failed: behind

    result = isolated.sync_all()

    assert (result.purchases_processed, result.sessions_created, list(result.errors)) == (1, 0, [])
    fixed = next(
        r for r in tutoring_rows(isolated.engine, response.purchase.purchase_id) if r["session_number"] == 1
    )
    assert (fixed["scheduled_date"].isoformat(), fixed["scheduled_time"]) == (target, "08:00")
    assert fixed["metadata"]["rescheduledFrom"] == f"{session.session_date} {session.session_time}"
    assert isolated.sync_all().purchases_processed == 0


def test_a_cancelled_purchase_whose_rows_are_still_scheduled_is_repaired_by_sync_all(
    isolated: Isolated,
) -> None:
    world = isolated.world()
    world.add_trainer()
    response = _assign(world)
    world.booking.CancelPurchase(pb.CancelPurchaseRequest(purchase_id=response.purchase.purchase_id))
    execute(  # as if the cancel's read-model write had failed
        isolated.engine,
        "UPDATE tutoring_sessions SET status = 'scheduled' WHERE purchase_session_id IN "
        "(SELECT id FROM purchase_sessions WHERE purchase_id = :p AND session_number <= 3)",
        p=response.purchase.purchase_id,
    )

    result = isolated.sync_all()

    assert result.purchases_processed == 1
    assert {r["status"] for r in tutoring_rows(isolated.engine, response.purchase.purchase_id)} == {
        "cancelled"
    }
