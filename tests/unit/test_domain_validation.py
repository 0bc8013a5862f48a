"""Request validation: one field violation per problem, all at once (product.md 1.1)."""

from __future__ import annotations

import dataclasses
import math
from datetime import date

import pytest
from booking_server.domain.errors import FieldViolation, InvalidRequestError
from booking_server.domain.model import ClassType, DeliveryMode, GeoPoint, Student
from booking_server.domain.validation import (
    AssignmentRequest,
    AssignTrainerCommand,
    is_uuid,
    validate_assignment_request,
    validate_geo_point,
    validate_uuid_field,
)

TODAY = date(2025, 3, 10)
BOOKING_ID = "0b6f1a52-3c1e-4d7a-9a43-6f5d1c2e8b10"
COURSE_ID = "6a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
STUDENT_A = "11111111-2222-4333-8444-555555555555"
STUDENT_B = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
STUDENT_NAME = "Priya Raman"
STUDENT_EMAIL = "priya@example.com"
STUDENT_PHONE = "+91 98450 12345"


def valid_request(**changes: object) -> AssignmentRequest:
    request = AssignmentRequest(
        booking_id=BOOKING_ID,
        course_id=COURSE_ID,
        class_type=ClassType.ONE_ON_ONE,
        total_sessions=10,
        delivery_mode=DeliveryMode.WEEKDAY_DAILY,
        start_date="2025-03-10",
        preferred_time_slot="16:00",
        student_location=GeoPoint(12.9716, 77.5946),
        student_address="12 MG Road",
        students=(Student(STUDENT_A, STUDENT_NAME, STUDENT_EMAIL, STUDENT_PHONE),),
    )
    return dataclasses.replace(request, **changes)  # type: ignore[arg-type]


def violations_of(request: AssignmentRequest) -> tuple[FieldViolation, ...]:
    with pytest.raises(InvalidRequestError) as caught:
        validate_assignment_request(request, today=TODAY)
    assert caught.value.reason == "INVALID_REQUEST"
    return caught.value.violations


def fields_of(request: AssignmentRequest) -> list[str]:
    return [violation.field for violation in violations_of(request)]


def test_a_valid_request_becomes_a_command_with_the_parsed_values() -> None:
    command = validate_assignment_request(valid_request(), today=TODAY)

    assert command == AssignTrainerCommand(
        booking_id=BOOKING_ID,
        course_id=COURSE_ID,
        class_type=ClassType.ONE_ON_ONE,
        total_sessions=10,
        delivery_mode=DeliveryMode.WEEKDAY_DAILY,
        start_date=date(2025, 3, 10),
        preferred_time_slot="16:00",
        student_location=GeoPoint(12.9716, 77.5946),
        student_address="12 MG Road",
        students=(Student(STUDENT_A, STUDENT_NAME, STUDENT_EMAIL, STUDENT_PHONE),),
        validate_only=False,
    )


def test_upper_case_ids_are_accepted_and_stored_lower_case() -> None:
    request = valid_request(
        booking_id=BOOKING_ID.upper(),
        course_id=COURSE_ID.upper(),
        students=(Student(STUDENT_B.upper(), STUDENT_NAME),),
    )

    command = validate_assignment_request(request, today=TODAY)

    assert (command.booking_id, command.course_id) == (BOOKING_ID, COURSE_ID)
    assert command.students[0].id == STUDENT_B


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"booking_id": "not-a-uuid"}, "booking_id"),
        ({"booking_id": ""}, "booking_id"),
        ({"course_id": "6a1c2b3d4e5f4a6b8c7d9e0f1a2b3c4d"}, "course_id"),
        ({"course_id": ""}, "course_id"),
        ({"class_type": None}, "class_type"),
        ({"total_sessions": 0}, "total_sessions"),
        ({"total_sessions": 101}, "total_sessions"),
        ({"total_sessions": -5}, "total_sessions"),
        ({"delivery_mode": None}, "delivery_mode"),
        ({"start_date": ""}, "start_date"),
        ({"start_date": "2025-02-30"}, "start_date"),
        ({"start_date": "20250310"}, "start_date"),
        ({"start_date": "2025-3-10"}, "start_date"),
        ({"start_date": "2025-03-10T00:00"}, "start_date"),
        ({"start_date": "2025-03-09"}, "start_date"),
        ({"preferred_time_slot": ""}, "preferred_time_slot"),
        ({"preferred_time_slot": "24:00"}, "preferred_time_slot"),
        ({"preferred_time_slot": "9:00"}, "preferred_time_slot"),
        ({"preferred_time_slot": "09:60"}, "preferred_time_slot"),
        ({"preferred_time_slot": "09:00\n"}, "preferred_time_slot"),
        ({"preferred_time_slot": "09:00:00"}, "preferred_time_slot"),
        ({"student_location": None}, "student_location"),
        ({"student_location": GeoPoint(90.0001, 0.0)}, "student_location.latitude"),
        ({"student_location": GeoPoint(-90.5, 0.0)}, "student_location.latitude"),
        ({"student_location": GeoPoint(math.nan, 0.0)}, "student_location.latitude"),
        ({"student_location": GeoPoint(math.inf, 0.0)}, "student_location.latitude"),
        ({"student_location": GeoPoint(0.0, 180.5)}, "student_location.longitude"),
        ({"student_location": GeoPoint(0.0, -math.inf)}, "student_location.longitude"),
        ({"students": ()}, "students"),
        ({"students": (Student("student-1", STUDENT_NAME),)}, "students[0].id"),
        ({"students": (Student("", STUDENT_NAME),)}, "students[0].id"),
        ({"students": (Student(STUDENT_A, ""),)}, "students[0].name"),
        ({"students": (Student(STUDENT_A, "  \t "),)}, "students[0].name"),
    ],
)
def test_each_invalid_field_is_reported_under_its_proto_path(changes: dict[str, object], field: str) -> None:
    assert fields_of(valid_request(**changes)) == [field]


@pytest.mark.parametrize(
    "uuid_text",
    [
        "{0b6f1a52-3c1e-4d7a-9a43-6f5d1c2e8b10}",
        "urn:uuid:0b6f1a52-3c1e-4d7a-9a43-6f5d1c2e8b10",
        "0b6f1a52-3c1e-4d7a-9a43-6f5d1c2e8b1",
        "0b6f1a52-3c1e-4d7a-9a43-6f5d1c2e8b10 ",
        "0b6f1a52-3c1e-4d7a-9a43-6f5d1c2e8g10",
    ],
)
def test_only_canonical_uuids_are_ids(uuid_text: str) -> None:
    assert not is_uuid(uuid_text)
    assert fields_of(valid_request(booking_id=uuid_text)) == ["booking_id"]


def test_a_duplicate_student_id_is_reported_on_the_second_occurrence() -> None:
    # The same UUID in upper case is the same student.
    students = (
        Student(STUDENT_B, "First"),
        Student(STUDENT_A, "Second"),
        Student(STUDENT_B.upper(), "Third"),
    )

    violations = violations_of(valid_request(students=students))

    assert [v.field for v in violations] == ["students[2].id"]
    assert "duplicate" in violations[0].description


def test_every_problem_is_reported_at_once_in_field_order() -> None:
    request = valid_request(
        booking_id="nope",
        class_type=None,
        total_sessions=0,
        start_date="2025-13-01",
        preferred_time_slot="25:00",
        student_location=GeoPoint(math.nan, 200.0),
        students=(Student(STUDENT_A, STUDENT_NAME), Student(STUDENT_A, "")),
    )

    assert fields_of(request) == [
        "booking_id",
        "class_type",
        "total_sessions",
        "start_date",
        "preferred_time_slot",
        "student_location.latitude",
        "student_location.longitude",
        "students[1].id",
        "students[1].name",
    ]


def test_violation_descriptions_never_contain_personal_data() -> None:
    request = valid_request(
        students=(
            Student(STUDENT_NAME, STUDENT_NAME, STUDENT_EMAIL, STUDENT_PHONE),
            Student(STUDENT_NAME, STUDENT_NAME, STUDENT_EMAIL, STUDENT_PHONE),
            Student(STUDENT_A, " ", STUDENT_EMAIL, STUDENT_PHONE),
        ),
        student_address="12 MG Road, Bengaluru",
    )

    with pytest.raises(InvalidRequestError) as caught:
        validate_assignment_request(request, today=TODAY)

    texts = [caught.value.message] + [v.description for v in caught.value.violations]
    assert len(caught.value.violations) == 3
    for text in texts:
        for secret in ("Priya", STUDENT_EMAIL, STUDENT_PHONE, "MG Road"):
            assert secret not in text


@pytest.mark.parametrize(
    "location",
    [GeoPoint(90.0, 180.0), GeoPoint(-90.0, -180.0), GeoPoint(0.0, 0.0)],
)
def test_coordinate_bounds_are_inclusive(location: GeoPoint) -> None:
    command = validate_assignment_request(valid_request(student_location=location), today=TODAY)

    assert command.student_location == location


@pytest.mark.parametrize("slot", ["00:00", "23:59", "19:05"])
def test_any_two_digit_24_hour_time_is_a_slot(slot: str) -> None:
    command = validate_assignment_request(valid_request(preferred_time_slot=slot), today=TODAY)

    assert command.preferred_time_slot == slot


@pytest.mark.parametrize("total", [1, 100])
def test_total_sessions_bounds_are_inclusive(total: int) -> None:
    command = validate_assignment_request(valid_request(total_sessions=total), today=TODAY)

    assert command.total_sessions == total


def test_a_start_date_later_than_today_is_accepted() -> None:
    command = validate_assignment_request(valid_request(start_date="2028-02-29"), today=TODAY)

    assert command.start_date == date(2028, 2, 29)


def test_a_start_date_before_today_says_so() -> None:
    violations = violations_of(valid_request(start_date="2025-03-09"))

    assert violations == (FieldViolation("start_date", "must not be before today"),)


def test_sunday_only_accepts_a_slot_at_22_40() -> None:
    request = valid_request(delivery_mode=DeliveryMode.SUNDAY_ONLY, preferred_time_slot="22:40")

    assert validate_assignment_request(request, today=TODAY).preferred_time_slot == "22:40"


def test_sunday_only_rejects_a_slot_after_22_40_because_the_second_session_would_leave_sunday() -> None:
    request = valid_request(delivery_mode=DeliveryMode.SUNDAY_ONLY, preferred_time_slot="22:41")

    violations = violations_of(request)

    assert [v.field for v in violations] == ["preferred_time_slot"]
    assert "22:40" in violations[0].description


def test_weekday_daily_accepts_a_late_slot() -> None:
    request = valid_request(delivery_mode=DeliveryMode.WEEKDAY_DAILY, preferred_time_slot="23:30")

    assert validate_assignment_request(request, today=TODAY).preferred_time_slot == "23:30"


def test_fingerprint_ignores_validate_only() -> None:
    real = validate_assignment_request(valid_request(), today=TODAY)
    dry = validate_assignment_request(valid_request(validate_only=True), today=TODAY)

    assert dry.validate_only
    assert real.fingerprint() == dry.fingerprint()
    assert len(real.fingerprint()) == 64
    assert set(real.fingerprint()) <= set("0123456789abcdef")


def test_fingerprint_does_not_depend_on_id_case() -> None:
    lower = validate_assignment_request(valid_request(), today=TODAY)
    upper = validate_assignment_request(valid_request(booking_id=BOOKING_ID.upper()), today=TODAY)

    assert lower.fingerprint() == upper.fingerprint()


def test_fingerprint_treats_minus_zero_as_zero() -> None:
    plus = validate_assignment_request(valid_request(student_location=GeoPoint(0.0, 0.0)), today=TODAY)
    minus = validate_assignment_request(valid_request(student_location=GeoPoint(-0.0, -0.0)), today=TODAY)

    assert plus.fingerprint() == minus.fingerprint()


@pytest.mark.parametrize(
    "changes",
    [
        {"course_id": "7a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},
        {"total_sessions": 20},
        {"delivery_mode": DeliveryMode.SUNDAY_ONLY},
        {"class_type": ClassType.HYBRID},
        {"start_date": "2025-03-11"},
        {"preferred_time_slot": "16:01"},
        {"student_location": GeoPoint(12.9716, 77.5947)},
        {"student_address": "13 MG Road"},
        {"students": (Student(STUDENT_A, "Priya R"),)},
        {"students": (Student(STUDENT_A, STUDENT_NAME, STUDENT_EMAIL, "+91 1"),)},
    ],
)
def test_fingerprint_changes_with_any_payload_field(changes: dict[str, object]) -> None:
    base = validate_assignment_request(valid_request(), today=TODAY)
    changed = validate_assignment_request(valid_request(**changes), today=TODAY)

    assert base.fingerprint() != changed.fingerprint()


def test_validate_uuid_field_appends_under_the_given_path() -> None:
    violations: list[FieldViolation] = []

    validate_uuid_field(BOOKING_ID, "zone.zone_id", violations)
    validate_uuid_field("", "zone.franchise_id", violations)
    validate_uuid_field("x", "trainer.trainer_id", violations)

    assert violations == [
        FieldViolation("zone.franchise_id", "is required"),
        FieldViolation("trainer.trainer_id", "must be a UUID (8-4-4-4-12 hexadecimal)"),
    ]


def test_validate_geo_point_reports_each_bad_coordinate_under_the_given_path() -> None:
    violations: list[FieldViolation] = []

    validate_geo_point(GeoPoint(91.0, math.nan), "zone.center", violations)
    validate_geo_point(None, "location", violations)

    assert violations == [
        FieldViolation("zone.center.latitude", "must be between -90 and 90"),
        FieldViolation("zone.center.longitude", "must be a finite number"),
        FieldViolation("location", "is required"),
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"student_address": "x" * 501}, "student_address"),
        ({"student_address": "Road\x00No. 1"}, "student_address"),
        ({"students": (Student(STUDENT_A, "n" * 201),)}, "students[0].name"),
        ({"students": (Student(STUDENT_A, "As\x00ha"),)}, "students[0].name"),
        ({"students": (Student(STUDENT_A, "Asha", "e" * 255),)}, "students[0].email"),
        ({"students": (Student(STUDENT_A, "Asha", "", "9" * 33),)}, "students[0].phone"),
        ({"students": (Student(STUDENT_A, "Asha", "", "+91\n0000"),)}, "students[0].phone"),
    ],
)
def test_text_fields_have_maxima_and_refuse_control_characters(
    changes: dict[str, object], field: str
) -> None:
    assert fields_of(valid_request(**changes)) == [field]


def test_text_at_its_maximum_is_accepted() -> None:
    student = Student(STUDENT_A, "n" * 200, "e" * 254, "9" * 32)

    command = validate_assignment_request(
        valid_request(student_address="a" * 500, students=(student,)), today=TODAY
    )

    assert command.students[0].name == "n" * 200


def test_more_than_50_students_is_one_violation_however_many_there_are() -> None:
    crowd = tuple(Student(f"{i:08x}-0000-4000-8000-000000000000", "S") for i in range(10_000))

    assert fields_of(valid_request(class_type=ClassType.HYBRID, total_sessions=30, students=crowd)) == [
        "students"
    ]
