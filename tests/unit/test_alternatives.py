"""SuggestAlternatives' grid and order (pure), and the use case on fakes against the eligibility rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from booking_server.domain.alternatives import candidate_grid, check_bounds
from booking_server.domain.eligibility import evaluate_candidates
from booking_server.domain.errors import FieldViolation
from booking_server.domain.model import ClassType, DeliveryMode, GeoPoint, Student, TrainerCandidate, Zone
from booking_server.domain.schedule import generate_schedule
from booking_server.domain.slots import SlotStatus, TrainerSlot
from booking_server.domain.validation import AssignmentRequest
from booking_server.services.ports.directory import CandidateList
from booking_server.services.suggest_alternatives import SuggestAlternatives
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.fakes import FakeDirectory, FakeStore, FakeUnitOfWork

TODAY = date(2031, 1, 6)
COURSE = "11111111-1111-1111-1111-111111111111"
ZONE = Zone("22222222-2222-2222-2222-222222222222", "Centre", None, GeoPoint(17.0, 78.0), 10.0, True)


def _grid(
    time_slot: str, *, window_days: int = 14, mode: DeliveryMode = DeliveryMode.WEEKDAY_DAILY
) -> list[tuple[int, str]]:
    candidates = candidate_grid(
        start_date=TODAY,
        time_slot=time_slot,
        window_days=window_days,
        class_type=ClassType.ONE_ON_ONE,
        delivery_mode=mode,
    )
    return [(c.day_shift, c.time_slot) for c in candidates]


def test_the_grid_spans_the_window_and_three_hours_either_side_in_20_minute_steps() -> None:
    grid = _grid("12:00")

    assert len(grid) == 15 * 19
    assert grid[:5] == [(0, "12:00"), (0, "11:40"), (0, "12:20"), (0, "11:20"), (0, "12:40")]
    assert grid[18] == (0, "15:00")
    assert grid[19] == (1, "12:00")
    assert {t for _, t in grid} == {f"{h:02d}:{m:02d}" for h in range(9, 16) for m in (0, 20, 40)} - {
        "15:20",
        "15:40",
    }


@pytest.mark.parametrize(
    ("time_slot", "first", "last"),
    [("00:40", "00:00", "03:40"), ("23:00", "20:00", "23:40"), ("01:10", "00:10", "04:10")],
)
def test_the_grid_stays_within_the_same_day(time_slot: str, first: str, last: str) -> None:
    times = sorted({t for _, t in _grid(time_slot, window_days=0)})

    assert (times[0], times[-1]) == (first, last)


def test_sunday_only_times_stop_at_22_40() -> None:
    times = sorted({t for _, t in _grid("22:00", window_days=0, mode=DeliveryMode.SUNDAY_ONLY)})

    assert times[-1] == "22:40"
    assert times[0] == "19:00"


@pytest.mark.parametrize(
    ("max_results", "window_days", "fields", "bounds"),
    [
        (0, 0, set(), (5, 14)),
        (20, 60, set(), (20, 60)),
        (21, 61, {"max_results", "window_days"}, None),
        (-1, -1, {"max_results", "window_days"}, None),
    ],
)
def test_bounds_default_to_5_and_14_and_refuse_what_is_out_of_range(
    max_results: int, window_days: int, fields: set[str], bounds: tuple[int, int] | None
) -> None:
    violations: list[FieldViolation] = []

    checked = check_bounds(max_results, window_days, violations)

    assert {v.field for v in violations} == fields
    if bounds is not None:
        assert (checked.max_results, checked.window_days) == bounds


class _Clock:
    def today(self) -> date:
        return TODAY


def _trainer(index: int, north: float | None, cap: int) -> TrainerCandidate:
    location = GeoPoint(17.0 + north, 78.0) if north is not None else None
    return TrainerCandidate(
        f"aaaaaaaa-0000-0000-0000-00000000000{index}", True, None, ZONE.zone_id, (COURSE,), location, cap
    )


_trainers = st.lists(
    st.tuples(st.one_of(st.none(), st.floats(0.0, 0.05)), st.integers(0, 1)), min_size=1, max_size=4
).map(lambda specs: [_trainer(i, north, cap) for i, (north, cap) in enumerate(specs)])
_busy = st.lists(
    st.tuples(
        st.integers(0, 4),
        st.integers(0, 3),
        st.integers(0, 23),
        st.sampled_from([0, 20, 40]),
        st.integers(10, 240),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(trainers=_trainers, busy=_busy, time_slot=st.sampled_from(["00:20", "09:00", "16:40", "23:20"]))
def test_every_suggestion_goes_to_the_trainer_assignment_would_pick_and_better_ones_are_not_assignable(
    trainers: list[TrainerCandidate], busy: list[tuple[int, int, int, int, int]], time_slot: str
) -> None:
    store = FakeStore()
    store.slots = [
        TrainerSlot(
            trainers[t % len(trainers)].trainer_id,
            TODAY + timedelta(days=d),
            f"{h:02d}:{m:02d}",
            length,
            SlotStatus.BLOCKED,
        )
        for t, d, h, m, length in busy
    ]
    use_case = SuggestAlternatives(
        uow_factory=lambda: FakeUnitOfWork(store),  # type: ignore[arg-type,return-value]
        directory=FakeDirectory(CandidateList(tuple(trainers))),
        clock=_Clock(),  # type: ignore[arg-type]
        find_zone=lambda uow, point: (ZONE, 0.0),
    )
    request = AssignmentRequest(
        "33333333-3333-3333-3333-333333333333",
        COURSE,
        ClassType.ONE_ON_ONE,
        10,
        DeliveryMode.WEEKDAY_DAILY,
        TODAY.isoformat(),
        time_slot,
        GeoPoint(17.0, 78.0),
        "",
        (Student("44444444-4444-4444-4444-444444444444", "A"),),
    )

    found = use_case(request, max_results=6, window_days=3).alternatives

    def pick(start: date, slot: str) -> str | None:
        sessions = generate_schedule(
            class_type=ClassType.ONE_ON_ONE,
            delivery_mode=DeliveryMode.WEEKDAY_DAILY,
            total_sessions=10,
            start_date=start,
            time_slot=slot,
        )
        result = evaluate_candidates(
            candidates=trainers,
            zone=ZONE,
            course_id=COURSE,
            student_location=GeoPoint(17.0, 78.0),
            sessions=sessions,
            busy_by_trainer={
                t.trainer_id: [s.interval for s in store.slots if s.trainer_id == t.trainer_id]
                for t in trainers
            },
            active_assignments={},
        )
        return result.ranked[0].trainer_id if result.ranked else None

    grid = candidate_grid(
        start_date=TODAY,
        time_slot=time_slot,
        window_days=3,
        class_type=ClassType.ONE_ON_ONE,
        delivery_mode=DeliveryMode.WEEKDAY_DAILY,
    )
    suggested = {(a.start_date, a.time_slot): a.trainer_id for a in found}
    for alternative in found:
        assert pick(alternative.start_date, alternative.time_slot) == alternative.trainer_id
    # Everything ranked before the last suggestion and left out has no eligible trainer.
    cutoff = (
        len(grid)
        if len(found) < 6
        else next(
            i
            for i, c in enumerate(grid)
            if (c.start_date, c.time_slot) == (found[-1].start_date, found[-1].time_slot)
        )
    )
    for candidate in grid[:cutoff]:
        if (candidate.start_date, candidate.time_slot) not in suggested:
            assert pick(candidate.start_date, candidate.time_slot) is None
