"""Zones on real PostgreSQL: storage, name uniqueness per operator, the indexed point lookup."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from booking_server.db.unit_of_work import SqlUnitOfWork
from booking_server.domain.errors import AlreadyExistsError, NotFoundError
from booking_server.domain.geo import bounding_box
from booking_server.domain.model import GeoPoint, Zone
from booking_server.domain.zone_rules import ZoneCursor, ZoneDraft, ZoneListQuery
from booking_server.services.unit_of_work import UnitOfWorkFactory
from booking_server.services.zones import ZoneService
from sqlalchemy import Connection, Engine, event, text

HYDERABAD = GeoPoint(17.385, 78.4867)


def make_zone(
    name: str = "", *, franchise_id: str | None = None, center: GeoPoint = HYDERABAD, radius_km: float = 5.0
) -> Zone:
    return Zone(
        zone_id=str(uuid.uuid4()),
        name=name or f"Zone {uuid.uuid4().hex[:10]}",
        franchise_id=franchise_id,
        center=center,
        radius_km=radius_km,
        active=True,
    )


def add(uow_factory: UnitOfWorkFactory, zone: Zone) -> None:
    with uow_factory() as uow:
        uow.zones.add(zone)
        uow.commit()


def test_a_stored_zone_reads_back_with_its_timestamps(uow_factory: UnitOfWorkFactory) -> None:
    zone = make_zone(franchise_id=str(uuid.uuid4()))
    with uow_factory() as uow:
        created = uow.zones.add(zone)
        uow.commit()
    with uow_factory() as uow:
        fetched = uow.zones.get(zone.zone_id)
    assert fetched == created
    assert fetched.zone == zone
    assert fetched.create_time.tzinfo is not None
    assert fetched.update_time >= fetched.create_time


def test_the_stored_bounding_box_is_the_domain_box_of_the_circle(
    uow_factory: UnitOfWorkFactory, connection: Connection
) -> None:
    zone = make_zone(radius_km=12.5)
    add(uow_factory, zone)
    row = connection.execute(
        text(
            "SELECT bbox_min_latitude, bbox_max_latitude, bbox_min_longitude, bbox_max_longitude "
            "FROM zones WHERE id = :id"
        ),
        {"id": zone.zone_id},
    ).one()
    box = bounding_box(zone.center, zone.radius_km)
    assert tuple(row) == (box.min_latitude, box.max_latitude, box.min_longitude, box.max_longitude)


def test_two_company_zones_cannot_share_a_name(uow_factory: UnitOfWorkFactory) -> None:
    first = make_zone()
    add(uow_factory, first)
    with uow_factory() as uow, pytest.raises(AlreadyExistsError) as caught:
        uow.zones.add(make_zone(first.name))
    assert caught.value.reason == "ZONE_NAME_TAKEN"


def test_a_company_zone_and_zones_of_two_franchises_may_share_a_name(uow_factory: UnitOfWorkFactory) -> None:
    name = f"Shared {uuid.uuid4().hex[:8]}"
    north, east = str(uuid.uuid4()), str(uuid.uuid4())
    for zone in (make_zone(name), make_zone(name, franchise_id=north), make_zone(name, franchise_id=east)):
        add(uow_factory, zone)
    with uow_factory() as uow, pytest.raises(AlreadyExistsError) as caught:
        uow.zones.add(make_zone(name, franchise_id=north))
    assert caught.value.reason == "ZONE_NAME_TAKEN"


def test_a_name_clash_leaves_the_transaction_usable(uow_factory: UnitOfWorkFactory) -> None:
    taken = make_zone()
    other = make_zone()
    with uow_factory() as uow:
        uow.zones.add(taken)
        with pytest.raises(AlreadyExistsError):
            uow.zones.add(make_zone(taken.name))
        uow.zones.add(other)
        uow.commit()
    with uow_factory() as uow:
        assert uow.zones.get(other.zone_id) is not None


def test_a_reused_zone_id_is_already_exists(uow_factory: UnitOfWorkFactory) -> None:
    zone = make_zone()
    add(uow_factory, zone)
    with uow_factory() as uow, pytest.raises(AlreadyExistsError) as caught:
        uow.zones.add(Zone(zone.zone_id, "Another name", None, HYDERABAD, 1.0, True))
    assert caught.value.reason == "ZONE_ALREADY_EXISTS"


def test_zones_list_by_name_and_resume_after_a_cursor(uow_factory: UnitOfWorkFactory) -> None:
    franchise = str(uuid.uuid4())
    names = ["Charlie", "alpha", "Bravo", "Delta"]
    for name in names:
        add(uow_factory, make_zone(name, franchise_id=franchise))
    query = ZoneListQuery(active_only=False, franchise_id=franchise, page_size=2, after=None)
    with uow_factory() as uow:
        everything = [r.zone.name for r in uow.zones.list_page(query, limit=10)]
        first = uow.zones.list_page(query, limit=2)
        cursor = ZoneCursor(first[-1].zone.name, first[-1].zone.zone_id)
        rest = uow.zones.list_page(ZoneListQuery(False, franchise, 2, cursor), limit=10)
    assert sorted(everything) == sorted(names)
    assert [r.zone.name for r in first + rest] == everything


def test_the_point_lookup_returns_active_zones_whose_box_holds_the_point(
    uow_factory: UnitOfWorkFactory,
) -> None:
    near = make_zone(center=GeoPoint(-33.0, 151.0), radius_km=10.0)
    inactive = make_zone(center=GeoPoint(-33.0, 151.0), radius_km=10.0)
    far = make_zone(center=GeoPoint(-33.5, 151.0), radius_km=10.0)
    with uow_factory() as uow:
        for zone in (near, inactive, far):
            uow.zones.add(zone)
        uow.zones.replace(dataclasses.replace(inactive, active=False))
        found = {r.zone.zone_id for r in uow.zones.active_zones_boxing(GeoPoint(-33.05, 151.05))}
    assert near.zone_id in found
    assert inactive.zone_id not in found
    assert far.zone_id not in found


def test_the_point_lookup_is_answered_by_the_bounding_box_index(
    uow_factory: UnitOfWorkFactory, connection: Connection
) -> None:
    add(uow_factory, make_zone())
    executed: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        executed.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", record)
    with uow_factory() as uow:
        uow.zones.active_zones_boxing(HYDERABAD)
    event.remove(connection, "before_cursor_execute", record)
    statement, parameters = next((s, p) for s, p in executed if "@>" in s)
    # Even with sequential scans allowed, the tiny test table might be scanned; forbidding
    # them shows the index can answer the query's exact expression and predicate.
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars().all()
    assert any("ix_zones_bbox" in line for line in plan), plan


def test_find_zones_orders_containing_zones_by_distance_and_skips_the_others(
    uow_factory: UnitOfWorkFactory,
) -> None:
    service = ZoneService(uow_factory)
    point = GeoPoint(48.8566, 2.3522)
    wide = service.create_zone(new_zone(GeoPoint(48.9, 2.4), radius_km=50.0))
    tight = service.create_zone(new_zone(point, radius_km=1.0))
    outside = service.create_zone(new_zone(GeoPoint(48.95, 2.35), radius_km=5.0))
    mine = {wide.zone.zone_id, tight.zone.zone_id, outside.zone.zone_id}
    # Other test modules may have committed zones of their own: look at ours only.
    matches = [m for m in service.find_zones(point) if m.record.zone.zone_id in mine]
    assert [m.record for m in matches] == [tight, wide]
    assert matches[0].distance_km == 0.0
    assert service.find_serving_zone(point) == (tight.zone, 0.0)


def test_find_serving_zone_is_none_where_no_zone_serves(uow_factory: UnitOfWorkFactory) -> None:
    assert ZoneService(uow_factory).find_serving_zone(GeoPoint(-48.8767, -123.3933)) is None


def test_update_zone_moves_the_box_with_the_centre(uow_factory: UnitOfWorkFactory) -> None:
    service = ZoneService(uow_factory)
    record = service.create_zone(new_zone(GeoPoint(1.0, 1.0), radius_km=2.0))
    moved = GeoPoint(-20.0, 30.0)
    draft = ZoneDraft(zone_id=record.zone.zone_id, name="ignored", center=moved, radius_km=99.0)
    updated = service.update_zone(draft, ["center"])
    assert updated.zone == Zone(record.zone.zone_id, record.zone.name, None, moved, 2.0, True)
    assert record.zone.zone_id in {m.record.zone.zone_id for m in service.find_zones(moved)}
    assert record.zone.zone_id not in {m.record.zone.zone_id for m in service.find_zones(GeoPoint(1.0, 1.0))}


def test_updating_or_getting_an_unknown_zone_is_zone_not_found(uow_factory: UnitOfWorkFactory) -> None:
    service = ZoneService(uow_factory)
    unknown = str(uuid.uuid4())
    with pytest.raises(NotFoundError) as caught:
        service.update_zone(ZoneDraft(zone_id=unknown, active=True), ["active"])
    assert caught.value.reason == "ZONE_NOT_FOUND"
    with pytest.raises(NotFoundError) as caught:
        service.get_zone(unknown)
    assert caught.value.reason == "ZONE_NOT_FOUND"


@pytest.fixture
def committed_zone_ids(engine: Engine) -> Iterator[list[str]]:
    """Zones a concurrency test commits for real; deleted afterwards."""
    ids: list[str] = []
    yield ids
    with engine.begin() as conn:
        for zone_id in ids:
            conn.execute(text("DELETE FROM zones WHERE id = :id"), {"id": zone_id})


def test_concurrent_creates_of_one_name_have_one_winner_and_one_name_taken(
    engine: Engine, committed_zone_ids: list[str]
) -> None:
    first = make_zone()
    second = dataclasses.replace(make_zone(), name=first.name)
    committed_zone_ids.extend([first.zone_id, second.zone_id])
    outcome: list[BaseException | None] = []

    def create_second() -> None:
        try:
            with SqlUnitOfWork(engine) as uow:
                uow.zones.add(second)  # blocks on the unique index until the first commits
                uow.commit()
            outcome.append(None)
        except AlreadyExistsError as error:
            outcome.append(error)

    with SqlUnitOfWork(engine) as uow:
        uow.zones.add(first)
        racer = threading.Thread(target=create_second)
        racer.start()
        racer.join(timeout=0.5)
        assert racer.is_alive(), "the second insert must wait for the first transaction"
        uow.commit()
    racer.join(timeout=10)
    assert len(outcome) == 1
    assert isinstance(outcome[0], AlreadyExistsError)
    assert outcome[0].reason == "ZONE_NAME_TAKEN"


def new_zone(center: GeoPoint, *, radius_km: float) -> ZoneDraft:
    return ZoneDraft(name=f"Zone {uuid.uuid4().hex[:10]}", center=center, radius_km=radius_km, active=True)
