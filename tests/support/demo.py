"""The demo data `booking-service seed-demo` writes (services/seed_demo.py), as e2e tests call it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.support.factories import fresh_id

MATHEMATICS = "d3e0c000-0000-4000-8000-000000000001"  # a demo course (services/seed_demo.py)
DEMO_CENTRAL_ZONE = "d3e02000-0000-4000-8000-000000000001"  # "Demo Hyderabad Central"
DEMO_TRAINER_PREFIX = "d3e07000-"
HYDERABAD_CENTRE = {"latitude": 17.385, "longitude": 78.4867}


def in_days(days: int) -> str:
    """The civil date `days` from today, YYYY-MM-DD."""
    return (date.today() + timedelta(days=days)).isoformat()


def demo_request(*, start_date: str, time_slot: str) -> dict[str, Any]:
    """An AutoAssignTrainer body (proto JSON) for a student at the centre of Hyderabad."""
    return {
        "booking_id": fresh_id(),
        "course_id": MATHEMATICS,
        "class_type": "CLASS_TYPE_ONE_ON_ONE",
        "total_sessions": 10,
        "delivery_mode": "DELIVERY_MODE_WEEKDAY_DAILY",
        "start_date": start_date,
        "preferred_time_slot": time_slot,
        "student_location": HYDERABAD_CENTRE,
        "student_address": "Road No. 1, Banjara Hills",
        "students": [{"id": fresh_id(), "name": "Asha", "email": "asha@example.com"}],
    }
