"""Schedule generation (product.md 1.4) and civil minutes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from booking_server.domain.model import (
    ClassType,
    DeliveryMode,
    ScheduledSession,
    SessionFlags,
    SessionType,
    civil_minutes,
)
from booking_server.domain.schedule import add_minutes, generate_schedule
from hypothesis import given
from hypothesis import strategies as st

SUNDAY = 6
MONDAY_2025_03_10 = date(2025, 3, 10)
SUNDAY_2025_03_16 = date(2025, 3, 16)

start_dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2099, 12, 31))
time_slots = st.builds(
    lambda hour, minute: f"{hour:02d}:{minute:02d}",
    st.integers(min_value=0, max_value=23),
    st.integers(min_value=0, max_value=59),
)
sunday_slots = time_slots.filter(lambda slot: slot <= "22:40")
non_hybrid = st.sampled_from([ClassType.ONE_ON_ONE, ClassType.ONE_ON_TWO, ClassType.ONE_ON_THREE])


def hybrid(
    start: date, slot: str, mode: DeliveryMode = DeliveryMode.WEEKDAY_DAILY
) -> tuple[ScheduledSession, ...]:
    return generate_schedule(
        class_type=ClassType.HYBRID, delivery_mode=mode, total_sessions=30, start_date=start, time_slot=slot
    )


def assert_numbered_chronologically(sessions: tuple[ScheduledSession, ...]) -> None:
    assert [s.session_number for s in sessions] == list(range(1, len(sessions) + 1))
    starts = [s.start_minute for s in sessions]
    assert starts == sorted(starts)
    assert len(set(starts)) == len(starts)
    assert all(s.duration_minutes == 40 for s in sessions)


@given(start=start_dates, slot=time_slots, mode=st.sampled_from(list(DeliveryMode)))
def test_hybrid_schedule_has_30_sessions_on_consecutive_days_whatever_the_delivery_mode(
    start: date, slot: str, mode: DeliveryMode
) -> None:
    sessions = hybrid(start, slot, mode)

    assert_numbered_chronologically(sessions)
    assert [s.session_date for s in sessions] == [start + timedelta(days=i) for i in range(30)]
    assert {s.session_time for s in sessions} == {slot}


def test_hybrid_schedule_has_18_online_and_12_offline_sessions() -> None:
    sessions = hybrid(MONDAY_2025_03_10, "16:00")

    online = [s.session_number for s in sessions if s.session_type == SessionType.ONLINE]
    offline = [s.session_number for s in sessions if s.session_type == SessionType.OFFLINE]
    assert online == [1, 2, 3, 4, 5, 6, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29]
    assert offline == list(range(8, 31, 2))


@given(start=start_dates, slot=time_slots)
def test_hybrid_online_sessions_are_fixed_time_and_offline_ones_bookable_at_the_slot(
    start: date, slot: str
) -> None:
    for session in hybrid(start, slot):
        if session.session_type == SessionType.ONLINE:
            assert session.flags == SessionFlags(
                is_bookable=False, is_fixed_time=True, requires_booking=False, initial_time_slot=""
            )
        else:
            assert session.flags == SessionFlags(
                is_bookable=True, is_fixed_time=False, requires_booking=True, initial_time_slot=slot
            )


@given(
    start=start_dates, slot=time_slots, total=st.integers(min_value=1, max_value=100), class_type=non_hybrid
)
def test_weekday_daily_has_n_offline_sessions_on_consecutive_calendar_days(
    start: date, slot: str, total: int, class_type: ClassType
) -> None:
    sessions = generate_schedule(
        class_type=class_type,
        delivery_mode=DeliveryMode.WEEKDAY_DAILY,
        total_sessions=total,
        start_date=start,
        time_slot=slot,
    )

    assert len(sessions) == total
    assert_numbered_chronologically(sessions)
    assert [s.session_date for s in sessions] == [start + timedelta(days=i) for i in range(total)]
    assert all(s.session_type == SessionType.OFFLINE and s.flags is None for s in sessions)
    assert {s.session_time for s in sessions} == {slot}


def test_weekday_daily_includes_sundays() -> None:
    sessions = generate_schedule(
        class_type=ClassType.ONE_ON_ONE,
        delivery_mode=DeliveryMode.WEEKDAY_DAILY,
        total_sessions=10,
        start_date=MONDAY_2025_03_10,
        time_slot="07:00",
    )

    assert sessions[6].session_date == SUNDAY_2025_03_16
    assert sessions[6].session_date.weekday() == SUNDAY


@given(
    start=start_dates,
    slot=sunday_slots,
    pairs=st.integers(min_value=1, max_value=50),
    class_type=non_hybrid,
)
def test_sunday_only_has_pairs_at_t_and_t_plus_40_on_consecutive_sundays(
    start: date, slot: str, pairs: int, class_type: ClassType
) -> None:
    sessions = generate_schedule(
        class_type=class_type,
        delivery_mode=DeliveryMode.SUNDAY_ONLY,
        total_sessions=2 * pairs,
        start_date=start,
        time_slot=slot,
    )

    assert len(sessions) == 2 * pairs
    assert_numbered_chronologically(sessions)
    first_sunday = sessions[0].session_date
    assert first_sunday.weekday() == SUNDAY
    assert start <= first_sunday < start + timedelta(days=7)
    for week in range(pairs):
        first, second = sessions[2 * week], sessions[2 * week + 1]
        assert first.session_date == second.session_date == first_sunday + timedelta(weeks=week)
        assert (first.session_time, second.session_time) == (slot, add_minutes(slot, 40))
        assert second.start_minute == first.end_minute
    assert all(s.session_type == SessionType.OFFLINE and s.flags is None for s in sessions)


@pytest.mark.parametrize(
    ("start", "first_sunday"),
    [
        (SUNDAY_2025_03_16, SUNDAY_2025_03_16),
        (MONDAY_2025_03_10, SUNDAY_2025_03_16),
        (date(2025, 3, 15), SUNDAY_2025_03_16),
    ],
)
def test_sunday_only_starts_on_the_first_sunday_on_or_after_the_start_date(
    start: date, first_sunday: date
) -> None:
    sessions = generate_schedule(
        class_type=ClassType.ONE_ON_ONE,
        delivery_mode=DeliveryMode.SUNDAY_ONLY,
        total_sessions=10,
        start_date=start,
        time_slot="10:00",
    )

    assert sessions[0].session_date == first_sunday
    assert sessions[-1].session_date == first_sunday + timedelta(weeks=4)


def test_sunday_only_at_22_40_ends_its_second_session_at_midnight() -> None:
    sessions = generate_schedule(
        class_type=ClassType.ONE_ON_TWO,
        delivery_mode=DeliveryMode.SUNDAY_ONLY,
        total_sessions=2,
        start_date=SUNDAY_2025_03_16,
        time_slot="22:40",
    )

    assert [s.session_time for s in sessions] == ["22:40", "23:20"]
    assert sessions[1].end_minute == civil_minutes(date(2025, 3, 17), "00:00")


@pytest.mark.parametrize(
    ("class_type", "delivery_mode", "total"),
    [
        (ClassType.HYBRID, DeliveryMode.WEEKDAY_DAILY, 20),
        (ClassType.ONE_ON_ONE, DeliveryMode.SUNDAY_ONLY, 11),
        (ClassType.ONE_ON_ONE, DeliveryMode.WEEKDAY_DAILY, 0),
    ],
)
def test_a_schedule_is_refused_for_a_purchase_that_broke_the_rules(
    class_type: ClassType, delivery_mode: DeliveryMode, total: int
) -> None:
    with pytest.raises(ValueError, match="sessions"):
        generate_schedule(
            class_type=class_type,
            delivery_mode=delivery_mode,
            total_sessions=total,
            start_date=MONDAY_2025_03_10,
            time_slot="10:00",
        )


@pytest.mark.parametrize(
    ("hhmm", "minutes", "expected"),
    [("16:00", 40, "16:40"), ("15:20", 40, "16:00"), ("23:40", 40, "00:20"), ("00:10", -20, "23:50")],
)
def test_add_minutes_moves_the_time_of_day_and_wraps_at_midnight(
    hhmm: str, minutes: int, expected: str
) -> None:
    assert add_minutes(hhmm, minutes) == expected


@pytest.mark.parametrize("bad", ["24:00", "7:00", "07:0", "", "07:00 "])
def test_add_minutes_refuses_a_malformed_time(bad: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        add_minutes(bad, 40)


def test_civil_minutes_count_calendar_days_so_midnight_is_continuous() -> None:
    assert civil_minutes(date(2000, 1, 1), "00:00") == 0
    assert civil_minutes(date(2000, 1, 2), "00:00") == 1440
    assert civil_minutes(date(1999, 12, 31), "23:20") == -40
    assert civil_minutes(date(2025, 3, 17), "00:00") - civil_minutes(date(2025, 3, 16), "23:20") == 40


def test_a_session_late_at_night_ends_on_the_next_civil_day() -> None:
    session = ScheduledSession(
        session_number=1,
        session_date=date(2025, 3, 16),
        session_time="23:40",
        duration_minutes=40,
        session_type=SessionType.OFFLINE,
        flags=None,
    )

    assert session.end_minute == civil_minutes(date(2025, 3, 17), "00:20")
