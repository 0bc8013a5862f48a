"""SQLAlchemy models: every table the service owns, and the read model it writes.

Invariants live here as constraints so that they hold for any number of replicas:
- a trainer's booked and blocked intervals never overlap (GiST exclusion on an int8range);
- one purchase per booking id, one certificate per (purchase, student),
  one tutoring session per (purchase session, student).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, INT8RANGE, JSONB, UUID, ExcludeConstraint, Range
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Constraint names are predictable so migrations and error handling can refer to them.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A slot's span packs (trainer_key, civil minute) into one bigint so that a plain GiST
# exclusion on int8range enforces "no overlap per trainer" without btree_gist, which the
# embedded PostgreSQL does not ship. Minutes since 2000-01-01 fit in 32 bits for 8,000 years.
MINUTES_PER_TRAINER = 4294967296
SPAN_SQL = (
    f"int8range(trainer_key * {MINUTES_PER_TRAINER} + start_minute, "
    f"trainer_key * {MINUTES_PER_TRAINER} + start_minute + duration_minutes)"
)
ZONE_BOX_SQL = (
    "box(point(bbox_min_longitude, bbox_min_latitude), point(bbox_max_longitude, bbox_max_latitude))"
)
TIME_OF_DAY_PATTERN = "^([01][0-9]|2[0-3]):[0-5][0-9]$"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class ZoneRow(Base):
    __tablename__ = "zones"

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    franchise_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    center_latitude: Mapped[float] = mapped_column(Float, nullable=False)
    center_longitude: Mapped[float] = mapped_column(Float, nullable=False)
    radius_km: Mapped[float] = mapped_column(Float, nullable=False)
    # A box that surely contains the circle, kept beside it so the lookup can use a GiST index.
    bbox_min_latitude: Mapped[float] = mapped_column(Float, nullable=False)
    bbox_max_latitude: Mapped[float] = mapped_column(Float, nullable=False)
    bbox_min_longitude: Mapped[float] = mapped_column(Float, nullable=False)
    bbox_max_longitude: Mapped[float] = mapped_column(Float, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        CheckConstraint("length(btrim(name)) BETWEEN 1 AND 200", name="name_length"),
        CheckConstraint("center_latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("center_longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint("radius_km > 0 AND radius_km <= 20000", name="radius_range"),
        Index("uq_zones_company_name", "name", unique=True, postgresql_where=text("franchise_id IS NULL")),
        Index(
            "uq_zones_franchise_name",
            "franchise_id",
            "name",
            unique=True,
            postgresql_where=text("franchise_id IS NOT NULL"),
        ),
        # The zone lookup asks "which boxes contain this point" (`@>`), answered by this index.
        Index(
            "ix_zones_bbox",
            text(ZONE_BOX_SQL),
            postgresql_using="gist",
            postgresql_where=text("active"),
        ),
    )


class TrainerRow(Base):
    """The directory's own table; BookingService never reads it (it calls the directory RPCs)."""

    __tablename__ = "trainers"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    display_name: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    franchise_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    zone_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    max_active_purchases: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="location_pair"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint("max_active_purchases >= 0", name="load_cap_non_negative"),
        CheckConstraint("length(display_name) <= 200", name="display_name_length"),
        Index("ix_trainers_franchise_id", "franchise_id"),
        Index("ix_trainers_zone_id", "zone_id"),
    )


class TrainerCourseRow(Base):
    __tablename__ = "trainer_courses"

    trainer_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("trainers.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)

    # ListTrainers by course walks this index in trainer order: one range scan per page.
    __table_args__ = (Index("ix_trainer_courses_course_id_trainer_id", "course_id", "trainer_id"),)


class PurchaseRow(Base):
    __tablename__ = "purchases"

    id: Mapped[uuid.UUID] = _uuid_pk()
    booking_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, unique=True)
    # sha256 of the canonical request: the same booking id with another payload is refused.
    request_fingerprint: Mapped[str] = mapped_column(Text, nullable=False)
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    class_type: Mapped[str] = mapped_column(Text, nullable=False)
    total_sessions: Mapped[int] = mapped_column(Integer, nullable=False)
    delivery_mode: Mapped[str] = mapped_column(Text, nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    preferred_time_slot: Mapped[str] = mapped_column(Text, nullable=False)
    student_latitude: Mapped[float] = mapped_column(Float, nullable=False)
    student_longitude: Mapped[float] = mapped_column(Float, nullable=False)
    student_address: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    students: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    zone_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("zones.id"))
    franchise_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    trainer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(Text, nullable=False)
    waitlist_reason: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    cancellation_reason: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        CheckConstraint(
            "class_type IN ('ONE_ON_ONE', 'ONE_ON_TWO', 'ONE_ON_THREE', 'HYBRID')", name="class_type"
        ),
        CheckConstraint("length(cancellation_reason) <= 500", name="cancellation_reason_length"),
        CheckConstraint("delivery_mode IN ('WEEKDAY_DAILY', 'SUNDAY_ONLY')", name="delivery_mode"),
        CheckConstraint(
            "status IN ('ASSIGNED', 'WAITLISTED', 'SERVICE_NOT_AVAILABLE', 'INVALID_PURCHASE', 'CANCELLED')",
            name="status",
        ),
        CheckConstraint(
            "(status = 'WAITLISTED') = (waitlist_reason IS NOT NULL) AND (waitlist_reason IS NULL OR "
            "waitlist_reason IN ('NO_ELIGIBLE_TRAINER', 'TRAINER_DIRECTORY_UNAVAILABLE'))",
            name="waitlist_reason",
        ),
        CheckConstraint("status <> 'ASSIGNED' OR trainer_id IS NOT NULL", name="assigned_has_trainer"),
        CheckConstraint(
            "status NOT IN ('INVALID_PURCHASE', 'SERVICE_NOT_AVAILABLE') OR zone_id IS NULL",
            name="unserved_has_no_zone",
        ),
        CheckConstraint("total_sessions BETWEEN 1 AND 100", name="total_sessions_range"),
        CheckConstraint(f"preferred_time_slot ~ '{TIME_OF_DAY_PATTERN}'", name="time_slot_format"),
        CheckConstraint("jsonb_typeof(students) = 'array'", name="students_array"),
        Index("ix_purchases_created_at_id", "created_at", "id"),
        Index("ix_purchases_status", "status"),
        Index("ix_purchases_trainer_id_status", "trainer_id", "status"),
        Index("ix_purchases_zone_id", "zone_id"),
        # The waitlist promotion's work list: per zone and course, oldest first.
        Index(
            "ix_purchases_waitlisted_zone_course",
            "zone_id",
            "course_id",
            "created_at",
            "id",
            postgresql_where=text("status = 'WAITLISTED'"),
        ),
    )


class PurchaseSessionRow(Base):
    __tablename__ = "purchase_sessions"

    id: Mapped[uuid.UUID] = _uuid_pk()
    purchase_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("purchases.id", ondelete="CASCADE"), nullable=False
    )
    session_number: Mapped[int] = mapped_column(Integer, nullable=False)
    session_date: Mapped[date] = mapped_column(Date, nullable=False)
    session_time: Mapped[str] = mapped_column(Text, nullable=False)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False, server_default="40")
    session_type: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="scheduled")
    # HYBRID flags; all NULL for other class types.
    is_bookable: Mapped[bool | None] = mapped_column(Boolean)
    is_fixed_time: Mapped[bool | None] = mapped_column(Boolean)
    requires_booking: Mapped[bool | None] = mapped_column(Boolean)
    initial_time_slot: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who holds the session (set with its slot by book_trainer_sessions; kept when cancelled).
    trainer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # "YYYY-MM-DD HH:MM" the session last moved from; NULL until it is rescheduled.
    rescheduled_from: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        UniqueConstraint("purchase_id", "session_number"),
        CheckConstraint("session_number >= 1", name="session_number_positive"),
        CheckConstraint(f"session_time ~ '{TIME_OF_DAY_PATTERN}'", name="session_time_format"),
        CheckConstraint("duration_minutes BETWEEN 1 AND 1440", name="duration_range"),
        CheckConstraint("session_type IN ('online', 'offline')", name="session_type"),
        CheckConstraint("status IN ('scheduled', 'completed', 'cancelled', 'rescheduled')", name="status"),
        CheckConstraint("(status = 'completed') = (completed_at IS NOT NULL)", name="completed_at"),
    )


class PurchaseDecisionRow(Base):
    """Why an assignment chose its trainer (or none), as first answered: what a replay returns.

    JSON in the shape db/repositories/decisions.py writes; PostgreSQL compresses large values
    (TOAST), and the row is read only by replays, so purchase reads never pay for it.
    """

    __tablename__ = "purchase_decisions"

    purchase_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("purchases.id", ondelete="CASCADE"), primary_key=True
    )
    decision: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)


class AllocationCancellationRow(Base):
    """An allocation this service cancelled (with a purchase): the only kind a later sync reopens."""

    __tablename__ = "allocation_cancellations"

    allocation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("trainer_allocations.id", ondelete="CASCADE"), primary_key=True
    )


class PurchaseSubstitutionRow(Base):
    """A SubstituteTrainer answer: a repeat of a purchase's latest substitution returns it."""

    __tablename__ = "purchase_substitutions"

    id: Mapped[uuid.UUID] = _uuid_pk()
    purchase_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("purchases.id", ondelete="CASCADE"), nullable=False
    )
    # sha256 of (from_date, trainer_id, reason) as the caller sent them.
    request_fingerprint: Mapped[str] = mapped_column(Text, nullable=False)
    trainer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    moved_session_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), nullable=False)
    decision: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (Index("ix_purchase_substitutions_purchase_id_created_at", "purchase_id", "created_at"),)


class CapacityEventRow(Base):
    """A change that freed trainer time, written in that change's transaction: the waitlist
    promotion's trigger, so a crash right after the change loses nothing."""

    __tablename__ = "capacity_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    cause: Mapped[str] = mapped_column(Text, nullable=False)
    trainer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    zone_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    course_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = _created_at()
    # A replica's lease on the event while it promotes; NULL or past: free to claim.
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "cause IN ('purchase_cancelled', 'session_rescheduled', 'trainer_substituted', 'time_unblocked', "
            "'trainer_changed', 'zone_changed')",
            name="cause",
        ),
    )


class TrainerSlotKeyRow(Base):
    """A small integer per trainer: the high half of every slot span (see MINUTES_PER_TRAINER)."""

    __tablename__ = "trainer_slot_keys"

    trainer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    trainer_key: Mapped[int] = mapped_column(BigInteger, Identity(), nullable=False, unique=True)

    __table_args__ = (CheckConstraint("trainer_key BETWEEN 1 AND 2147483647", name="key_range"),)


class TrainerSlotRow(Base):
    __tablename__ = "trainer_slots"

    id: Mapped[uuid.UUID] = _uuid_pk()
    trainer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    trainer_key: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("trainer_slot_keys.trainer_key"), nullable=False
    )
    slot_date: Mapped[date] = mapped_column(Date, nullable=False)
    start_time: Mapped[str] = mapped_column(Text, nullable=False)
    # Civil minutes since 2000-01-01 00:00 in the business timezone.
    start_minute: Mapped[int] = mapped_column(BigInteger, nullable=False)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    purchase_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("purchases.id", ondelete="CASCADE")
    )
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("purchase_sessions.id", ondelete="CASCADE"), unique=True
    )
    reason: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    span: Mapped[Range[int]] = mapped_column(INT8RANGE, Computed(SPAN_SQL, persisted=True), nullable=False)
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        ExcludeConstraint((text("span"), "&&"), using="gist", name="ex_trainer_slots_no_overlap"),
        CheckConstraint("status IN ('booked', 'blocked')", name="status"),
        CheckConstraint("(status = 'booked') = (purchase_id IS NOT NULL)", name="booked_has_purchase"),
        CheckConstraint("duration_minutes BETWEEN 1 AND 1440", name="duration_range"),
        CheckConstraint(
            f"start_minute BETWEEN 0 AND {MINUTES_PER_TRAINER - 1441}", name="start_minute_range"
        ),
        CheckConstraint(f"start_time ~ '{TIME_OF_DAY_PATTERN}'", name="start_time_format"),
        Index("ix_trainer_slots_trainer_id_slot_date", "trainer_id", "slot_date"),
        Index("ix_trainer_slots_purchase_id", "purchase_id"),
    )


class CertificateRow(Base):
    __tablename__ = "certificates"

    id: Mapped[uuid.UUID] = _uuid_pk()
    certificate_number: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    purchase_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("purchases.id"), nullable=False
    )
    booking_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    trainer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    issued_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        UniqueConstraint("purchase_id", "student_id"),
        CheckConstraint(
            "certificate_number ~ '^CERT-[0-9]{8}-[0-9A-F]{8}$'", name="certificate_number_format"
        ),
        Index("ix_certificates_student_id", "student_id"),
    )


class TrainerAllocationRow(Base):
    """Read model shared with the admin side; columns exactly as the API contract lists them."""

    __tablename__ = "trainer_allocations"

    id: Mapped[uuid.UUID] = _uuid_pk()
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    trainer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    course_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    requested_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=func.now())
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="pending")
    allocated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'active', 'completed', 'cancelled')",
            name="status",
        ),
        Index(
            "ix_trainer_allocations_student_id_trainer_id_course_id", "student_id", "trainer_id", "course_id"
        ),
    )


class TutoringSessionRow(Base):
    """Read model shared with the admin side; columns exactly as the API contract lists them."""

    __tablename__ = "tutoring_sessions"

    id: Mapped[uuid.UUID] = _uuid_pk()
    allocation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("trainer_allocations.id"), nullable=False
    )
    purchase_session_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    trainer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    course_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    scheduled_date: Mapped[date] = mapped_column(Date, nullable=False)
    scheduled_time: Mapped[str] = mapped_column(Text, nullable=False)
    duration: Mapped[int] = mapped_column(Integer, nullable=False, server_default="40")
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="scheduled")
    student_home_location: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        UniqueConstraint("purchase_session_id", "student_id"),
        CheckConstraint(
            "status IN ('scheduled', 'pending_verification', 'in_progress', 'pending_confirmation', "
            "'completed', 'disputed', 'cancelled')",
            name="status",
        ),
        Index("ix_tutoring_sessions_trainer_id_scheduled_date", "trainer_id", "scheduled_date"),
        Index("ix_tutoring_sessions_allocation_id", "allocation_id"),
        Index(
            "ix_tutoring_sessions_completed",
            "purchase_session_id",
            postgresql_where=text("status = 'completed'"),
        ),
    )


class WatchStateRow(Base):
    """One row: the last position handed out in the change log, and the resume-token key.

    Updating `position` is the change log's lock: taken last in a committing transaction, so
    positions are gap-free and in commit order (docs/watch.md).
    """

    __tablename__ = "watch_state"

    id: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default=text("true"))
    position: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    # HMAC key of resume tokens, shared by every replica through the database.
    token_key: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (CheckConstraint("id", name="one_row"),)


class WatchPendingRow(Base):
    """Changes of the transaction in flight, written by triggers; moved to watch_changes (with
    positions) by the same transaction at commit, so a committed row never stays here."""

    __tablename__ = "watch_pending"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    stream: Mapped[str] = mapped_column(Text, nullable=False)
    change_type: Mapped[str] = mapped_column(Text, nullable=False)
    # The slot or the purchase.
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    trainer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # The slot as written or deleted; NULL for a purchase (its state at commit is taken).
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class WatchChangeRow(Base):
    """The change log that WatchScheduleChanges and WatchPurchaseChanges stream (product 6)."""

    __tablename__ = "watch_changes"

    # Gap-free, in commit order; a resume token names the last position its watcher saw.
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    stream: Mapped[str] = mapped_column(Text, nullable=False)
    change_type: Mapped[str] = mapped_column(Text, nullable=False)
    trainer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    zone_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # The slot row or the purchase row as the change left it (to_jsonb of the table's row).
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    commit_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (
        CheckConstraint("stream IN ('schedule', 'purchase')", name="stream"),
        CheckConstraint(
            "change_type IN ('SLOT_BOOKED', 'SLOT_BLOCKED', 'SLOT_RELEASED', 'PURCHASE_CHANGED')",
            name="change_type",
        ),
        Index("ix_watch_changes_commit_time", "commit_time"),
    )
