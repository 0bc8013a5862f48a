"""Domain -> proto for certificates."""

from __future__ import annotations

from booking.v1 import common_pb2

from booking_server.rpc.converters.common import timestamp_from_datetime
from booking_server.services.ports.certificates import StoredCertificate


def certificate_to_proto(certificate: StoredCertificate) -> common_pb2.Certificate:
    return common_pb2.Certificate(
        certificate_id=certificate.certificate_id,
        certificate_number=certificate.certificate_number,
        purchase_id=certificate.purchase_id,
        booking_id=certificate.booking_id,
        student_id=certificate.student_id,
        course_id=certificate.course_id,
        trainer_id=certificate.trainer_id,
        issue_time=timestamp_from_datetime(certificate.issued_at),
    )
