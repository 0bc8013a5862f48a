"""The read-model sync inside a change: its own failure is deferred, a lost transaction is not.

Under dropped connections the sync's savepoint used to swallow the loss, and the change went
on to fail later with an internal error; now the change fails as DATABASE_UNAVAILABLE.
"""

from __future__ import annotations

from datetime import date

import pytest
from booking_server.domain.errors import DeadlineExceededError, UnavailableError
from booking_server.domain.model import ClassType, DeliveryMode, GeoPoint, PurchaseStatus
from booking_server.domain.purchase import StoredPurchase
from booking_server.services.sync_sessions import SyncSessions
from booking_server.services.unit_of_work import TransactionConflictError

from tests.unit.fakes import FakeStore, FakeUnitOfWork


class FailingReadModel:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def write(self, purchase: StoredPurchase) -> None:
        raise self.error


def _assigned() -> StoredPurchase:
    return StoredPurchase(
        purchase_id="p1",
        booking_id="b1",
        request_fingerprint="f",
        course_id="c1",
        class_type=ClassType.ONE_ON_ONE,
        total_sessions=10,
        delivery_mode=DeliveryMode.WEEKDAY_DAILY,
        start_date=date(2030, 1, 1),
        preferred_time_slot="16:00",
        student_location=GeoPoint(0.0, 0.0),
        student_address="",
        students=(),
        zone_id="z1",
        franchise_id=None,
        trainer_id="t1",
        status=PurchaseStatus.ASSIGNED,
        waitlist_reason=None,
        message="",
        created_at=None,
        updated_at=None,
    )


def _mirror_failing_with(error: Exception) -> None:
    with FakeUnitOfWork(FakeStore()) as uow:
        uow.read_model = FailingReadModel(error)  # type: ignore[attr-defined]
        SyncSessions(lambda: uow).mirror(uow, _assigned())  # type: ignore[arg-type]


def test_a_failure_of_the_sync_itself_is_logged_and_the_change_goes_on() -> None:
    _mirror_failing_with(ValueError("a read-model row the sync could not write"))


@pytest.mark.parametrize(
    "ended",
    [
        UnavailableError("database unavailable", reason="DATABASE_UNAVAILABLE"),
        TransactionConflictError("deadlock"),
        DeadlineExceededError("out of time"),
    ],
)
def test_a_failure_that_ended_the_transaction_fails_the_change(ended: Exception) -> None:
    with pytest.raises(type(ended)):
        _mirror_failing_with(ended)
