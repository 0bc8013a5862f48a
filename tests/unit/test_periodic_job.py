"""The background loop behind the reconciler and the certificate sweep."""

from __future__ import annotations

import time
from collections.abc import Callable

from booking_server.jobs.periodic import PeriodicJob


def wait_until(condition: Callable[[], bool], timeout_seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def counting(rounds: list[int]) -> Callable[[Callable[[], bool]], bool]:
    def run_round(_should_stop: Callable[[], bool]) -> bool:
        rounds.append(1)
        return False

    return run_round


def test_a_job_runs_a_round_at_once_and_stops_promptly_in_the_middle_of_a_long_interval() -> None:
    rounds: list[int] = []
    job = PeriodicJob(name="t", interval_seconds=3600, run_round=counting(rounds))

    job.start()
    assert wait_until(lambda: len(rounds) == 1)
    started = time.monotonic()
    job.stop()

    assert time.monotonic() - started < 1.0
    assert len(rounds) == 1


def test_a_job_with_interval_zero_never_runs() -> None:
    rounds: list[int] = []
    job = PeriodicJob(name="t", interval_seconds=0, run_round=counting(rounds))

    job.start()
    time.sleep(0.1)
    job.stop()

    assert rounds == []


def test_a_failing_round_is_logged_and_the_next_round_still_runs() -> None:
    calls: list[int] = []

    def flaky(_stop: Callable[[], bool]) -> bool:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database down")
        return False

    job = PeriodicJob(name="t", interval_seconds=0.01, run_round=flaky)
    job.start()
    try:
        assert wait_until(lambda: len(calls) >= 3)
    finally:
        job.stop()


def test_a_round_that_reports_more_work_is_followed_at_once_not_after_the_interval() -> None:
    seen_stop: list[bool] = []

    def busy(should_stop: Callable[[], bool]) -> bool:
        seen_stop.append(should_stop())
        return len(seen_stop) < 5  # four full rounds, then caught up

    job = PeriodicJob(name="t", interval_seconds=3600, run_round=busy)
    job.start()
    assert wait_until(lambda: len(seen_stop) == 5)
    job.stop()

    assert seen_stop == [False] * 5
