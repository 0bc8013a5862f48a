"""Validation of an assignment request (product.md 1.1).

Every problem becomes one FieldViolation, all reported at once. Descriptions never echo
the submitted values: they could carry personal data (names, emails, phones), and an
error message ends up in logs and in the caller's logs.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from booking_server.domain.errors import FieldViolation, require_no_violations
from booking_server.domain.model import ClassType, DeliveryMode, GeoPoint, Student, parse_hhmm

UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TIME_SLOT_PATTERN = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MIN_TOTAL_SESSIONS = 1
MAX_TOTAL_SESSIONS = 100
# A SUNDAY_ONLY day holds T and T+40; a start after 22:40 would push the second lesson
# past midnight into Monday.
LATEST_SUNDAY_SLOT = "22:40"
# Product 1.1: what one request may carry.
MAX_STUDENTS = 50
MAX_NAME_CHARS = 200
MAX_EMAIL_CHARS = 254
MAX_PHONE_CHARS = 32
MAX_ADDRESS_CHARS = 500


@dataclass(frozen=True, slots=True)
class AssignmentRequest:
    """An AutoAssignTrainer request as the caller sent it, before any check.

    Enums are None when unspecified or unknown; `student_location` is None when the
    field was not set.
    """

    booking_id: str
    course_id: str
    class_type: ClassType | None
    total_sessions: int
    delivery_mode: DeliveryMode | None
    start_date: str
    preferred_time_slot: str
    student_location: GeoPoint | None
    student_address: str
    students: tuple[Student, ...]
    validate_only: bool = False


@dataclass(frozen=True, slots=True)
class AssignTrainerCommand:
    """A validated assignment request; ids are lower-case."""

    booking_id: str
    course_id: str
    class_type: ClassType
    total_sessions: int
    delivery_mode: DeliveryMode
    start_date: date
    preferred_time_slot: str
    student_location: GeoPoint
    student_address: str
    students: tuple[Student, ...]
    validate_only: bool

    def fingerprint(self) -> str:
        """SHA-256 hex of the canonical payload, the idempotency comparison (1.8).

        `validate_only` is left out because a dry run writes nothing, so it is not part
        of what the booking id stands for.
        """
        payload = {
            "booking_id": self.booking_id,
            "course_id": self.course_id,
            "class_type": self.class_type.value,
            "total_sessions": self.total_sessions,
            "delivery_mode": self.delivery_mode.value,
            "start_date": self.start_date.isoformat(),
            "preferred_time_slot": self.preferred_time_slot,
            # + 0.0 folds -0.0 into 0.0: the same place must not hash differently.
            "student_location": [
                self.student_location.latitude + 0.0,
                self.student_location.longitude + 0.0,
            ],
            "student_address": self.student_address,
            "students": [
                {"id": s.id, "name": s.name, "email": s.email, "phone": s.phone} for s in self.students
            ],
        }
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_text(value: str, field: str, *, max_chars: int, violations: list[FieldViolation]) -> None:
    """Every free-text field's rule (product 1.1): at most `max_chars`, no control characters."""
    if len(value) > max_chars:
        violations.append(FieldViolation(field, f"must be at most {max_chars} characters"))
    elif has_control_characters(value):
        violations.append(FieldViolation(field, "must not contain control characters"))


def has_control_characters(text: str) -> bool:
    """Whether `text` holds NUL or another control character (product 1.1): PostgreSQL refuses
    NUL in text, and the others have no place in a name, a reason or an address."""
    return any(unicodedata.category(character) == "Cc" for character in text)


def is_uuid(text: str) -> bool:
    """Whether `text` is a canonical 8-4-4-4-12 hex UUID (any case)."""
    return UUID_PATTERN.fullmatch(text) is not None


def validate_uuid_field(value: str, field: str, violations: list[FieldViolation]) -> None:
    """Append a violation when a required id is missing or not a UUID."""
    if not value:
        violations.append(FieldViolation(field, "is required"))
    elif not is_uuid(value):
        violations.append(FieldViolation(field, "must be a UUID (8-4-4-4-12 hexadecimal)"))


def validate_geo_point(point: GeoPoint | None, field: str, violations: list[FieldViolation]) -> None:
    """Append violations for a missing point or out-of-range coordinates (bounds inclusive)."""
    if point is None:
        violations.append(FieldViolation(field, "is required"))
        return
    _check_coordinate(point.latitude, f"{field}.latitude", 90.0, violations)
    _check_coordinate(point.longitude, f"{field}.longitude", 180.0, violations)


def _check_coordinate(value: float, field: str, bound: float, violations: list[FieldViolation]) -> None:
    if not math.isfinite(value):
        violations.append(FieldViolation(field, "must be a finite number"))
    elif not -bound <= value <= bound:
        bound_text = f"{bound:g}"
        violations.append(FieldViolation(field, f"must be between -{bound_text} and {bound_text}"))


@dataclass(frozen=True, slots=True)
class CheckedAssignmentRequest:
    """A request that passed every rule of 1.1 but, perhaps, "not before today".

    That rule applies to new purchases only: a retry of a stored one (say, sent after midnight
    for a course that started "today") must find its purchase by booking id first and replay it.
    So when a past start date is the only problem it is held back here, and the caller raises it
    (`refuse_if_past`) once it knows the booking id is new.
    """

    command: AssignTrainerCommand
    past_start_date: FieldViolation | None = None

    def refuse_if_past(self) -> None:
        if self.past_start_date is not None:
            require_no_violations([self.past_start_date])


def validate_assignment_request(request: AssignmentRequest, *, today: date) -> AssignTrainerCommand:
    """Every rule of product.md 1.1, "not before today" included; the normalised command."""
    checked = check_assignment_request(request, today=today)
    checked.refuse_if_past()
    return checked.command


def check_assignment_request(request: AssignmentRequest, *, today: date) -> CheckedAssignmentRequest:
    """Check the rules of product.md 1.1 and return the normalised command.

    `today` is the civil date in the business timezone, passed in so that this stays a
    pure function. Raises InvalidRequestError listing every violation, except a start date
    before today when it is the only one (see CheckedAssignmentRequest).
    """
    violations: list[FieldViolation] = []
    validate_uuid_field(request.booking_id, "booking_id", violations)
    validate_uuid_field(request.course_id, "course_id", violations)
    if request.class_type is None:
        violations.append(FieldViolation("class_type", "must be a known class type"))
    _check_total_sessions(request.total_sessions, violations)
    if request.delivery_mode is None:
        violations.append(FieldViolation("delivery_mode", "must be a known delivery mode"))
    start_date = parse_date_field(request.start_date, "start_date", violations)
    past = _past_start_violation(start_date, today)
    if past is not None:
        violations.append(past)
    _check_time_slot(request.preferred_time_slot, request.delivery_mode, violations)
    validate_geo_point(request.student_location, "student_location", violations)
    check_text(request.student_address, "student_address", max_chars=MAX_ADDRESS_CHARS, violations=violations)
    _check_students(request.students, violations)
    if violations != [past]:  # a past start date alone is held back; with others, all at once
        require_no_violations(violations)
    # The checks above guarantee these; the asserts only narrow the types for mypy.
    assert request.class_type is not None
    assert request.delivery_mode is not None
    assert start_date is not None
    assert request.student_location is not None
    command = AssignTrainerCommand(
        booking_id=request.booking_id.lower(),
        course_id=request.course_id.lower(),
        class_type=request.class_type,
        total_sessions=request.total_sessions,
        delivery_mode=request.delivery_mode,
        start_date=start_date,
        preferred_time_slot=request.preferred_time_slot,
        student_location=request.student_location,
        student_address=request.student_address,
        students=tuple(
            Student(id=s.id.lower(), name=s.name, email=s.email, phone=s.phone) for s in request.students
        ),
        validate_only=request.validate_only,
    )
    return CheckedAssignmentRequest(command, past)


def _check_total_sessions(total: int, violations: list[FieldViolation]) -> None:
    if not MIN_TOTAL_SESSIONS <= total <= MAX_TOTAL_SESSIONS:
        violations.append(
            FieldViolation(
                "total_sessions",
                f"must be between {MIN_TOTAL_SESSIONS} and {MAX_TOTAL_SESSIONS}",
            )
        )


def parse_date_field(value: str, field: str, violations: list[FieldViolation]) -> date | None:
    """A strict YYYY-MM-DD date; a violation on `field` when it is missing or not a real date."""
    if not value:
        violations.append(FieldViolation(field, "is required"))
        return None
    # fromisoformat alone also accepts "20250101" and week dates; the contract is the
    # strict 10-character form only.
    parsed: date | None = None
    if DATE_PATTERN.fullmatch(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None:
        violations.append(FieldViolation(field, "must be a real date as YYYY-MM-DD"))
    return parsed


def _past_start_violation(start_date: date | None, today: date) -> FieldViolation | None:
    if start_date is not None and start_date < today:
        return FieldViolation("start_date", "must not be before today")
    return None


def _check_time_slot(slot: str, mode: DeliveryMode | None, violations: list[FieldViolation]) -> None:
    if not slot:
        violations.append(FieldViolation("preferred_time_slot", "is required"))
    elif TIME_SLOT_PATTERN.fullmatch(slot) is None:
        violations.append(FieldViolation("preferred_time_slot", "must be a 24-hour time as HH:MM"))
    elif mode == DeliveryMode.SUNDAY_ONLY and parse_hhmm(slot) > parse_hhmm(LATEST_SUNDAY_SLOT):
        violations.append(
            FieldViolation(
                "preferred_time_slot",
                f"must be {LATEST_SUNDAY_SLOT} or earlier for SUNDAY_ONLY, so that both "
                "sessions of the day end on Sunday",
            )
        )


def _check_students(students: tuple[Student, ...], violations: list[FieldViolation]) -> None:
    if not students:
        violations.append(FieldViolation("students", "must contain at least one student"))
        return
    if len(students) > MAX_STUDENTS:
        violations.append(FieldViolation("students", f"must contain at most {MAX_STUDENTS} students"))
        return  # each of thousands of entries checked would only flood the answer
    seen_ids: set[str] = set()
    for index, student in enumerate(students):
        id_field = f"students[{index}].id"
        before = len(violations)
        validate_uuid_field(student.id, id_field, violations)
        # Ids compare lower-case: the same UUID in another case is the same student.
        normalised = student.id.lower()
        if len(violations) == before and normalised in seen_ids:
            violations.append(FieldViolation(id_field, "duplicates an earlier student id"))
        seen_ids.add(normalised)
        if not student.name.strip():
            violations.append(FieldViolation(f"students[{index}].name", "is required"))
        else:
            check_text(
                student.name, f"students[{index}].name", max_chars=MAX_NAME_CHARS, violations=violations
            )
        check_text(
            student.email, f"students[{index}].email", max_chars=MAX_EMAIL_CHARS, violations=violations
        )
        check_text(
            student.phone, f"students[{index}].phone", max_chars=MAX_PHONE_CHARS, violations=violations
        )
