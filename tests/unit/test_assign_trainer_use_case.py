"""AssignTrainer on in-memory fakes: the decision flow without a database or a network."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from booking_server.domain.errors import AlreadyExistsError, InvalidRequestError
from booking_server.domain.model import (
    ClassType,
    DeliveryMode,
    GeoPoint,
    PurchaseStatus,
    Student,
    TrainerCandidate,
    WaitlistReason,
    Zone,
)
from booking_server.domain.slots import SlotStatus, TrainerSlot
from booking_server.domain.validation import AssignmentRequest
from booking_server.services.assign_trainer import AssignTrainer
from booking_server.services.ports.directory import CandidateList
from booking_server.services.unit_of_work import TransactionConflictError

from tests.unit.fakes import FakeDirectory, FakeStore, FakeUnitOfWork

TODAY = date(2030, 1, 1)
COURSE = "11111111-1111-1111-1111-111111111111"
ZONE = Zone("22222222-2222-2222-2222-222222222222", "Centre", None, GeoPoint(17.0, 78.0), 10.0, True)
NEAR = "aaaaaaaa-0000-0000-0000-000000000001"
FAR = "aaaaaaaa-0000-0000-0000-000000000002"


class FixedClock:
    def today(self) -> date:
        return TODAY


def _trainer(trainer_id: str, north_degrees: float) -> TrainerCandidate:
    return TrainerCandidate(
        trainer_id, True, None, ZONE.zone_id, (COURSE,), GeoPoint(17.0 + north_degrees, 78.0), 0
    )


def _request(
    booking_id: str = "33333333-3333-3333-3333-333333333333", **changes: object
) -> AssignmentRequest:
    values: dict[str, object] = {
        "booking_id": booking_id,
        "course_id": COURSE,
        "class_type": ClassType.ONE_ON_ONE,
        "total_sessions": 10,
        "delivery_mode": DeliveryMode.WEEKDAY_DAILY,
        "start_date": (TODAY + timedelta(days=3)).isoformat(),
        "preferred_time_slot": "16:00",
        "student_location": GeoPoint(17.0, 78.0),
        "student_address": "",
        "students": (Student("44444444-4444-4444-4444-444444444444", "Asha"),),
    }
    values.update(changes)
    return AssignmentRequest(**values)  # type: ignore[arg-type]


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def directory() -> FakeDirectory:
    return FakeDirectory(CandidateList((_trainer(FAR, 0.05), _trainer(NEAR, 0.01))))


def _use_case(
    store: FakeStore, directory: FakeDirectory, zone: Zone | None = ZONE, clock: object = None
) -> AssignTrainer:
    return AssignTrainer(
        uow_factory=lambda: FakeUnitOfWork(store),  # type: ignore[arg-type,return-value]
        directory=directory,
        find_zone=lambda uow, point: (zone, 0.0) if zone else None,
        clock=clock or FixedClock(),  # type: ignore[arg-type]
    )


def test_the_nearest_free_trainer_is_assigned_and_everything_commits_once(
    store: FakeStore, directory: FakeDirectory
) -> None:
    result = _use_case(store, directory)(_request())

    assert result.purchase.status == PurchaseStatus.ASSIGNED
    assert result.purchase.trainer_id == NEAR
    assert result.decision.ranked_trainer_ids == (NEAR, FAR)
    assert len(store.slots) == 10
    assert store.commits == 1


def test_a_trainer_whose_slot_was_taken_meanwhile_is_skipped_for_the_next(
    store: FakeStore, directory: FakeDirectory
) -> None:
    store.taken_meanwhile.append(
        TrainerSlot(NEAR, TODAY + timedelta(days=5), "16:20", 40, SlotStatus.BOOKED, "rival")
    )

    result = _use_case(store, directory)(_request())

    assert result.purchase.trainer_id == FAR
    assert [(r.trainer_id, r.reason.value) for r in result.decision.rejections] == [
        (NEAR, "SLOT_TAKEN_CONCURRENTLY")
    ]
    assert {s.trainer_id for s in store.slots if s.purchase_id != "rival"} == {FAR}


def test_an_unreadable_directory_waitlists_with_its_reason_and_keeps_the_sessions(store: FakeStore) -> None:
    directory = FakeDirectory(unavailable=True)

    result = _use_case(store, directory)(_request())

    assert result.purchase.status == PurchaseStatus.WAITLISTED
    assert result.purchase.waitlist_reason == WaitlistReason.TRAINER_DIRECTORY_UNAVAILABLE
    assert len(result.sessions) == 10
    assert store.slots == []


def test_a_purchase_rule_failure_never_calls_the_directory(
    store: FakeStore, directory: FakeDirectory
) -> None:
    result = _use_case(store, directory)(_request(class_type=ClassType.HYBRID))

    assert result.purchase.status == PurchaseStatus.INVALID_PURCHASE
    assert directory.calls == 0


def test_no_zone_never_calls_the_directory(store: FakeStore, directory: FakeDirectory) -> None:
    result = _use_case(store, directory, zone=None)(_request())

    assert result.purchase.status == PurchaseStatus.SERVICE_NOT_AVAILABLE
    assert directory.calls == 0


def test_a_replay_returns_the_stored_purchase_without_calling_the_directory_again(
    store: FakeStore, directory: FakeDirectory
) -> None:
    use_case = _use_case(store, directory)
    first = use_case(_request())

    second = use_case(_request())

    assert second.purchase == first.purchase
    assert directory.calls == 1
    assert store.commits == 1


def test_a_reused_booking_id_with_another_payload_is_refused(
    store: FakeStore, directory: FakeDirectory
) -> None:
    use_case = _use_case(store, directory)
    use_case(_request())

    with pytest.raises(AlreadyExistsError) as raised:
        use_case(_request(preferred_time_slot="17:00"))

    assert raised.value.reason == "BOOKING_ID_REUSED"


def test_a_dry_run_commits_nothing(store: FakeStore, directory: FakeDirectory) -> None:
    result = _use_case(store, directory)(_request(validate_only=True))

    assert result.purchase.trainer_id == NEAR
    assert store.commits == 0
    assert store.purchases == {}


def test_a_start_date_before_the_business_today_is_invalid(
    store: FakeStore, directory: FakeDirectory
) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        _use_case(store, directory)(_request(start_date=(TODAY - timedelta(days=1)).isoformat()))

    assert [v.field for v in raised.value.violations] == ["start_date"]
    assert store.purchases == {}


def test_when_every_ranked_trainer_is_taken_meanwhile_the_purchase_ends_waitlisted_without_a_trainer(
    store: FakeStore, directory: FakeDirectory
) -> None:
    for trainer_id in (NEAR, FAR):
        store.taken_meanwhile.append(
            TrainerSlot(trainer_id, TODAY + timedelta(days=4), "16:00", 40, SlotStatus.BOOKED, "rival")
        )

    result = _use_case(store, directory)(_request())

    assert result.purchase.status == PurchaseStatus.WAITLISTED
    assert result.purchase.waitlist_reason == WaitlistReason.NO_ELIGIBLE_TRAINER
    assert result.purchase.message == "No eligible trainer available, booking waitlisted"
    assert result.purchase.trainer_id is None
    assert [r.reason.value for r in result.decision.rejections] == ["SLOT_TAKEN_CONCURRENTLY"] * 2
    assert store.purchases[result.purchase.purchase_id].status == PurchaseStatus.WAITLISTED


class MovableClock:
    def __init__(self, today: date) -> None:
        self.day = today

    def today(self) -> date:
        return self.day


def test_a_retry_after_midnight_of_a_course_that_started_today_replays_the_stored_purchase(
    store: FakeStore, directory: FakeDirectory
) -> None:
    clock = MovableClock(TODAY)
    use_case = _use_case(store, directory, clock=clock)
    request = _request(start_date=TODAY.isoformat())
    first = use_case(request)
    clock.day = TODAY + timedelta(days=1)  # the caller's retry arrives after midnight

    again = use_case(request)

    assert again == first
    assert store.commits == 1
    with pytest.raises(InvalidRequestError) as raised:  # a new booking for that day is refused
        use_case(_request("55555555-5555-5555-5555-555555555555", start_date=TODAY.isoformat()))
    assert [v.field for v in raised.value.violations] == ["start_date"]


def test_a_past_start_date_is_reported_with_the_other_problems_of_a_malformed_request(
    store: FakeStore, directory: FakeDirectory
) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        _use_case(store, directory)(
            _request(start_date=(TODAY - timedelta(days=1)).isoformat(), preferred_time_slot="25:00")
        )

    assert [v.field for v in raised.value.violations] == ["start_date", "preferred_time_slot"]


def test_a_replay_answers_with_the_first_decision_after_the_directory_changed(
    store: FakeStore, directory: FakeDirectory
) -> None:
    use_case = _use_case(store, directory)
    first = use_case(_request())
    directory.candidates = CandidateList((_trainer("aaaaaaaa-0000-0000-0000-000000000009", 0.0),))

    again = use_case(_request())

    assert again.decision == first.decision
    assert again.decision.ranked_trainer_ids == (NEAR, FAR)
    assert again.purchase == first.purchase


def test_a_trainer_that_reached_its_cap_meanwhile_is_skipped_with_load_cap(store: FakeStore) -> None:
    capped = TrainerCandidate(NEAR, True, None, ZONE.zone_id, (COURSE,), GeoPoint(17.01, 78.0), 1)
    directory = FakeDirectory(CandidateList((capped, _trainer(FAR, 0.05))))
    store.assigned_meanwhile[NEAR] = 1  # a rival committed an assignment after our load read

    result = _use_case(store, directory)(_request())

    assert result.purchase.trainer_id == FAR
    assert [(r.trainer_id, r.reason.value) for r in result.decision.rejections] == [(NEAR, "LOAD_CAP")]
    assert store.decisions[result.purchase.purchase_id] == result.decision


def test_a_transaction_the_database_aborts_is_run_again_whole_and_stored_once(
    store: FakeStore, directory: FakeDirectory
) -> None:
    store.conflicts_before_commit = 2

    result = _use_case(store, directory)(_request(), budget_seconds=10.0)

    assert result.purchase.status == PurchaseStatus.ASSIGNED
    assert store.commits == 1
    assert list(store.purchases) == [result.purchase.purchase_id]
    assert len(store.slots) == 10


def test_conflicts_past_the_attempts_reach_the_caller_as_a_conflict_with_nothing_stored(
    store: FakeStore, directory: FakeDirectory
) -> None:
    store.conflicts_before_commit = 100

    with pytest.raises(TransactionConflictError):
        _use_case(store, directory)(_request())

    assert store.purchases == {}
    assert store.slots == []
