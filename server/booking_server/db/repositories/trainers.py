"""SQL for trainers: implements services.ports.trainers.TrainerRepository.

Every read is one statement however many trainers it returns: the page of trainers is
selected first (filters, keyset, LIMIT), then each row's course ids are aggregated by a
LATERAL array_agg in the same statement, never one query per trainer.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Row,
    Select,
    Table,
    Text,
    delete,
    func,
    or_,
    select,
    true,
)
from sqlalchemy import cast as cast_
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert

from booking_server.db.models import TrainerCourseRow, TrainerRow
from booking_server.domain.model import GeoPoint
from booking_server.domain.trainer_rules import TrainerListQuery, TrainerProfile, TrainerRecord

trainers = cast("Table", TrainerRow.__table__)
trainer_courses = cast("Table", TrainerCourseRow.__table__)


class SqlTrainerRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, trainer_id: str) -> TrainerRecord | None:
        page = select(trainers).where(trainers.c.id == uuid.UUID(trainer_id))
        records = self._fetch(page)
        return records[0] if records else None

    def get_many(self, trainer_ids: Sequence[str]) -> list[TrainerRecord]:
        if not trainer_ids:
            return []
        keys = sorted({uuid.UUID(trainer_id) for trainer_id in trainer_ids})
        return self._fetch(select(trainers).where(trainers.c.id.in_(keys)))

    def list_page(self, query: TrainerListQuery, *, limit: int) -> list[TrainerRecord]:
        page = select(trainers)
        # The keyset column is the one that drives the scan: with a course filter that is
        # trainer_courses.trainer_id, so the (course_id, trainer_id) index yields the page
        # as one range scan already in order.
        key: ColumnElement[uuid.UUID] = trainers.c.id
        if query.course_id is not None:
            certified = trainer_courses.alias("certified")
            page = page.join(
                certified,
                (certified.c.trainer_id == trainers.c.id)
                & (certified.c.course_id == uuid.UUID(query.course_id)),
            )
            key = certified.c.trainer_id
        page = page.where(*_filters(query))
        if query.after_trainer_id is not None:
            page = page.where(key > uuid.UUID(query.after_trainer_id))
        return self._fetch(page.order_by(key).limit(limit))

    def upsert(self, trainer: TrainerProfile) -> TrainerRecord:
        trainer_key = uuid.UUID(trainer.trainer_id)
        columns = _columns(trainer)
        statement = (
            insert(trainers)
            .values(id=trainer_key, **columns)
            .on_conflict_do_update(index_elements=[trainers.c.id], set_={**columns, "updated_at": func.now()})
            .returning(trainers.c.updated_at)
        )
        # The upsert locks the trainer row first, so concurrent upserts of one trainer
        # rewrite its course set one after the other, never interleaved.
        updated_at = self._conn.execute(statement).scalar_one()
        course_keys = [uuid.UUID(course_id) for course_id in trainer.certified_course_ids]
        self._conn.execute(
            delete(trainer_courses).where(
                trainer_courses.c.trainer_id == trainer_key, trainer_courses.c.course_id.not_in(course_keys)
            )
        )
        if course_keys:
            self._conn.execute(
                insert(trainer_courses).on_conflict_do_nothing(),
                [{"trainer_id": trainer_key, "course_id": course_key} for course_key in course_keys],
            )
        return TrainerRecord(trainer=trainer, update_time=updated_at)

    def delete(self, trainer_id: str) -> bool:
        statement = delete(trainers).where(trainers.c.id == uuid.UUID(trainer_id)).returning(trainers.c.id)
        return self._conn.execute(statement).one_or_none() is not None

    def _fetch(self, page: Select[Any]) -> list[TrainerRecord]:
        """The trainers selected by `page`, each with its sorted course ids, in page order.

        Ids leave the database as text: a course listing returns hundreds of trainers on the
        assignment's hot path, and building then printing a uuid.UUID per id cost more than
        the query itself.
        """
        chosen = page.subquery("page")
        courses = (
            select(
                func.array_agg(
                    aggregate_order_by(cast_(trainer_courses.c.course_id, Text), trainer_courses.c.course_id),
                    type_=ARRAY(Text),
                ).label("course_ids")
            )
            .where(trainer_courses.c.trainer_id == chosen.c.id)
            .lateral("courses")
        )
        columns = chosen.c
        statement = (
            select(
                cast_(columns.id, Text).label("id"),
                columns.display_name,
                columns.active,
                cast_(columns.franchise_id, Text).label("franchise_id"),
                cast_(columns.zone_id, Text).label("zone_id"),
                columns.latitude,
                columns.longitude,
                columns.max_active_purchases,
                columns.updated_at,
                courses.c.course_ids,
            )
            .select_from(chosen.outerjoin(courses, true()))
            .order_by(chosen.c.id)
        )
        return [_record(row) for row in self._conn.execute(statement)]


def _filters(query: TrainerListQuery) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if query.active_only:
        filters.append(trainers.c.active)
    if query.franchise_id is not None:
        filters.append(trainers.c.franchise_id == uuid.UUID(query.franchise_id))
    if query.company_only:
        filters.append(trainers.c.franchise_id.is_(None))
    if query.zone_id is not None:
        in_zone = trainers.c.zone_id == uuid.UUID(query.zone_id)
        # Both arms use ix_trainers_zone_id (a btree finds NULLs too).
        filters.append(or_(in_zone, trainers.c.zone_id.is_(None)) if query.include_without_zone else in_zone)
    return filters


def _columns(trainer: TrainerProfile) -> dict[str, Any]:
    location = trainer.location
    return {
        "display_name": trainer.display_name,
        "active": trainer.active,
        "franchise_id": _uuid_or_none(trainer.franchise_id),
        "zone_id": _uuid_or_none(trainer.zone_id),
        "latitude": None if location is None else location.latitude,
        "longitude": None if location is None else location.longitude,
        "max_active_purchases": trainer.max_active_purchases,
    }


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


def _record(row: Row[Any]) -> TrainerRecord:
    values = row._mapping
    latitude, longitude = values["latitude"], values["longitude"]
    course_ids: list[str] = values["course_ids"] or []  # array_agg of no rows is NULL
    return TrainerRecord(
        trainer=TrainerProfile(
            trainer_id=values["id"],
            display_name=values["display_name"],
            active=values["active"],
            franchise_id=values["franchise_id"],
            zone_id=values["zone_id"],
            certified_course_ids=tuple(course_ids),
            location=None if latitude is None else GeoPoint(latitude, longitude),
            max_active_purchases=values["max_active_purchases"],
        ),
        update_time=values["updated_at"],
    )
