"""The trainer directory on real PostgreSQL: upsert, course sets, filtered keyset pages, the demo seed."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from booking_server.domain.errors import NotFoundError
from booking_server.domain.geo import haversine_km
from booking_server.domain.model import GeoPoint
from booking_server.domain.trainer_rules import TrainerDraft, TrainerListQuery, TrainerProfile
from booking_server.services.seed_demo import DEMO_COURSE_IDS, HYDERABAD_CENTRE, seed_demo
from booking_server.services.trainers import TrainerService
from booking_server.services.unit_of_work import UnitOfWorkFactory
from booking_server.services.zones import ZoneService
from sqlalchemy import Connection, event, text


def fresh() -> str:
    return str(uuid.uuid4())


def make_trainer(*courses: str, **changes: Any) -> TrainerProfile:
    trainer = TrainerProfile(
        trainer_id=fresh(),
        display_name="Ravi Kumar",
        active=True,
        franchise_id=None,
        zone_id=None,
        certified_course_ids=tuple(sorted(courses)),
        location=GeoPoint(17.4, 78.45),
        max_active_purchases=2,
    )
    return dataclasses.replace(trainer, **changes)


def upsert(uow_factory: UnitOfWorkFactory, *trainers: TrainerProfile) -> None:
    with uow_factory() as uow:
        for trainer in trainers:
            uow.trainers.upsert(trainer)
        uow.commit()


def query(**changes: Any) -> TrainerListQuery:
    base = TrainerListQuery(
        course_id=None,
        active_only=False,
        franchise_id=None,
        company_only=False,
        zone_id=None,
        page_size=50,
        after_trainer_id=None,
    )
    return dataclasses.replace(base, **changes)


@contextmanager
def counting_statements(connection: Connection) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", record)


def test_an_upserted_trainer_reads_back_as_stored(uow_factory: UnitOfWorkFactory) -> None:
    trainer = make_trainer(fresh(), fresh(), franchise_id=fresh(), zone_id=fresh())
    with uow_factory() as uow:
        stored = uow.trainers.upsert(trainer)
        uow.commit()
    with uow_factory() as uow:
        fetched = uow.trainers.get(trainer.trainer_id)
    assert fetched == stored
    assert fetched.trainer == trainer


def test_an_upsert_replaces_the_whole_trainer_and_its_course_set(uow_factory: UnitOfWorkFactory) -> None:
    kept, dropped, added = fresh(), fresh(), fresh()
    trainer = make_trainer(kept, dropped)
    upsert(uow_factory, trainer)
    replaced = dataclasses.replace(
        trainer,
        display_name="Ravi K.",
        active=False,
        certified_course_ids=tuple(sorted((kept, added))),
        location=None,
        max_active_purchases=0,
    )
    upsert(uow_factory, replaced)
    with uow_factory() as uow:
        fetched = uow.trainers.get(trainer.trainer_id)
        assert fetched is not None
        assert fetched.trainer == replaced
        assert uow.trainers.list_page(query(course_id=dropped), limit=10) == []


def test_a_trainer_without_courses_has_an_empty_course_list(uow_factory: UnitOfWorkFactory) -> None:
    trainer = make_trainer()
    upsert(uow_factory, trainer)
    with uow_factory() as uow:
        fetched = uow.trainers.get(trainer.trainer_id)
    assert fetched is not None
    assert fetched.trainer.certified_course_ids == ()


def test_deleting_a_trainer_removes_it_and_its_courses(
    uow_factory: UnitOfWorkFactory, connection: Connection
) -> None:
    trainer = make_trainer(fresh())
    upsert(uow_factory, trainer)
    with uow_factory() as uow:
        assert uow.trainers.delete(trainer.trainer_id) is True
        assert uow.trainers.delete(trainer.trainer_id) is False
        assert uow.trainers.get(trainer.trainer_id) is None
        uow.commit()
    remaining = connection.execute(
        text("SELECT count(*) FROM trainer_courses WHERE trainer_id = :id"), {"id": trainer.trainer_id}
    ).scalar_one()
    assert remaining == 0


def test_get_many_returns_only_the_known_trainers(uow_factory: UnitOfWorkFactory) -> None:
    first, second = make_trainer(fresh()), make_trainer(fresh())
    upsert(uow_factory, first, second)
    with uow_factory() as uow:
        found = uow.trainers.get_many([second.trainer_id, fresh(), first.trainer_id])
    assert {r.trainer.trainer_id for r in found} == {first.trainer_id, second.trainer_id}


def test_list_filters_combine_on_one_course(uow_factory: UnitOfWorkFactory) -> None:
    course, franchise, zone = fresh(), fresh(), fresh()
    company = make_trainer(course)
    inactive = make_trainer(course, active=False)
    franchised = make_trainer(course, franchise_id=franchise, zone_id=zone)
    other_course = make_trainer(fresh(), franchise_id=franchise)
    upsert(uow_factory, company, inactive, franchised, other_course)

    def ids(**changes: Any) -> list[str]:
        with uow_factory() as uow:
            return [r.trainer.trainer_id for r in uow.trainers.list_page(query(**changes), limit=50)]

    assert ids(course_id=course) == sorted([company.trainer_id, inactive.trainer_id, franchised.trainer_id])
    assert ids(course_id=course, active_only=True) == sorted([company.trainer_id, franchised.trainer_id])
    assert ids(course_id=course, company_only=True) == sorted([company.trainer_id, inactive.trainer_id])
    assert ids(course_id=course, franchise_id=franchise) == [franchised.trainer_id]
    assert ids(franchise_id=franchise) == sorted([franchised.trainer_id, other_course.trainer_id])
    assert ids(zone_id=zone) == [franchised.trainer_id]


def test_a_course_listing_takes_one_statement_per_page_with_every_course_of_each_trainer(
    uow_factory: UnitOfWorkFactory, connection: Connection
) -> None:
    course, extra = fresh(), fresh()
    trainers = [make_trainer(course, extra) for _ in range(120)]
    upsert(uow_factory, *trainers)
    service = TrainerService(uow_factory)
    seen: list[str] = []
    token = ""
    with counting_statements(connection) as statements:
        for _ in range(3):
            page = service.list_trainers(course_id=course, page_size=50, page_token=token)
            seen.extend(r.trainer.trainer_id for r in page.trainers)
            assert all(
                r.trainer.certified_course_ids == tuple(sorted((course, extra))) for r in page.trainers
            )
            token = page.next_page_token
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3
    assert token == ""
    assert seen == sorted(t.trainer_id for t in trainers)


def test_batch_get_keeps_request_order_and_fails_whole_on_an_unknown_id(
    uow_factory: UnitOfWorkFactory,
) -> None:
    first, second = make_trainer(fresh()), make_trainer(fresh())
    upsert(uow_factory, first, second)
    service = TrainerService(uow_factory)
    ids = [second.trainer_id, first.trainer_id.upper(), second.trainer_id]
    assert [r.trainer.trainer_id for r in service.batch_get_trainers(ids)] == [
        second.trainer_id,
        first.trainer_id,
        second.trainer_id,
    ]
    unknown = fresh()
    with pytest.raises(NotFoundError) as caught:
        service.batch_get_trainers([first.trainer_id, unknown])
    assert caught.value.reason == "TRAINER_NOT_FOUND"
    assert unknown in caught.value.message


def test_upserting_through_the_service_normalises_and_returns_the_stored_trainer(
    uow_factory: UnitOfWorkFactory,
) -> None:
    trainer_id, course = fresh(), fresh()
    draft = TrainerDraft(
        trainer_id=trainer_id.upper(), display_name="Meena", certified_course_ids=(course.upper(),)
    )
    service = TrainerService(uow_factory)
    stored = service.upsert_trainer(draft)
    assert stored.trainer.trainer_id == trainer_id
    assert stored.trainer.certified_course_ids == (course,)
    assert service.get_trainer(trainer_id) == stored


def test_seeding_the_demo_twice_gives_the_same_directory(uow_factory: UnitOfWorkFactory) -> None:
    first = seed_demo(uow_factory)
    second = seed_demo(uow_factory)
    assert first == second
    assert first.course_ids == DEMO_COURSE_IDS
    trainers = TrainerService(uow_factory)
    listed = [
        r.trainer
        for course in DEMO_COURSE_IDS
        for r in trainers.list_trainers(course_id=course, page_size=500).trainers
    ]
    assert len({t.trainer_id for t in listed}) == first.trainers
    assert all(1 <= len(t.certified_course_ids) <= 3 for t in listed)


def test_every_demo_trainer_lives_in_its_home_zone_run_by_its_own_operator(
    uow_factory: UnitOfWorkFactory,
) -> None:
    seed_demo(uow_factory)
    zones = ZoneService(uow_factory)
    # Other modules may have committed zones at this busy spot: ours must be among the matches.
    at_centre = {m.record.zone.name: m.distance_km for m in zones.find_zones(HYDERABAD_CENTRE)}
    assert at_centre["Demo Hyderabad Central"] == 0.0
    for course in DEMO_COURSE_IDS:
        for record in TrainerService(uow_factory).list_trainers(course_id=course, page_size=500).trainers:
            trainer = record.trainer
            assert trainer.zone_id is not None
            assert trainer.location is not None
            zone = zones.get_zone(trainer.zone_id).zone
            assert trainer.franchise_id == zone.franchise_id
            assert haversine_km(trainer.location, zone.center) <= zone.radius_km
