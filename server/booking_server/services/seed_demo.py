"""`booking-service seed-demo`: demo zones and trainers around Hyderabad (17.385, 78.4867).

Every id below is fixed, so running the seed again rewrites the same rows (idempotent) and a
user can call AutoAssignTrainer right away with one of the demo courses:

    course                         course_id
    Mathematics                    d3e0c000-0000-4000-8000-000000000001
    Physics                        d3e0c000-0000-4000-8000-000000000002
    Chemistry                      d3e0c000-0000-4000-8000-000000000003
    English                        d3e0c000-0000-4000-8000-000000000004

    franchise                      franchise_id
    Franchise North (Kukatpally)   d3e0f000-0000-4000-8000-000000000001
    Franchise East (Uppal)         d3e0f000-0000-4000-8000-000000000002

Zones (ids d3e02000-0000-4000-8000-0000000000NN): three company zones (Hyderabad Central,
Secunderabad, HITEC City) and two zones per franchise. Trainers (ids
d3e07000-0000-4000-8000-0000000000NN) live inside their home zone, belong to that zone's
operator and hold 1-3 of the demo courses; every fifth one is inactive so that the
assignment's explanation shows an INACTIVE rejection. A student at the centre of Hyderabad,
(17.385, 78.4867), is served by "Demo Hyderabad Central".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import structlog

from booking_server.domain.model import GeoPoint, Zone
from booking_server.domain.trainer_rules import TrainerProfile
from booking_server.services.unit_of_work import UnitOfWorkFactory

log = structlog.get_logger(__name__)

DEMO_COURSE_IDS = (
    "d3e0c000-0000-4000-8000-000000000001",  # Mathematics
    "d3e0c000-0000-4000-8000-000000000002",  # Physics
    "d3e0c000-0000-4000-8000-000000000003",  # Chemistry
    "d3e0c000-0000-4000-8000-000000000004",  # English
)
FRANCHISE_NORTH = "d3e0f000-0000-4000-8000-000000000001"
FRANCHISE_EAST = "d3e0f000-0000-4000-8000-000000000002"
HYDERABAD_CENTRE = GeoPoint(17.385, 78.4867)
TRAINERS_PER_ZONE = 5

# (name, franchise or None for company, centre latitude, centre longitude, radius_km)
_ZONES: tuple[tuple[str, str | None, float, float, float], ...] = (
    ("Demo Hyderabad Central", None, 17.385, 78.4867, 6.0),
    ("Demo Secunderabad", None, 17.4399, 78.4983, 4.0),
    ("Demo HITEC City", None, 17.4435, 78.3772, 5.0),
    ("Demo Kukatpally", FRANCHISE_NORTH, 17.4948, 78.3996, 4.0),
    ("Demo Miyapur", FRANCHISE_NORTH, 17.4968, 78.3614, 3.0),
    ("Demo Uppal", FRANCHISE_EAST, 17.4018, 78.5602, 4.0),
    ("Demo LB Nagar", FRANCHISE_EAST, 17.3457, 78.5522, 4.0),
)


@dataclass(frozen=True, slots=True)
class SeedSummary:
    """What the seed wrote, and the course ids to try AutoAssignTrainer with."""

    zones: int
    trainers: int
    active_trainers: int
    # (zone_id, name) of every zone written, in seed order.
    zone_names: tuple[tuple[str, str], ...]
    course_ids: tuple[str, ...] = DEMO_COURSE_IDS


def demo_zones() -> list[Zone]:
    """The demo zones, in a fixed order with fixed ids."""
    return [
        Zone(
            zone_id=f"d3e02000-0000-4000-8000-{index:012d}",
            name=name,
            franchise_id=franchise_id,
            center=GeoPoint(latitude, longitude),
            radius_km=radius_km,
            active=True,
        )
        for index, (name, franchise_id, latitude, longitude, radius_km) in enumerate(_ZONES, start=1)
    ]


def demo_trainers(zones: list[Zone]) -> list[TrainerProfile]:
    """TRAINERS_PER_ZONE trainers per zone, spread on a ring at 10-70 % of its radius."""
    trainers: list[TrainerProfile] = []
    for zone_index, zone in enumerate(zones):
        for slot in range(TRAINERS_PER_ZONE):
            number = zone_index * TRAINERS_PER_ZONE + slot + 1
            trainers.append(
                TrainerProfile(
                    trainer_id=f"d3e07000-0000-4000-8000-{number:012d}",
                    display_name=f"Demo Trainer {number:02d}",
                    active=number % 5 != 0,
                    franchise_id=zone.franchise_id,
                    zone_id=zone.zone_id,
                    certified_course_ids=_courses_of(number),
                    location=_inside(zone, fraction=0.1 + 0.15 * slot, bearing_degrees=72.0 * slot),
                    max_active_purchases=0 if number % 3 else 5,
                )
            )
    return trainers


def seed_demo(uow_factory: UnitOfWorkFactory) -> SeedSummary:
    """Write (or rewrite) every demo zone and trainer in one transaction."""
    zones = demo_zones()
    trainers = demo_trainers(zones)
    with uow_factory() as uow:
        for zone in zones:
            uow.zones.upsert(zone)
        for trainer in trainers:
            uow.trainers.upsert(trainer)
        uow.commit()
    log.info("demo_courses_seeded", course_ids=list(DEMO_COURSE_IDS), student_location="17.385,78.4867")
    return SeedSummary(
        zones=len(zones),
        trainers=len(trainers),
        active_trainers=sum(1 for trainer in trainers if trainer.active),
        zone_names=tuple((zone.zone_id, zone.name) for zone in zones),
    )


def _courses_of(number: int) -> tuple[str, ...]:
    # 1, 2 or 3 consecutive courses starting at a rotating one: every course gets trainers
    # in every zone, and no demo trainer exceeds the 3-certification limit.
    count = number % 3 + 1
    first = number % len(DEMO_COURSE_IDS)
    return tuple(sorted(DEMO_COURSE_IDS[(first + k) % len(DEMO_COURSE_IDS)] for k in range(count)))


def _inside(zone: Zone, *, fraction: float, bearing_degrees: float) -> GeoPoint:
    """A point `fraction` of the radius away from the centre, on a flat-Earth approximation.

    At these distances (a few km) the approximation errs by metres, far inside the margin
    that fraction <= 0.7 leaves to the zone's edge.
    """
    distance_km = zone.radius_km * fraction
    bearing = math.radians(bearing_degrees)
    km_per_degree = 111.195  # great-circle km per degree of latitude on a 6371 km sphere
    latitude = zone.center.latitude + distance_km * math.cos(bearing) / km_per_degree
    longitude = zone.center.longitude + distance_km * math.sin(bearing) / (
        km_per_degree * math.cos(math.radians(zone.center.latitude))
    )
    return GeoPoint(round(latitude, 6), round(longitude, 6))
