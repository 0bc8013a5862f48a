"""Resume tokens (product 6): opaque to watchers, signed so they cannot be forged.

A token names a position in the change log and when it was issued: `v1.<position>.<issued
unix ms>.<signature>`, the signature an HMAC-SHA256 (truncated to 128 bits) with a key every
replica shares. Parsing is strict (digits only, bounded lengths, a valid signature), so nothing a
caller writes ever reaches a query except a verified integer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from booking_server.domain.errors import FailedPreconditionError, FieldViolation, InvalidRequestError

_TOKEN = re.compile(r"v1\.([0-9]{1,18})\.([0-9]{1,15})\.([A-Za-z0-9_-]{22})")
_SIGNATURE_BYTES = 16


@dataclass(frozen=True, slots=True)
class ResumePoint:
    position: int
    issued_at: datetime


class ResumeTokens:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:_SIGNATURE_BYTES]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, position: int, issued_at: datetime) -> str:
        body = f"v1.{position}.{int(issued_at.timestamp() * 1000)}"
        return f"{body}.{self._sign(body)}"

    def parse(self, token: str, *, field: str = "resume_token") -> ResumePoint:
        """The point a valid token names; INVALID_ARGUMENT for anything this service did not issue."""
        match = _TOKEN.fullmatch(token)
        if match is None or not hmac.compare_digest(match.group(3), self._sign(token.rsplit(".", 1)[0])):
            raise InvalidRequestError([FieldViolation(field, "is not a resume token issued by this service")])
        issued_at = datetime.fromtimestamp(int(match.group(2)) / 1000, tz=UTC)
        return ResumePoint(position=int(match.group(1)), issued_at=issued_at)


def require_unexpired(point: ResumePoint, *, now: datetime, retention: timedelta) -> None:
    """A token older than the retention names changes that may be gone: the watcher must start over."""
    if now - point.issued_at > retention:
        raise resume_token_expired()


def resume_token_expired() -> FailedPreconditionError:
    return FailedPreconditionError(
        "the resume token is older than the retention; start a new watch without a token",
        reason="RESUME_TOKEN_EXPIRED",
    )
