"""Builders of valid zone and trainer messages with fresh ids and names.

The api tests share one committed database, so every builder call yields values no other
test uses: fresh UUIDs, unique names, and zone centres scattered over the globe.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from booking.v1 import common_pb2


def fresh_id() -> str:
    return str(uuid.uuid4())


def fresh_name(prefix: str = "Zone") -> str:
    return f"{prefix} {uuid.uuid4().hex[:12]}"


def random_place() -> common_pb2.GeoPoint:
    """A point far from the poles and the antimeridian, different for every call."""
    return common_pb2.GeoPoint(latitude=random.uniform(-60.0, 60.0), longitude=random.uniform(-170.0, 170.0))


def zone_message(**overrides: Any) -> common_pb2.Zone:
    """An active company zone of radius 5 km at a random place, unless overridden."""
    values: dict[str, Any] = {
        "name": fresh_name(),
        "center": random_place(),
        "radius_km": 5.0,
        "active": True,
    }
    values.update(overrides)
    return common_pb2.Zone(**values)


def trainer_message(**overrides: Any) -> common_pb2.Trainer:
    """An active company trainer with a fresh id, one fresh course and a location."""
    values: dict[str, Any] = {
        "trainer_id": fresh_id(),
        "display_name": "Asha Verma",
        "active": True,
        "certified_course_ids": [fresh_id()],
        "location": common_pb2.GeoPoint(latitude=17.385, longitude=78.4867),
        "has_location": True,
        "max_active_purchases": 0,
    }
    values.update(overrides)
    return common_pb2.Trainer(**values)
