"""Domain errors: a machine-readable reason, no knowledge of gRPC.

The rpc layer maps each class to a status code in one table (rpc/errors.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One problem with one request field; `field` is the proto path (`students[1].id`)."""

    field: str
    description: str


class DomainError(Exception):
    """Base of every expected failure; `reason` becomes ErrorInfo.reason."""

    reason: str = "INTERNAL"

    def __init__(
        self, message: str, *, reason: str | None = None, metadata: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        # ErrorInfo metadata: machine-readable details (a refused substitute's `rejection_reason`).
        self.metadata = dict(metadata or {})
        if reason is not None:
            self.reason = reason


class InvalidRequestError(DomainError):
    """The request is malformed; carries every field violation at once."""

    reason = "INVALID_REQUEST"

    def __init__(self, violations: list[FieldViolation] | tuple[FieldViolation, ...]) -> None:
        self.violations = tuple(violations)
        fields = ", ".join(v.field for v in self.violations)
        super().__init__(f"invalid request: {fields}")


class NotFoundError(DomainError):
    """A referenced entity does not exist (PURCHASE_NOT_FOUND, ZONE_NOT_FOUND, ...)."""


class AlreadyExistsError(DomainError):
    """A uniqueness rule refused the write (ZONE_NAME_TAKEN, BOOKING_ID_REUSED)."""


class FailedPreconditionError(DomainError):
    """The entity is in a state that does not allow the operation (SLOT_OVERLAP, ...)."""


class ConflictError(DomainError):
    """A concurrent transaction made the database abort ours; nothing was written, retry."""

    reason = "CONCURRENT_UPDATE"


class DeadlineExceededError(DomainError):
    """The caller's deadline passed before the work could finish; nothing was stored."""

    reason = "DEADLINE_EXCEEDED"


class ResourceExhaustedError(DomainError):
    """A limit was reached: the server's calls (OVERLOADED), the caller's rate (RATE_LIMITED), open
    watch streams, a watcher too slow. With `retry_after_seconds`, the status carries RetryInfo."""

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        retry_after_seconds: float | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.retry_after_seconds = retry_after_seconds


class UnavailableError(DomainError):
    """A dependency is down (DATABASE_UNAVAILABLE); the caller may retry."""


def require_no_violations(violations: list[FieldViolation]) -> None:
    """Raise one InvalidRequestError with all violations, if there are any."""
    if violations:
        raise InvalidRequestError(violations)


class UnauthenticatedError(DomainError):
    """Credentials are missing, malformed, expired or wrongly signed (product 8.1)."""

    reason = "UNAUTHENTICATED"


class PermissionDeniedError(DomainError):
    """A known caller lacks the role the method needs; ErrorInfo metadata names it (`required_role`)."""

    reason = "PERMISSION_DENIED"


class RateLimitedError(ResourceExhaustedError):
    """The caller went over its per-replica rate limit (product 8.2); QuotaFailure names it."""

    def __init__(self, message: str, *, caller: str, retry_after_seconds: float) -> None:
        super().__init__(message, reason="RATE_LIMITED", retry_after_seconds=retry_after_seconds)
        self.caller = caller
