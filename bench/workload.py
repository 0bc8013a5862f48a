"""The AutoAssignTrainer request mix the load generator sends.

Every request passes validation and the purchase rules (class type matches the student count),
so each call does the full job: zone lookup, directory read, availability, reservation.
Demand is uneven on purpose - evening hours are popular - so trainers' schedules collide and the
service really has to fall back to its next candidate or waitlist.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from booking.v1 import booking_service_pb2 as pb
from booking.v1 import common_pb2 as common

from bench.geo import random_point_in_circle

BUSINESS_TIMEZONE = "Asia/Kolkata"  # the service default; start dates are civil dates there
START_DAYS_AHEAD = (1, 180)  # from tomorrow: "today" is never at risk of being yesterday
# 06:00 .. 20:00 on a 20-minute grid.
TIME_SLOTS: tuple[str, ...] = tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(6 * 60, 20 * 60 + 1, 20))
PEAK = ("16:00", "20:00")  # after school: three times as popular as any other slot
PEAK_WEIGHT = 3.0
# Course popularity falls off as 1/rank (the first course draws ~34% of demand, the tenth ~3%)
# while trainers are certified uniformly: popular courses run short of nearby trainers first.
COURSE_POPULARITY = "1/rank"


@dataclass(frozen=True)
class Product:
    """One kind of purchase in the mix, always consistent with the purchase rules."""

    share: float
    class_type: common.ClassType.ValueType
    delivery_mode: common.DeliveryMode.ValueType
    total_sessions: int
    students: int


MIX: tuple[Product, ...] = (
    Product(0.64, common.CLASS_TYPE_ONE_ON_ONE, common.DELIVERY_MODE_WEEKDAY_DAILY, 30, 1),
    Product(0.12, common.CLASS_TYPE_ONE_ON_TWO, common.DELIVERY_MODE_WEEKDAY_DAILY, 30, 2),
    Product(0.04, common.CLASS_TYPE_ONE_ON_THREE, common.DELIVERY_MODE_WEEKDAY_DAILY, 30, 3),
    Product(0.10, common.CLASS_TYPE_ONE_ON_ONE, common.DELIVERY_MODE_SUNDAY_ONLY, 20, 1),
    Product(0.10, common.CLASS_TYPE_HYBRID, common.DELIVERY_MODE_WEEKDAY_DAILY, 30, 1),
)


def describe_mix() -> list[dict[str, object]]:
    return [
        {
            "share": p.share,
            "class_type": common.ClassType.Name(p.class_type),
            "delivery_mode": common.DeliveryMode.Name(p.delivery_mode),
            "total_sessions": p.total_sessions,
            "students": p.students,
        }
        for p in MIX
    ]


@dataclass(frozen=True)
class Zone:
    lat: float
    lng: float
    radius_km: float


class Workload:
    """Deterministic (given the seed) stream of distinct, valid purchase requests."""

    def __init__(self, zones: list[Zone], course_ids: list[str], *, seed: int, validate_only: bool) -> None:
        self._rng = random.Random(seed)
        self._zones = zones
        self._courses = course_ids
        self._validate_only = validate_only
        self._today = datetime.now(ZoneInfo(BUSINESS_TIMEZONE)).date()
        self._slot_weights = [PEAK_WEIGHT if PEAK[0] <= slot <= PEAK[1] else 1.0 for slot in TIME_SLOTS]
        self._mix_weights = [p.share for p in MIX]
        self._course_weights = [1.0 / rank for rank in range(1, len(course_ids) + 1)]

    @classmethod
    def from_file(cls, path: Path, *, seed: int, validate_only: bool) -> Workload:
        payload = json.loads(path.read_text())
        zones = [Zone(z["lat"], z["lng"], z["radius_km"]) for z in payload["zones"]]
        return cls(zones, list(payload["course_ids"]), seed=seed, validate_only=validate_only)

    def _id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _start_date(self) -> date:
        return self._today + timedelta(days=self._rng.randint(*START_DAYS_AHEAD))

    def next_request(self) -> pb.AutoAssignTrainerRequest:
        rng = self._rng
        product = rng.choices(MIX, weights=self._mix_weights)[0]
        zone = rng.choice(self._zones)
        lat, lng = random_point_in_circle(rng, zone.lat, zone.lng, zone.radius_km)
        return pb.AutoAssignTrainerRequest(
            booking_id=self._id(),
            course_id=rng.choices(self._courses, weights=self._course_weights)[0],
            class_type=product.class_type,
            total_sessions=product.total_sessions,
            delivery_mode=product.delivery_mode,
            start_date=self._start_date().isoformat(),
            preferred_time_slot=rng.choices(TIME_SLOTS, weights=self._slot_weights)[0],
            student_location=common.GeoPoint(latitude=lat, longitude=lng),
            student_address="Benchmark Street",
            students=[
                common.Student(id=self._id(), name=f"Student {i + 1}") for i in range(product.students)
            ],
            validate_only=self._validate_only,
        )
