"""Shared domain values: enums, points, zones, sessions, trainer candidates.

Everything here is immutable and free of I/O so that every other domain module, the
use cases and the converters can pass these values around without defensive copies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

SESSION_MINUTES = 40
"""Every lesson lasts 40 minutes (product.md, "Who uses it and why")."""

MINUTES_PER_DAY = 24 * 60

# Civil minutes count from a fixed epoch so that intervals on different dates (and across
# midnight) compare with plain integer arithmetic; the epoch itself has no meaning.
_CIVIL_EPOCH = date(2000, 1, 1)
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


class ClassType(StrEnum):
    """How many students share a lesson, or the fixed 30-session HYBRID course."""

    ONE_ON_ONE = "ONE_ON_ONE"
    ONE_ON_TWO = "ONE_ON_TWO"
    ONE_ON_THREE = "ONE_ON_THREE"
    HYBRID = "HYBRID"


class DeliveryMode(StrEnum):
    """Which days carry the lessons."""

    WEEKDAY_DAILY = "WEEKDAY_DAILY"
    SUNDAY_ONLY = "SUNDAY_ONLY"


class PurchaseStatus(StrEnum):
    """The stored outcome of one assignment request."""

    ASSIGNED = "ASSIGNED"
    WAITLISTED = "WAITLISTED"
    SERVICE_NOT_AVAILABLE = "SERVICE_NOT_AVAILABLE"
    INVALID_PURCHASE = "INVALID_PURCHASE"
    CANCELLED = "CANCELLED"


class WaitlistReason(StrEnum):
    """Why a purchase is WAITLISTED."""

    NO_ELIGIBLE_TRAINER = "NO_ELIGIBLE_TRAINER"
    TRAINER_DIRECTORY_UNAVAILABLE = "TRAINER_DIRECTORY_UNAVAILABLE"


class SessionType(StrEnum):
    """Where a lesson happens; the lower-case values are what the read model stores."""

    ONLINE = "online"
    OFFLINE = "offline"


class SessionStatus(StrEnum):
    """Life cycle of one purchase session; lower-case values as in the read model."""

    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS84 position in decimal degrees."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Student:
    """One student of a purchase; email and phone are optional (empty string)."""

    id: str
    name: str
    email: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class Zone:
    """A circular service area; `franchise_id` None means company-operated."""

    zone_id: str
    name: str
    franchise_id: str | None
    center: GeoPoint
    radius_km: float
    active: bool


@dataclass(frozen=True, slots=True)
class CandidateQuery:
    """What the trainer directory is asked for a zone's candidates (product 1.5, rules 1-3 as
    filters): the course's active trainers of the zone's operator whose home zone is that zone or
    none. Rules 1-3 are still checked on every trainer returned; the filters only spare the
    directory, the wire and this service the trainers that could never serve the zone."""

    course_id: str
    zone_id: str
    franchise_id: str | None  # the zone's; None = company trainers only
    trainers_returned: int = 0  # every page, unreadable records included

    @classmethod
    def for_zone(cls, course_id: str, zone: Zone) -> CandidateQuery:
        return cls(course_id=course_id, zone_id=zone.zone_id, franchise_id=zone.franchise_id)


@dataclass(frozen=True, slots=True)
class SessionFlags:
    """Booking flags of a HYBRID session; `initial_time_slot` is "" when there is none."""

    is_bookable: bool
    is_fixed_time: bool
    requires_booking: bool
    initial_time_slot: str


def parse_hhmm(hhmm: str) -> int:
    """Minutes since midnight of a strict 24 h "HH:MM"; ValueError otherwise."""
    match = _HHMM.fullmatch(hhmm)
    if match is None:
        msg = f"not a HH:MM time of day: {hhmm!r}"
        raise ValueError(msg)
    return int(match.group(1)) * 60 + int(match.group(2))


def civil_minutes(day: date, hhmm: str) -> int:
    """Minutes from 2000-01-01 00:00 to `day` at `hhmm` on the civil calendar.

    No timezone is involved: sessions and slots are civil times in the business
    timezone, so plain calendar arithmetic is what makes two of them comparable.
    """
    return (day - _CIVIL_EPOCH).days * MINUTES_PER_DAY + parse_hhmm(hhmm)


@dataclass(frozen=True, slots=True)
class ScheduledSession:
    """One generated lesson; `flags` is set for HYBRID purchases only."""

    session_number: int
    session_date: date
    session_time: str
    duration_minutes: int
    session_type: SessionType
    flags: SessionFlags | None

    @property
    def start_minute(self) -> int:
        """Civil minute at which the lesson starts (see `civil_minutes`)."""
        return civil_minutes(self.session_date, self.session_time)

    @property
    def end_minute(self) -> int:
        """Civil minute at which the lesson ends, exclusive."""
        return self.start_minute + self.duration_minutes


@dataclass(frozen=True, slots=True)
class TrainerCandidate:
    """What the directory tells about one trainer, as eligibility needs it.

    `franchise_id` None = company trainer, `zone_id` None = no home zone,
    `location` None = unknown base location, `max_active_purchases` 0 = no cap.
    """

    trainer_id: str
    active: bool
    franchise_id: str | None
    zone_id: str | None
    certified_course_ids: tuple[str, ...]
    location: GeoPoint | None
    max_active_purchases: int


@dataclass(frozen=True, slots=True)
class BusyInterval:
    """A booked or blocked slot of a trainer in civil minutes, half-open [start, end)."""

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        # A reversed interval can only come from a bug upstream; failing here keeps the
        # overlap checks from silently treating it as empty.
        if self.end_minute < self.start_minute:
            msg = f"interval ends before it starts: {self.start_minute}..{self.end_minute}"
            raise ValueError(msg)
