"""Distances, zone containment and the prefilter box (product.md 1.3)."""

from __future__ import annotations

import dataclasses
import math

import pytest
from booking_server.domain.geo import (
    EARTH_RADIUS_KM,
    bounding_box,
    containing_zones,
    haversine_km,
    nearest_containing_zone,
)
from booking_server.domain.model import GeoPoint, Zone
from hypothesis import assume, given
from hypothesis import strategies as st

latitudes = st.floats(min_value=-90.0, max_value=90.0, allow_nan=False)
longitudes = st.floats(min_value=-180.0, max_value=180.0, allow_nan=False)
points = st.builds(GeoPoint, latitude=latitudes, longitude=longitudes)

ORIGIN = GeoPoint(0.0, 0.0)
ONE_DEGREE_EAST = GeoPoint(0.0, 1.0)
ONE_DEGREE_KM = math.pi * EARTH_RADIUS_KM / 180.0


def make_zone(
    zone_id: str,
    center: GeoPoint,
    radius_km: float,
    *,
    active: bool = True,
    franchise_id: str | None = None,
) -> Zone:
    return Zone(
        zone_id=zone_id,
        name=f"zone {zone_id}",
        franchise_id=franchise_id,
        center=center,
        radius_km=radius_km,
        active=active,
    )


def destination(start: GeoPoint, *, bearing_degrees: float, distance_km: float) -> GeoPoint:
    """The point reached from `start` along a great circle (standard spherical formula)."""
    lat1 = math.radians(start.latitude)
    lon1 = math.radians(start.longitude)
    bearing = math.radians(bearing_degrees)
    angular = distance_km / EARTH_RADIUS_KM
    lat2 = math.asin(
        math.sin(lat1) * math.cos(angular) + math.cos(lat1) * math.sin(angular) * math.cos(bearing)
    )
    lon2 = lon1 + math.atan2(
        math.sin(bearing) * math.sin(angular) * math.cos(lat1),
        math.cos(angular) - math.sin(lat1) * math.sin(lat2),
    )
    longitude = (math.degrees(lon2) + 540.0) % 360.0 - 180.0
    return GeoPoint(math.degrees(lat2), longitude)


@given(points)
def test_distance_from_a_point_to_itself_is_exactly_zero(point: GeoPoint) -> None:
    assert haversine_km(point, point) == 0.0


@given(points, points)
def test_distance_is_symmetric_and_never_nan(a: GeoPoint, b: GeoPoint) -> None:
    distance = haversine_km(a, b)
    assert distance == haversine_km(b, a)
    assert 0.0 <= distance <= math.pi * EARTH_RADIUS_KM + 1e-9


def test_one_degree_of_longitude_on_the_equator_is_about_111_km() -> None:
    assert haversine_km(ORIGIN, ONE_DEGREE_EAST) == pytest.approx(ONE_DEGREE_KM, rel=1e-12)
    assert haversine_km(ORIGIN, ONE_DEGREE_EAST) == pytest.approx(111.19, abs=0.01)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (GeoPoint(0.0, 0.0), GeoPoint(0.0, 180.0)),
        (GeoPoint(90.0, 0.0), GeoPoint(-90.0, 0.0)),
        (GeoPoint(45.0, -30.0), GeoPoint(-45.0, 150.0)),
    ],
)
def test_antipodal_points_are_half_the_circumference_apart(a: GeoPoint, b: GeoPoint) -> None:
    assert haversine_km(a, b) == pytest.approx(math.pi * EARTH_RADIUS_KM, rel=1e-9)


def test_a_student_exactly_on_the_zone_boundary_is_served() -> None:
    radius_km = haversine_km(ORIGIN, ONE_DEGREE_EAST)
    zone = make_zone("z1", ORIGIN, radius_km)

    found = nearest_containing_zone(ONE_DEGREE_EAST, [zone])

    assert found == (zone, radius_km)


def test_a_student_just_beyond_the_zone_boundary_is_not_served() -> None:
    exact_km = haversine_km(ORIGIN, ONE_DEGREE_EAST)
    zone = make_zone("z1", ORIGIN, math.nextafter(exact_km, 0.0))

    assert nearest_containing_zone(ONE_DEGREE_EAST, [zone]) is None


def test_a_student_at_the_zone_centre_is_served_at_distance_zero() -> None:
    zone = make_zone("z1", GeoPoint(12.97, 77.59), 5.0)

    assert nearest_containing_zone(GeoPoint(12.97, 77.59), [zone]) == (zone, 0.0)


def test_inactive_zones_never_serve_a_student() -> None:
    inactive = make_zone("z1", ORIGIN, 50.0, active=False)

    assert nearest_containing_zone(ORIGIN, [inactive]) is None
    assert containing_zones(ORIGIN, [inactive]) == []


def test_the_nearest_containing_centre_wins_whatever_the_operator() -> None:
    student = GeoPoint(0.0, 0.15)
    company = make_zone("a-company", ORIGIN, 500.0)
    franchise = make_zone("b-franchise", GeoPoint(0.0, 0.2), 20.0, franchise_id="f1")

    found = nearest_containing_zone(student, [company, franchise])

    assert found is not None
    assert found[0].zone_id == "b-franchise"


def test_equally_near_zones_are_decided_by_zone_id() -> None:
    student = GeoPoint(0.0, 0.0)
    # Names sort the other way round, so only the id can decide.
    east = dataclasses.replace(make_zone("zone-b", GeoPoint(0.0, 0.1), 50.0), name="Alpha")
    west = dataclasses.replace(make_zone("zone-a", GeoPoint(0.0, -0.1), 50.0), name="Beta")

    found = nearest_containing_zone(student, [east, west])

    assert found is not None
    assert found[0].zone_id == "zone-a"


def test_containing_zones_lists_every_active_match_nearest_first() -> None:
    student = GeoPoint(0.0, 0.0)
    far = make_zone("far", GeoPoint(0.0, 0.5), 100.0)
    near = make_zone("near", GeoPoint(0.0, 0.1), 100.0)
    outside = make_zone("outside", GeoPoint(0.0, 5.0), 10.0)
    off = make_zone("off", GeoPoint(0.0, 0.05), 100.0, active=False)

    matches = containing_zones(student, [far, outside, off, near])

    assert [zone.zone_id for zone, _ in matches] == ["near", "far"]
    assert matches[0][1] == pytest.approx(0.1 * ONE_DEGREE_KM)


@given(
    center=points,
    radius_km=st.floats(min_value=0.0, max_value=3000.0),
    bearing_degrees=st.floats(min_value=0.0, max_value=360.0),
    fraction=st.floats(min_value=0.0, max_value=1.0),
)
def test_the_bounding_box_contains_every_point_within_the_radius(
    center: GeoPoint, radius_km: float, bearing_degrees: float, fraction: float
) -> None:
    point = destination(center, bearing_degrees=bearing_degrees, distance_km=radius_km * fraction)
    assume(haversine_km(center, point) <= radius_km)

    assert bounding_box(center, radius_km).contains(point)


def test_the_bounding_box_of_a_small_circle_is_tight() -> None:
    box = bounding_box(ORIGIN, ONE_DEGREE_KM)

    assert box.min_latitude == pytest.approx(-1.0, abs=1e-5)
    assert box.max_latitude == pytest.approx(1.0, abs=1e-5)
    assert box.min_longitude == pytest.approx(-1.0, abs=1e-5)
    assert box.max_longitude == pytest.approx(1.0, abs=1e-5)


def test_a_circle_reaching_a_pole_spans_every_longitude() -> None:
    box = bounding_box(GeoPoint(89.5, 10.0), 100.0)

    assert (box.min_longitude, box.max_longitude) == (-180.0, 180.0)
    assert box.max_latitude == 90.0


def test_a_circle_crossing_the_antimeridian_spans_every_longitude() -> None:
    box = bounding_box(GeoPoint(-17.7, 179.9), 50.0)

    assert (box.min_longitude, box.max_longitude) == (-180.0, 180.0)
    assert box.contains(GeoPoint(-17.7, -179.9))


@pytest.mark.parametrize("radius_km", [-1.0, math.nan, math.inf])
def test_a_bounding_box_needs_a_finite_non_negative_radius(radius_km: float) -> None:
    with pytest.raises(ValueError, match="radius_km"):
        bounding_box(ORIGIN, radius_km)
