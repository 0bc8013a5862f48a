"""BookingService RPCs for completion and certificates (a mixin of BookingServicer)."""

from __future__ import annotations

import grpc
from booking.v1 import booking_service_pb2 as pb

from booking_server.rpc.converters.certificates import certificate_to_proto
from booking_server.rpc.converters.purchases import session_to_proto
from booking_server.services.certificate_queries import CertificateQueries
from booking_server.services.complete_session import CompleteSession
from booking_server.services.issue_certificates import IssueCertificates


class CertificateRpcs:
    """CompleteSession, GenerateCertificates, ListCertificates."""

    complete_session: CompleteSession
    issue_certificates: IssueCertificates
    certificate_queries: CertificateQueries

    def CompleteSession(  # noqa: N802 - gRPC method names are PascalCase
        self, request: pb.CompleteSessionRequest, context: grpc.ServicerContext
    ) -> pb.CompleteSessionResponse:
        result = self.complete_session(request.session_id)
        return pb.CompleteSessionResponse(
            session=session_to_proto(result.session),
            certificates_issued=[certificate_to_proto(c) for c in result.certificates_issued],
        )

    def GenerateCertificates(  # noqa: N802
        self, request: pb.GenerateCertificatesRequest, context: grpc.ServicerContext
    ) -> pb.GenerateCertificatesResponse:
        issued = self.issue_certificates.generate(request.purchase_id)
        return pb.GenerateCertificatesResponse(certificates_issued=[certificate_to_proto(c) for c in issued])

    def ListCertificates(  # noqa: N802
        self, request: pb.ListCertificatesRequest, context: grpc.ServicerContext
    ) -> pb.ListCertificatesResponse:
        page = self.certificate_queries.list(
            purchase_id=request.purchase_id,
            student_id=request.student_id,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListCertificatesResponse(
            certificates=[certificate_to_proto(c) for c in page.certificates],
            next_page_token=page.next_page_token,
        )
