"""Port: the trainer directory as the assignment sees it (implemented over gRPC)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from booking_server.domain.eligibility import Screening, place_candidates
from booking_server.domain.errors import UnavailableError
from booking_server.domain.model import CandidateQuery, TrainerCandidate, Zone


class TrainerDirectoryUnavailableError(Exception):
    """The candidates could not be read: retries exhausted, a non-transient error, or breaker open."""


def directory_unavailable() -> UnavailableError:
    """What a caller sees when a use case cannot go on without the directory (nothing changed)."""
    return UnavailableError(
        "the trainer directory could not be read; try again", reason="TRAINER_DIRECTORY_UNAVAILABLE"
    )


@dataclass(frozen=True, slots=True)
class CandidateList:
    candidates: tuple[TrainerCandidate, ...]
    # Records the directory returned but that could not be understood: only they are excluded.
    unreadable_trainer_ids: tuple[str, ...] = ()
    # What the directory was asked and how many records it returned (the decision reports it).
    query: CandidateQuery | None = None
    # place_candidates per (zone, operator), kept as long as this list is (a cached list lives
    # for the directory cache's TTL). Races only compute the same value twice.
    _placements: dict[tuple[str, str | None], Screening] = field(
        default_factory=dict, compare=False, repr=False
    )

    def placement_for(self, zone: Zone) -> Screening:
        key = (zone.zone_id, zone.franchise_id)
        placement = self._placements.get(key)
        if placement is None:
            placement = place_candidates(self.candidates, zone)
            self._placements[key] = placement
        return placement


class TrainerDirectory(Protocol):
    def list_candidates(self, course_id: str, zone: Zone, *, budget_seconds: float | None) -> CandidateList:
        """The zone's candidates for the course (CandidateQuery), every page; budget = caller's
        remaining time.

        TrainerDirectoryUnavailableError when the directory failed; DeadlineExceededError when the
        budget ran out first (that says nothing about the directory, and is never stored).
        """
        ...

    def get_candidate(self, trainer_id: str, *, budget_seconds: float | None) -> TrainerCandidate | None:
        """One trainer's record, whatever its state; None when the directory does not know it."""
        ...
