"""Zone use cases: CreateZone, GetZone, ListZones, UpdateZone, FindZones, and the zone lookup
the assignment engine uses (product.md 1.3)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from booking_server.domain.errors import NotFoundError
from booking_server.domain.geo import containing_zones
from booking_server.domain.model import GeoPoint, Zone
from booking_server.domain.zone_rules import (
    ZONE_NOT_FOUND,
    ZoneDraft,
    ZoneRecord,
    validate_location,
    validate_new_zone,
    validate_zone_changes,
    validate_zone_id,
    validate_zone_list,
)
from booking_server.services.ports.capacity_events import CapacityCause
from booking_server.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ZonePage:
    """One page of ListZones; `next_page_token` is "" on the last page."""

    zones: tuple[ZoneRecord, ...]
    next_page_token: str


@dataclass(frozen=True, slots=True)
class ZoneMatch:
    """An active zone containing a point, and the point's distance to its centre."""

    record: ZoneRecord
    distance_km: float


class ZoneService:
    """Zone use cases; each opens its own unit of work."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    def create_zone(self, draft: ZoneDraft) -> ZoneRecord:
        """Store a new zone; ZONE_NAME_TAKEN / ZONE_ALREADY_EXISTS when it clashes."""
        zone = validate_new_zone(draft, generated_id=str(uuid.uuid4()))
        with self._uow_factory() as uow:
            record = uow.zones.add(zone)
            uow.commit()
        log.info("zone_created", zone_id=zone.zone_id, franchise_id=zone.franchise_id)
        return record

    def get_zone(self, zone_id: str) -> ZoneRecord:
        """One zone; NotFoundError ZONE_NOT_FOUND when unknown."""
        key = validate_zone_id(zone_id)
        with self._uow_factory() as uow:
            record = uow.zones.get(key)
        if record is None:
            raise _zone_not_found(key)
        return record

    def list_zones(
        self, *, active_only: bool = False, franchise_id: str = "", page_size: int = 0, page_token: str = ""
    ) -> ZonePage:
        """One page of zones by name (then id)."""
        query = validate_zone_list(
            active_only=active_only, franchise_id=franchise_id, page_size=page_size, page_token=page_token
        )
        with self._uow_factory() as uow:
            # One row more than the page tells whether another page follows, without a COUNT.
            records = uow.zones.list_page(query, limit=query.page_size + 1)
        page = tuple(records[: query.page_size])
        more = len(records) > query.page_size
        return ZonePage(zones=page, next_page_token=query.next_page_token(page[-1].zone) if more else "")

    def update_zone(self, draft: ZoneDraft, update_mask: Sequence[str]) -> ZoneRecord:
        """Change the masked fields of a zone; the others keep their stored values."""
        changes = validate_zone_changes(draft, update_mask)
        with self._uow_factory() as uow:
            # Locked read-modify-write: two concurrent partial updates both take effect.
            current = uow.zones.get(changes.zone_id, for_update=True)
            if current is None:
                raise _zone_not_found(changes.zone_id)
            record = uow.zones.replace(changes.apply(current.zone))
            if record is None:  # unreachable while the row is locked; kept for the type
                raise _zone_not_found(changes.zone_id)
            if record.zone.active:  # activated, moved or widened: its waiting purchases may fit now
                uow.capacity_events.record_zone(CapacityCause.ZONE_CHANGED, zone_id=record.zone.zone_id)
            uow.commit()
        log.info("zone_updated", zone_id=changes.zone_id, fields=sorted(changes.paths))
        return record

    def find_zones(self, location: GeoPoint | None) -> list[ZoneMatch]:
        """Active zones containing the point, nearest centre first (ties by zone id)."""
        point = validate_location(location)
        with self._uow_factory() as uow:
            return _matches(uow, point)

    def find_serving_zone(self, point: GeoPoint) -> tuple[Zone, float] | None:
        """The zone that serves a (validated) point and the distance to its centre, or None."""
        with self._uow_factory() as uow:
            return find_serving_zone_in(uow, point)


def find_serving_zone_in(uow: UnitOfWork, point: GeoPoint) -> tuple[Zone, float] | None:
    """find_serving_zone inside a unit of work the caller already has open (the assignment's)."""
    matches = _matches(uow, point)
    if not matches:
        return None
    return matches[0].record.zone, matches[0].distance_km


def _matches(uow: UnitOfWork, point: GeoPoint) -> list[ZoneMatch]:
    # The index answers "which boxes hold the point" (a superset); the exact great-circle
    # test and the ordering are the domain's, so SQL and Python can never disagree on them.
    candidates = {record.zone.zone_id: record for record in uow.zones.active_zones_boxing(point)}
    return [
        ZoneMatch(record=candidates[zone.zone_id], distance_km=distance_km)
        for zone, distance_km in containing_zones(point, (r.zone for r in candidates.values()))
    ]


def _zone_not_found(zone_id: str) -> NotFoundError:
    return NotFoundError(f"zone {zone_id} not found", reason=ZONE_NOT_FOUND)
