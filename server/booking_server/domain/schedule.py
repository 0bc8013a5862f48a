"""Schedule generation (product.md 1.4): a pure function of the validated request."""

from __future__ import annotations

from datetime import date, timedelta

from booking_server.domain.model import (
    MINUTES_PER_DAY,
    SESSION_MINUTES,
    ClassType,
    DeliveryMode,
    ScheduledSession,
    SessionFlags,
    SessionType,
    parse_hhmm,
)

HYBRID_SESSION_COUNT = 30
HYBRID_ONLINE_PREFIX = 7
"""HYBRID sessions 1-7 are online; from 8 on they alternate offline, online, ..."""

_SUNDAY = 6  # date.weekday(): Monday is 0

# Online HYBRID sessions are fixed-time; only the offline ones are booked at home.
_HYBRID_ONLINE_FLAGS = SessionFlags(
    is_bookable=False, is_fixed_time=True, requires_booking=False, initial_time_slot=""
)


def add_minutes(hhmm: str, minutes: int) -> str:
    """The time of day `minutes` after `hhmm`, wrapping around midnight."""
    total = (parse_hhmm(hhmm) + minutes) % MINUTES_PER_DAY
    return f"{total // 60:02d}:{total % 60:02d}"


def generate_schedule(
    *,
    class_type: ClassType,
    delivery_mode: DeliveryMode,
    total_sessions: int,
    start_date: date,
    time_slot: str,
) -> tuple[ScheduledSession, ...]:
    """Sessions numbered 1..N in chronological order.

    Expects a request that passed validation and the purchase rules; anything else is a
    programming error and raises ValueError rather than producing a wrong schedule.
    """
    parse_hhmm(time_slot)  # fail fast on a malformed slot
    if total_sessions < 1:
        msg = f"total_sessions must be positive, got {total_sessions}"
        raise ValueError(msg)
    # HYBRID wins over the delivery mode: the course shape is fixed.
    if class_type == ClassType.HYBRID:
        if total_sessions != HYBRID_SESSION_COUNT:
            msg = f"HYBRID needs {HYBRID_SESSION_COUNT} sessions, got {total_sessions}"
            raise ValueError(msg)
        return _hybrid(start_date, time_slot)
    if delivery_mode == DeliveryMode.SUNDAY_ONLY:
        if total_sessions % 2 != 0:
            msg = f"SUNDAY_ONLY needs an even number of sessions, got {total_sessions}"
            raise ValueError(msg)
        return _sunday_only(total_sessions, start_date, time_slot)
    return _daily(total_sessions, start_date, time_slot)


def _session(
    number: int, day: date, time_slot: str, session_type: SessionType, flags: SessionFlags | None
) -> ScheduledSession:
    return ScheduledSession(
        session_number=number,
        session_date=day,
        session_time=time_slot,
        duration_minutes=SESSION_MINUTES,
        session_type=session_type,
        flags=flags,
    )


def _hybrid(start_date: date, time_slot: str) -> tuple[ScheduledSession, ...]:
    offline_flags = SessionFlags(
        is_bookable=True, is_fixed_time=False, requires_booking=True, initial_time_slot=time_slot
    )
    sessions = []
    for number in range(1, HYBRID_SESSION_COUNT + 1):
        day = start_date + timedelta(days=number - 1)
        # After the online block, even numbers (8, 10, ..., 30) are the offline ones.
        if number > HYBRID_ONLINE_PREFIX and number % 2 == 0:
            sessions.append(_session(number, day, time_slot, SessionType.OFFLINE, offline_flags))
        else:
            sessions.append(_session(number, day, time_slot, SessionType.ONLINE, _HYBRID_ONLINE_FLAGS))
    return tuple(sessions)


def _daily(total_sessions: int, start_date: date, time_slot: str) -> tuple[ScheduledSession, ...]:
    # Every calendar day, Sundays included: "WEEKDAY" in the name is historical.
    return tuple(
        _session(number, start_date + timedelta(days=number - 1), time_slot, SessionType.OFFLINE, None)
        for number in range(1, total_sessions + 1)
    )


def first_sunday_on_or_after(day: date) -> date:
    """`day` itself when it is a Sunday, else the next Sunday."""
    return day + timedelta(days=(_SUNDAY - day.weekday()) % 7)


def _sunday_only(total_sessions: int, start_date: date, time_slot: str) -> tuple[ScheduledSession, ...]:
    first_sunday = first_sunday_on_or_after(start_date)
    second_slot = add_minutes(time_slot, SESSION_MINUTES)
    sessions = []
    for week in range(total_sessions // 2):
        sunday = first_sunday + timedelta(weeks=week)
        number = 2 * week + 1
        sessions.append(_session(number, sunday, time_slot, SessionType.OFFLINE, None))
        sessions.append(_session(number + 1, sunday, second_slot, SessionType.OFFLINE, None))
    return tuple(sessions)
