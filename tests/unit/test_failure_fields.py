"""What a survived failure puts in the log: the cause, never the statement's parameters."""

from __future__ import annotations

from booking_server.services.failures import failure_fields


class FakeDatabaseError(Exception):
    """Shaped like SQLAlchemy's errors: the cause first, then the SQL and its parameters."""


def test_a_database_error_is_logged_with_its_cause_and_without_its_parameters() -> None:
    error = FakeDatabaseError(
        "(psycopg.errors.RaiseException) forced read-model failure\n"
        "[SQL: INSERT INTO tutoring_sessions ...]\n"
        "[parameters: {'home': '{\"address\": \"12 Example Road\"}'}]"
    )

    fields = failure_fields(error)

    assert fields == {
        "error_type": "FakeDatabaseError",
        "error": "(psycopg.errors.RaiseException) forced read-model failure",
    }


def test_an_error_without_a_message_is_logged_by_its_type() -> None:
    assert failure_fields(KeyError()) == {"error_type": "KeyError", "error": ""}
