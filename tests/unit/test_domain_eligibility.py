"""Trainer eligibility, rejection reasons and ranking (product.md 1.5, 1.6)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import pytest
from booking_server.domain.eligibility import (
    EligibilityResult,
    RankedTrainer,
    Rejection,
    RejectionReason,
    evaluate_candidates,
    first_conflicting_session,
    intervals_overlap,
    rank,
)
from booking_server.domain.geo import haversine_km
from booking_server.domain.model import (
    BusyInterval,
    ClassType,
    DeliveryMode,
    GeoPoint,
    ScheduledSession,
    SessionType,
    TrainerCandidate,
    Zone,
    civil_minutes,
)
from booking_server.domain.schedule import generate_schedule
from hypothesis import given
from hypothesis import strategies as st

COURSE = "c0000000-0000-4000-8000-000000000001"
OTHER_COURSES = tuple(f"c0000000-0000-4000-8000-00000000010{i}" for i in range(5))
STUDENT = GeoPoint(12.97, 77.59)
START = date(2025, 3, 10)
COMPANY_ZONE = Zone("zone-company", "Indiranagar", None, STUDENT, 10.0, active=True)
FRANCHISE_ZONE = Zone("zone-franchise", "Indiranagar", "f-1", STUDENT, 10.0, active=True)


def near(km_north: float) -> GeoPoint:
    """A point about `km_north` km north of the student."""
    return GeoPoint(STUDENT.latitude + km_north / 111.195, STUDENT.longitude)


def trainer(trainer_id: str = "t-1", **changes: object) -> TrainerCandidate:
    base = TrainerCandidate(
        trainer_id=trainer_id,
        active=True,
        franchise_id=None,
        zone_id=None,
        certified_course_ids=(COURSE,),
        location=near(1.0),
        max_active_purchases=0,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def daily(total: int = 10, slot: str = "16:00", start: date = START) -> tuple[ScheduledSession, ...]:
    return generate_schedule(
        class_type=ClassType.ONE_ON_ONE,
        delivery_mode=DeliveryMode.WEEKDAY_DAILY,
        total_sessions=total,
        start_date=start,
        time_slot=slot,
    )


def busy(day: date, hhmm: str, minutes: int = 40) -> BusyInterval:
    start = civil_minutes(day, hhmm)
    return BusyInterval(start, start + minutes)


def evaluate(
    *candidates: TrainerCandidate,
    zone: Zone = COMPANY_ZONE,
    sessions: Sequence[ScheduledSession] | None = None,
    busy_by_trainer: Mapping[str, Sequence[BusyInterval]] | None = None,
    active_assignments: Mapping[str, int] | None = None,
) -> EligibilityResult:
    return evaluate_candidates(
        candidates=candidates,
        zone=zone,
        course_id=COURSE,
        student_location=STUDENT,
        sessions=daily() if sessions is None else sessions,
        busy_by_trainer=busy_by_trainer or {},
        active_assignments=active_assignments or {},
    )


def only_rejection(result: EligibilityResult) -> Rejection:
    assert result.ranked == ()
    assert len(result.rejections) == 1
    return result.rejections[0]


def test_a_trainer_passing_every_rule_is_ranked_with_its_distance() -> None:
    result = evaluate(trainer("t-1"), active_assignments={"t-1": 2})

    assert result.rejections == ()
    assert [t.trainer_id for t in result.ranked] == ["t-1"]
    assert result.ranked[0].distance_km == pytest.approx(1.0, abs=0.01)
    assert result.ranked[0].active_assignments == 2


@pytest.mark.parametrize(
    ("candidate", "zone", "reason", "detail"),
    [
        (trainer(active=False), COMPANY_ZONE, RejectionReason.INACTIVE, "trainer is inactive"),
        (
            trainer(franchise_id="f-1"),
            COMPANY_ZONE,
            RejectionReason.WRONG_OPERATOR,
            "trainer is franchise f-1, zone is company",
        ),
        (
            trainer(),
            FRANCHISE_ZONE,
            RejectionReason.WRONG_OPERATOR,
            "trainer is company, zone is franchise f-1",
        ),
        (
            trainer(franchise_id="f-2"),
            FRANCHISE_ZONE,
            RejectionReason.WRONG_FRANCHISE,
            "trainer is franchise f-2, zone is franchise f-1",
        ),
        (
            trainer(zone_id="zone-elsewhere"),
            COMPANY_ZONE,
            RejectionReason.WRONG_ZONE,
            "trainer's home zone is zone-elsewhere, zone is zone-company",
        ),
        (
            trainer(location=near(12.0)),
            COMPANY_ZONE,
            RejectionReason.OUT_OF_TRAVEL_RANGE,
            "trainer is 12.00 km away, zone radius is 10 km",
        ),
        (
            trainer(certified_course_ids=OTHER_COURSES[:2]),
            COMPANY_ZONE,
            RejectionReason.NOT_CERTIFIED,
            f"trainer is not certified for course {COURSE}",
        ),
        (
            trainer(certified_course_ids=(COURSE, *OTHER_COURSES[:3])),
            COMPANY_ZONE,
            RejectionReason.TOO_MANY_CERTIFICATIONS,
            "trainer is certified for 4 courses, at most 3",
        ),
    ],
)
def test_each_profile_rule_rejects_with_its_reason_and_detail(
    candidate: TrainerCandidate, zone: Zone, reason: RejectionReason, detail: str
) -> None:
    assert only_rejection(evaluate(candidate, zone=zone)) == Rejection("t-1", reason, detail)


@pytest.mark.parametrize(
    "candidate",
    [
        trainer(franchise_id="f-1"),
        trainer(franchise_id="f-1", zone_id="zone-franchise"),
        trainer(franchise_id="f-1", location=None),
        trainer(franchise_id="f-1", certified_course_ids=(COURSE, *OTHER_COURSES[:2])),
        trainer(franchise_id="f-1", certified_course_ids=(COURSE, COURSE, *OTHER_COURSES[:2])),
    ],
)
def test_a_trainer_of_the_zones_franchise_with_at_most_3_courses_is_eligible(
    candidate: TrainerCandidate,
) -> None:
    result = evaluate(candidate, zone=FRANCHISE_ZONE)

    assert result.rejections == ()
    assert [t.trainer_id for t in result.ranked] == ["t-1"]


def test_an_empty_franchise_id_means_a_company_trainer_and_a_company_zone() -> None:
    company_zone_with_empty_id = dataclasses.replace(COMPANY_ZONE, franchise_id="")

    result = evaluate(trainer(franchise_id=""), zone=company_zone_with_empty_id)

    assert [t.trainer_id for t in result.ranked] == ["t-1"]


def test_a_trainer_exactly_at_the_zone_radius_is_within_travel_range() -> None:
    location = near(7.0)
    zone = dataclasses.replace(COMPANY_ZONE, radius_km=haversine_km(STUDENT, location))

    result = evaluate(trainer(location=location), zone=zone)

    assert [t.trainer_id for t in result.ranked] == ["t-1"]


def test_when_several_rules_fail_only_the_first_in_contract_order_is_reported() -> None:
    candidate = trainer(
        active=False,
        franchise_id="f-9",
        zone_id="zone-elsewhere",
        location=near(50.0),
        certified_course_ids=OTHER_COURSES,
        max_active_purchases=1,
    )
    fixes: list[tuple[dict[str, object], RejectionReason]] = [
        ({}, RejectionReason.INACTIVE),
        ({"active": True}, RejectionReason.WRONG_OPERATOR),
        ({"franchise_id": None}, RejectionReason.WRONG_ZONE),
        ({"zone_id": None}, RejectionReason.OUT_OF_TRAVEL_RANGE),
        ({"location": near(2.0)}, RejectionReason.NOT_CERTIFIED),
        ({"certified_course_ids": (COURSE, *OTHER_COURSES)}, RejectionReason.TOO_MANY_CERTIFICATIONS),
        ({"certified_course_ids": (COURSE,)}, RejectionReason.SCHEDULE_CONFLICT),
    ]
    seen: list[RejectionReason] = []
    for change, _ in fixes:
        candidate = dataclasses.replace(candidate, **change)  # type: ignore[arg-type]
        result = evaluate(
            candidate,
            busy_by_trainer={"t-1": [busy(START, "16:00")]},
            active_assignments={"t-1": 1},
        )
        seen.append(only_rejection(result).reason)
    without_conflict = evaluate(candidate, active_assignments={"t-1": 1})

    assert seen == [reason for _, reason in fixes]
    assert only_rejection(without_conflict).reason == RejectionReason.LOAD_CAP


def test_a_schedule_conflict_names_the_chronologically_first_conflicting_session() -> None:
    # Listed out of order on purpose: the fourth day's slot first, then the second day's.
    slots = [busy(START + timedelta(days=3), "15:50"), busy(START + timedelta(days=1), "16:30", 60)]

    rejection = only_rejection(evaluate(trainer(), busy_by_trainer={"t-1": slots}))

    assert rejection.reason == RejectionReason.SCHEDULE_CONFLICT
    assert rejection.detail.startswith("2025-03-11 16:00")


def test_a_session_ending_when_a_busy_slot_starts_does_not_conflict() -> None:
    sessions = daily(slot="15:20")
    slots = [busy(START + timedelta(days=i), "16:00") for i in range(10)]

    result = evaluate(trainer(), sessions=sessions, busy_by_trainer={"t-1": slots})

    assert [t.trainer_id for t in result.ranked] == ["t-1"]


def test_a_busy_slot_ending_when_a_session_starts_does_not_conflict() -> None:
    slots = [busy(START + timedelta(days=i), "15:20") for i in range(10)]

    result = evaluate(trainer(), busy_by_trainer={"t-1": slots})

    assert [t.trainer_id for t in result.ranked] == ["t-1"]


def test_a_busy_slot_starting_inside_a_session_conflicts() -> None:
    slots = [busy(START + timedelta(days=9), "16:20")]

    rejection = only_rejection(evaluate(trainer(), busy_by_trainer={"t-1": slots}))

    assert rejection.reason == RejectionReason.SCHEDULE_CONFLICT
    assert rejection.detail.startswith("2025-03-19 16:00")


def test_a_late_session_conflicts_with_a_slot_just_after_midnight() -> None:
    sessions = daily(total=1, slot="23:40")
    slots = [busy(START + timedelta(days=1), "00:00", 30)]

    rejection = only_rejection(evaluate(trainer(), sessions=sessions, busy_by_trainer={"t-1": slots}))

    assert rejection.reason == RejectionReason.SCHEDULE_CONFLICT
    assert rejection.detail.startswith("2025-03-10 23:40")


def test_a_late_session_allows_a_slot_starting_when_it_ends_after_midnight() -> None:
    sessions = daily(total=1, slot="23:40")
    slots = [busy(START + timedelta(days=1), "00:20")]

    result = evaluate(trainer(), sessions=sessions, busy_by_trainer={"t-1": slots})

    assert [t.trainer_id for t in result.ranked] == ["t-1"]


def test_time_off_across_midnight_conflicts_with_an_early_session_next_day() -> None:
    sessions = daily(total=3, slot="00:10")
    slots = [busy(START + timedelta(days=1), "23:00", 120)]

    rejection = only_rejection(evaluate(trainer(), sessions=sessions, busy_by_trainer={"t-1": slots}))

    assert rejection.detail.startswith("2025-03-12 00:10")


def test_online_hybrid_sessions_need_a_free_trainer_too() -> None:
    sessions = generate_schedule(
        class_type=ClassType.HYBRID,
        delivery_mode=DeliveryMode.WEEKDAY_DAILY,
        total_sessions=30,
        start_date=START,
        time_slot="18:00",
    )
    assert sessions[0].session_type == SessionType.ONLINE

    rejection = only_rejection(
        evaluate(trainer(), sessions=sessions, busy_by_trainer={"t-1": [busy(START, "18:30")]})
    )

    assert rejection.detail.startswith("2025-03-10 18:00")


def test_another_trainers_busy_slots_do_not_matter() -> None:
    result = evaluate(trainer("t-1"), busy_by_trainer={"t-2": [busy(START, "16:00")]})

    assert [t.trainer_id for t in result.ranked] == ["t-1"]


@pytest.mark.parametrize(
    ("cap", "load", "eligible"), [(2, 2, False), (2, 3, False), (2, 1, True), (0, 500, True)]
)
def test_the_load_cap_counts_active_assignments_and_zero_means_no_cap(
    cap: int, load: int, eligible: bool
) -> None:
    result = evaluate(trainer(max_active_purchases=cap), active_assignments={"t-1": load})

    if eligible:
        assert [t.trainer_id for t in result.ranked] == ["t-1"]
    else:
        assert only_rejection(result) == Rejection(
            "t-1", RejectionReason.LOAD_CAP, f"trainer has {load} active purchases, cap is {cap}"
        )


def test_trainers_are_ranked_by_distance_with_unlocated_trainers_last() -> None:
    result = evaluate(
        trainer("t-far", location=near(8.0)),
        trainer("t-nowhere", location=None),
        trainer("t-near", location=near(0.5)),
        trainer("t-mid", location=near(3.0)),
    )

    assert [t.trainer_id for t in result.ranked] == ["t-near", "t-mid", "t-far", "t-nowhere"]
    assert result.ranked[-1].distance_km is None


def test_equally_distant_trainers_are_ranked_by_fewer_assignments_then_id() -> None:
    result = evaluate(
        trainer("t-c", location=near(2.0)),
        trainer("t-b", location=near(2.0)),
        trainer("t-a", location=near(2.0)),
        trainer("t-z", location=None),
        trainer("t-y", location=None),
        active_assignments={"t-c": 0, "t-b": 1, "t-a": 1, "t-z": 0, "t-y": 4},
    )

    assert [t.trainer_id for t in result.ranked] == ["t-c", "t-a", "t-b", "t-z", "t-y"]


def test_rank_orders_any_list_of_eligible_trainers() -> None:
    ranked = rank(
        [
            RankedTrainer("b", None, 0),
            RankedTrainer("a", 5.0, 3),
            RankedTrainer("c", 5.0, 1),
            RankedTrainer("d", 0.0, 9),
        ]
    )

    assert [t.trainer_id for t in ranked] == ["d", "c", "a", "b"]


def test_rejections_are_listed_by_trainer_id_and_a_repeated_candidate_is_judged_once() -> None:
    result = evaluate(
        trainer("t-3", active=False),
        trainer("t-1", franchise_id="f-1"),
        trainer("t-3", active=False),
        trainer("t-2"),
    )

    assert [(r.trainer_id, r.reason) for r in result.rejections] == [
        ("t-1", RejectionReason.WRONG_OPERATOR),
        ("t-3", RejectionReason.INACTIVE),
    ]
    assert [t.trainer_id for t in result.ranked] == ["t-2"]


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        (BusyInterval(0, 40), BusyInterval(40, 80), False),
        (BusyInterval(0, 40), BusyInterval(39, 80), True),
        (BusyInterval(0, 100), BusyInterval(20, 30), True),
        (BusyInterval(10, 10), BusyInterval(0, 40), False),
    ],
)
def test_intervals_overlap_only_when_they_share_a_minute(
    a: BusyInterval, b: BusyInterval, overlap: bool
) -> None:
    assert intervals_overlap(a, b) is overlap
    assert intervals_overlap(b, a) is overlap


def test_a_busy_interval_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        BusyInterval(100, 99)


intervals = st.builds(
    lambda start, length: BusyInterval(start, start + length),
    st.integers(min_value=0, max_value=300),
    st.integers(min_value=0, max_value=120),
)


@given(intervals, intervals)
def test_intervals_overlap_matches_sharing_a_whole_minute(a: BusyInterval, b: BusyInterval) -> None:
    minutes_a = set(range(a.start_minute, a.end_minute))
    minutes_b = set(range(b.start_minute, b.end_minute))

    assert intervals_overlap(a, b) == bool(minutes_a & minutes_b)


def session_at(number: int, minute: int) -> ScheduledSession:
    day = START + timedelta(days=minute // 1440)
    time = f"{minute % 1440 // 60:02d}:{minute % 60:02d}"
    return ScheduledSession(number, day, time, 40, SessionType.OFFLINE, None)


@given(
    session_minutes=st.lists(st.integers(min_value=0, max_value=4 * 1440), max_size=30),
    busy_list=st.lists(
        st.builds(
            lambda start, length: BusyInterval(start, start + length),
            st.integers(
                min_value=civil_minutes(START, "00:00") - 100, max_value=civil_minutes(START, "00:00") + 5000
            ),
            st.integers(min_value=0, max_value=300),
        ),
        max_size=30,
    ),
)
def test_the_sweep_finds_the_same_first_conflict_as_checking_every_pair(
    session_minutes: list[int], busy_list: list[BusyInterval]
) -> None:
    sessions = [session_at(number, minute) for number, minute in enumerate(session_minutes, start=1)]
    conflicting = [
        s
        for s in sessions
        if any(intervals_overlap(BusyInterval(s.start_minute, s.end_minute), b) for b in busy_list)
    ]
    expected = min(conflicting, key=lambda s: (s.start_minute, s.session_number), default=None)

    assert first_conflicting_session(sessions, busy_list) == expected
