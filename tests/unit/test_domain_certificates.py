"""Certificate numbers and when a purchase earns certificates (product.md 3)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from booking_server.domain.certificates import (
    CERTIFICATE_SESSION_COUNT,
    format_certificate_number,
    is_certificate_due,
    new_certificate_number,
)
from booking_server.domain.model import PurchaseStatus, SessionStatus

COMPLETED = SessionStatus.COMPLETED


def test_a_certificate_number_is_cert_date_and_upper_case_hex() -> None:
    number = format_certificate_number(issue_date=date(2025, 3, 9), random_hex="0a1b2c3d")

    assert number == "CERT-20250309-0A1B2C3D"


@pytest.mark.parametrize("random_hex", ["0a1b2c3", "0a1b2c3d4", "0a1b2c3g", "", "0a1b2c3d\n"])
def test_a_certificate_number_needs_exactly_8_hex_characters(random_hex: str) -> None:
    with pytest.raises(ValueError, match="8 hexadecimal"):
        format_certificate_number(issue_date=date(2025, 3, 9), random_hex=random_hex)


def test_new_certificate_numbers_carry_the_issue_date_and_fresh_random_hex() -> None:
    numbers = {new_certificate_number(date(2026, 12, 31)) for _ in range(50)}

    assert len(numbers) == 50
    for number in numbers:
        assert re.fullmatch(r"CERT-20261231-[0-9A-F]{8}", number)


def test_a_fully_completed_30_session_assigned_purchase_earns_certificates() -> None:
    assert is_certificate_due(
        status=PurchaseStatus.ASSIGNED,
        total_sessions=CERTIFICATE_SESSION_COUNT,
        session_statuses=[COMPLETED] * 30,
    )


@pytest.mark.parametrize(
    ("status", "total", "statuses"),
    [
        (PurchaseStatus.ASSIGNED, 30, [COMPLETED] * 29 + [SessionStatus.SCHEDULED]),
        (PurchaseStatus.ASSIGNED, 30, [COMPLETED] * 29 + [SessionStatus.CANCELLED]),
        (PurchaseStatus.ASSIGNED, 30, [SessionStatus.RESCHEDULED] + [COMPLETED] * 29),
        (PurchaseStatus.ASSIGNED, 30, [COMPLETED] * 29),
        (PurchaseStatus.ASSIGNED, 30, []),
        (PurchaseStatus.ASSIGNED, 20, [COMPLETED] * 20),
        (PurchaseStatus.ASSIGNED, 10, [COMPLETED] * 10),
        (PurchaseStatus.CANCELLED, 30, [COMPLETED] * 30),
        (PurchaseStatus.WAITLISTED, 30, [COMPLETED] * 30),
    ],
)
def test_no_certificate_is_due_unless_every_one_of_30_sessions_is_complete(
    status: PurchaseStatus, total: int, statuses: list[SessionStatus]
) -> None:
    assert not is_certificate_due(status=status, total_sessions=total, session_statuses=statuses)
