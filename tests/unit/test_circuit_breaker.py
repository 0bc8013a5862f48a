"""CircuitBreaker and TtlCache on a fake clock: no sockets, no sleeping."""

from __future__ import annotations

import threading

import pytest
from booking_client import CircuitBreaker, TtlCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def open_breaker(clock: FakeClock, *, threshold: int = 5) -> CircuitBreaker:
    breaker = CircuitBreaker(failure_threshold=threshold, reset_timeout_seconds=30.0, clock=clock)
    for _ in range(threshold):
        assert breaker.allow()
        breaker.record_failure()
    return breaker


def test_the_breaker_opens_on_the_fifth_consecutive_failure_and_not_before(clock: FakeClock) -> None:
    breaker = CircuitBreaker(clock=clock)
    for _ in range(4):
        breaker.record_failure()
    assert breaker.allow()

    breaker.record_failure()

    assert breaker.state == "open"
    assert not breaker.allow()


def test_a_success_resets_the_count_of_consecutive_failures(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=3, clock=clock)
    for _ in range(2):
        breaker.record_failure()
    breaker.record_success()
    for _ in range(2):
        breaker.record_failure()

    assert breaker.state == "closed"


def test_an_open_breaker_refuses_until_the_reset_timeout_then_lets_exactly_one_probe(
    clock: FakeClock,
) -> None:
    breaker = open_breaker(clock)
    clock.now += 29.9
    assert not breaker.allow()

    clock.now += 0.1
    assert breaker.allow()
    assert breaker.state == "half_open"
    assert not breaker.allow()
    assert not breaker.allow()


def test_a_successful_probe_closes_the_breaker(clock: FakeClock) -> None:
    breaker = open_breaker(clock)
    clock.now += 30.0
    assert breaker.allow()

    breaker.record_success()

    assert breaker.state == "closed"
    assert all(breaker.allow() for _ in range(10))


def test_a_failed_probe_reopens_the_breaker_for_a_whole_new_timeout(clock: FakeClock) -> None:
    breaker = open_breaker(clock)
    clock.now += 30.0
    assert breaker.allow()
    clock.now += 1.0

    breaker.record_failure()

    assert breaker.state == "open"
    clock.now += 29.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.allow()


def test_a_probe_that_never_reports_does_not_block_the_breaker_forever(clock: FakeClock) -> None:
    breaker = open_breaker(clock)
    clock.now += 30.0
    assert breaker.allow()

    clock.now += 30.0

    assert breaker.allow()
    assert not breaker.allow()


def test_concurrent_callers_after_the_timeout_get_exactly_one_probe(clock: FakeClock) -> None:
    breaker = open_breaker(clock)
    clock.now += 30.0
    start = threading.Barrier(16)
    allowed: list[bool] = []
    lock = threading.Lock()

    def caller() -> None:
        start.wait()
        result = breaker.allow()
        with lock:
            allowed.append(result)

    threads = [threading.Thread(target=caller) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert allowed.count(True) == 1
    assert len(allowed) == 16


def test_late_failures_of_calls_admitted_before_opening_do_not_extend_the_timeout(clock: FakeClock) -> None:
    breaker = open_breaker(clock)
    clock.now += 20.0
    breaker.record_failure()

    clock.now += 10.0

    assert breaker.allow()


def test_a_disabled_cache_stores_nothing(clock: FakeClock) -> None:
    cache: TtlCache[str] = TtlCache(ttl_seconds=0.0, clock=clock)

    cache.put("course", "trainers")

    assert cache.get("course") is None
    assert len(cache) == 0


def test_a_cached_value_is_served_until_its_ttl_and_then_forgotten(clock: FakeClock) -> None:
    cache: TtlCache[str] = TtlCache(ttl_seconds=5.0, clock=clock)
    cache.put("course", "trainers")

    clock.now += 4.9
    assert cache.get("course") == "trainers"
    clock.now += 0.1
    assert cache.get("course") is None


def test_a_full_cache_drops_its_oldest_entry_first(clock: FakeClock) -> None:
    cache: TtlCache[int] = TtlCache(ttl_seconds=60.0, max_entries=2, clock=clock)
    cache.put("a", 1)
    cache.put("b", 2)

    cache.put("c", 3)

    assert [cache.get(key) for key in ("a", "b", "c")] == [None, 2, 3]
