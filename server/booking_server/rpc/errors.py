"""The one error table: domain errors to gRPC status codes, with ErrorInfo and BadRequest."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from booking_server.domain.errors import (
    AlreadyExistsError,
    ConflictError,
    DeadlineExceededError,
    DomainError,
    FailedPreconditionError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
)

ERROR_DOMAIN = "booking.v1"
INTERNAL_MESSAGE = "internal error"

# Most specific class first: the first isinstance match wins.
STATUS_BY_ERROR: tuple[tuple[type[DomainError], grpc.StatusCode], ...] = (
    (InvalidRequestError, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (AlreadyExistsError, grpc.StatusCode.ALREADY_EXISTS),
    (FailedPreconditionError, grpc.StatusCode.FAILED_PRECONDITION),
    (ConflictError, grpc.StatusCode.ABORTED),
    (UnavailableError, grpc.StatusCode.UNAVAILABLE),
    (DeadlineExceededError, grpc.StatusCode.DEADLINE_EXCEEDED),
    (ResourceExhaustedError, grpc.StatusCode.RESOURCE_EXHAUSTED),  # OVERLOADED, RATE_LIMITED
    (UnauthenticatedError, grpc.StatusCode.UNAUTHENTICATED),
    (PermissionDeniedError, grpc.StatusCode.PERMISSION_DENIED),
)


def status_code_for(error: DomainError) -> grpc.StatusCode:
    for error_type, code in STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return code
    return grpc.StatusCode.INTERNAL


def _packed(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def rich_status(
    code: grpc.StatusCode,
    message: str,
    reason: str,
    details: list[object],
    metadata: dict[str, str] | None = None,
) -> status_pb2.Status:
    info = error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN, metadata=metadata or {})
    return status_pb2.Status(
        code=code.value[0],
        message=message,
        details=[_packed(info), *(_packed(d) for d in details)],
    )


# A default client refuses more than 8 KB of response metadata, where the details travel: the
# first violations are listed, then a count of the rest, so the answer stays readable.
MAX_VIOLATIONS_SHOWN = 20


def status_for_domain_error(error: DomainError) -> status_pb2.Status:
    code = status_code_for(error)
    details: list[object] = []
    message = error.message
    if isinstance(error, InvalidRequestError):
        shown = error.violations[:MAX_VIOLATIONS_SHOWN]
        hidden = len(error.violations) - len(shown)
        violations = [
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in shown
        ]
        if hidden:
            violations.append(
                error_details_pb2.BadRequest.FieldViolation(
                    field="", description=f"and {hidden} more violations"
                )
            )
            message = f"invalid request: {', '.join(v.field for v in shown)} and {hidden} more"
        details.append(error_details_pb2.BadRequest(field_violations=violations))
    if isinstance(error, RateLimitedError):
        violation = error_details_pb2.QuotaFailure.Violation(
            subject=f"caller:{error.caller}", description=error.message
        )
        details.append(error_details_pb2.QuotaFailure(violations=[violation]))
    if isinstance(error, ResourceExhaustedError) and error.retry_after_seconds is not None:
        retry_delay = duration_pb2.Duration()
        retry_delay.FromNanoseconds(max(1, round(error.retry_after_seconds * 1e9)))
        details.append(error_details_pb2.RetryInfo(retry_delay=retry_delay))
    return rich_status(code, message, error.reason, details, error.metadata)


def internal_status() -> status_pb2.Status:
    status = rich_status(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE, "INTERNAL", [])
    status.code = code_pb2.INTERNAL
    return status
