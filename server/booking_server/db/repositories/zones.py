"""SQL for zones: implements services.ports.zones.ZoneRepository."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from booking_server.db.models import ZONE_BOX_SQL, ZoneRow
from booking_server.domain.errors import AlreadyExistsError
from booking_server.domain.geo import bounding_box
from booking_server.domain.model import GeoPoint, Zone
from booking_server.domain.zone_rules import ZONE_ALREADY_EXISTS, ZONE_NAME_TAKEN, ZoneListQuery, ZoneRecord

zones = cast("Table", ZoneRow.__table__)
_NAME_INDEXES = frozenset({"uq_zones_company_name", "uq_zones_franchise_name"})
# Written exactly as the expression of ix_zones_bbox (and with `active`, its predicate), so
# the planner answers it from that GiST index.
_BOX_CONTAINS_POINT = text(f"{ZONE_BOX_SQL} @> point(:longitude, :latitude)")


class SqlZoneRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, zone: Zone) -> ZoneRecord:
        statement = insert(zones).values(id=uuid.UUID(zone.zone_id), **_columns(zone)).returning(zones)
        return self._write(lambda: self._conn.execute(statement).one())

    def upsert(self, zone: Zone) -> ZoneRecord:
        columns = _columns(zone)
        statement = (
            insert(zones)
            .values(id=uuid.UUID(zone.zone_id), **columns)
            .on_conflict_do_update(index_elements=[zones.c.id], set_={**columns, "updated_at": func.now()})
            .returning(zones)
        )
        return self._write(lambda: self._conn.execute(statement).one())

    def replace(self, zone: Zone) -> ZoneRecord | None:
        statement = (
            zones.update()
            .where(zones.c.id == uuid.UUID(zone.zone_id))
            .values(**_columns(zone), updated_at=func.now())
            .returning(zones)
        )
        return self._write_optional(lambda: self._conn.execute(statement).one_or_none())

    def get(self, zone_id: str, *, for_update: bool = False) -> ZoneRecord | None:
        statement = select(zones).where(zones.c.id == uuid.UUID(zone_id))
        if for_update:
            statement = statement.with_for_update()
        row = self._conn.execute(statement).one_or_none()
        return None if row is None else _record(row)

    def list_page(self, query: ZoneListQuery, *, limit: int) -> list[ZoneRecord]:
        statement = select(zones).order_by(zones.c.name, zones.c.id).limit(limit)
        if query.active_only:
            statement = statement.where(zones.c.active)
        if query.franchise_id is not None:
            statement = statement.where(zones.c.franchise_id == uuid.UUID(query.franchise_id))
        if query.after is not None:
            after = (query.after.name, uuid.UUID(query.after.zone_id))
            statement = statement.where(tuple_(zones.c.name, zones.c.id) > tuple_(*after))
        return [_record(row) for row in self._conn.execute(statement)]

    def active_zones_boxing(self, point: GeoPoint) -> list[ZoneRecord]:
        statement = (
            select(zones)
            .where(zones.c.active)
            .where(_BOX_CONTAINS_POINT.bindparams(longitude=point.longitude, latitude=point.latitude))
        )
        return [_record(row) for row in self._conn.execute(statement)]

    def _write(self, execute: Callable[[], Row[Any]]) -> ZoneRecord:
        row = self._write_optional(execute)
        assert row is not None  # an INSERT ... RETURNING always returns its row
        return row

    def _write_optional(self, execute: Callable[[], Row[Any] | None]) -> ZoneRecord | None:
        """Run one write in a savepoint and turn unique violations into domain errors.

        The savepoint keeps the caller's transaction usable after the expected failure; the
        unique indexes (not a prior SELECT) decide, so concurrent writers get exactly one
        winner and the others a clean ALREADY_EXISTS.
        """
        try:
            with self._conn.begin_nested():
                row = execute()
        except IntegrityError as exc:
            error = _domain_error(exc)
            if error is None:
                raise  # any other constraint means a bug upstream: let it surface as INTERNAL
            raise error from exc
        return None if row is None else _record(row)


def _domain_error(exc: IntegrityError) -> AlreadyExistsError | None:
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if constraint in _NAME_INDEXES:
        return AlreadyExistsError("a zone of this operator already has this name", reason=ZONE_NAME_TAKEN)
    if constraint == "pk_zones":
        return AlreadyExistsError("a zone with this zone_id already exists", reason=ZONE_ALREADY_EXISTS)
    return None


def _columns(zone: Zone) -> dict[str, Any]:
    box = bounding_box(zone.center, zone.radius_km)
    return {
        "name": zone.name,
        "franchise_id": None if zone.franchise_id is None else uuid.UUID(zone.franchise_id),
        "center_latitude": zone.center.latitude,
        "center_longitude": zone.center.longitude,
        "radius_km": zone.radius_km,
        "bbox_min_latitude": box.min_latitude,
        "bbox_max_latitude": box.max_latitude,
        "bbox_min_longitude": box.min_longitude,
        "bbox_max_longitude": box.max_longitude,
        "active": zone.active,
    }


def _record(row: Row[Any]) -> ZoneRecord:
    values = row._mapping
    franchise_id = values["franchise_id"]
    return ZoneRecord(
        zone=Zone(
            zone_id=str(values["id"]),
            name=values["name"],
            franchise_id=None if franchise_id is None else str(franchise_id),
            center=GeoPoint(values["center_latitude"], values["center_longitude"]),
            radius_km=values["radius_km"],
            active=values["active"],
        ),
        create_time=values["created_at"],
        update_time=values["updated_at"],
    )
