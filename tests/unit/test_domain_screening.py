"""place_candidates (rules 1-3) then qualify_candidates (rules 4-5): before any calendar is read."""

from __future__ import annotations

import pytest
from booking_server.domain.eligibility import (
    Qualification,
    RejectionReason,
    judge_availability,
    place_candidates,
    qualify_candidates,
)
from booking_server.domain.geo import haversine_km
from booking_server.domain.model import GeoPoint, TrainerCandidate, Zone

COURSE = "11111111-1111-1111-1111-111111111111"
ZONE = Zone("22222222-2222-2222-2222-222222222222", "Centre", None, GeoPoint(17.0, 78.0), 10.0, True)


def screen(candidates: list[TrainerCandidate], student_location: GeoPoint) -> Qualification:
    """The two steps as the assignment runs them, combined."""
    placed = place_candidates(candidates, ZONE)
    qualified = qualify_candidates(
        placed.passed, zone=ZONE, course_id=COURSE, student_location=student_location
    )
    return Qualification(passed=qualified.passed, rejections=placed.rejections + qualified.rejections)


def _candidate(trainer_id: str, **overrides: object) -> TrainerCandidate:
    values: dict[str, object] = {
        "trainer_id": trainer_id,
        "active": True,
        "franchise_id": None,
        "zone_id": ZONE.zone_id,
        "certified_course_ids": (COURSE,),
        "location": GeoPoint(17.01, 78.0),
        "max_active_purchases": 0,
    }
    values.update(overrides)
    return TrainerCandidate(**values)  # type: ignore[arg-type]


def test_only_candidates_passing_the_record_rules_go_on_to_the_calendar_check() -> None:
    screening = screen(
        [
            _candidate("a"),
            _candidate("b", active=False),
            _candidate("c", franchise_id="33333333-3333-3333-3333-333333333333"),
            _candidate("d", location=GeoPoint(18.0, 78.0)),
            _candidate("e", certified_course_ids=("other",)),
            _candidate("f", location=None),
        ],
        GeoPoint(17.0, 78.0),
    )

    assert [c.trainer_id for c in screening.passed] == ["a", "f"]
    assert {r.trainer_id: r.reason for r in screening.rejections} == {
        "b": RejectionReason.INACTIVE,
        "c": RejectionReason.WRONG_OPERATOR,
        "d": RejectionReason.OUT_OF_TRAVEL_RANGE,
        "e": RejectionReason.NOT_CERTIFIED,
    }


def test_a_trainer_listed_twice_is_screened_once() -> None:
    screening = screen([_candidate("a"), _candidate("a", active=False)], GeoPoint(17.0, 78.0))

    assert [c.trainer_id for c in screening.passed] == ["a"]
    assert screening.rejections == ()


def test_the_zone_rules_come_first_and_travel_is_reported_before_the_certification_count() -> None:
    candidates = [
        _candidate("a"),
        _candidate("b", zone_id="99999999-9999-9999-9999-999999999999"),
        _candidate("c", location=GeoPoint(18.0, 78.0), certified_course_ids=("x", "y", "z", COURSE)),
        _candidate("d", certified_course_ids=("x", "y", "z", COURSE)),
    ]
    placement = place_candidates(candidates, ZONE)

    qualified = qualify_candidates(
        placement.passed, zone=ZONE, course_id=COURSE, student_location=GeoPoint(17.0, 78.0)
    )

    assert [c.trainer_id for c in placement.passed] == ["a", "c", "d"]
    assert [c.trainer_id for c in qualified.passed] == ["a"]
    assert [r.trainer_id for r in placement.rejections] == ["b"]
    # Travel (rule 4) is reported before the certification count (rule 5).
    assert {r.trainer_id: r.reason for r in placement.rejections + qualified.rejections} == {
        "b": RejectionReason.WRONG_ZONE,
        "c": RejectionReason.OUT_OF_TRAVEL_RANGE,
        "d": RejectionReason.TOO_MANY_CERTIFICATIONS,
    }


def test_a_qualified_trainer_carries_the_distance_the_ranking_uses() -> None:
    student = GeoPoint(17.0, 78.0)
    qualified = screen(
        [_candidate("a", location=GeoPoint(17.02, 78.0)), _candidate("b", location=None)], student
    )

    judged = judge_availability(qualified.passed, sessions=(), busy_by_trainer={}, active_assignments={})

    distances = {t.trainer_id: t.distance_km for t in qualified.passed}
    assert distances["a"] == pytest.approx(haversine_km(student, GeoPoint(17.02, 78.0)))
    assert distances["b"] is None
    assert [(t.trainer_id, t.distance_km) for t in judged.ranked] == [("a", distances["a"]), ("b", None)]
