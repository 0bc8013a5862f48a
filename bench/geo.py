"""Random points in circles on the Earth's surface (small circles: a local flat approximation)."""

from __future__ import annotations

import math
import random

KM_PER_DEGREE_LAT = 111.195  # R = 6371 km, the service's haversine radius


def offset(lat: float, lng: float, north_km: float, east_km: float) -> tuple[float, float]:
    """The point north_km north and east_km east of (lat, lng)."""
    new_lat = lat + north_km / KM_PER_DEGREE_LAT
    new_lng = lng + east_km / (KM_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    return new_lat, new_lng


def random_point_in_circle(
    rng: random.Random, lat: float, lng: float, radius_km: float, *, margin: float = 0.97
) -> tuple[float, float]:
    """Uniform over the disc; `margin` keeps points off the rim, where the flat approximation
    and the service's haversine could disagree about "inside"."""
    distance = radius_km * margin * math.sqrt(rng.random())
    bearing = rng.uniform(0.0, 2.0 * math.pi)
    return offset(lat, lng, distance * math.cos(bearing), distance * math.sin(bearing))
