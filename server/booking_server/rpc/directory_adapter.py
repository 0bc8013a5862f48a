"""The TrainerDirectory port over gRPC: booking_client's stub, converted to domain candidates."""

from __future__ import annotations

from dataclasses import replace

from booking.v1 import common_pb2
from booking_client import (
    CallerDeadlineExceededError,
    DirectoryNotFoundError,
    DirectoryUnavailableError,
    TrainerDirectoryClient,
    TtlCache,
    ZoneScope,
)

from booking_server.domain.errors import DeadlineExceededError
from booking_server.domain.model import CandidateQuery, GeoPoint, TrainerCandidate, Zone
from booking_server.domain.validation import is_uuid
from booking_server.metrics import Metrics
from booking_server.services.ports.directory import CandidateList, TrainerDirectoryUnavailableError


def _candidate(trainer: common_pb2.Trainer) -> TrainerCandidate | None:
    """None when the record cannot identify its trainer: only that trainer is excluded.

    The other ids are only ever compared for equality with ids we validated (the zone, its
    franchise, the course), so a malformed one simply fails that rule with its own reason.
    """
    if not is_uuid(trainer.trainer_id):
        return None
    location = trainer.location
    return TrainerCandidate(
        trainer_id=trainer.trainer_id.lower(),
        active=trainer.active,
        franchise_id=trainer.franchise_id.lower() or None,
        zone_id=trainer.zone_id.lower() or None,
        certified_course_ids=tuple(c.lower() for c in trainer.certified_course_ids),
        location=GeoPoint(location.latitude, location.longitude) if trainer.has_location else None,
        max_active_purchases=max(trainer.max_active_purchases, 0),
    )


def to_candidate_list(trainers: list[common_pb2.Trainer], query: CandidateQuery) -> CandidateList:
    """The candidates of `query`'s answer; the query records how many records came back."""
    candidates: list[TrainerCandidate] = []
    unreadable: list[str] = []
    for trainer in trainers:
        candidate = _candidate(trainer)
        if candidate is None:
            unreadable.append(trainer.trainer_id)
        else:
            candidates.append(candidate)
    return CandidateList(
        tuple(candidates), tuple(unreadable), replace(query, trainers_returned=len(trainers))
    )


def _out_of_time() -> DeadlineExceededError:
    """The caller's deadline ran out before the directory answered: an error, never an outcome.

    Storing "directory unavailable" here would be false (the directory was never given the
    time to answer) and permanent (a replay returns what is stored).
    """
    return DeadlineExceededError(
        "the deadline ran out before the trainer directory answered; nothing was stored"
    )


class GrpcTrainerDirectory:
    """Lists a zone's candidates for a course through the generated stub (paging, retries,
    breaker), with the directory filtering by operator and home zone (CandidateQuery).

    With a TTL (BOOKING_DIRECTORY_CACHE_TTL_SECONDS, off by default) the converted list of a
    course and zone is reused for that many seconds. Staleness is bounded by the TTL, and the database
    still guards every reservation.
    """

    def __init__(
        self, client: TrainerDirectoryClient, *, metrics: Metrics, cache_ttl_seconds: float = 0.0
    ) -> None:
        self._client = client
        self._requests = metrics.directory_requests
        self._cache: TtlCache[CandidateList] = TtlCache(ttl_seconds=cache_ttl_seconds)

    def list_candidates(self, course_id: str, zone: Zone, *, budget_seconds: float | None) -> CandidateList:
        scope = ZoneScope(zone.zone_id, zone.franchise_id or "")
        key = scope.cache_key(course_id)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        try:
            trainers = self._client.list_course_trainers(course_id, zone=scope, budget_seconds=budget_seconds)
        except CallerDeadlineExceededError as exc:
            raise _out_of_time() from exc
        except DirectoryUnavailableError as exc:
            self._requests.labels("unavailable").inc()
            raise TrainerDirectoryUnavailableError(str(exc)) from exc
        self._requests.labels("ok").inc()
        candidates = to_candidate_list(trainers, CandidateQuery.for_zone(course_id, zone))
        self._cache.put(key, candidates)
        return candidates

    def get_candidate(self, trainer_id: str, *, budget_seconds: float | None) -> TrainerCandidate | None:
        try:
            trainer = self._client.get_trainer(trainer_id, budget_seconds=budget_seconds)
        except DirectoryNotFoundError:
            self._requests.labels("not_found").inc()
            return None
        except CallerDeadlineExceededError as exc:
            raise _out_of_time() from exc
        except DirectoryUnavailableError as exc:
            self._requests.labels("unavailable").inc()
            raise TrainerDirectoryUnavailableError(str(exc)) from exc
        self._requests.labels("ok").inc()
        candidate = _candidate(trainer)
        if candidate is None:  # the directory answered with a record it cannot identify
            raise TrainerDirectoryUnavailableError("the directory returned an unreadable record")
        return candidate
