"""Converters that are hand-written for speed must agree with the library's own."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from booking.v1 import common_pb2
from booking_server.domain.eligibility import Rejection, RejectionReason
from booking_server.domain.model import CandidateQuery
from booking_server.domain.purchase import AssignmentDecision
from booking_server.rpc.converters.common import timestamp_from_datetime
from booking_server.rpc.converters.purchases import decision_to_proto
from booking_server.rpc.directory_adapter import to_candidate_list
from google.protobuf import timestamp_pb2
from hypothesis import given
from hypothesis import strategies as st

aware_datetimes = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
) | st.datetimes(timezones=st.sampled_from([timezone(timedelta(hours=5, minutes=30)), UTC]))


@given(aware_datetimes)
def test_timestamp_from_datetime_matches_protobufs_from_datetime(value: datetime) -> None:
    expected = timestamp_pb2.Timestamp()
    expected.FromDatetime(value)

    assert timestamp_from_datetime(value) == expected


def test_a_directory_record_without_a_valid_trainer_id_is_reported_unreadable_and_others_kept() -> None:
    good = common_pb2.Trainer(
        trainer_id="AAAAAAAA-0000-0000-0000-000000000001",
        active=True,
        zone_id="BBBBBBBB-0000-0000-0000-000000000001",
        certified_course_ids=["CCCCCCCC-0000-0000-0000-000000000001"],
        location=common_pb2.GeoPoint(latitude=17.0, longitude=78.0),
        has_location=True,
    )
    bad = common_pb2.Trainer(trainer_id="trainer-7", active=True)

    asked = CandidateQuery(
        "cccccccc-0000-0000-0000-000000000001", "bbbbbbbb-0000-0000-0000-000000000001", None
    )

    result = to_candidate_list([bad, good], asked)

    assert result.query == replace(asked, trainers_returned=2)  # the unreadable record counts too
    assert result.unreadable_trainer_ids == ("trainer-7",)
    [candidate] = result.candidates
    assert candidate.trainer_id == "aaaaaaaa-0000-0000-0000-000000000001"
    assert candidate.zone_id == "bbbbbbbb-0000-0000-0000-000000000001"
    assert candidate.certified_course_ids == ("cccccccc-0000-0000-0000-000000000001",)
    assert candidate.location is not None
    assert candidate.franchise_id is None


def _decision(zone_rejections: tuple[Rejection, ...], own: tuple[Rejection, ...]) -> AssignmentDecision:
    return AssignmentDecision(ranked_trainer_ids=("t-1",), rejections=own, zone_rejections=zone_rejections)


def test_a_decision_lists_the_zone_rejections_then_its_own() -> None:
    shared = tuple(Rejection(f"z-{i:03d}", RejectionReason.WRONG_ZONE, f"zone {i}") for i in range(300))
    own = (Rejection("o-1", RejectionReason.SCHEDULE_CONFLICT, "2030-01-02 16:00 session 2"),)

    message = decision_to_proto(_decision(shared, own))

    assert [r.trainer_id for r in message.rejections] == [r.trainer_id for r in shared] + ["o-1"]
    assert message.rejections[0].reason == "WRONG_ZONE"
    assert message.rejections[-1].detail == "2030-01-02 16:00 session 2"
    assert list(message.ranked_trainer_ids) == ["t-1"]
