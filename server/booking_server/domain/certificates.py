"""Certificate numbers and the completion rule (product.md 3)."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING

from booking_server.domain.model import PurchaseStatus, SessionStatus

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

CERTIFICATE_SESSION_COUNT = 30
CERTIFICATE_RANDOM_BYTES = 4  # 8 hex characters
_RANDOM_HEX = re.compile(r"[0-9a-fA-F]{8}")


def format_certificate_number(*, issue_date: date, random_hex: str) -> str:
    """`CERT-YYYYMMDD-XXXXXXXX` with the random part in upper case."""
    if _RANDOM_HEX.fullmatch(random_hex) is None:
        msg = "random_hex must be exactly 8 hexadecimal characters"
        raise ValueError(msg)
    return f"CERT-{issue_date:%Y%m%d}-{random_hex.upper()}"


def new_certificate_number(issue_date: date) -> str:
    """A fresh number; `issue_date` is the UTC date. Callers retry on a collision."""
    # secrets, not random: numbers must not be guessable from earlier ones.
    return format_certificate_number(
        issue_date=issue_date, random_hex=secrets.token_hex(CERTIFICATE_RANDOM_BYTES)
    )


def is_certificate_due(
    *,
    status: PurchaseStatus,
    total_sessions: int,
    session_statuses: Sequence[SessionStatus],
) -> bool:
    """Whether an ASSIGNED 30-session purchase has every one of its sessions completed.

    Fewer stored sessions than `total_sessions` counts as incomplete, so a partially
    written purchase never earns a certificate.
    """
    return (
        status == PurchaseStatus.ASSIGNED
        and total_sessions == CERTIFICATE_SESSION_COUNT
        and len(session_statuses) == total_sessions
        and all(s == SessionStatus.COMPLETED for s in session_statuses)
    )
