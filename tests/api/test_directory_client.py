"""TrainerDirectoryClient against a fake directory served by a real in-process grpc.server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from booking.v1 import common_pb2, trainer_directory_pb2_grpc
from booking_client import (
    CallerDeadlineExceededError,
    CircuitBreaker,
    DirectoryNotFoundError,
    DirectoryUnavailableError,
    TrainerDirectoryClient,
    close_channel,
    get_channel,
)

from tests.support.fake_directory import FakeDirectory
from tests.support.logs import captured_logs

COURSE_ID = "c0000000-0000-0000-0000-000000000001"
OTHER_COURSE_ID = "c0000000-0000-0000-0000-000000000002"


def make_trainer(index: int, *, course_id: str = COURSE_ID, active: bool = True) -> common_pb2.Trainer:
    return common_pb2.Trainer(
        trainer_id=f"t{index:07d}",
        display_name=f"Trainer {index}",
        active=active,
        certified_course_ids=[course_id],
    )


@dataclass
class Directory:
    fake: FakeDirectory
    channel: grpc.Channel

    def client(self, **options: Any) -> TrainerDirectoryClient:
        """A client whose backoff is 1-2 ms, so retry tests do not sleep."""
        options = {"initial_backoff_seconds": 0.001, "max_backoff_seconds": 0.002} | options
        return TrainerDirectoryClient(self.channel, **options)


@pytest.fixture
def directory() -> Iterator[Directory]:
    fake = FakeDirectory()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    trainer_directory_pb2_grpc.add_TrainerDirectoryServiceServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    target = f"127.0.0.1:{port}"
    yield Directory(fake=fake, channel=get_channel(target))
    fake.release.set()
    close_channel(target)
    server.stop(None).wait()


def test_two_unavailable_answers_are_retried_and_the_third_attempt_returns_the_trainer(
    directory: Directory,
) -> None:
    directory.fake.trainers = [make_trainer(1)]
    directory.fake.scripted_failures = [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAVAILABLE]
    client = directory.client()

    with captured_logs() as logs:
        trainer = client.get_trainer("t0000001")

    assert trainer.display_name == "Trainer 1"
    assert directory.fake.attempts("GetTrainer") == 3
    retries = [entry for entry in logs if entry["event"] == "directory_call_retried"]
    assert [(r["method"], r["attempt"], r["code"]) for r in retries] == [
        ("GetTrainer", 1, "UNAVAILABLE"),
        ("GetTrainer", 2, "UNAVAILABLE"),
    ]


def test_a_directory_that_stays_unavailable_fails_after_three_attempts_with_the_default_backoff(
    directory: Directory,
) -> None:
    directory.fake.always_fail_with = grpc.StatusCode.UNAVAILABLE
    client = TrainerDirectoryClient(directory.channel)

    started = time.monotonic()
    with pytest.raises(DirectoryUnavailableError) as raised:
        client.list_course_trainers(COURSE_ID)
    elapsed = time.monotonic() - started

    assert raised.value.code == grpc.StatusCode.UNAVAILABLE
    assert directory.fake.attempts("ListTrainers") == 3
    # Backoff about 100 ms then 200 ms (plus up to 50 ms jitter each).
    assert 0.25 <= elapsed < 1.0


def test_invalid_argument_is_not_retried(directory: Directory) -> None:
    directory.fake.always_fail_with = grpc.StatusCode.INVALID_ARGUMENT
    client = directory.client()

    with pytest.raises(DirectoryUnavailableError) as raised:
        client.list_course_trainers(COURSE_ID)

    assert raised.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert directory.fake.attempts("ListTrainers") == 1


def test_an_unknown_trainer_id_is_reported_as_not_found_after_one_attempt(directory: Directory) -> None:
    client = directory.client()

    with pytest.raises(DirectoryNotFoundError) as raised:
        client.get_trainer("t-missing")

    assert raised.value.trainer_ids == ("t-missing",)
    assert directory.fake.attempts("GetTrainer") == 1
    assert client.breaker.state == "closed"


def test_a_slow_directory_is_abandoned_within_the_callers_budget(directory: Directory) -> None:
    directory.fake.delay_seconds = 5.0
    client = TrainerDirectoryClient(directory.channel)
    budget_seconds = 0.3

    started = time.monotonic()
    with pytest.raises(CallerDeadlineExceededError):
        client.list_course_trainers(COURSE_ID, budget_seconds=budget_seconds)
    elapsed = time.monotonic() - started

    assert budget_seconds * 0.9 <= elapsed < budget_seconds + 0.5
    assert directory.fake.attempts("ListTrainers") == 1


def test_deadlines_cut_short_by_the_caller_never_open_the_breaker(directory: Directory) -> None:
    """Overload queues calls in front of the client; their short budgets say nothing of the directory."""
    directory.fake.trainers = [make_trainer(1)]
    directory.fake.delay_seconds = 0.2
    client = directory.client(breaker=CircuitBreaker(failure_threshold=2, reset_timeout_seconds=60))

    for _ in range(4):
        with pytest.raises(CallerDeadlineExceededError):
            client.list_course_trainers(COURSE_ID, budget_seconds=0.05)
    directory.fake.delay_seconds = 0.0

    assert client.breaker.state == "closed"
    assert [t.trainer_id for t in client.list_course_trainers(COURSE_ID, budget_seconds=5.0)] == ["t0000001"]


def test_a_directory_slower_than_the_call_timeout_still_counts_against_the_breaker(
    directory: Directory,
) -> None:
    """The caller had time to spare; the directory used up the whole per-call timeout: its failure."""
    directory.fake.delay_seconds = 1.0
    client = directory.client(
        call_timeout_seconds=0.05, max_attempts=1, breaker=CircuitBreaker(failure_threshold=2)
    )

    for _ in range(2):
        with pytest.raises(DirectoryUnavailableError) as raised:
            client.list_course_trainers(COURSE_ID, budget_seconds=5.0)
        assert raised.value.code == grpc.StatusCode.DEADLINE_EXCEEDED

    assert client.breaker.state == "open"


def test_a_probe_abandoned_by_its_caller_lets_the_next_caller_probe(directory: Directory) -> None:
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_seconds=30, clock=lambda: now[0])
    breaker.record_failure()
    now[0] = 31.0
    directory.fake.trainers = [make_trainer(1)]
    directory.fake.delay_seconds = 0.2
    client = directory.client(breaker=breaker)

    with pytest.raises(CallerDeadlineExceededError):
        client.list_course_trainers(COURSE_ID, budget_seconds=0.05)  # takes the half-open probe
    directory.fake.delay_seconds = 0.0
    listed = client.list_course_trainers(COURSE_ID, budget_seconds=5.0)  # no second reset timeout

    assert [t.trainer_id for t in listed] == ["t0000001"]
    assert breaker.state == "closed"


def test_each_attempt_is_cut_at_the_call_timeout_when_the_caller_has_no_deadline(
    directory: Directory,
) -> None:
    directory.fake.delay_seconds = 5.0
    client = directory.client(call_timeout_seconds=0.1)
    no_inbound_deadline = 9.2e18  # what ServicerContext.time_remaining() returns without one

    started = time.monotonic()
    with pytest.raises(DirectoryUnavailableError) as raised:
        client.get_trainer("t0000001", budget_seconds=no_inbound_deadline)
    elapsed = time.monotonic() - started

    assert raised.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert directory.fake.attempts("GetTrainer") == 3
    assert 0.3 <= elapsed < 1.0


def test_a_caller_already_out_of_time_gets_deadline_exceeded_without_a_call(directory: Directory) -> None:
    client = directory.client()

    with pytest.raises(CallerDeadlineExceededError):
        client.list_course_trainers(COURSE_ID, budget_seconds=0.0)

    assert directory.fake.calls == []


def test_all_160_trainers_of_a_course_are_listed_in_four_pages_of_50(directory: Directory) -> None:
    wanted = [make_trainer(i) for i in range(160)]
    others = [make_trainer(1000, active=False), make_trainer(1001, course_id=OTHER_COURSE_ID)]
    directory.fake.trainers = wanted + others
    client = TrainerDirectoryClient(directory.channel, page_size=50)

    trainers = client.list_course_trainers(COURSE_ID)

    assert [t.trainer_id for t in trainers] == [t.trainer_id for t in wanted]
    requests = directory.fake.list_requests
    assert len(requests) == 4
    assert all(r.course_id == COURSE_ID and r.active_only and r.page_size == 50 for r in requests)
    assert [r.page_token for r in requests] == ["", "50", "100", "150"]


def test_a_page_that_fails_transiently_is_retried_without_restarting_the_listing(
    directory: Directory,
) -> None:
    directory.fake.trainers = [make_trainer(i) for i in range(120)]
    directory.fake.scripted_failures = [grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE]
    client = directory.client(page_size=50)

    trainers = client.list_course_trainers(COURSE_ID)

    assert len(trainers) == 120
    tokens = [request.page_token for request in directory.fake.list_requests]
    assert tokens == ["", "50", "50", "100"]


def test_batch_get_sends_500_ids_per_call_and_keeps_request_order(directory: Directory) -> None:
    directory.fake.trainers = [make_trainer(i) for i in range(1200)]
    ids = [f"t{i:07d}" for i in reversed(range(1200))]
    client = TrainerDirectoryClient(directory.channel)

    trainers = client.batch_get_trainers(ids)

    assert [t.trainer_id for t in trainers] == ids
    sizes = [len(request.trainer_ids) for request in directory.fake.batch_requests]
    assert sizes == [500, 500, 200]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_refuses_the_sixth_call_after_five_failures_and_one_probe_closes_it(
    directory: Directory,
) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=5, reset_timeout_seconds=30.0, clock=clock)
    client = directory.client(breaker=breaker)
    directory.fake.trainers = [make_trainer(1)]
    directory.fake.always_fail_with = grpc.StatusCode.UNAVAILABLE

    for _ in range(5):
        with pytest.raises(DirectoryUnavailableError):
            client.list_course_trainers(COURSE_ID)
    assert directory.fake.attempts("ListTrainers") == 15
    with pytest.raises(DirectoryUnavailableError, match="circuit breaker open"):
        client.list_course_trainers(COURSE_ID)
    assert directory.fake.attempts("ListTrainers") == 15

    directory.fake.always_fail_with = None
    clock.now += 30.0
    assert [t.trainer_id for t in client.list_course_trainers(COURSE_ID)] == ["t0000001"]
    assert directory.fake.attempts("ListTrainers") == 16
    assert breaker.state == "closed"


def test_a_failed_probe_keeps_the_breaker_open_for_another_timeout(directory: Directory) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_seconds=0.2)
    client = TrainerDirectoryClient(directory.channel, breaker=breaker, max_attempts=1)
    directory.fake.always_fail_with = grpc.StatusCode.UNAVAILABLE
    with pytest.raises(DirectoryUnavailableError):
        client.get_trainer("t0000001")

    time.sleep(0.25)
    with pytest.raises(DirectoryUnavailableError) as probe:
        client.get_trainer("t0000001")
    with pytest.raises(DirectoryUnavailableError, match="circuit breaker open"):
        client.get_trainer("t0000001")

    assert probe.value.code == grpc.StatusCode.UNAVAILABLE
    assert directory.fake.attempts("GetTrainer") == 2
    assert breaker.state == "open"


def test_with_a_cache_ttl_a_second_listing_of_the_same_course_makes_no_call(directory: Directory) -> None:
    directory.fake.trainers = [make_trainer(i) for i in range(3)]
    client = TrainerDirectoryClient(directory.channel, cache_ttl_seconds=60.0)

    first = client.list_course_trainers(COURSE_ID)
    first[0].display_name = "edited by the caller"
    second = client.list_course_trainers(COURSE_ID)

    assert directory.fake.attempts("ListTrainers") == 1
    assert [t.trainer_id for t in second] == ["t0000000", "t0000001", "t0000002"]
    assert second[0].display_name == "Trainer 0"


def test_without_a_cache_ttl_every_listing_calls_the_directory(directory: Directory) -> None:
    directory.fake.trainers = [make_trainer(1)]
    client = TrainerDirectoryClient(directory.channel, cache_ttl_seconds=0.0)

    client.list_course_trainers(COURSE_ID)
    client.list_course_trainers(COURSE_ID)

    assert directory.fake.attempts("ListTrainers") == 2


def test_one_channel_is_shared_per_target(directory: Directory) -> None:
    target = "127.0.0.1:1"
    assert get_channel(target) is get_channel(target)
    assert get_channel(target) is not directory.channel
