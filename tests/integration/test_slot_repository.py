"""SqlSlotRepository on real PostgreSQL: all-or-nothing reservations, refused overlaps."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from booking_server.domain.model import civil_minutes
from booking_server.domain.purchase import StoredSession
from booking_server.domain.slots import SlotStatus, TrainerSlot
from booking_server.services.ports.slots import Reservation
from booking_server.services.unit_of_work import UnitOfWorkFactory
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.support.stored_purchases import purchase_with_sessions

DAY = date(2031, 3, 3)


def _sessions(uow_factory: UnitOfWorkFactory, days: int, time: str) -> tuple[str, list[StoredSession]]:
    return purchase_with_sessions(uow_factory, first_day=DAY, days=days, time=time)


def test_a_reservation_that_overlaps_on_one_day_books_nothing_at_all(uow_factory: UnitOfWorkFactory) -> None:
    trainer_id = str(uuid.uuid4())
    first_purchase, first = _sessions(uow_factory, 3, "16:00")
    second_purchase, second = _sessions(uow_factory, 5, "16:20")
    with uow_factory() as uow:
        assert (
            uow.slots.reserve(trainer_id, purchase_id=first_purchase, sessions=first[2:], load_cap=0)
            is Reservation.BOOKED
        )
        uow.commit()

    with uow_factory() as uow:
        accepted = uow.slots.reserve(trainer_id, purchase_id=second_purchase, sessions=second, load_cap=0)
        uow.commit()

    assert accepted is Reservation.TAKEN
    with uow_factory() as uow:
        slots = uow.slots.schedule(trainer_id, from_date=DAY, to_date=DAY + timedelta(days=10))
    assert [(s.slot_date, s.start_time, s.purchase_id) for s in slots] == [
        (DAY + timedelta(days=2), "16:00", first_purchase)
    ]


def test_touching_reservations_both_fit(uow_factory: UnitOfWorkFactory) -> None:
    trainer_id = str(uuid.uuid4())
    first_purchase, first = _sessions(uow_factory, 2, "16:00")
    second_purchase, second = _sessions(uow_factory, 2, "16:40")

    with uow_factory() as uow:
        assert (
            uow.slots.reserve(trainer_id, purchase_id=first_purchase, sessions=first, load_cap=0)
            is Reservation.BOOKED
        )
        assert (
            uow.slots.reserve(trainer_id, purchase_id=second_purchase, sessions=second, load_cap=0)
            is Reservation.BOOKED
        )
        uow.commit()


@pytest.mark.parametrize(
    ("start", "minutes", "fits"), [("15:20", 40, True), ("16:39", 1, False), ("23:50", 30, True)]
)
def test_blocked_time_is_refused_only_when_it_overlaps(
    uow_factory: UnitOfWorkFactory, start: str, minutes: int, fits: bool
) -> None:
    trainer_id = str(uuid.uuid4())
    purchase_id, sessions = _sessions(uow_factory, 1, "16:00")
    with uow_factory() as uow:
        assert (
            uow.slots.reserve(trainer_id, purchase_id=purchase_id, sessions=sessions, load_cap=0)
            is Reservation.BOOKED
        )
        blocked = uow.slots.block(
            TrainerSlot(trainer_id, DAY, start, minutes, SlotStatus.BLOCKED, reason="x")
        )
        uow.commit()

    assert (blocked is not None) is fits


def test_the_database_itself_refuses_an_overlap_that_bypasses_the_repository(
    uow_factory: UnitOfWorkFactory,
) -> None:
    trainer_id = str(uuid.uuid4())
    purchase_id, sessions = _sessions(uow_factory, 1, "16:00")
    with uow_factory() as uow:
        assert (
            uow.slots.reserve(trainer_id, purchase_id=purchase_id, sessions=sessions, load_cap=0)
            is Reservation.BOOKED
        )
        conn = uow.connection  # type: ignore[attr-defined]
        with pytest.raises(IntegrityError, match="ex_trainer_slots_no_overlap"):
            conn.execute(
                text(
                    "INSERT INTO trainer_slots (trainer_id, trainer_key, slot_date, start_time, start_minute,"
                    " duration_minutes, status, reason) SELECT trainer_id, trainer_key, slot_date, '16:30',"
                    " start_minute + 30, 40, 'blocked', 'raw' FROM trainer_slots WHERE trainer_id = :t"
                ),
                {"t": trainer_id},
            )


@pytest.mark.parametrize("time", ["00:00", "06:20", "16:00", "23:59"])
def test_booked_slots_carry_the_same_civil_minute_as_the_domain_computes(
    uow_factory: UnitOfWorkFactory, time: str
) -> None:
    trainer_id = str(uuid.uuid4())
    purchase_id, sessions = _sessions(uow_factory, 2, time)
    with uow_factory() as uow:
        assert (
            uow.slots.reserve(trainer_id, purchase_id=purchase_id, sessions=sessions, load_cap=0)
            is Reservation.BOOKED
        )
        busy = uow.slots.busy_intervals([trainer_id], first_date=DAY, last_date=DAY + timedelta(days=2))

    expected = [civil_minutes(s.session_date, s.session_time) for s in sessions]
    assert sorted(i.start_minute for i in busy[trainer_id]) == expected
    assert all(i.end_minute - i.start_minute == 40 for i in busy[trainer_id])
