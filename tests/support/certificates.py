"""Builders and checks for the certificate tests: 30-session courses, completion, issuance."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from booking.v1 import booking_service_pb2 as pb
from booking.v1 import common_pb2 as common

from tests.support.read_model import CERTIFICATE_NUMBER
from tests.support.world import World, students


def assign_course(
    world: World, *, student_count: int = 2, total_sessions: int = 30, preferred_time_slot: str = "16:00"
) -> pb.AutoAssignTrainerResponse:
    class_type = common.CLASS_TYPE_ONE_ON_TWO if student_count == 2 else common.CLASS_TYPE_ONE_ON_ONE
    request = world.request(
        class_type=class_type,
        total_sessions=total_sessions,
        students=students(student_count),
        preferred_time_slot=preferred_time_slot,
    )
    response = world.booking.AutoAssignTrainer(request)
    assert response.purchase.status == common.PURCHASE_STATUS_ASSIGNED
    return response


def generate(world: World, purchase_id: str) -> list[common.Certificate]:
    request = pb.GenerateCertificatesRequest(purchase_id=purchase_id)
    return list(world.booking.GenerateCertificates(request).certificates_issued)


def listed(world: World, purchase_id: str) -> list[common.Certificate]:
    request = pb.ListCertificatesRequest(purchase_id=purchase_id)
    return list(world.booking.ListCertificates(request).certificates)


def complete(world: World, session_id: str) -> pb.CompleteSessionResponse:
    return world.booking.CompleteSession(pb.CompleteSessionRequest(session_id=session_id))


def assert_one_per_student(certificates: list[common.Certificate], purchase: common.Purchase) -> None:
    assert sorted(c.student_id for c in certificates) == sorted(s.id for s in purchase.students)
    today_utc = datetime.now(UTC).strftime("%Y%m%d")
    for certificate in certificates:
        assert re.fullmatch(CERTIFICATE_NUMBER, certificate.certificate_number)
        assert certificate.certificate_number[5:13] == today_utc
        assert certificate.purchase_id == purchase.purchase_id
        assert certificate.booking_id == purchase.booking_id
        assert certificate.course_id == purchase.course_id
        assert certificate.trainer_id == purchase.trainer_id
        assert certificate.issue_time.ToDatetime(tzinfo=UTC).strftime("%Y%m%d") == today_utc
    assert len({c.certificate_number for c in certificates}) == len(certificates)
