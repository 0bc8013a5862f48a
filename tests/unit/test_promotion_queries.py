"""Which waiting purchases a trigger sends the promotion to look at (no database needed)."""

from __future__ import annotations

from datetime import date, datetime

from booking_server.domain.model import GeoPoint, TrainerCandidate
from booking_server.services.ports.capacity_events import CapacityCause, CapacityEvent
from booking_server.services.ports.directory import CandidateList
from booking_server.services.promote_waitlisted import PromoteWaitlisted

from tests.unit.fakes import FakeDirectory

ZONE = "22222222-2222-2222-2222-222222222222"
FRANCHISE = "33333333-3333-3333-3333-333333333333"
COURSE = "11111111-1111-1111-1111-111111111111"


class _Clock:
    def today(self) -> date:
        return date(2031, 1, 1)

    def now_local(self) -> datetime:
        return datetime(2031, 1, 1, 12, 0)


def _candidate(trainer_id: str, **fields: object) -> TrainerCandidate:
    values: dict[str, object] = {
        "trainer_id": trainer_id, "active": True, "franchise_id": None, "zone_id": ZONE,
        "certified_course_ids": (COURSE,), "location": GeoPoint(17.0, 78.0), "max_active_purchases": 0,
    }  # fmt: skip
    values.update(fields)
    return TrainerCandidate(**values)  # type: ignore[arg-type]


def _queries(*trainers: TrainerCandidate, zone_events: tuple[str, ...] = ()) -> list[object]:
    promote = PromoteWaitlisted(
        lambda: None,  # type: ignore[arg-type,return-value]
        directory=FakeDirectory(CandidateList(trainers)),
        clock=_Clock(),  # type: ignore[arg-type]
        sync=None,  # type: ignore[arg-type]
        group_locks=None,  # type: ignore[arg-type]
    )
    events = [
        CapacityEvent(i, CapacityCause.TRAINER_CHANGED, t.trainer_id, None, None)
        for i, t in enumerate(trainers)
    ]
    events += [CapacityEvent(99, CapacityCause.ZONE_CHANGED, None, z, None) for z in zone_events]
    return promote._queries_for(events)


def test_a_trainer_with_a_home_zone_serves_its_courses_there_and_one_without_serves_its_operators_zones() -> (
    None
):
    homed = _candidate("a")
    roaming = _candidate("b", zone_id=None, franchise_id=FRANCHISE)

    first, second = _queries(homed, roaming)

    assert (first.zone_id, first.course_ids, first.any_zone_of_operator) == (ZONE, (COURSE,), False)  # type: ignore[attr-defined]
    assert (second.zone_id, second.operator_franchise_id, second.any_zone_of_operator) == (
        None,
        FRANCHISE,
        True,
    )  # type: ignore[attr-defined]


def test_ids_that_are_not_uuids_never_reach_a_query_and_inactive_trainers_serve_nobody() -> None:
    odd_courses = _candidate("a", certified_course_ids=(COURSE, "legacy-math-101"))
    odd_zone = _candidate("b", zone_id="zone-7")
    inactive = _candidate("c", active=False)

    queries = _queries(odd_courses, odd_zone, inactive, zone_events=(ZONE,))

    assert [(q.zone_id, q.course_ids) for q in queries] == [(ZONE, (COURSE,)), (ZONE, None)]  # type: ignore[attr-defined]
