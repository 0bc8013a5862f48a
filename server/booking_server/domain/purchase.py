"""Stored purchases and sessions as the use cases see them (no ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from booking_server.domain.eligibility import Rejection
from booking_server.domain.model import (
    CandidateQuery,
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
from booking_server.domain.validation import AssignTrainerCommand

ASSIGNED_MESSAGE = "Trainer assigned successfully"
WAITLISTED_MESSAGE = "No eligible trainer available, booking waitlisted"
SERVICE_NOT_AVAILABLE_MESSAGE = "Service not available at this location"
CANCELLED_MESSAGE = "Purchase cancelled"


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
    cancellation_reason: str = ""

    @classmethod
    def decided(
        cls,
        command: AssignTrainerCommand,
        *,
        fingerprint: str,
        outcome: PurchaseOutcome,
        purchase_id: str = "",
    ) -> StoredPurchase:
        """The purchase a request and its outcome make, before storage gives it times (and an id)."""
        return cls(
            purchase_id=purchase_id,
            booking_id=command.booking_id,
            request_fingerprint=fingerprint,
            course_id=command.course_id,
            class_type=command.class_type,
            total_sessions=command.total_sessions,
            delivery_mode=command.delivery_mode,
            start_date=command.start_date,
            preferred_time_slot=command.preferred_time_slot,
            student_location=command.student_location,
            student_address=command.student_address,
            students=command.students,
            zone_id=outcome.zone.zone_id if outcome.zone else None,
            franchise_id=outcome.zone.franchise_id if outcome.zone else None,
            trainer_id=outcome.trainer_id,
            status=outcome.status,
            waitlist_reason=outcome.waitlist_reason,
            message=outcome.message,
            created_at=None,
            updated_at=None,
        )


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
    trainer_id: str | None = None  # who holds it (for a cancelled one: who held it)

    def as_scheduled(self) -> ScheduledSession:
        """The session as the eligibility rules see it (its interval and number)."""
        return ScheduledSession(
            self.session_number,
            self.session_date,
            self.session_time,
            self.duration_minutes,
            self.session_type,
            self.flags,
        )

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
    candidate_query: CandidateQuery | None = None  # None: the directory was not asked

    @property
    def all_rejections(self) -> tuple[Rejection, ...]:
        return self.zone_rejections + self.rejections


@dataclass(frozen=True, slots=True)
class AssignmentResult:
    purchase: StoredPurchase
    sessions: tuple[StoredSession, ...]
    decision: AssignmentDecision
