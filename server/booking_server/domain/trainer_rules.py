"""Trainer directory input rules: UpsertTrainer, BatchGetTrainers and ListTrainers.

The directory stores what it is told within these bounds; whether a trainer can actually be
assigned (at most 3 certifications, right operator, home zone, ...) is the assignment
engine's decision (domain/eligibility.py), so a trainer certified for 5 courses is storable.
Ids come out lower-case: one UUID written in two cases is one trainer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from booking_server.domain.errors import FieldViolation, require_no_violations
from booking_server.domain.model import GeoPoint
from booking_server.domain.pagination import (
    MAX_PAGE_SIZE,
    decode_page_token,
    encode_page_token,
    filters_fingerprint,
    reject_page_token,
    resolve_page_size,
)
from booking_server.domain.validation import check_text, is_uuid, validate_geo_point, validate_uuid_field

TRAINER_NOT_FOUND = "TRAINER_NOT_FOUND"
MAX_CERTIFIED_COURSES = 100
MAX_DISPLAY_NAME_CHARS = 200
MAX_BATCH_IDS = MAX_PAGE_SIZE
_TOKEN_KEYS = ("trainer_id", "filters")


@dataclass(frozen=True, slots=True)
class TrainerProfile:
    """A trainer as the directory stores it.

    `franchise_id` None = company trainer, `zone_id` None = no home zone, `location` None =
    unknown, `max_active_purchases` 0 = no cap; course ids are sorted and unique.
    """

    trainer_id: str
    display_name: str
    active: bool
    franchise_id: str | None
    zone_id: str | None
    certified_course_ids: tuple[str, ...]
    location: GeoPoint | None
    max_active_purchases: int


@dataclass(frozen=True, slots=True)
class TrainerRecord:
    """A stored trainer and when it last changed."""

    trainer: TrainerProfile
    update_time: datetime


@dataclass(frozen=True, slots=True)
class TrainerDraft:
    """UpsertTrainer's trainer as sent: "" = not given, `location` None = has_location false."""

    trainer_id: str = ""
    display_name: str = ""
    active: bool = False
    franchise_id: str = ""
    zone_id: str = ""
    certified_course_ids: tuple[str, ...] = ()
    location: GeoPoint | None = None
    max_active_purchases: int = 0


@dataclass(frozen=True, slots=True)
class TrainerListQuery:
    """A validated ListTrainers request; pages are in trainer_id order."""

    course_id: str | None
    active_only: bool
    franchise_id: str | None
    company_only: bool
    zone_id: str | None
    page_size: int
    after_trainer_id: str | None
    include_without_zone: bool = False  # with zone_id: "home zone equal or none"

    def next_page_token(self, last_trainer_id: str) -> str:
        """The token of the page after the one ending with `last_trainer_id`."""
        return encode_page_token({"trainer_id": last_trainer_id, "filters": _fingerprint(self)})


def validate_trainer(draft: TrainerDraft) -> TrainerProfile:
    """The trainer to store; InvalidRequestError with every violation otherwise."""
    violations: list[FieldViolation] = []
    validate_uuid_field(draft.trainer_id, "trainer.trainer_id", violations)
    check_text(
        draft.display_name, "trainer.display_name", max_chars=MAX_DISPLAY_NAME_CHARS, violations=violations
    )
    _check_optional_uuid(draft.franchise_id, "trainer.franchise_id", violations)
    _check_optional_uuid(draft.zone_id, "trainer.zone_id", violations)
    courses = _check_courses(draft.certified_course_ids, violations)
    if draft.location is not None:
        validate_geo_point(draft.location, "trainer.location", violations)
    if draft.max_active_purchases < 0:
        violations.append(FieldViolation("trainer.max_active_purchases", "must be 0 (no cap) or more"))
    require_no_violations(violations)
    return TrainerProfile(
        trainer_id=draft.trainer_id.lower(),
        display_name=draft.display_name,
        active=draft.active,
        franchise_id=_optional_id(draft.franchise_id),
        zone_id=_optional_id(draft.zone_id),
        certified_course_ids=courses,
        location=draft.location,
        max_active_purchases=draft.max_active_purchases,
    )


def validate_trainer_id(trainer_id: str, field: str = "trainer_id") -> str:
    """A required trainer id, lower-case; InvalidRequestError otherwise."""
    violations: list[FieldViolation] = []
    validate_uuid_field(trainer_id, field, violations)
    require_no_violations(violations)
    return trainer_id.lower()


def validate_trainer_ids(trainer_ids: Sequence[str]) -> tuple[str, ...]:
    """BatchGetTrainers ids, lower-case, in request order (repeats kept)."""
    violations: list[FieldViolation] = []
    if len(trainer_ids) > MAX_BATCH_IDS:
        violations.append(FieldViolation("trainer_ids", f"must hold at most {MAX_BATCH_IDS} ids"))
    else:
        for index, trainer_id in enumerate(trainer_ids):
            validate_uuid_field(trainer_id, f"trainer_ids[{index}]", violations)
    require_no_violations(violations)
    return tuple(trainer_id.lower() for trainer_id in trainer_ids)


def validate_trainer_list(
    *,
    course_id: str,
    active_only: bool,
    franchise_id: str,
    company_only: bool,
    zone_id: str,
    page_size: int,
    page_token: str,
    include_without_zone: bool = False,
) -> TrainerListQuery:
    """A ListTrainers request; the token must come from the same filters."""
    violations: list[FieldViolation] = []
    _check_optional_uuid(course_id, "course_id", violations)
    _check_optional_uuid(franchise_id, "franchise_id", violations)
    _check_optional_uuid(zone_id, "zone_id", violations)
    if franchise_id and company_only:
        # "Company trainers of franchise F" is always empty: surely a caller's mistake.
        violations.append(FieldViolation("company_only", "cannot be combined with franchise_id"))
    if include_without_zone and not zone_id:
        violations.append(FieldViolation("include_without_zone", "requires zone_id"))
    query = TrainerListQuery(
        course_id=_optional_id(course_id),
        active_only=active_only,
        franchise_id=_optional_id(franchise_id),
        company_only=company_only,
        zone_id=_optional_id(zone_id),
        page_size=resolve_page_size(page_size, violations),
        after_trainer_id=None,
        include_without_zone=include_without_zone,
    )
    values = decode_page_token(page_token, keys=_TOKEN_KEYS, violations=violations)
    if values is not None:
        if values["filters"] != _fingerprint(query) or not is_uuid(values["trainer_id"]):
            reject_page_token(violations)
        else:
            query = dataclasses.replace(query, after_trainer_id=values["trainer_id"].lower())
    require_no_violations(violations)
    return query


def _fingerprint(query: TrainerListQuery) -> str:
    filters = {
        "course_id": query.course_id or "",
        "active_only": str(query.active_only),
        "franchise_id": query.franchise_id or "",
        "company_only": str(query.company_only),
        "zone_id": query.zone_id or "",
    }
    if query.include_without_zone:  # only when set: tokens issued before the filter existed stay valid
        filters["include_without_zone"] = "True"
    return filters_fingerprint(filters)


def _check_courses(course_ids: Sequence[str], violations: list[FieldViolation]) -> tuple[str, ...]:
    if len(course_ids) > MAX_CERTIFIED_COURSES:
        violations.append(
            FieldViolation(
                "trainer.certified_course_ids", f"must hold at most {MAX_CERTIFIED_COURSES} course ids"
            )
        )
        return ()
    seen: set[str] = set()
    for index, course_id in enumerate(course_ids):
        field = f"trainer.certified_course_ids[{index}]"
        before = len(violations)
        validate_uuid_field(course_id, field, violations)
        if len(violations) == before and course_id.lower() in seen:
            violations.append(FieldViolation(field, "duplicates an earlier course id"))
        seen.add(course_id.lower())
    return tuple(sorted(seen))


def _check_optional_uuid(value: str, field: str, violations: list[FieldViolation]) -> None:
    if value and not is_uuid(value):
        violations.append(FieldViolation(field, "must be a UUID (8-4-4-4-12 hexadecimal) or empty"))


def _optional_id(value: str) -> str | None:
    return value.lower() if value else None
