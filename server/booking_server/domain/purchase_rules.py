"""Purchase rules (product.md 1.2): a failure is a stored INVALID_PURCHASE, not an error."""

from __future__ import annotations

from booking_server.domain.model import ClassType, DeliveryMode

HYBRID_SESSION_COUNT = 30
ALLOWED_SESSION_COUNTS = frozenset({10, 20, 30})

# Callers (and their tests) match these texts exactly; do not reword them.
HYBRID_SESSIONS_MESSAGE = "HYBRID class type requires exactly 30 sessions"
SUNDAY_ONLY_EVEN_MESSAGE = "SUNDAY_ONLY delivery mode requires an even number of sessions"
ONE_ON_TWO_MESSAGE = "ONE_ON_TWO class type requires exactly 2 students"
ONE_ON_THREE_MESSAGE = "ONE_ON_THREE class type requires exactly 3 students"
ONE_ON_ONE_MESSAGE = "ONE_ON_ONE class type requires exactly 1 student"
SESSION_COUNT_MESSAGE = "Total sessions must be 10, 20, or 30"

# HYBRID accepts any number of students, so it has no entry.
_REQUIRED_STUDENTS: tuple[tuple[ClassType, int, str], ...] = (
    (ClassType.ONE_ON_TWO, 2, ONE_ON_TWO_MESSAGE),
    (ClassType.ONE_ON_THREE, 3, ONE_ON_THREE_MESSAGE),
    (ClassType.ONE_ON_ONE, 1, ONE_ON_ONE_MESSAGE),
)


def check_purchase_rules(
    *,
    class_type: ClassType,
    delivery_mode: DeliveryMode,
    total_sessions: int,
    student_count: int,
) -> str | None:
    """The message of the first failing rule, in the order of product.md 1.2, or None."""
    if class_type == ClassType.HYBRID and total_sessions != HYBRID_SESSION_COUNT:
        return HYBRID_SESSIONS_MESSAGE
    if delivery_mode == DeliveryMode.SUNDAY_ONLY and total_sessions % 2 != 0:
        return SUNDAY_ONLY_EVEN_MESSAGE
    for required_type, required_count, message in _REQUIRED_STUDENTS:
        if class_type == required_type and student_count != required_count:
            return message
    if total_sessions not in ALLOWED_SESSION_COUNTS:
        return SESSION_COUNT_MESSAGE
    return None
