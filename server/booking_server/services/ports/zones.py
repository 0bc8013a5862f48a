"""Port: what the use cases need from storage for zones."""

from __future__ import annotations

from typing import Protocol

from booking_server.domain.model import GeoPoint, Zone
from booking_server.domain.zone_rules import ZoneListQuery, ZoneRecord


class ZoneRepository(Protocol):
    """Storage of zones; implemented in booking_server.db.repositories.zones.

    Writes raise AlreadyExistsError with reason ZONE_NAME_TAKEN when the name is used by
    another zone of the same operator, and leave the transaction usable after it.
    """

    def add(self, zone: Zone) -> ZoneRecord:
        """Insert a new zone; AlreadyExistsError ZONE_ALREADY_EXISTS when the id is taken."""
        ...

    def upsert(self, zone: Zone) -> ZoneRecord:
        """Insert the zone, or replace the zone with its id (keeping its create time)."""
        ...

    def replace(self, zone: Zone) -> ZoneRecord | None:
        """Overwrite the stored zone with this id; None when there is none."""
        ...

    def get(self, zone_id: str, *, for_update: bool = False) -> ZoneRecord | None:
        """One zone by (lower-case) id; `for_update` locks it until the transaction ends."""
        ...

    def list_page(self, query: ZoneListQuery, *, limit: int) -> list[ZoneRecord]:
        """Up to `limit` zones after `query.after`, by name then id."""
        ...

    def active_zones_boxing(self, point: GeoPoint) -> list[ZoneRecord]:
        """Active zones whose bounding box contains the point (a superset of the containing ones)."""
        ...
