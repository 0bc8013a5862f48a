"""SQL for trainers: implements services.ports.trainers.TrainerRepository.

Every read is one statement however many trainers it returns: the page of trainers is
selected (filters, keyset, LIMIT) with each row's course ids as an ARRAY() subquery of the
same statement, never one query per trainer.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, TextClause, delete, func, text
from sqlalchemy.dialects.postgresql import insert

from booking_server.db.models import TrainerCourseRow, TrainerRow
from booking_server.domain.model import GeoPoint
from booking_server.domain.trainer_rules import TrainerListQuery, TrainerProfile, TrainerRecord

trainers = cast("Table", TrainerRow.__table__)
trainer_courses = cast("Table", TrainerCourseRow.__table__)


class SqlTrainerRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, trainer_id: str) -> TrainerRecord | None:
        records = self._fetch(_BY_IDS, {"ids": [trainer_id]})
        return records[0] if records else None

    def get_many(self, trainer_ids: Sequence[str]) -> list[TrainerRecord]:
        if not trainer_ids:
            return []
        return self._fetch(_BY_IDS, {"ids": sorted(set(trainer_ids))})

    def list_page(self, query: TrainerListQuery, *, limit: int) -> list[TrainerRecord]:
        shape = _ListShape(
            course=query.course_id is not None,
            active_only=query.active_only,
            franchise=query.franchise_id is not None,
            company_only=query.company_only,
            zone=query.zone_id is not None,
            without_zone=query.include_without_zone,
            after=query.after_trainer_id is not None,
        )
        parameters = {
            "course_id": query.course_id,
            "franchise_id": query.franchise_id,
            "zone_id": query.zone_id,
            "after": query.after_trainer_id,
            "limit": limit,
        }
        return self._fetch(_list_statement(shape), parameters)

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

    def _fetch(self, statement: TextClause, parameters: dict[str, Any]) -> list[TrainerRecord]:
        return [_record(row) for row in self._conn.execute(statement, parameters)]


# Ids leave the database as text and course ids as a text array: a zone's candidates are read on
# the assignment's hot path, and building uuid.UUID objects (or letting SQLAlchemy compile a
# lateral join per call) cost more than the query itself. ARRAY() of no rows is an empty array.
_COLUMNS = """
    t.id::text AS id, t.display_name, t.active, t.franchise_id::text AS franchise_id,
    t.zone_id::text AS zone_id, t.latitude, t.longitude, t.max_active_purchases, t.updated_at,
    ARRAY(SELECT c.course_id::text FROM trainer_courses c WHERE c.trainer_id = t.id ORDER BY c.course_id)
        AS course_ids
"""

_BY_IDS = text(f"SELECT {_COLUMNS} FROM trainers t WHERE t.id = ANY(CAST(:ids AS uuid[])) ORDER BY t.id")


@dataclass(frozen=True, slots=True)
class _ListShape:
    """Which ListTrainers filters are set: one statement text per shape (a handful in practice),
    so each is planned for its own filters instead of one generic plan with optional ones."""

    course: bool
    active_only: bool
    franchise: bool
    company_only: bool
    zone: bool
    without_zone: bool
    after: bool


@functools.cache
def _list_statement(shape: _ListShape) -> TextClause:
    # The keyset column is the one that drives the scan: with a course filter that is
    # trainer_courses.trainer_id, so the (course_id, trainer_id) index yields the page as one
    # range scan already in order.
    source, key, where = "trainers t", "t.id", []
    if shape.course:
        source = "trainer_courses certified JOIN trainers t ON t.id = certified.trainer_id"
        key = "certified.trainer_id"
        where.append("certified.course_id = CAST(:course_id AS uuid)")
    if shape.active_only:
        where.append("t.active")
    if shape.franchise:
        where.append("t.franchise_id = CAST(:franchise_id AS uuid)")
    if shape.company_only:
        where.append("t.franchise_id IS NULL")
    if shape.zone:
        # Both arms use ix_trainers_zone_id (a btree finds NULLs too).
        in_zone = "t.zone_id = CAST(:zone_id AS uuid)"
        where.append(f"({in_zone} OR t.zone_id IS NULL)" if shape.without_zone else in_zone)
    if shape.after:
        where.append(f"{key} > CAST(:after AS uuid)")
    condition = " AND ".join(where) or "true"
    return text(f"SELECT {_COLUMNS} FROM {source} WHERE {condition} ORDER BY {key} LIMIT :limit")


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
    course_ids: list[str] = values["course_ids"]
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
