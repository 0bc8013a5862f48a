"""Zone RPCs of BookingService through a real in-process server and stub."""

from __future__ import annotations

import math
import threading
import uuid

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc, common_pb2
from booking_server.domain.pagination import encode_page_token, filters_fingerprint
from google.protobuf import field_mask_pb2

from tests.support.factories import fresh_id, fresh_name, random_place, zone_message
from tests.support.rpc_errors import RichError, rich_error

Stub = booking_service_pb2_grpc.BookingServiceStub
POINT_NEMO = common_pb2.GeoPoint(latitude=-48.8767, longitude=-123.3933)


def create(booking: Stub, **overrides: object) -> common_pb2.Zone:
    return booking.CreateZone(pb.CreateZoneRequest(zone=zone_message(**overrides))).zone


def failure(call: object, request: object) -> RichError:
    with pytest.raises(grpc.RpcError) as caught:
        call(request)  # type: ignore[operator]
    return rich_error(caught.value)


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


def matches_of(booking: Stub, location: common_pb2.GeoPoint, *zone_ids: str) -> list[pb.ZoneMatch]:
    """FindZones restricted to our zones: the shared database holds other tests' zones too."""
    response = booking.FindZones(pb.FindZonesRequest(location=location))
    return [m for m in response.matches if m.zone.zone_id in zone_ids]


def test_a_created_zone_is_returned_by_get_with_timestamps(booking: Stub) -> None:
    franchise = fresh_id()
    created = create(booking, franchise_id=franchise.upper(), name="  Jubilee Hills  ")
    assert uuid.UUID(created.zone_id)
    assert created.name == "Jubilee Hills"
    assert created.franchise_id == franchise
    assert created.create_time.seconds > 0
    assert created.update_time == created.create_time
    assert booking.GetZone(pb.GetZoneRequest(zone_id=created.zone_id.upper())).zone == created


def test_a_zone_created_with_its_own_id_keeps_it_and_the_id_cannot_be_reused(booking: Stub) -> None:
    zone_id = fresh_id()
    assert create(booking, zone_id=zone_id).zone_id == zone_id
    error = failure(booking.CreateZone, pb.CreateZoneRequest(zone=zone_message(zone_id=zone_id)))
    assert (error.code, error.reason) == (grpc.StatusCode.ALREADY_EXISTS, "ZONE_ALREADY_EXISTS")


def test_every_problem_of_a_new_zone_is_an_invalid_argument_violation(booking: Stub) -> None:
    zone = common_pb2.Zone(zone_id="zone-7", name=" ", franchise_id="acme", radius_km=-2.0)
    error = failure(booking.CreateZone, pb.CreateZoneRequest(zone=zone))
    assert (error.code, error.reason, error.domain) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_REQUEST",
        "booking.v1",
    )
    assert set(error.violations) == {
        "zone.zone_id",
        "zone.name",
        "zone.franchise_id",
        "zone.center",
        "zone.radius_km",
    }


@pytest.mark.parametrize(
    ("center", "radius_km", "field"),
    [
        (common_pb2.GeoPoint(latitude=90.01, longitude=0.0), 5.0, "zone.center.latitude"),
        (common_pb2.GeoPoint(latitude=0.0, longitude=math.inf), 5.0, "zone.center.longitude"),
        (common_pb2.GeoPoint(latitude=0.0, longitude=0.0), 20000.5, "zone.radius_km"),
        (common_pb2.GeoPoint(latitude=0.0, longitude=0.0), math.nan, "zone.radius_km"),
    ],
)
def test_a_zone_out_of_range_names_the_offending_field(
    booking: Stub, center: common_pb2.GeoPoint, radius_km: float, field: str
) -> None:
    zone = zone_message(center=center, radius_km=radius_km)
    error = failure(booking.CreateZone, pb.CreateZoneRequest(zone=zone))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert list(error.violations) == [field]


def test_a_second_company_zone_with_the_same_name_is_name_taken(booking: Stub) -> None:
    name = fresh_name()
    create(booking, name=name)
    error = failure(booking.CreateZone, pb.CreateZoneRequest(zone=zone_message(name=name)))
    assert (error.code, error.reason) == (grpc.StatusCode.ALREADY_EXISTS, "ZONE_NAME_TAKEN")


def test_a_company_zone_and_two_franchises_may_share_a_name_but_not_within_one_franchise(
    booking: Stub,
) -> None:
    name, north, east = fresh_name(), fresh_id(), fresh_id()
    create(booking, name=name)
    create(booking, name=name, franchise_id=north)
    create(booking, name=name, franchise_id=east)
    error = failure(booking.CreateZone, pb.CreateZoneRequest(zone=zone_message(name=name, franchise_id=east)))
    assert (error.code, error.reason) == (grpc.StatusCode.ALREADY_EXISTS, "ZONE_NAME_TAKEN")


def test_concurrent_creates_of_one_name_give_one_zone_and_name_taken_for_the_rest(booking: Stub) -> None:
    name = fresh_name()
    racers = 6
    barrier = threading.Barrier(racers)
    outcomes: list[tuple[str, str]] = []
    lock = threading.Lock()

    def race() -> None:
        barrier.wait()
        try:
            booking.CreateZone(pb.CreateZoneRequest(zone=zone_message(name=name)))
            outcome = ("OK", "")
        except grpc.RpcError as error:
            details = rich_error(error)
            outcome = (details.code.name, details.reason)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == [("ALREADY_EXISTS", "ZONE_NAME_TAKEN")] * (racers - 1) + [("OK", "")]


def test_get_zone_with_a_malformed_id_is_invalid_and_an_unknown_one_not_found(booking: Stub) -> None:
    error = failure(booking.GetZone, pb.GetZoneRequest(zone_id="north-1"))
    assert (error.code, list(error.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, ["zone_id"])
    error = failure(booking.GetZone, pb.GetZoneRequest(zone_id=fresh_id()))
    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "ZONE_NOT_FOUND")


def test_list_zones_pages_through_one_franchise_by_name(booking: Stub) -> None:
    franchise = fresh_id()
    names = [f"{letter} {fresh_name()}" for letter in "EDCBA"]
    for name in names:
        create(booking, name=name, franchise_id=franchise)
    listed: list[str] = []
    token = ""
    pages = 0
    while True:
        response = booking.ListZones(
            pb.ListZonesRequest(franchise_id=franchise, page_size=2, page_token=token)
        )
        listed.extend(zone.name for zone in response.zones)
        pages += 1
        token = response.next_page_token
        if not token:
            break
    assert listed == sorted(names)
    assert pages == 3


def test_list_zones_active_only_leaves_out_inactive_zones(booking: Stub) -> None:
    franchise = fresh_id()
    active = create(booking, franchise_id=franchise)
    create(booking, franchise_id=franchise, active=False)
    response = booking.ListZones(pb.ListZonesRequest(franchise_id=franchise, active_only=True))
    assert [zone.zone_id for zone in response.zones] == [active.zone_id]
    assert response.next_page_token == ""


@pytest.mark.parametrize("page_size", [-1, 501])
def test_list_zones_refuses_a_page_size_outside_0_to_500(booking: Stub, page_size: int) -> None:
    error = failure(booking.ListZones, pb.ListZonesRequest(page_size=page_size))
    assert (error.code, list(error.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_size"])


@pytest.mark.parametrize("page_token", ["forged", "eyJuYW1lIjoieCJ9", "'; DROP TABLE zones; --"])
def test_list_zones_refuses_a_forged_page_token(booking: Stub, page_token: str) -> None:
    error = failure(booking.ListZones, pb.ListZonesRequest(page_token=page_token))
    assert (error.code, list(error.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_token"])


def test_list_zones_refuses_a_token_that_carries_a_nul_character(booking: Stub) -> None:
    """Well formed but for a NUL in the name, which would otherwise reach PostgreSQL (INTERNAL)."""
    fingerprint = filters_fingerprint({"active_only": "False", "franchise_id": ""})
    token = encode_page_token({"filters": fingerprint, "name": "a\x00b", "zone_id": fresh_id()})

    error = failure(booking.ListZones, pb.ListZonesRequest(page_token=token))

    assert (error.code, list(error.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_token"])


def test_list_zones_refuses_a_token_replayed_with_other_filters(booking: Stub) -> None:
    franchise = fresh_id()
    for _ in range(2):
        create(booking, franchise_id=franchise)
    token = booking.ListZones(pb.ListZonesRequest(franchise_id=franchise, page_size=1)).next_page_token
    assert token
    error = failure(booking.ListZones, pb.ListZonesRequest(franchise_id=fresh_id(), page_token=token))
    assert list(error.violations) == ["page_token"]


def test_list_zones_refuses_a_malformed_franchise_id(booking: Stub) -> None:
    error = failure(booking.ListZones, pb.ListZonesRequest(franchise_id="north"))
    assert (error.code, list(error.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, ["franchise_id"])


def test_update_zone_changes_only_the_masked_fields(booking: Stub) -> None:
    zone = create(booking, radius_km=3.0)
    new_name = fresh_name()
    change = common_pb2.Zone(
        zone_id=zone.zone_id, name=new_name, radius_km=9.0, active=False, franchise_id=fresh_id()
    )
    updated = booking.UpdateZone(
        pb.UpdateZoneRequest(zone=change, update_mask=mask("name", "radius_km"))
    ).zone
    assert (updated.name, updated.radius_km) == (new_name, 9.0)
    assert (updated.active, updated.franchise_id, updated.center) == (True, "", zone.center)
    assert updated.create_time == zone.create_time
    assert updated.update_time.ToDatetime() >= zone.update_time.ToDatetime()
    assert booking.GetZone(pb.GetZoneRequest(zone_id=zone.zone_id)).zone == updated


def test_moving_a_zone_moves_where_it_is_found(booking: Stub) -> None:
    zone = create(booking)
    new_centre = random_place()
    change = common_pb2.Zone(zone_id=zone.zone_id, center=new_centre)
    booking.UpdateZone(pb.UpdateZoneRequest(zone=change, update_mask=mask("center")))
    assert [m.zone.zone_id for m in matches_of(booking, new_centre, zone.zone_id)] == [zone.zone_id]
    assert matches_of(booking, zone.center, zone.zone_id) == []


def test_update_zone_refuses_a_missing_or_unknown_mask_path(booking: Stub) -> None:
    zone = create(booking)
    request = pb.UpdateZoneRequest(zone=common_pb2.Zone(zone_id=zone.zone_id))
    assert list(failure(booking.UpdateZone, request).violations) == ["update_mask"]
    request = pb.UpdateZoneRequest(
        zone=common_pb2.Zone(zone_id=zone.zone_id), update_mask=mask("active", "colour")
    )
    error = failure(booking.UpdateZone, request)
    assert (error.code, list(error.violations)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ["update_mask.paths[1]"],
    )


def test_update_zone_validates_the_masked_fields(booking: Stub) -> None:
    zone = create(booking)
    change = common_pb2.Zone(zone_id=zone.zone_id, radius_km=0.0, name="")
    error = failure(
        booking.UpdateZone, pb.UpdateZoneRequest(zone=change, update_mask=mask("radius_km", "name"))
    )
    assert set(error.violations) == {"zone.radius_km", "zone.name"}


def test_update_zone_on_an_unknown_or_malformed_id(booking: Stub) -> None:
    request = pb.UpdateZoneRequest(
        zone=common_pb2.Zone(zone_id=fresh_id(), active=True), update_mask=mask("active")
    )
    error = failure(booking.UpdateZone, request)
    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "ZONE_NOT_FOUND")
    request = pb.UpdateZoneRequest(zone=common_pb2.Zone(zone_id="z-1"), update_mask=mask("active"))
    assert list(failure(booking.UpdateZone, request).violations) == ["zone.zone_id"]


def test_renaming_a_zone_to_a_taken_name_is_name_taken(booking: Stub) -> None:
    taken = create(booking)
    zone = create(booking)
    change = common_pb2.Zone(zone_id=zone.zone_id, name=taken.name)
    error = failure(booking.UpdateZone, pb.UpdateZoneRequest(zone=change, update_mask=mask("name")))
    assert (error.code, error.reason) == (grpc.StatusCode.ALREADY_EXISTS, "ZONE_NAME_TAKEN")


def test_find_zones_at_exactly_the_centre_returns_the_zone_at_distance_zero(booking: Stub) -> None:
    zone = create(booking)
    [match] = matches_of(booking, zone.center, zone.zone_id)
    assert match.zone == zone
    assert match.distance_km == 0.0


def test_find_zones_lists_containing_zones_nearest_centre_first(booking: Stub) -> None:
    wide = create(booking, radius_km=50.0)
    point = common_pb2.GeoPoint(latitude=wide.center.latitude + 0.1, longitude=wide.center.longitude)
    tight = create(booking, center=point, radius_km=1.0)
    elsewhere = create(
        booking, center=common_pb2.GeoPoint(latitude=point.latitude + 0.2, longitude=point.longitude)
    )
    matches = matches_of(booking, point, wide.zone_id, tight.zone_id, elsewhere.zone_id)
    assert [m.zone.zone_id for m in matches] == [tight.zone_id, wide.zone_id]
    assert matches[1].distance_km == pytest.approx(11.12, abs=0.01)


def test_find_zones_ignores_inactive_zones(booking: Stub) -> None:
    zone = create(booking)
    booking.UpdateZone(
        pb.UpdateZoneRequest(zone=common_pb2.Zone(zone_id=zone.zone_id), update_mask=mask("active"))
    )
    assert matches_of(booking, zone.center, zone.zone_id) == []
    inactive = create(booking, active=False)
    assert matches_of(booking, inactive.center, inactive.zone_id) == []


def test_find_zones_outside_every_zone_returns_no_matches(booking: Stub) -> None:
    assert list(booking.FindZones(pb.FindZonesRequest(location=POINT_NEMO)).matches) == []


def test_find_zones_needs_a_location_in_range(booking: Stub) -> None:
    error = failure(booking.FindZones, pb.FindZonesRequest())
    assert (error.code, error.violations) == (grpc.StatusCode.INVALID_ARGUMENT, {"location": "is required"})
    request = pb.FindZonesRequest(location=common_pb2.GeoPoint(latitude=-91.0, longitude=math.nan))
    assert set(failure(booking.FindZones, request).violations) == {"location.latitude", "location.longitude"}
