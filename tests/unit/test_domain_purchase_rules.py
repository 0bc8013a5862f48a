"""Purchase rules: the first failing rule's exact message (product.md 1.2)."""

from __future__ import annotations

import pytest
from booking_server.domain.model import ClassType, DeliveryMode
from booking_server.domain.purchase_rules import check_purchase_rules

DAILY = DeliveryMode.WEEKDAY_DAILY
SUNDAY = DeliveryMode.SUNDAY_ONLY


def message_for(class_type: ClassType, delivery_mode: DeliveryMode, total: int, students: int) -> str | None:
    return check_purchase_rules(
        class_type=class_type,
        delivery_mode=delivery_mode,
        total_sessions=total,
        student_count=students,
    )


@pytest.mark.parametrize(
    ("class_type", "delivery_mode", "total", "students", "message"),
    [
        (ClassType.HYBRID, DAILY, 20, 1, "HYBRID class type requires exactly 30 sessions"),
        (ClassType.HYBRID, SUNDAY, 31, 2, "HYBRID class type requires exactly 30 sessions"),
        (
            ClassType.ONE_ON_ONE,
            SUNDAY,
            11,
            1,
            "SUNDAY_ONLY delivery mode requires an even number of sessions",
        ),
        (ClassType.ONE_ON_TWO, DAILY, 10, 1, "ONE_ON_TWO class type requires exactly 2 students"),
        (ClassType.ONE_ON_TWO, DAILY, 10, 3, "ONE_ON_TWO class type requires exactly 2 students"),
        (ClassType.ONE_ON_THREE, DAILY, 20, 2, "ONE_ON_THREE class type requires exactly 3 students"),
        (ClassType.ONE_ON_ONE, DAILY, 30, 2, "ONE_ON_ONE class type requires exactly 1 student"),
        (ClassType.ONE_ON_ONE, DAILY, 15, 1, "Total sessions must be 10, 20, or 30"),
        (ClassType.ONE_ON_ONE, SUNDAY, 12, 1, "Total sessions must be 10, 20, or 30"),
    ],
)
def test_each_failing_rule_gives_its_exact_message(
    class_type: ClassType, delivery_mode: DeliveryMode, total: int, students: int, message: str
) -> None:
    assert message_for(class_type, delivery_mode, total, students) == message


@pytest.mark.parametrize(
    ("class_type", "delivery_mode", "total", "students", "message"),
    [
        # HYBRID sessions (1) before SUNDAY_ONLY parity (2)
        (ClassType.HYBRID, SUNDAY, 11, 1, "HYBRID class type requires exactly 30 sessions"),
        # SUNDAY_ONLY parity (2) before the student count (3-5)
        (
            ClassType.ONE_ON_TWO,
            SUNDAY,
            11,
            5,
            "SUNDAY_ONLY delivery mode requires an even number of sessions",
        ),
        # student count (3) before the session count (6)
        (ClassType.ONE_ON_TWO, DAILY, 7, 1, "ONE_ON_TWO class type requires exactly 2 students"),
        (ClassType.ONE_ON_THREE, DAILY, 7, 1, "ONE_ON_THREE class type requires exactly 3 students"),
        (ClassType.ONE_ON_ONE, DAILY, 7, 3, "ONE_ON_ONE class type requires exactly 1 student"),
    ],
)
def test_the_first_failing_rule_in_product_order_wins(
    class_type: ClassType, delivery_mode: DeliveryMode, total: int, students: int, message: str
) -> None:
    assert message_for(class_type, delivery_mode, total, students) == message


@pytest.mark.parametrize(
    ("class_type", "delivery_mode", "total", "students"),
    [
        (ClassType.ONE_ON_ONE, DAILY, 10, 1),
        (ClassType.ONE_ON_TWO, SUNDAY, 20, 2),
        (ClassType.ONE_ON_THREE, DAILY, 30, 3),
        (ClassType.HYBRID, DAILY, 30, 1),
        (ClassType.HYBRID, SUNDAY, 30, 3),
    ],
)
def test_a_valid_purchase_passes_every_rule(
    class_type: ClassType, delivery_mode: DeliveryMode, total: int, students: int
) -> None:
    assert message_for(class_type, delivery_mode, total, students) is None


@pytest.mark.parametrize("students", [1, 2, 3, 7])
def test_hybrid_accepts_any_number_of_students(students: int) -> None:
    assert message_for(ClassType.HYBRID, DAILY, 30, students) is None
