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


class UnavailableError(DomainError):
    """A dependency is down (DATABASE_UNAVAILABLE); the caller may retry."""


class ResourceExhaustedError(DomainError):
    """A bounded resource is used up (too many open watch streams, a watcher too slow); retry later."""


def require_no_violations(violations: list[FieldViolation]) -> None:
    """Raise one InvalidRequestError with all violations, if there are any."""
    if violations:
        raise InvalidRequestError(violations)
