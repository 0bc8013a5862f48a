"""Port: the trainer directory as the assignment sees it (implemented over gRPC)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from booking_server.domain.model import TrainerCandidate


class TrainerDirectoryUnavailableError(Exception):
    """The candidates could not be read: retries exhausted, a non-transient error, or breaker open."""


@dataclass(frozen=True, slots=True)
class CandidateList:
    candidates: tuple[TrainerCandidate, ...]
    # Records the directory returned but that could not be understood: only they are excluded.
    unreadable_trainer_ids: tuple[str, ...] = ()


class TrainerDirectory(Protocol):
    def list_candidates(self, course_id: str, *, budget_seconds: float | None) -> CandidateList:
        """Active trainers certified for the course, every page; budget = caller's remaining time."""
        ...
