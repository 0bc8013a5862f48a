"""Great-circle distances and zone containment (product.md 1.3)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from booking_server.domain.model import GeoPoint, Zone

EARTH_RADIUS_KM = 6371.0

# Rounding in the trigonometry below is far below a millimetre; this margin (about 11 cm
# of latitude) keeps the prefilter box from ever being a hair smaller than the circle.
_BOX_MARGIN_DEGREES = 1e-6


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """A latitude/longitude box in degrees, bounds inclusive."""

    min_latitude: float
    max_latitude: float
    min_longitude: float
    max_longitude: float

    def contains(self, point: GeoPoint) -> bool:
        """Whether the point lies inside the box (bounds inclusive)."""
        return (
            self.min_latitude <= point.latitude <= self.max_latitude
            and self.min_longitude <= point.longitude <= self.max_longitude
        )


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance in km on a sphere of radius EARTH_RADIUS_KM.

    Identical points give exactly 0.0 and the result is symmetric bit for bit: the
    differences are taken as absolute values, so swapping the points changes nothing.
    """
    lat_a = math.radians(a.latitude)
    lat_b = math.radians(b.latitude)
    half_dlat = abs(lat_b - lat_a) / 2.0
    half_dlon = abs(math.radians(b.longitude) - math.radians(a.longitude)) / 2.0
    h = math.sin(half_dlat) ** 2 + math.cos(lat_a) * math.cos(lat_b) * math.sin(half_dlon) ** 2
    # Rounding can push h a hair outside [0, 1] for antipodal points; asin would then
    # raise a domain error (or sqrt return NaN), so clamp.
    h = min(1.0, max(0.0, h))
    return 2.0 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def bounding_box(center: GeoPoint, radius_km: float) -> BoundingBox:
    """A box that contains every point within `radius_km` of `center`.

    Meant as an index prefilter: it may be larger than needed, never smaller. When the
    circle reaches a pole or would cross the antimeridian the longitude range is the
    whole [-180, 180], because a single box cannot describe a wrapped range.
    """
    if not math.isfinite(radius_km) or radius_km < 0:
        msg = f"radius_km must be a finite non-negative number, got {radius_km!r}"
        raise ValueError(msg)
    angular = radius_km / EARTH_RADIUS_KM
    dlat = math.degrees(angular) + _BOX_MARGIN_DEGREES
    min_lat = center.latitude - dlat
    max_lat = center.latitude + dlat
    if min_lat <= -90.0 or max_lat >= 90.0:
        return BoundingBox(max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0)
    # Widest longitude deviation of a spherical circle (Matuschek): asin(sin r / cos lat).
    # Not reaching a pole guarantees the ratio is below 1; the clamp only absorbs rounding.
    ratio = math.sin(angular) / math.cos(math.radians(center.latitude))
    dlon = math.degrees(math.asin(min(1.0, ratio))) + _BOX_MARGIN_DEGREES
    min_lon = center.longitude - dlon
    max_lon = center.longitude + dlon
    if min_lon < -180.0 or max_lon > 180.0:
        return BoundingBox(min_lat, max_lat, -180.0, 180.0)
    return BoundingBox(min_lat, max_lat, min_lon, max_lon)


def containing_zones(point: GeoPoint, zones: Iterable[Zone]) -> list[tuple[Zone, float]]:
    """Active zones whose centre is at most `radius_km` away, nearest first, ties by id."""
    matches: list[tuple[Zone, float]] = []
    for zone in zones:
        if not zone.active:
            continue
        distance_km = haversine_km(point, zone.center)
        if distance_km <= zone.radius_km:
            matches.append((zone, distance_km))
    matches.sort(key=lambda match: (match[1], match[0].zone_id))
    return matches


def nearest_containing_zone(point: GeoPoint, zones: Iterable[Zone]) -> tuple[Zone, float] | None:
    """The zone that serves the point and its distance in km, or None (product.md 1.3).

    The nearest centre wins whatever its operator, so a franchise zone nested in a
    company zone takes the students nearest to it.
    """
    matches = containing_zones(point, zones)
    return matches[0] if matches else None
