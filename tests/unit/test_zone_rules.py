"""What CreateZone, UpdateZone, ListZones and FindZones accept (product.md 1.3)."""

from __future__ import annotations

import dataclasses
import math

import pytest
from booking_server.domain.errors import InvalidRequestError
from booking_server.domain.model import GeoPoint, Zone
from booking_server.domain.pagination import encode_page_token
from booking_server.domain.zone_rules import (
    ZoneCursor,
    ZoneDraft,
    validate_location,
    validate_new_zone,
    validate_zone_changes,
    validate_zone_id,
    validate_zone_list,
)

ZONE_ID = "5D1C8E0A-7B2F-4C3D-9E4F-A0B1C2D3E4F5"
FRANCHISE_ID = "9A8B7C6D-5E4F-4A3B-8C2D-1E0F9A8B7C6D"
GENERATED_ID = "00000000-0000-4000-8000-000000000001"
HYDERABAD = GeoPoint(17.385, 78.4867)
DRAFT = ZoneDraft(name="Banjara Hills", center=HYDERABAD, radius_km=5.0, active=True)
STORED = Zone(
    zone_id=ZONE_ID.lower(),
    name="Old name",
    franchise_id=None,
    center=GeoPoint(10.0, 10.0),
    radius_km=1.0,
    active=True,
)


def violations_of(call: object, *args: object, **kwargs: object) -> dict[str, str]:
    with pytest.raises(InvalidRequestError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    assert caught.value.reason == "INVALID_REQUEST"
    return {v.field: v.description for v in caught.value.violations}


def test_a_new_zone_gets_lower_case_ids_and_a_trimmed_name() -> None:
    draft = dataclasses.replace(DRAFT, zone_id=ZONE_ID, name="  Banjara Hills ", franchise_id=FRANCHISE_ID)
    zone = validate_new_zone(draft, generated_id=GENERATED_ID)
    assert zone == Zone(ZONE_ID.lower(), "Banjara Hills", FRANCHISE_ID.lower(), HYDERABAD, 5.0, True)


def test_a_new_zone_without_an_id_takes_the_generated_one_and_without_franchise_is_company() -> None:
    zone = validate_new_zone(DRAFT, generated_id=GENERATED_ID)
    assert zone.zone_id == GENERATED_ID
    assert zone.franchise_id is None


def test_every_problem_of_a_new_zone_is_reported_at_once_on_its_proto_path() -> None:
    draft = ZoneDraft(zone_id="zone-1", name="   ", franchise_id="acme", center=None, radius_km=0.0)
    assert set(violations_of(validate_new_zone, draft, generated_id=GENERATED_ID)) == {
        "zone.zone_id",
        "zone.name",
        "zone.franchise_id",
        "zone.center",
        "zone.radius_km",
    }


@pytest.mark.parametrize(
    ("center", "field"),
    [
        (GeoPoint(90.5, 0.0), "zone.center.latitude"),
        (GeoPoint(0.0, -180.5), "zone.center.longitude"),
        (GeoPoint(math.nan, 0.0), "zone.center.latitude"),
    ],
)
def test_a_centre_out_of_range_is_a_violation_on_that_coordinate(center: GeoPoint, field: str) -> None:
    draft = dataclasses.replace(DRAFT, center=center)
    assert list(violations_of(validate_new_zone, draft, generated_id=GENERATED_ID)) == [field]


@pytest.mark.parametrize("radius_km", [0.0, -1.0, 20000.001, math.inf, math.nan])
def test_a_radius_must_be_finite_above_zero_and_at_most_20000_km(radius_km: float) -> None:
    draft = dataclasses.replace(DRAFT, radius_km=radius_km)
    assert list(violations_of(validate_new_zone, draft, generated_id=GENERATED_ID)) == ["zone.radius_km"]


@pytest.mark.parametrize("radius_km", [0.001, 20000.0])
def test_radii_at_the_bounds_are_accepted(radius_km: float) -> None:
    draft = dataclasses.replace(DRAFT, radius_km=radius_km)
    assert validate_new_zone(draft, generated_id=GENERATED_ID).radius_km == radius_km


def test_a_name_may_have_200_characters_but_not_201() -> None:
    assert validate_new_zone(dataclasses.replace(DRAFT, name="n" * 200), generated_id=GENERATED_ID)
    draft = dataclasses.replace(DRAFT, name="n" * 201)
    assert list(violations_of(validate_new_zone, draft, generated_id=GENERATED_ID)) == ["zone.name"]


def test_an_update_changes_only_the_masked_fields() -> None:
    draft = ZoneDraft(zone_id=ZONE_ID, name=" New name ", radius_km=0.0, active=False)
    changes = validate_zone_changes(draft, ["name"])
    assert changes.apply(STORED) == dataclasses.replace(STORED, name="New name")


def test_fields_outside_the_mask_are_not_validated() -> None:
    draft = ZoneDraft(zone_id=ZONE_ID, name="", center=None, radius_km=-5.0)
    assert validate_zone_changes(draft, ["active"]).apply(STORED) == dataclasses.replace(STORED, active=False)


def test_a_star_mask_replaces_every_updatable_field() -> None:
    draft = dataclasses.replace(DRAFT, zone_id=ZONE_ID, franchise_id=FRANCHISE_ID, active=False)
    updated = validate_zone_changes(draft, ["*"]).apply(STORED)
    assert updated == Zone(STORED.zone_id, "Banjara Hills", FRANCHISE_ID.lower(), HYDERABAD, 5.0, False)


def test_an_empty_franchise_in_the_mask_turns_a_franchise_zone_into_a_company_zone() -> None:
    stored = dataclasses.replace(STORED, franchise_id=FRANCHISE_ID.lower())
    changes = validate_zone_changes(ZoneDraft(zone_id=ZONE_ID), ["franchise_id"])
    assert changes.apply(stored).franchise_id is None


def test_an_update_needs_a_mask_and_names_unknown_paths_by_index() -> None:
    assert list(violations_of(validate_zone_changes, DRAFT, [])) == ["zone.zone_id", "update_mask"]
    draft = dataclasses.replace(DRAFT, zone_id=ZONE_ID)
    assert list(violations_of(validate_zone_changes, draft, ["name", "create_time", "zone_id"])) == [
        "update_mask.paths[1]",
        "update_mask.paths[2]",
    ]


def test_masked_fields_are_validated_on_their_proto_paths() -> None:
    draft = ZoneDraft(zone_id=ZONE_ID, name="", franchise_id="x", center=None, radius_km=0.0)
    mask = ["name", "franchise_id", "center", "radius_km"]
    assert set(violations_of(validate_zone_changes, draft, mask)) == {
        "zone.name",
        "zone.franchise_id",
        "zone.center",
        "zone.radius_km",
    }


def test_a_zone_id_is_required_and_comes_back_lower_case() -> None:
    assert validate_zone_id(ZONE_ID) == ZONE_ID.lower()
    assert violations_of(validate_zone_id, "") == {"zone_id": "is required"}
    assert list(violations_of(validate_zone_id, "12345")) == ["zone_id"]


def test_a_location_is_required_and_must_be_in_range() -> None:
    assert validate_location(HYDERABAD) == HYDERABAD
    assert violations_of(validate_location, None) == {"location": "is required"}
    assert list(violations_of(validate_location, GeoPoint(0.0, 181.0))) == ["location.longitude"]


def test_a_zone_list_token_resumes_after_the_last_zone_of_the_same_filters() -> None:
    first = validate_zone_list(active_only=True, franchise_id=FRANCHISE_ID, page_size=0, page_token="")
    assert (first.page_size, first.franchise_id, first.after) == (50, FRANCHISE_ID.lower(), None)
    token = first.next_page_token(dataclasses.replace(STORED, name="Kukatpally"))
    second = validate_zone_list(active_only=True, franchise_id=FRANCHISE_ID, page_size=10, page_token=token)
    assert second.after == ZoneCursor(name="Kukatpally", zone_id=STORED.zone_id)


def test_a_zone_list_token_is_refused_with_other_filters_or_forged_values() -> None:
    first = validate_zone_list(active_only=True, franchise_id="", page_size=0, page_token="")
    token = first.next_page_token(STORED)
    assert list(
        violations_of(validate_zone_list, active_only=False, franchise_id="", page_size=0, page_token=token)
    ) == ["page_token"]
    forged = encode_page_token({"name": "x", "zone_id": "1 OR 1=1", "filters": "0"})
    kwargs = {"active_only": False, "franchise_id": "", "page_size": 0, "page_token": forged}
    assert list(violations_of(validate_zone_list, **kwargs)) == ["page_token"]


def test_a_zone_list_reports_a_bad_franchise_and_page_size_together() -> None:
    kwargs = {"active_only": False, "franchise_id": "acme", "page_size": 501, "page_token": ""}
    assert list(violations_of(validate_zone_list, **kwargs)) == ["franchise_id", "page_size"]
