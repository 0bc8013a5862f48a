"""Stored purchases and sessions as the use cases see them (no ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from booking_server.domain.eligibility import Rejection
from booking_server.domain.model import (
    ClassType,
    DeliveryMode,
    GeoPoint,
    PurchaseStatus,
    ScheduledSession,
    SessionFlags,
    SessionStatus,
    SessionType,
    Student,
    WaitlistReason,
    Zone,
)

ASSIGNED_MESSAGE = "Trainer assigned successfully"
WAITLISTED_MESSAGE = "No eligible trainer available, booking waitlisted"
SERVICE_NOT_AVAILABLE_MESSAGE = "Service not available at this location"


@dataclass(frozen=True, slots=True)
class PurchaseOutcome:
    """What the assignment decided, before it is stored."""

    status: PurchaseStatus
    message: str
    zone: Zone | None = None
    trainer_id: str | None = None
    waitlist_reason: WaitlistReason | None = None


@dataclass(frozen=True, slots=True)
class StoredPurchase:
    purchase_id: str
    booking_id: str
    request_fingerprint: str
    course_id: str
    class_type: ClassType
    total_sessions: int
    delivery_mode: DeliveryMode
    start_date: date
    preferred_time_slot: str
    student_location: GeoPoint
    student_address: str
    students: tuple[Student, ...]
    zone_id: str | None
    franchise_id: str | None
    trainer_id: str | None
    status: PurchaseStatus
    waitlist_reason: WaitlistReason | None
    message: str
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredSession:
    session_id: str
    purchase_id: str
    session_number: int
    session_date: date
    session_time: str
    duration_minutes: int
    session_type: SessionType
    status: SessionStatus
    flags: SessionFlags | None

    @classmethod
    def planned(
        cls, session: ScheduledSession, *, purchase_id: str = "", session_id: str = ""
    ) -> StoredSession:
        """A generated session as it will be (or, in a dry run, would be) stored."""
        return cls(
            session_id=session_id,
            purchase_id=purchase_id,
            session_number=session.session_number,
            session_date=session.session_date,
            session_time=session.session_time,
            duration_minutes=session.duration_minutes,
            session_type=session.session_type,
            status=SessionStatus.SCHEDULED,
            flags=session.flags,
        )


@dataclass(frozen=True, slots=True)
class AssignmentDecision:
    """Why this trainer, or why none: the zone, the ranked trainers tried, every rejection.

    `zone_rejections` are the candidates the zone itself excludes (rules 1-3): computed once
    per zone while the candidate list is cached, and shared by every purchase in that zone.
    `rejections` are this purchase's own (rules 4-7, races, unreadable records). Each is
    ordered by trainer id; a response lists the zone's first.
    """

    zone: Zone | None = None
    ranked_trainer_ids: tuple[str, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    zone_rejections: tuple[Rejection, ...] = ()

    @property
    def all_rejections(self) -> tuple[Rejection, ...]:
        return self.zone_rejections + self.rejections


@dataclass(frozen=True, slots=True)
class AssignmentResult:
    purchase: StoredPurchase
    sessions: tuple[StoredSession, ...]
    decision: AssignmentDecision
