"""book_trainer_sessions and the group locks on real PostgreSQL, with real concurrent
transactions (docs/locking.md).

These commit for real with fresh ids: what is tested is what one transaction sees of another.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from booking_server.db.group_locks import AdvisoryGroupLocks
from booking_server.db.unit_of_work import SqlUnitOfWork
from booking_server.services.conflict_retry import Deadline
from booking_server.services.ports.slots import Reservation
from booking_server.services.unit_of_work import TransactionConflictError, UnitOfWork, UnitOfWorkFactory
from sqlalchemy import Engine, text

from tests.support.stored_purchases import mark_assigned, purchase_with_sessions

DAY = date(2032, 5, 3)


@pytest.fixture
def committing(engine: Engine) -> UnitOfWorkFactory:
    def make() -> UnitOfWork:
        return SqlUnitOfWork(engine)

    return make


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


def _purchase(committing: UnitOfWorkFactory, *, offset_days: int = 0, days: int = 3) -> tuple[str, list]:  # type: ignore[type-arg]
    return purchase_with_sessions(
        committing, first_day=DAY + timedelta(days=offset_days), days=days, time="16:00"
    )


def _reserve_alone(
    committing: UnitOfWorkFactory,
    trainer: str,
    purchase_id: str,
    sessions: list,  # type: ignore[type-arg]
    *,
    load_cap: int = 0,
) -> Reservation:
    """A reservation in a committed transaction of its own that waits at most 0.2 s for the
    trainer's lock; a conflict surfaces when its unit of work ends."""
    with committing() as uow:
        uow.limit_waits(Deadline.after(0.2))
        reservation = uow.slots.reserve(
            trainer, purchase_id=purchase_id, sessions=sessions, load_cap=load_cap
        )
        uow.commit()
        return reservation


def test_a_trainer_that_was_booked_stays_locked_until_the_winner_commits(
    committing: UnitOfWorkFactory,
) -> None:
    trainer = str(uuid.uuid4())
    first_id, first = _purchase(committing)
    second_id, second = _purchase(committing, offset_days=10)
    with committing() as winner:
        assert (
            winner.slots.reserve(trainer, purchase_id=first_id, sessions=first, load_cap=0)
            is Reservation.BOOKED
        )
        with pytest.raises(TransactionConflictError):
            _reserve_alone(committing, trainer, second_id, second)


def test_a_candidate_lost_to_a_taken_slot_releases_its_lock_before_the_transaction_ends(
    committing: UnitOfWorkFactory,
) -> None:
    trainer = str(uuid.uuid4())
    booked_id, booked = _purchase(committing)
    loser_id, loser = _purchase(committing)  # same dates: overlaps the booked one
    later_id, later = _purchase(committing, offset_days=10)
    with committing() as uow:
        assert (
            uow.slots.reserve(trainer, purchase_id=booked_id, sessions=booked, load_cap=0)
            is Reservation.BOOKED
        )
        uow.commit()

    with committing() as lost:
        assert (
            lost.slots.reserve(trainer, purchase_id=loser_id, sessions=loser, load_cap=0) is Reservation.TAKEN
        )
        # Still inside the losing transaction: another one takes the trainer at once.
        assert _reserve_alone(committing, trainer, later_id, later) is Reservation.BOOKED
        # Nothing of the lost attempt remains in the losing transaction either.
        conn = lost.connection  # type: ignore[attr-defined]
        mine = conn.execute(
            text("SELECT count(*) FROM trainer_slots WHERE purchase_id = :p"), {"p": loser_id}
        ).scalar_one()
        assert mine == 0


def test_a_candidate_lost_to_its_load_cap_releases_its_lock_and_books_nothing(
    committing: UnitOfWorkFactory,
) -> None:
    trainer = str(uuid.uuid4())
    held_id, held = _purchase(committing)
    new_id, new = _purchase(committing, offset_days=10)
    with committing() as uow:
        assert (
            uow.slots.reserve(trainer, purchase_id=held_id, sessions=held, load_cap=1) is Reservation.BOOKED
        )
        mark_assigned(uow.connection, held_id, trainer)  # type: ignore[attr-defined]
        uow.commit()

    with committing() as capped:
        assert (
            capped.slots.reserve(trainer, purchase_id=new_id, sessions=new, load_cap=1)
            is Reservation.AT_LOAD_CAP
        )
        # The lock went with the lost attempt: another transaction gets the trainer at once.
        assert _reserve_alone(committing, trainer, new_id, new, load_cap=2) is Reservation.BOOKED


def test_the_load_cap_counts_an_assignment_committed_while_the_reservation_waited_for_the_lock(
    committing: UnitOfWorkFactory, pool: ThreadPoolExecutor
) -> None:
    trainer = str(uuid.uuid4())
    first_id, first = _purchase(committing)
    second_id, second = _purchase(committing, offset_days=10)  # disjoint dates: only the cap can refuse

    def second_reservation() -> Reservation:
        with committing() as uow:
            return uow.slots.reserve(trainer, purchase_id=second_id, sessions=second, load_cap=1)

    with committing() as uow:
        assert (
            uow.slots.reserve(trainer, purchase_id=first_id, sessions=first, load_cap=1) is Reservation.BOOKED
        )
        mark_assigned(uow.connection, first_id, trainer)  # type: ignore[attr-defined]
        waiting = pool.submit(second_reservation)
        with pytest.raises(TimeoutError):
            waiting.result(timeout=0.3)  # queued behind this transaction's lock on the trainer
        uow.commit()

    assert waiting.result(timeout=10) is Reservation.AT_LOAD_CAP


def test_the_load_cap_does_not_count_the_purchase_being_reserved(committing: UnitOfWorkFactory) -> None:
    trainer = str(uuid.uuid4())
    purchase_id, sessions = _purchase(committing)
    with committing() as uow:
        mark_assigned(uow.connection, purchase_id, trainer)  # type: ignore[attr-defined]
        assert (
            uow.slots.reserve(trainer, purchase_id=purchase_id, sessions=sessions, load_cap=1)
            is Reservation.BOOKED
        )


def test_a_group_lock_is_held_by_one_holder_at_a_time_across_connections(engine: Engine) -> None:
    locks = AdvisoryGroupLocks(engine)
    key = f"test:{uuid.uuid4()}"

    with locks.hold(key, wait_seconds=0) as first, locks.hold(key, wait_seconds=0.2) as second:
        assert (first, second) == (True, False)
    with locks.hold(key, wait_seconds=0) as after:
        assert after is True  # released when the first block ended
