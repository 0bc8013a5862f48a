"""What UpsertTrainer, BatchGetTrainers and ListTrainers accept."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from booking_server.domain.errors import InvalidRequestError
from booking_server.domain.model import GeoPoint
from booking_server.domain.trainer_rules import (
    TrainerDraft,
    TrainerProfile,
    validate_trainer,
    validate_trainer_id,
    validate_trainer_ids,
    validate_trainer_list,
)

TRAINER_ID = "7E57AB1E-0000-4000-8000-00000000000A"
FRANCHISE_ID = "F00DF00D-0000-4000-8000-000000000001"
ZONE_ID = "20E20E00-0000-4000-8000-000000000001"
COURSE_A = "C0C0C0C0-0000-4000-8000-00000000000A"
COURSE_B = "b0b0b0b0-0000-4000-8000-00000000000b"
DRAFT = TrainerDraft(
    trainer_id=TRAINER_ID,
    display_name="Asha Verma",
    active=True,
    certified_course_ids=(COURSE_A,),
    location=GeoPoint(17.4, 78.5),
)


def course(index: int) -> str:
    return f"00000000-0000-4000-8000-{index:012d}"


def violations_of(call: object, *args: object, **kwargs: object) -> dict[str, str]:
    with pytest.raises(InvalidRequestError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    assert caught.value.reason == "INVALID_REQUEST"
    return {v.field: v.description for v in caught.value.violations}


def list_kwargs(**changes: object) -> dict[str, Any]:
    values: dict[str, Any] = {
        "course_id": "",
        "active_only": False,
        "franchise_id": "",
        "company_only": False,
        "zone_id": "",
        "page_size": 0,
        "page_token": "",
    }
    values.update(changes)
    return values


def test_a_trainer_is_stored_with_lower_case_ids_and_sorted_courses() -> None:
    draft = dataclasses.replace(
        DRAFT, franchise_id=FRANCHISE_ID, zone_id=ZONE_ID, certified_course_ids=(COURSE_A, COURSE_B)
    )
    assert validate_trainer(draft) == TrainerProfile(
        trainer_id=TRAINER_ID.lower(),
        display_name="Asha Verma",
        active=True,
        franchise_id=FRANCHISE_ID.lower(),
        zone_id=ZONE_ID.lower(),
        certified_course_ids=(COURSE_B, COURSE_A.lower()),
        location=GeoPoint(17.4, 78.5),
        max_active_purchases=0,
    )


def test_a_trainer_with_more_than_three_courses_is_storable() -> None:
    draft = dataclasses.replace(DRAFT, certified_course_ids=tuple(course(i) for i in range(1, 6)))
    assert len(validate_trainer(draft).certified_course_ids) == 5


def test_a_trainer_may_hold_100_courses_but_not_101() -> None:
    assert validate_trainer(
        dataclasses.replace(DRAFT, certified_course_ids=tuple(course(i) for i in range(100)))
    )
    draft = dataclasses.replace(DRAFT, certified_course_ids=tuple(course(i) for i in range(101)))
    assert list(violations_of(validate_trainer, draft)) == ["trainer.certified_course_ids"]


def test_a_bad_or_repeated_course_id_is_named_by_its_index() -> None:
    draft = dataclasses.replace(DRAFT, certified_course_ids=(COURSE_A, "maths", COURSE_A.lower()))
    violations = violations_of(validate_trainer, draft)
    assert list(violations) == ["trainer.certified_course_ids[1]", "trainer.certified_course_ids[2]"]
    assert "duplicates" in violations["trainer.certified_course_ids[2]"]


def test_every_problem_of_a_trainer_is_reported_at_once() -> None:
    draft = TrainerDraft(
        trainer_id="",
        display_name="x" * 201,
        franchise_id="acme",
        zone_id="north",
        location=GeoPoint(95.0, 0.0),
        max_active_purchases=-1,
    )
    assert list(violations_of(validate_trainer, draft)) == [
        "trainer.trainer_id",
        "trainer.display_name",
        "trainer.franchise_id",
        "trainer.zone_id",
        "trainer.location.latitude",
        "trainer.max_active_purchases",
    ]


def test_a_trainer_without_location_is_valid_and_has_none() -> None:
    assert validate_trainer(dataclasses.replace(DRAFT, location=None)).location is None


def test_a_trainer_id_is_required_and_comes_back_lower_case() -> None:
    assert validate_trainer_id(TRAINER_ID) == TRAINER_ID.lower()
    assert violations_of(validate_trainer_id, "") == {"trainer_id": "is required"}


def test_batch_ids_keep_request_order_and_repeats() -> None:
    ids = (COURSE_B, TRAINER_ID, COURSE_B)
    assert validate_trainer_ids(ids) == (COURSE_B, TRAINER_ID.lower(), COURSE_B)


def test_batch_ids_are_at_most_500_and_each_must_be_a_uuid() -> None:
    assert len(validate_trainer_ids([course(i) for i in range(500)])) == 500
    assert list(violations_of(validate_trainer_ids, [course(i) for i in range(501)])) == ["trainer_ids"]
    assert list(violations_of(validate_trainer_ids, [COURSE_A, "t-1"])) == ["trainer_ids[1]"]


def test_franchise_and_company_only_together_are_refused() -> None:
    assert list(
        violations_of(validate_trainer_list, **list_kwargs(franchise_id=FRANCHISE_ID, company_only=True))
    ) == ["company_only"]


def test_list_filters_must_be_uuids_and_the_page_size_in_range() -> None:
    kwargs = list_kwargs(course_id="maths", franchise_id="acme", zone_id="north", page_size=-1)
    assert list(violations_of(validate_trainer_list, **kwargs)) == [
        "course_id",
        "franchise_id",
        "zone_id",
        "page_size",
    ]


def test_a_list_token_resumes_after_the_last_trainer_of_the_same_filters() -> None:
    first = validate_trainer_list(**list_kwargs(course_id=COURSE_A, active_only=True))
    token = first.next_page_token(TRAINER_ID.lower())
    second = validate_trainer_list(**list_kwargs(course_id=COURSE_A, active_only=True, page_token=token))
    assert second.after_trainer_id == TRAINER_ID.lower()
    assert second.course_id == COURSE_A.lower()


def test_a_list_token_from_other_filters_is_refused() -> None:
    first = validate_trainer_list(**list_kwargs(course_id=COURSE_A))
    token = first.next_page_token(TRAINER_ID.lower())
    assert list(
        violations_of(validate_trainer_list, **list_kwargs(course_id=COURSE_B, page_token=token))
    ) == ["page_token"]
