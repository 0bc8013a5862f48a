"""The read model and certificates on real PostgreSQL, each test undone by its outer transaction."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from booking_server.domain.model import (
    ClassType,
    DeliveryMode,
    GeoPoint,
    PurchaseStatus,
    SessionStatus,
    Student,
    WaitlistReason,
)
from booking_server.domain.purchase import PurchaseOutcome, StoredPurchase, StoredSession
from booking_server.domain.schedule import generate_schedule
from booking_server.domain.validation import AssignTrainerCommand
from booking_server.services.issue_certificates import CertificateNumbersExhaustedError, IssueCertificates
from booking_server.services.ports.read_model import SyncCounts
from booking_server.services.ports.slots import Reservation
from booking_server.services.sync_sessions import SyncSessions
from booking_server.services.unit_of_work import UnitOfWorkFactory
from sqlalchemy import Connection, text

TODAY = datetime(2031, 3, 4, 23, 59, tzinfo=UTC)


class FixedClock:
    def today(self) -> date:
        return TODAY.date()

    def now_utc(self) -> datetime:
        return TODAY


def scripted_numbers(*numbers: str) -> Callable[[date], str]:
    """A number generator that hands out the given numbers, then fresh distinct ones."""
    queue = list(numbers)

    def next_number(issue_date: date) -> str:
        if queue:
            return queue.pop(0)
        return f"CERT-{issue_date:%Y%m%d}-{uuid.uuid4().hex[:8].upper()}"

    return next_number


def assign(
    uow_factory: UnitOfWorkFactory, *, total: int = 30, student_count: int = 2
) -> tuple[StoredPurchase, tuple[StoredSession, ...]]:
    """An ASSIGNED purchase stored through the repositories, without its read model."""
    class_type = ClassType.ONE_ON_TWO if student_count == 2 else ClassType.ONE_ON_ONE
    command = AssignTrainerCommand(
        booking_id=str(uuid.uuid4()),
        course_id=str(uuid.uuid4()),
        class_type=class_type,
        total_sessions=total,
        delivery_mode=DeliveryMode.WEEKDAY_DAILY,
        start_date=date(2031, 1, 1),
        preferred_time_slot="16:00",
        student_location=GeoPoint(17.385, 78.4867),
        student_address="",
        students=tuple(Student(id=str(uuid.uuid4()), name="Student") for _ in range(student_count)),
        validate_only=False,
    )
    waitlisted = PurchaseOutcome(
        PurchaseStatus.WAITLISTED, "", waitlist_reason=WaitlistReason.NO_ELIGIBLE_TRAINER
    )
    schedule = generate_schedule(
        class_type=class_type,
        delivery_mode=DeliveryMode.WEEKDAY_DAILY,
        total_sessions=total,
        start_date=command.start_date,
        time_slot="16:00",
    )
    with uow_factory() as uow:
        stored = uow.purchases.insert(command, fingerprint="f", outcome=waitlisted)
        assert stored is not None
        trainer_id = str(uuid.uuid4())
        planned = uow.purchases.insert_sessions(stored.purchase_id, schedule)
        booked = uow.slots.reserve(trainer_id, purchase_id=stored.purchase_id, sessions=planned, load_cap=0)
        assert booked is Reservation.BOOKED
        purchase = uow.purchases.mark_assigned(stored.purchase_id, trainer_id=trainer_id, message="ok")
        sessions = uow.purchases.list_sessions(stored.purchase_id)
        uow.commit()
    return purchase, sessions


def complete_all(connection: Connection, purchase_id: str) -> None:
    connection.execute(
        text(
            "UPDATE purchase_sessions SET status = 'completed', completed_at = now() WHERE purchase_id = :p"
        ),
        {"p": purchase_id},
    )


def row_count(connection: Connection, purchase_id: str) -> int:
    return int(
        connection.execute(
            text(
                "SELECT count(*) FROM tutoring_sessions t JOIN purchase_sessions ps "
                "ON ps.id = t.purchase_session_id WHERE ps.purchase_id = :p"
            ),
            {"p": purchase_id},
        ).scalar_one()
    )


@pytest.fixture
def failing_inserts(connection: Connection) -> None:
    """Every tutoring-session insert fails; DDL is transactional, so the test's rollback drops it."""
    connection.execute(
        text(
            "CREATE FUNCTION pg_temp.fail_sync() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'forced read-model failure'; END $$"
        )
    )
    connection.execute(
        text(
            "CREATE TRIGGER fail_sync BEFORE INSERT ON tutoring_sessions "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.fail_sync()"
        )
    )


def test_a_write_counts_inserted_rows_then_existing_rows(uow_factory: UnitOfWorkFactory) -> None:
    purchase, _ = assign(uow_factory, total=10)
    with uow_factory() as uow:
        first = uow.read_model.write(purchase)
        second = uow.read_model.write(purchase)
        uow.commit()

    assert first == SyncCounts(sessions_created=20, sessions_updated=0)
    assert second == SyncCounts(sessions_created=0, sessions_updated=20)


def test_a_read_model_written_in_an_assignment_that_rolls_back_leaves_nothing(
    uow_factory: UnitOfWorkFactory, connection: Connection
) -> None:
    purchase, _ = assign(uow_factory, total=10)
    with uow_factory() as uow:
        SyncSessions(uow_factory).mirror(uow, purchase)
        assert uow.read_model.has_unsynced_sessions(purchase.purchase_id) is False
        # no commit: the assignment failed after its sync

    assert row_count(connection, purchase.purchase_id) == 0
    with uow_factory() as uow:
        assert uow.read_model.has_unsynced_sessions(purchase.purchase_id) is True


@pytest.mark.usefixtures("failing_inserts")
def test_the_assignment_hook_swallows_a_failing_write_and_leaves_the_sessions_unsynced(
    uow_factory: UnitOfWorkFactory, connection: Connection
) -> None:
    purchase, _ = assign(uow_factory, total=10)
    with uow_factory() as uow:
        SyncSessions(uow_factory).mirror(uow, purchase)
        still_usable = uow.purchases.get(purchase.purchase_id)
        uow.commit()

    assert still_usable is not None
    assert still_usable.status == PurchaseStatus.ASSIGNED
    assert row_count(connection, purchase.purchase_id) == 0
    with uow_factory() as uow:
        scan = uow.read_model.scan_unsynced(after=None, scan=100_000, limit=100_000)
    assert scan.purchase_ids.count(purchase.purchase_id) == 1


def test_a_drift_scan_looks_at_a_bounded_window_and_says_where_to_go_on(
    uow_factory: UnitOfWorkFactory,
) -> None:
    older, _ = assign(uow_factory, total=10)  # no read model: behind
    newer, _ = assign(uow_factory, total=10)
    with uow_factory() as uow:
        uow.read_model.write(newer)
        uow.commit()

    with uow_factory() as uow:
        first = uow.read_model.scan_unsynced(after=None, scan=1, limit=10)
        second = uow.read_model.scan_unsynced(after=first.next, scan=1, limit=10)

    # Each call looked at one purchase (the two share a transaction, so their order is by id):
    # together they found the one behind, once.
    assert first.next is not None
    assert first.purchase_ids + second.purchase_ids == [older.purchase_id]


def test_a_session_completed_only_in_the_read_model_counts_when_every_students_row_is_completed(
    uow_factory: UnitOfWorkFactory, connection: Connection
) -> None:
    purchase, sessions = assign(uow_factory, total=10)
    with uow_factory() as uow:
        uow.read_model.write(purchase)
        uow.commit()
    first, second = purchase.students
    update = text(
        "UPDATE tutoring_sessions SET status = :status "
        "WHERE purchase_session_id = :session AND student_id = :student"
    )
    connection.execute(
        update, {"status": "completed", "session": sessions[0].session_id, "student": first.id}
    )
    connection.execute(
        update, {"status": "completed", "session": sessions[1].session_id, "student": first.id}
    )
    connection.execute(
        update, {"status": "completed", "session": sessions[1].session_id, "student": second.id}
    )
    connection.execute(
        text("UPDATE purchase_sessions SET status = 'cancelled' WHERE id = :id"),
        {"id": sessions[2].session_id},
    )

    with uow_factory() as uow:
        statuses = uow.read_model.completion_statuses(purchase.purchase_id)

    assert statuses[:4] == [
        SessionStatus.SCHEDULED,  # one of two students still to go
        SessionStatus.COMPLETED,
        SessionStatus.CANCELLED,
        SessionStatus.SCHEDULED,
    ]


def test_a_certificate_number_collision_is_retried_with_a_new_number(
    uow_factory: UnitOfWorkFactory, connection: Connection
) -> None:
    taken = "CERT-20310304-AAAAAAAA"
    earlier, _ = assign(uow_factory, student_count=1)
    later, _ = assign(uow_factory, student_count=1)
    for purchase in (earlier, later):
        complete_all(connection, purchase.purchase_id)
    # The generator returns the same number twice: the second purchase's first try collides.
    issuer = IssueCertificates(uow_factory, clock=FixedClock(), new_number=scripted_numbers(taken, taken))

    [first] = issuer.for_purchase(earlier.purchase_id)
    [second] = issuer.for_purchase(later.purchase_id)

    assert first.certificate_number == taken
    assert second.certificate_number != taken
    assert re.fullmatch(r"CERT-20310304-[0-9A-F]{8}", second.certificate_number)
    assert second.purchase_id == later.purchase_id
    assert second.issued_at == TODAY


def test_two_students_drawing_the_same_number_both_get_a_certificate(
    uow_factory: UnitOfWorkFactory, connection: Connection
) -> None:
    purchase, _ = assign(uow_factory, student_count=2)
    complete_all(connection, purchase.purchase_id)
    issuer = IssueCertificates(
        uow_factory,
        clock=FixedClock(),
        new_number=scripted_numbers("CERT-20310304-BBBBBBBB", "CERT-20310304-BBBBBBBB"),
    )

    issued = issuer.for_purchase(purchase.purchase_id)

    assert sorted(c.student_id for c in issued) == sorted(s.id for s in purchase.students)
    assert len({c.certificate_number for c in issued}) == 2


def test_a_number_generator_that_only_collides_gives_up_and_issues_nothing(
    uow_factory: UnitOfWorkFactory, connection: Connection
) -> None:
    taken = "CERT-20310304-CCCCCCCC"
    earlier, _ = assign(uow_factory, student_count=1)
    later, _ = assign(uow_factory, student_count=1)
    for purchase in (earlier, later):
        complete_all(connection, purchase.purchase_id)
    IssueCertificates(uow_factory, clock=FixedClock(), new_number=lambda _: taken).for_purchase(
        earlier.purchase_id
    )
    stuck = IssueCertificates(uow_factory, clock=FixedClock(), new_number=lambda _: taken)

    with pytest.raises(CertificateNumbersExhaustedError):
        stuck.for_purchase(later.purchase_id)

    with uow_factory() as uow:
        assert uow.certificates.certified_student_ids(later.purchase_id) == set()


def test_issuing_twice_issues_nothing_the_second_time(
    uow_factory: UnitOfWorkFactory, connection: Connection
) -> None:
    purchase, _ = assign(uow_factory, student_count=2)
    complete_all(connection, purchase.purchase_id)
    issuer = IssueCertificates(uow_factory, clock=FixedClock())

    first = issuer.for_purchase(purchase.purchase_id)
    second = issuer.for_purchase(purchase.purchase_id)

    assert len(first) == 2
    assert second == ()


def test_a_late_first_sync_writes_sessions_completed_here_as_completed(
    uow_factory: UnitOfWorkFactory, connection: Connection
) -> None:
    purchase, sessions = assign(uow_factory, total=10, student_count=1)
    with uow_factory() as uow:
        completed = uow.read_model.complete_session(sessions[0].session_id)
        uow.read_model.write(purchase)
        uow.commit()

    assert completed is not None
    assert completed.status == SessionStatus.COMPLETED
    statuses = connection.execute(
        text(
            "SELECT t.status FROM tutoring_sessions t "
            "JOIN purchase_sessions ps ON ps.id = t.purchase_session_id "
            "WHERE ps.purchase_id = :p ORDER BY ps.session_number"
        ),
        {"p": purchase.purchase_id},
    ).scalars()
    assert list(statuses) == ["completed"] + ["scheduled"] * 9
