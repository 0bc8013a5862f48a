"""Rules of a purchase after assignment (product.md section 4): what may change, and when.

"Future" means starting after now in the business timezone, to the minute: a session that has
started can no longer be moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from booking_server.domain.eligibility import intervals_overlap
from booking_server.domain.errors import FieldViolation
from booking_server.domain.model import BusyInterval, PurchaseStatus, SessionStatus, civil_minutes
from booking_server.domain.purchase import StoredSession
from booking_server.domain.validation import TIME_SLOT_PATTERN, check_text, parse_date_field

CANCELLABLE = frozenset({PurchaseStatus.ASSIGNED, PurchaseStatus.WAITLISTED})
MOVABLE_STATUSES = frozenset({SessionStatus.SCHEDULED, SessionStatus.RESCHEDULED})
MAX_REASON_CHARS = 500


def civil_minute_of(moment: datetime) -> int:
    """The civil minute (see domain.model.civil_minutes) of a wall-clock time."""
    return civil_minutes(moment.date(), moment.strftime("%H:%M"))


def starts_in_future(session: StoredSession, *, now: datetime) -> bool:
    return civil_minutes(session.session_date, session.session_time) > civil_minute_of(now)


def is_movable(session: StoredSession, *, now: datetime) -> bool:
    """A session that may be rescheduled or substituted: scheduled or rescheduled, not started."""
    return session.status in MOVABLE_STATUSES and starts_in_future(session, now=now)


def movable_from(
    sessions: Iterable[StoredSession], *, from_date: date, now: datetime
) -> tuple[StoredSession, ...]:
    """The sessions a substitution moves: movable ones on or after `from_date`."""
    return tuple(s for s in sessions if s.session_date >= from_date and is_movable(s, now=now))


def overlaps_another_session(
    sessions: Iterable[StoredSession], *, moved: StoredSession, day: date, time: str
) -> bool:
    """Whether the moved session's new interval overlaps another session of its purchase that
    still takes place (its students cannot be in two lessons at once)."""
    start = civil_minutes(day, time)
    interval = BusyInterval(start, start + moved.duration_minutes)
    return any(
        intervals_overlap(interval, BusyInterval(s.as_scheduled().start_minute, s.as_scheduled().end_minute))
        for s in sessions
        if s.session_id != moved.session_id and s.status != SessionStatus.CANCELLED
    )


@dataclass(frozen=True, slots=True)
class NewTime:
    """Where a session is asked to move."""

    day: date
    time: str


def check_new_time(
    new_date: str, new_time: str, *, now: datetime, violations: list[FieldViolation]
) -> NewTime | None:
    """A reschedule target: a real date and HH:MM time, not already past (product 4.2)."""
    day = parse_date_field(new_date, "new_date", violations)
    if not TIME_SLOT_PATTERN.fullmatch(new_time):
        violations.append(FieldViolation("new_time", "must be a 24-hour time as HH:MM"))
        return None
    if day is None:
        return None
    if day < now.date():
        violations.append(FieldViolation("new_date", "must not be in the past"))
        return None
    if civil_minutes(day, new_time) <= civil_minute_of(now):
        violations.append(FieldViolation("new_time", "must be later than now"))
        return None
    return NewTime(day, new_time)


def check_reason(reason: str, violations: list[FieldViolation]) -> None:
    check_text(reason, "reason", max_chars=MAX_REASON_CHARS, violations=violations)
