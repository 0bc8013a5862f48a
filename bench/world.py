"""The seeded world: zones over Indian cities, trainers in them, courses; seeded through the RPCs.

The world is a pure function of (zone count, trainer count, seed), so the 500-, 2,000- and
5,000-trainer worlds share the same zones and differ only in trainer density.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import grpc
from booking.v1 import (
    booking_service_pb2,
    booking_service_pb2_grpc,
    trainer_directory_pb2,
    trainer_directory_pb2_grpc,
)
from booking.v1 import common_pb2 as common

from bench.geo import offset, random_point_in_circle

CITIES: tuple[tuple[str, float, float], ...] = (
    ("Bengaluru", 12.9716, 77.5946),
    ("Hyderabad", 17.3850, 78.4867),
    ("Chennai", 13.0827, 80.2707),
    ("Pune", 18.5204, 73.8567),
    ("Mumbai", 19.0760, 72.8777),
    ("Delhi", 28.6139, 77.2090),
    ("Kolkata", 22.5726, 88.3639),
    ("Ahmedabad", 23.0225, 72.5714),
)
COURSE_COUNT = 10
FRANCHISE_COUNT = 5
# Share of trainers that break one eligibility rule, so the rejections the service explains
# are the ones real data produces, not only "wrong zone".
P_ACTIVE = 0.97
P_HAS_LOCATION = 0.95
P_HOME_ZONE = 0.85
P_OPERATOR_MATCHES = 0.95
P_LOAD_CAP = 0.15
SEED_THREADS = 16


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass(frozen=True)
class ZoneSpec:
    zone_id: str
    name: str
    franchise_id: str  # "" = company-operated
    lat: float
    lng: float
    radius_km: float


@dataclass(frozen=True)
class TrainerSpec:
    trainer_id: str
    franchise_id: str
    zone_id: str  # "" = no home zone
    course_ids: tuple[str, ...]
    location: tuple[float, float] | None
    active: bool
    max_active_purchases: int


@dataclass(frozen=True)
class WorldSpec:
    zones: tuple[ZoneSpec, ...]
    trainers: tuple[TrainerSpec, ...]
    course_ids: tuple[str, ...]
    franchise_ids: tuple[str, ...]

    def describe(self) -> dict[str, int]:
        return {
            "zones": len(self.zones),
            "company_zones": sum(1 for z in self.zones if not z.franchise_id),
            "franchise_zones": sum(1 for z in self.zones if z.franchise_id),
            "franchises": len({z.franchise_id for z in self.zones if z.franchise_id}),
            "trainers": len(self.trainers),
            "courses": len(self.course_ids),
        }

    def save_for_driver(self, path: Path) -> None:
        """What the load generator needs: zones (to place students) and the course ids."""
        payload = {"zones": [asdict(z) for z in self.zones], "course_ids": list(self.course_ids)}
        path.write_text(json.dumps(payload))


def build_zones(rng: random.Random, count: int) -> list[ZoneSpec]:
    """60% company zones spread round-robin over the cities; the rest split between 5 franchises,
    each franchise in one city (where its zones overlap company ones, as in real cities)."""
    franchise_ids = [_uuid(rng) for _ in range(FRANCHISE_COUNT)]
    company_count = max(1, round(count * 0.6)) if count > 1 else count
    zones: list[ZoneSpec] = []
    for index in range(count):
        if index < company_count:
            franchise_id = ""
            city_name, city_lat, city_lng = CITIES[index % len(CITIES)]
            name = f"{city_name} {index // len(CITIES) + 1}"
        else:
            f = (index - company_count) % FRANCHISE_COUNT
            franchise_id = franchise_ids[f]
            city_name, city_lat, city_lng = CITIES[(f * 3) % len(CITIES)]
            name = f"{city_name} F{f + 1}-{(index - company_count) // FRANCHISE_COUNT + 1}"
        # Zone centres up to 18 km from the city centre: neighbouring zones overlap partly,
        # and "nearest centre wins" really decides.
        lat, lng = offset(city_lat, city_lng, rng.uniform(-18, 18), rng.uniform(-18, 18))
        zones.append(ZoneSpec(_uuid(rng), name, franchise_id, lat, lng, round(rng.uniform(8, 15), 1)))
    return zones


def _other_operator(rng: random.Random, zone: ZoneSpec, franchise_ids: list[str]) -> str:
    choices = [f for f in ["", *franchise_ids] if f != zone.franchise_id]
    return rng.choice(choices)


def build_trainer(
    rng: random.Random, zones: list[ZoneSpec], courses: list[str], franchises: list[str]
) -> TrainerSpec:
    zone = rng.choice(zones)
    matches = rng.random() < P_OPERATOR_MATCHES
    location = None
    if rng.random() < P_HAS_LOCATION:
        location = random_point_in_circle(rng, zone.lat, zone.lng, zone.radius_km)
    return TrainerSpec(
        trainer_id=_uuid(rng),
        franchise_id=zone.franchise_id if matches else _other_operator(rng, zone, franchises),
        zone_id=zone.zone_id if rng.random() < P_HOME_ZONE else "",
        course_ids=tuple(rng.sample(courses, rng.randint(1, 3))),
        location=location,
        active=rng.random() < P_ACTIVE,
        max_active_purchases=rng.randint(3, 10) if rng.random() < P_LOAD_CAP else 0,
    )


def build_world(*, zones: int, trainers: int, seed: int) -> WorldSpec:
    zone_rng = random.Random(seed)
    zone_specs = build_zones(zone_rng, zones)
    courses = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-course-{i}")) for i in range(COURSE_COUNT)]
    franchises = sorted({z.franchise_id for z in zone_specs if z.franchise_id})
    # A separate stream for trainers: the zones stay identical whatever the trainer count.
    trainer_rng = random.Random(seed * 7919 + trainers)
    trainer_specs = [build_trainer(trainer_rng, zone_specs, courses, franchises) for _ in range(trainers)]
    return WorldSpec(tuple(zone_specs), tuple(trainer_specs), tuple(courses), tuple(franchises))


def _zone_message(zone: ZoneSpec) -> common.Zone:
    return common.Zone(
        zone_id=zone.zone_id,
        name=zone.name,
        franchise_id=zone.franchise_id,
        center=common.GeoPoint(latitude=zone.lat, longitude=zone.lng),
        radius_km=zone.radius_km,
        active=True,
    )


def _trainer_message(index: int, trainer: TrainerSpec) -> common.Trainer:
    message = common.Trainer(
        trainer_id=trainer.trainer_id,
        display_name=f"Trainer {index:05d}",
        active=trainer.active,
        franchise_id=trainer.franchise_id,
        zone_id=trainer.zone_id,
        certified_course_ids=list(trainer.course_ids),
        max_active_purchases=trainer.max_active_purchases,
    )
    if trainer.location is not None:
        message.location.CopyFrom(
            common.GeoPoint(latitude=trainer.location[0], longitude=trainer.location[1])
        )
        message.has_location = True
    return message


@dataclass(frozen=True)
class SeedTimings:
    zones_seconds: float
    trainers_seconds: float
    calls: int

    @property
    def calls_per_second(self) -> float:
        return self.calls / max(self.zones_seconds + self.trainers_seconds, 1e-9)


def seed_world(target: str, world: WorldSpec) -> SeedTimings:
    """CreateZone then UpsertTrainer for every record, through the generated stubs, in parallel.

    Any failed call aborts the run: a benchmark on a half-seeded world would measure nothing.
    """
    with grpc.insecure_channel(target) as channel:
        booking = booking_service_pb2_grpc.BookingServiceStub(channel)
        directory = trainer_directory_pb2_grpc.TrainerDirectoryServiceStub(channel)

        def create_zone(zone: ZoneSpec) -> None:
            booking.CreateZone(booking_service_pb2.CreateZoneRequest(zone=_zone_message(zone)), timeout=30)

        def upsert(item: tuple[int, TrainerSpec]) -> None:
            request = trainer_directory_pb2.UpsertTrainerRequest(trainer=_trainer_message(*item))
            directory.UpsertTrainer(request, timeout=30)

        with ThreadPoolExecutor(max_workers=SEED_THREADS, thread_name_prefix="seed") as pool:
            started = time.perf_counter()
            list(pool.map(create_zone, world.zones))
            zones_done = time.perf_counter()
            list(pool.map(upsert, enumerate(world.trainers)))
            trainers_done = time.perf_counter()
    return SeedTimings(
        zones_seconds=zones_done - started,
        trainers_seconds=trainers_done - zones_done,
        calls=len(world.zones) + len(world.trainers),
    )
