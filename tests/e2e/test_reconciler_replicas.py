"""Two `booking-service serve` replicas reconcile one database: every missed sync done exactly once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import grpc
import pytest
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2_grpc
from booking.v1 import common_pb2 as common
from sqlalchemy import Engine, text

from tests.support.processes import ServerProcess, serving
from tests.support.read_model import failing_read_model
from tests.support.world import World, future_date, students

PURCHASES = 12
SESSIONS = 10

pytestmark = pytest.mark.slow


def _scalars(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params).scalars())


def _missing_rows(engine: Engine, purchase_ids: list[str]) -> int:
    """Tutoring-session rows the read model lacks for these purchases (one student each)."""
    [count] = _scalars(
        engine,
        "SELECT count(*) FROM purchase_sessions ps WHERE ps.purchase_id = ANY(CAST(:ids AS uuid[])) "
        "AND NOT EXISTS (SELECT 1 FROM tutoring_sessions t WHERE t.purchase_session_id = ps.id)",
        ids=purchase_ids,
    )
    return int(count)


def _assign_while_the_sync_fails(server: ServerProcess, engine: Engine) -> tuple[str, list[str]]:
    """PURCHASES assignments whose inline sync fails; returns the trainer and the purchase ids.

    Three students with four purchases each from one trainer: the replicas then race to create
    the same (student, trainer, course) allocations.
    """
    with grpc.insecure_channel(server.address) as channel:
        world = World(
            booking=booking_service_pb2_grpc.BookingServiceStub(channel),
            directory=trainer_directory_pb2_grpc.TrainerDirectoryServiceStub(channel),
        )
        world.create_zone()
        trainer_id = world.add_trainer()
        learners = students(3)
        with failing_read_model(engine, trainer_id):
            responses = [
                world.booking.AutoAssignTrainer(
                    world.request(
                        start_date=future_date(40),
                        preferred_time_slot=f"{8 + i:02d}:00",
                        students=[learners[i % 3]],
                    )
                )
                for i in range(PURCHASES)
            ]
    assert {r.purchase.status for r in responses} == {common.PURCHASE_STATUS_ASSIGNED}
    return trainer_id, [r.purchase.purchase_id for r in responses]


def _wait_until_nothing_is_missing(engine: Engine, purchase_ids: list[str]) -> None:
    deadline = time.monotonic() + 30
    while _missing_rows(engine, purchase_ids) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # a few more rounds: anything processed twice would show in the counts


def test_two_replicas_reconcile_missed_syncs_and_deleted_rows_without_duplicates(
    empty_database_url: str, fresh_engine: Engine, tmp_path: Path
) -> None:
    env = {
        "BOOKING_DATABASE_URL": empty_database_url,
        "BOOKING_RECONCILER_INTERVAL_SECONDS": "0.3",
        "BOOKING_CERTIFICATE_SWEEP_INTERVAL_SECONDS": "0",
    }
    with (
        serving(env, log_dir=tmp_path, name="a") as first,
        serving(env, log_dir=tmp_path, name="b") as second,
    ):
        trainer_id, purchase_ids = _assign_while_the_sync_fails(first, fresh_engine)
        _wait_until_nothing_is_missing(fresh_engine, purchase_ids)
        # Drift: the admin side (or anyone) deletes rows; the reconcilers put them back.
        with fresh_engine.begin() as conn:
            drifted = conn.execute(
                text(
                    "DELETE FROM tutoring_sessions t USING purchase_sessions ps "
                    "WHERE ps.id = t.purchase_session_id AND ps.purchase_id = ANY(CAST(:ids AS uuid[])) "
                    "AND ps.session_number IN (2, 7)"
                ),
                {"ids": purchase_ids[:3]},
            ).rowcount
        assert drifted == 6
        _wait_until_nothing_is_missing(fresh_engine, purchase_ids)
        assert first.terminate() == 0, first.describe()
        assert second.terminate() == 0, second.describe()

    assert _missing_rows(fresh_engine, purchase_ids) == 0
    per_row = _scalars(
        fresh_engine,
        "SELECT count(*) FROM tutoring_sessions t JOIN purchase_sessions ps ON ps.id = t.purchase_session_id "
        "WHERE ps.purchase_id = ANY(CAST(:ids AS uuid[])) GROUP BY t.purchase_session_id, t.student_id",
        ids=purchase_ids,
    )
    per_triple = _scalars(
        fresh_engine,
        "SELECT count(*) FROM trainer_allocations WHERE trainer_id = :trainer GROUP BY student_id, course_id",
        trainer=trainer_id,
    )
    assert (len(per_row), set(per_row)) == (PURCHASES * SESSIONS, {1})
    assert sorted(per_triple) == [1, 1, 1]
    inline = [
        e for e in first.events("read_model_sync_failed") if e.get("method", "").endswith("AutoAssignTrainer")
    ]
    assert {e["purchase_id"] for e in inline} == set(purchase_ids)
    rounds = [server.events("reconciler_round_finished") for server in (first, second)]
    assert all(rounds), "both replicas ran reconciler rounds"
    assert sum(r["sessions_created"] for r in rounds[0] + rounds[1]) == PURCHASES * SESSIONS + drifted
    # Each drifted purchase's other 8 rows were there already (product 2 counts them as updated).
    assert sum(r["sessions_updated"] for r in rounds[0] + rounds[1]) == 3 * (SESSIONS - 2)
