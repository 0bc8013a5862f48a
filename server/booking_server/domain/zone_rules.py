"""Zone input rules: what CreateZone, UpdateZone, ListZones and FindZones accept (product.md 1.3).

Field paths are the proto paths of the request (`zone.name`, `zone.center.latitude`), all
violations are reported at once, and ids come out lower-case so that one UUID written in two
cases is one zone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from booking_server.domain.errors import FieldViolation, require_no_violations
from booking_server.domain.model import GeoPoint, Zone
from booking_server.domain.pagination import (
    decode_page_token,
    encode_page_token,
    filters_fingerprint,
    reject_page_token,
    resolve_page_size,
)
from booking_server.domain.validation import check_text, is_uuid, validate_geo_point, validate_uuid_field

ZONE_NOT_FOUND = "ZONE_NOT_FOUND"
ZONE_NAME_TAKEN = "ZONE_NAME_TAKEN"
ZONE_ALREADY_EXISTS = "ZONE_ALREADY_EXISTS"
MAX_NAME_CHARS = 200
MAX_RADIUS_KM = 20000.0  # half the Earth's circumference: a larger circle covers nothing more
UPDATABLE_FIELDS = ("name", "franchise_id", "center", "radius_km", "active")
# AIP-134: "*" in an update mask means "replace every updatable field".
FULL_REPLACEMENT = "*"
_TOKEN_KEYS = ("name", "zone_id", "filters")


@dataclass(frozen=True, slots=True)
class ZoneRecord:
    """A stored zone with its timestamps."""

    zone: Zone
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True, slots=True)
class ZoneDraft:
    """A zone as the caller sent it: "" = not given; `center` None = not given."""

    zone_id: str = ""
    name: str = ""
    franchise_id: str = ""
    center: GeoPoint | None = None
    radius_km: float = 0.0
    active: bool = False


@dataclass(frozen=True, slots=True)
class ZoneChanges:
    """A validated UpdateZone: the zone to change and the new values of the `paths` only."""

    zone_id: str
    paths: frozenset[str]
    draft: ZoneDraft

    def apply(self, zone: Zone) -> Zone:
        """The zone with the masked fields replaced; the others stay as stored."""
        paths, draft = self.paths, self.draft
        return Zone(
            zone_id=zone.zone_id,
            name=draft.name.strip() if "name" in paths else zone.name,
            franchise_id=_optional_id(draft.franchise_id) if "franchise_id" in paths else zone.franchise_id,
            center=draft.center if "center" in paths and draft.center is not None else zone.center,
            radius_km=draft.radius_km if "radius_km" in paths else zone.radius_km,
            active=draft.active if "active" in paths else zone.active,
        )


@dataclass(frozen=True, slots=True)
class ZoneCursor:
    """Keyset position in the name order of ListZones: the last zone of the previous page."""

    name: str
    zone_id: str


@dataclass(frozen=True, slots=True)
class ZoneListQuery:
    """A validated ListZones request."""

    active_only: bool
    franchise_id: str | None
    page_size: int
    after: ZoneCursor | None

    def next_page_token(self, last: Zone) -> str:
        """The token of the page after the one ending with `last`."""
        return encode_page_token({"name": last.name, "zone_id": last.zone_id, "filters": self._fingerprint()})

    def _fingerprint(self) -> str:
        return _list_fingerprint(active_only=self.active_only, franchise_id=self.franchise_id)


def validate_new_zone(draft: ZoneDraft, *, generated_id: str) -> Zone:
    """The zone to create; `generated_id` is used when the caller gave no zone_id."""
    violations: list[FieldViolation] = []
    _check_optional_uuid(draft.zone_id, "zone.zone_id", violations)
    _check_name(draft.name, violations)
    _check_optional_uuid(draft.franchise_id, "zone.franchise_id", violations)
    validate_geo_point(draft.center, "zone.center", violations)
    _check_radius(draft.radius_km, violations)
    require_no_violations(violations)
    assert draft.center is not None  # checked above; narrows the type
    return Zone(
        zone_id=(draft.zone_id or generated_id).lower(),
        name=draft.name.strip(),
        franchise_id=_optional_id(draft.franchise_id),
        center=draft.center,
        radius_km=draft.radius_km,
        active=draft.active,
    )


def validate_zone_changes(draft: ZoneDraft, update_mask: Sequence[str]) -> ZoneChanges:
    """An UpdateZone request; only the fields named by the mask are checked and changed."""
    violations: list[FieldViolation] = []
    validate_uuid_field(draft.zone_id, "zone.zone_id", violations)
    paths = _mask_paths(update_mask, violations)
    if "name" in paths:
        _check_name(draft.name, violations)
    if "franchise_id" in paths:
        _check_optional_uuid(draft.franchise_id, "zone.franchise_id", violations)
    if "center" in paths:
        validate_geo_point(draft.center, "zone.center", violations)
    if "radius_km" in paths:
        _check_radius(draft.radius_km, violations)
    require_no_violations(violations)
    return ZoneChanges(zone_id=draft.zone_id.lower(), paths=paths, draft=draft)


def validate_zone_id(zone_id: str, field: str = "zone_id") -> str:
    """A required zone id, lower-case; InvalidRequestError otherwise."""
    violations: list[FieldViolation] = []
    validate_uuid_field(zone_id, field, violations)
    require_no_violations(violations)
    return zone_id.lower()


def validate_location(point: GeoPoint | None, field: str = "location") -> GeoPoint:
    """A required point with coordinates in range; InvalidRequestError otherwise."""
    violations: list[FieldViolation] = []
    validate_geo_point(point, field, violations)
    require_no_violations(violations)
    assert point is not None  # checked above; narrows the type
    return point


def validate_zone_list(
    *, active_only: bool, franchise_id: str, page_size: int, page_token: str
) -> ZoneListQuery:
    """A ListZones request; the token must come from the same filters."""
    violations: list[FieldViolation] = []
    _check_optional_uuid(franchise_id, "franchise_id", violations)
    size = resolve_page_size(page_size, violations)
    franchise = _optional_id(franchise_id) if is_uuid(franchise_id) else None
    fingerprint = _list_fingerprint(active_only=active_only, franchise_id=franchise)
    values = decode_page_token(page_token, keys=_TOKEN_KEYS, violations=violations)
    after = None
    if values is not None:
        if values["filters"] != fingerprint or not is_uuid(values["zone_id"]) or not values["name"]:
            reject_page_token(violations)
        else:
            after = ZoneCursor(name=values["name"], zone_id=values["zone_id"].lower())
    require_no_violations(violations)
    return ZoneListQuery(active_only=active_only, franchise_id=franchise, page_size=size, after=after)


def _list_fingerprint(*, active_only: bool, franchise_id: str | None) -> str:
    return filters_fingerprint({"active_only": str(active_only), "franchise_id": franchise_id or ""})


def _mask_paths(update_mask: Sequence[str], violations: list[FieldViolation]) -> frozenset[str]:
    if not update_mask:
        violations.append(
            FieldViolation("update_mask", f"must name the fields to change: {', '.join(UPDATABLE_FIELDS)}")
        )
        return frozenset()
    paths: set[str] = set()
    for index, path in enumerate(update_mask):
        if path == FULL_REPLACEMENT:
            paths.update(UPDATABLE_FIELDS)
        elif path in UPDATABLE_FIELDS:
            paths.add(path)
        else:
            violations.append(
                FieldViolation(
                    f"update_mask.paths[{index}]",
                    f"is not an updatable field; use one of {', '.join(UPDATABLE_FIELDS)}",
                )
            )
    return frozenset(paths)


def _check_name(name: str, violations: list[FieldViolation]) -> None:
    # Names are stored trimmed, so "North" and "North " cannot coexist as two zones.
    if not name.strip():
        violations.append(FieldViolation("zone.name", "is required"))
    else:
        check_text(name.strip(), "zone.name", max_chars=MAX_NAME_CHARS, violations=violations)


def _check_radius(radius_km: float, violations: list[FieldViolation]) -> None:
    if not math.isfinite(radius_km) or not 0.0 < radius_km <= MAX_RADIUS_KM:
        violations.append(
            FieldViolation("zone.radius_km", f"must be a number greater than 0 and at most {MAX_RADIUS_KM:g}")
        )


def _check_optional_uuid(value: str, field: str, violations: list[FieldViolation]) -> None:
    if value and not is_uuid(value):
        violations.append(FieldViolation(field, "must be a UUID (8-4-4-4-12 hexadecimal) or empty"))


def _optional_id(value: str) -> str | None:
    return value.lower() if value else None
