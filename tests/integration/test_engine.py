"""The engine the service builds: no statement parameters in errors (personal data), bounded statements."""

from __future__ import annotations

import time

import pytest
from booking_server.db.unit_of_work import DatabaseUnavailableError, SqlUnitOfWork
from booking_server.domain.errors import DeadlineExceededError
from booking_server.services.conflict_retry import Deadline
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError


def test_a_database_error_does_not_repeat_the_statement_parameters(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(DBAPIError) as raised:
        conn.execute(text("SELECT 1 / 0 WHERE CAST(:name AS text) IS NOT NULL"), {"name": "Asha Secret"})

    assert "division by zero" in str(raised.value)
    assert "Asha Secret" not in str(raised.value)


def test_no_statement_runs_longer_than_the_servings_bound(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "30s"


def test_a_statement_still_running_at_the_callers_deadline_is_cancelled(engine: Engine) -> None:
    started = time.monotonic()

    def sleep_past_the_deadline() -> None:
        with SqlUnitOfWork(engine) as uow:
            uow.limit_waits(Deadline.after(0.2))
            uow.connection.execute(text("SELECT pg_sleep(5)"))

    with pytest.raises(DeadlineExceededError):
        sleep_past_the_deadline()
    elapsed = time.monotonic() - started

    assert elapsed < 2.0
    with engine.connect() as conn:  # the bound was local to that transaction
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "30s"


def test_a_connection_lost_inside_a_savepoint_ends_the_transaction_as_database_unavailable(
    engine: Engine,
) -> None:
    """The read-model sync runs in a savepoint and survives its own failures, not a lost connection."""

    def lose_the_connection_in_a_savepoint() -> None:
        with SqlUnitOfWork(engine) as uow:
            with uow.savepoint():
                uow.connection.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
            uow.connection.execute(text("SELECT 1"))  # not reached: the savepoint ended the transaction

    with pytest.raises(DatabaseUnavailableError):
        lose_the_connection_in_a_savepoint()
