"""Rules of a purchase after assignment: what is future, what may move, and where to."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from booking_server.domain.errors import FieldViolation
from booking_server.domain.lifecycle import check_new_time, check_reason, is_movable, movable_from
from booking_server.domain.model import SessionStatus, SessionType
from booking_server.domain.purchase import StoredSession

NOW = datetime(2031, 5, 10, 16, 0, 30)  # civil time in the business timezone


def _session(
    day: date, time: str, status: SessionStatus = SessionStatus.SCHEDULED, number: int = 1
) -> StoredSession:
    return StoredSession("s", "p", number, day, time, 40, SessionType.OFFLINE, status, None)


@pytest.mark.parametrize(
    ("day", "time", "movable"),
    [
        (date(2031, 5, 10), "16:01", True),
        (date(2031, 5, 10), "16:00", False),  # started (this minute)
        (date(2031, 5, 10), "09:00", False),
        (date(2031, 5, 11), "00:00", True),
    ],
)
def test_a_session_is_movable_only_before_it_starts(day: date, time: str, movable: bool) -> None:
    assert is_movable(_session(day, time), now=NOW) is movable


@pytest.mark.parametrize("status", [SessionStatus.COMPLETED, SessionStatus.CANCELLED])
def test_completed_and_cancelled_sessions_never_move(status: SessionStatus) -> None:
    assert not is_movable(_session(date(2031, 6, 1), "10:00", status), now=NOW)


def test_a_substitution_moves_movable_sessions_from_its_date_on() -> None:
    sessions = [
        _session(date(2031, 5, 10), "15:00", number=1),  # past
        _session(date(2031, 5, 12), "15:00", number=2),  # before from_date
        _session(date(2031, 5, 13), "15:00", SessionStatus.COMPLETED, number=3),
        _session(date(2031, 5, 14), "15:00", SessionStatus.RESCHEDULED, number=4),
        _session(date(2031, 5, 15), "15:00", number=5),
    ]

    moved = movable_from(sessions, from_date=date(2031, 5, 13), now=NOW)

    assert [s.session_number for s in moved] == [4, 5]


@pytest.mark.parametrize(
    ("new_date", "new_time", "fields"),
    [
        ("2031-05-09", "18:00", {"new_date"}),
        ("2031-05-10", "16:00", {"new_time"}),  # today, not later than now
        ("2031-05-10", "25:00", {"new_time"}),
        ("2031-02-30", "10:00", {"new_date"}),
        ("", "", {"new_date", "new_time"}),
    ],
)
def test_a_reschedule_target_in_the_past_or_malformed_names_its_field(
    new_date: str, new_time: str, fields: set[str]
) -> None:
    violations: list[FieldViolation] = []

    assert check_new_time(new_date, new_time, now=NOW, violations=violations) is None
    assert {v.field for v in violations} == fields


def test_a_reschedule_target_later_today_is_fine() -> None:
    violations: list[FieldViolation] = []

    target = check_new_time("2031-05-10", "16:01", now=NOW, violations=violations)

    assert (target, violations) == (target, [])
    assert target is not None
    assert (target.day, target.time) == (date(2031, 5, 10), "16:01")


def test_a_reason_may_hold_500_characters() -> None:
    violations: list[FieldViolation] = []
    check_reason("x" * 500, violations)
    assert violations == []
    check_reason("x" * 501, violations)
    assert [v.field for v in violations] == ["reason"]


@pytest.mark.parametrize("reason", ["moved\x00away", "tab\there", "bell\x07"])
def test_a_reason_with_control_characters_is_refused(reason: str) -> None:
    violations: list[FieldViolation] = []

    check_reason(reason, violations)

    assert [v.field for v in violations] == ["reason"]
