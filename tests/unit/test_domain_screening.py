"""screen_candidates: the record rules (1-5) applied before any calendar is read."""

from __future__ import annotations

from booking_server.domain.eligibility import (
    RejectionReason,
    place_candidates,
    qualify_candidates,
    screen_candidates,
)
from booking_server.domain.model import GeoPoint, TrainerCandidate, Zone

COURSE = "11111111-1111-1111-1111-111111111111"
ZONE = Zone("22222222-2222-2222-2222-222222222222", "Centre", None, GeoPoint(17.0, 78.0), 10.0, True)


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
    screening = screen_candidates(
        candidates=[
            _candidate("a"),
            _candidate("b", active=False),
            _candidate("c", franchise_id="33333333-3333-3333-3333-333333333333"),
            _candidate("d", location=GeoPoint(18.0, 78.0)),
            _candidate("e", certified_course_ids=("other",)),
            _candidate("f", location=None),
        ],
        zone=ZONE,
        course_id=COURSE,
        student_location=GeoPoint(17.0, 78.0),
    )

    assert [c.trainer_id for c in screening.passed] == ["a", "f"]
    assert {r.trainer_id: r.reason for r in screening.rejections} == {
        "b": RejectionReason.INACTIVE,
        "c": RejectionReason.WRONG_OPERATOR,
        "d": RejectionReason.OUT_OF_TRAVEL_RANGE,
        "e": RejectionReason.NOT_CERTIFIED,
    }


def test_a_trainer_listed_twice_is_screened_once() -> None:
    screening = screen_candidates(
        candidates=[_candidate("a"), _candidate("a", active=False)],
        zone=ZONE,
        course_id=COURSE,
        student_location=GeoPoint(17.0, 78.0),
    )

    assert [c.trainer_id for c in screening.passed] == ["a"]
    assert screening.rejections == ()


def test_a_placement_computed_once_per_zone_gives_the_same_screening_as_computing_it_inline() -> None:
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
    inline = screen_candidates(
        candidates=candidates, zone=ZONE, course_id=COURSE, student_location=GeoPoint(17.0, 78.0)
    )

    assert qualified.passed == inline.passed
    assert placement.rejections + qualified.rejections == inline.rejections
    assert [c.trainer_id for c in placement.passed] == ["a", "c", "d"]
    # Travel (rule 4) is reported before the certification count (rule 5).
    assert {r.trainer_id: r.reason for r in inline.rejections} == {
        "b": RejectionReason.WRONG_ZONE,
        "c": RejectionReason.OUT_OF_TRAVEL_RANGE,
        "d": RejectionReason.TOO_MANY_CERTIFICATIONS,
    }
