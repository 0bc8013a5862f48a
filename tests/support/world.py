"""Builders for api tests: a fresh zone at a random place, trainers around it, requests.

Every test gets its own corner of the globe and its own course id, so tests sharing the
committed database never see each other's zones or trainers.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc, trainer_directory_pb2, trainer_directory_pb2_grpc
from booking.v1 import common_pb2 as common


def new_id() -> str:
    return str(uuid.uuid4())


def future_date(days: int = 30) -> str:
    """A date safely after "today" in any timezone."""
    return (date.today() + timedelta(days=days)).isoformat()


def next_sunday(days: int = 30) -> date:
    start = date.today() + timedelta(days=days)
    return start + timedelta(days=(6 - start.weekday()) % 7)


@dataclass
class World:
    booking: booking_service_pb2_grpc.BookingServiceStub
    directory: trainer_directory_pb2_grpc.TrainerDirectoryServiceStub
    course_id: str = field(default_factory=new_id)
    franchise_id: str = ""
    radius_km: float = 10.0
    center: common.GeoPoint = field(
        default_factory=lambda: common.GeoPoint(
            latitude=random.uniform(-60, 60), longitude=random.uniform(-170, 170)
        )
    )
    zone_id: str = ""

    def create_zone(self) -> common.Zone:
        zone = self.booking.CreateZone(
            pb.CreateZoneRequest(
                zone=common.Zone(
                    name=f"zone-{new_id()}",
                    franchise_id=self.franchise_id,
                    center=self.center,
                    radius_km=self.radius_km,
                    active=True,
                )
            )
        ).zone
        self.zone_id = zone.zone_id
        return zone

    def near(self, north_km: float) -> common.GeoPoint:
        """A point `north_km` north of the zone centre (1 degree of latitude ~ 111.2 km)."""
        return common.GeoPoint(
            latitude=self.center.latitude + north_km / 111.195, longitude=self.center.longitude
        )

    def add_trainer(self, *, north_km: float | None = 1.0, **overrides: object) -> str:
        trainer_id = str(overrides.pop("trainer_id", new_id()))
        trainer = common.Trainer(
            trainer_id=trainer_id,
            display_name="Trainer",
            active=True,
            franchise_id=self.franchise_id,
            zone_id=self.zone_id,
            certified_course_ids=[self.course_id],
        )
        if north_km is not None:
            trainer.location.CopyFrom(self.near(north_km))
            trainer.has_location = True
        for key, value in overrides.items():
            if isinstance(value, list):
                del getattr(trainer, key)[:]
                getattr(trainer, key).extend(value)
            else:
                setattr(trainer, key, value)
        self.directory.UpsertTrainer(trainer_directory_pb2.UpsertTrainerRequest(trainer=trainer))
        return trainer_id

    def request(self, **overrides: object) -> pb.AutoAssignTrainerRequest:
        request = pb.AutoAssignTrainerRequest(
            booking_id=new_id(),
            course_id=self.course_id,
            class_type=common.CLASS_TYPE_ONE_ON_ONE,
            total_sessions=10,
            delivery_mode=common.DELIVERY_MODE_WEEKDAY_DAILY,
            start_date=future_date(),
            preferred_time_slot="16:00",
            student_location=self.near(0.5),
            student_address="12 Example Road",
            students=[
                common.Student(id=new_id(), name="Asha", email="asha@example.com", phone="+910000000000")
            ],
        )
        for key, value in overrides.items():
            if key == "students":
                del request.students[:]
                request.students.extend(value)  # type: ignore[arg-type]
            elif key == "student_location":
                request.student_location.CopyFrom(value)  # type: ignore[arg-type]
            else:
                setattr(request, key, value)
        return request


def students(count: int) -> list[common.Student]:
    return [common.Student(id=new_id(), name=f"Student {i}") for i in range(count)]
