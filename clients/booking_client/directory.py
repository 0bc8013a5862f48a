"""Typed client of booking.v1.TrainerDirectoryService: deadlines, retries, breaker, cache."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import grpc
import structlog
from booking.v1 import common_pb2, trainer_directory_pb2, trainer_directory_pb2_grpc

from booking_client._retries import Budget, RetryPolicy, call_with_retries
from booking_client.circuit_breaker import CircuitBreaker
from booking_client.errors import (
    CallerDeadlineExceededError,
    DirectoryNotFoundError,
    DirectoryUnavailableError,
)
from booking_client.ttl_cache import TtlCache

log = structlog.get_logger(__name__)

T = TypeVar("T")
Req = TypeVar("Req")
Resp = TypeVar("Resp")

# The contract's limit for BatchGetTrainers ids and ListTrainers page_size.
MAX_BATCH_SIZE = 500

# These codes prove the directory is up and answered a question it did not like; they must
# not open the breaker and refuse everyone else's well-formed calls.
_ANSWERED_CODES = frozenset(
    {
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.OUT_OF_RANGE,
    }
)


@dataclass(frozen=True, slots=True)
class ZoneScope:
    """The trainers that may serve one zone: its operator's, whose home zone is it or none."""

    zone_id: str
    franchise_id: str = ""  # "" = a company-operated zone: company trainers only
    home_zone: bool = True  # False: the operator's filter only (a directory older than include_without_zone)

    def cache_key(self, course_id: str) -> str:
        # The operator is part of the key: UpdateZone may move a zone to a franchise.
        return f"{course_id}/{self.zone_id}/{self.franchise_id}"

    def apply(self, request: trainer_directory_pb2.ListTrainersRequest) -> None:
        if self.home_zone:
            request.zone_id = self.zone_id
            request.include_without_zone = True
        if self.franchise_id:
            request.franchise_id = self.franchise_id
        else:
            request.company_only = True


class TrainerDirectoryClient:
    """Reads trainers from the directory. Thread-safe: share one per process.

    Every method is one logical call for the breaker, whatever its pages, chunks and retries.
    ``budget_seconds`` is the caller's remaining time (``context.time_remaining()`` may be
    passed as is); None means no inbound deadline, only ``call_timeout_seconds`` per attempt.
    """

    def __init__(
        self,
        channel: grpc.Channel,
        *,
        call_timeout_seconds: float = 2.0,
        max_attempts: int = 3,
        initial_backoff_seconds: float = 0.1,
        max_backoff_seconds: float = 0.2,
        breaker: CircuitBreaker | None = None,
        cache_ttl_seconds: float = 0.0,
        page_size: int = MAX_BATCH_SIZE,
        metadata: Sequence[tuple[str, str]] = (),
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 1 <= page_size <= MAX_BATCH_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_BATCH_SIZE}")
        self._stub = trainer_directory_pb2_grpc.TrainerDirectoryServiceStub(channel)
        self._policy = RetryPolicy(
            max_attempts=max_attempts,
            initial_backoff_seconds=initial_backoff_seconds,
            max_backoff_seconds=max_backoff_seconds,
            call_timeout_seconds=call_timeout_seconds,
        )
        self._breaker = breaker if breaker is not None else CircuitBreaker()
        self._course_cache: TtlCache[tuple[common_pb2.Trainer, ...]] = TtlCache(ttl_seconds=cache_ttl_seconds)
        self._page_size = page_size
        # Sent with every call: the credentials the directory asks for, e.g.
        # (("authorization", "Bearer <token>"),).
        self._metadata = tuple(metadata)

    @property
    def breaker(self) -> CircuitBreaker:
        return self._breaker

    def list_course_trainers(
        self, course_id: str, *, zone: ZoneScope | None = None, budget_seconds: float | None = None
    ) -> list[common_pb2.Trainer]:
        """Every active trainer certified for ``course_id`` (with ``zone``: only those that may
        serve it), all pages followed."""
        key = course_id if zone is None else zone.cache_key(course_id)
        cached = self._course_cache.get(key)
        if cached is not None:
            return _copies(cached)
        budget = Budget(budget_seconds)
        trainers = self._guarded(
            "ListTrainers", budget, lambda: self._list_all_pages(course_id, zone, budget)
        )
        if self._course_cache.enabled:
            self._course_cache.put(key, tuple(_copies(trainers)))
        return trainers

    def get_trainer(self, trainer_id: str, *, budget_seconds: float | None = None) -> common_pb2.Trainer:
        """One trainer; DirectoryNotFoundError when the directory does not know the id."""
        request = trainer_directory_pb2.GetTrainerRequest(trainer_id=trainer_id)
        budget = Budget(budget_seconds)

        def fetch() -> common_pb2.Trainer:
            response = self._call("GetTrainer", self._stub.GetTrainer, request, budget, (trainer_id,))
            return response.trainer

        return self._guarded("GetTrainer", budget, fetch)

    def batch_get_trainers(
        self, trainer_ids: Sequence[str], *, budget_seconds: float | None = None
    ) -> list[common_pb2.Trainer]:
        """Trainers in request order, fetched 500 ids per RPC; any unknown id fails the chunk."""
        ids = list(trainer_ids)
        if not ids:
            return []
        budget = Budget(budget_seconds)

        def fetch() -> list[common_pb2.Trainer]:
            trainers: list[common_pb2.Trainer] = []
            for start in range(0, len(ids), MAX_BATCH_SIZE):
                chunk = ids[start : start + MAX_BATCH_SIZE]
                request = trainer_directory_pb2.BatchGetTrainersRequest(trainer_ids=chunk)
                response = self._call("BatchGetTrainers", self._stub.BatchGetTrainers, request, budget, chunk)
                trainers.extend(response.trainers)
            return trainers

        return self._guarded("BatchGetTrainers", budget, fetch)

    def _list_all_pages(
        self, course_id: str, zone: ZoneScope | None, budget: Budget
    ) -> list[common_pb2.Trainer]:
        trainers: list[common_pb2.Trainer] = []
        seen_tokens: set[str] = set()
        page_token = ""
        while True:
            request = trainer_directory_pb2.ListTrainersRequest(
                course_id=course_id, active_only=True, page_size=self._page_size, page_token=page_token
            )
            if zone is not None:
                zone.apply(request)
            response = self._call("ListTrainers", self._stub.ListTrainers, request, budget, None)
            if zone is not None and zone.home_zone and not response.include_without_zone_honored:
                # A directory older than include_without_zone reads zone_id alone as "that home zone
                # only" and would leave out the trainers without one: list again with the operator's
                # filter only (rule 3 is checked on the booking side anyway).
                zone = replace(zone, home_zone=False)
                trainers, page_token = [], ""
                seen_tokens.clear()
                continue
            trainers.extend(response.trainers)
            page_token = response.next_page_token
            if not page_token:
                return trainers
            if page_token in seen_tokens:
                # A server bug would otherwise loop until the budget runs out (or forever).
                raise DirectoryUnavailableError("ListTrainers: page token repeated")
            seen_tokens.add(page_token)

    def _call(
        self,
        method: str,
        rpc: grpc.UnaryUnaryMultiCallable[Req, Resp],
        request: Req,
        budget: Budget,
        trainer_ids: Sequence[str] | None,
    ) -> Resp:
        """One RPC with retries; NOT_FOUND names ``trainer_ids`` (None: not an id lookup)."""
        try:
            return call_with_retries(
                method,
                lambda timeout: rpc(request, timeout=timeout, metadata=self._metadata),
                policy=self._policy,
                budget=budget,
            )
        except grpc.RpcError as exc:
            if trainer_ids is None:
                raise DirectoryUnavailableError(f"{method}: failed", code=grpc.StatusCode.NOT_FOUND) from exc
            raise DirectoryNotFoundError(trainer_ids) from exc

    def _guarded(self, method: str, budget: Budget, fetch: Callable[[], T]) -> T:
        """Runs one logical call through the breaker and reports its outcome exactly once."""
        # Checked first so a caller already out of time never takes the half-open probe.
        budget.attempt_timeout(method, self._policy.call_timeout_seconds)
        if not self._breaker.allow():
            raise DirectoryUnavailableError("circuit breaker open")
        try:
            result = fetch()
        except DirectoryNotFoundError:
            self._breaker.record_success()
            raise
        except CallerDeadlineExceededError:
            # Our caller's patience ran out (often time spent queueing in front of this call
            # under overload): no verdict on the directory, so the breaker neither opens nor closes.
            self._breaker.record_abandoned()
            raise
        except DirectoryUnavailableError as exc:
            _record_outcome(self._breaker, answered=exc.code in _ANSWERED_CODES)
            code = exc.code.name if exc.code is not None else None
            log.warning("directory_call_failed", method=method, code=code, error=str(exc))
            raise
        except BaseException:
            self._breaker.record_failure()
            raise
        self._breaker.record_success()
        return result


def _record_outcome(breaker: CircuitBreaker, *, answered: bool) -> None:
    if answered:
        breaker.record_success()
    else:
        breaker.record_failure()


def _copies(trainers: Sequence[common_pb2.Trainer]) -> list[common_pb2.Trainer]:
    """Fresh messages, so a caller that edits a result cannot corrupt the cached list."""
    copies = []
    for trainer in trainers:
        copy = common_pb2.Trainer()
        copy.CopyFrom(trainer)
        copies.append(copy)
    return copies
