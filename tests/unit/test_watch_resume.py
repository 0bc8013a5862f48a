"""The client's watch helper (booking_client.watch) on scripted streams: what it resumes and when."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from booking_client.watch import Backoff, watch_with_resume


@dataclass(frozen=True)
class Change:
    resume_token: str


class Failed(grpc.RpcError, grpc.Call):  # type: ignore[misc]
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


def test_a_transient_failure_reopens_the_watch_with_the_last_token_and_repeats_nothing() -> None:
    opened: list[tuple[int, str]] = []
    sleeps: list[float] = []
    scripts = [
        (["1", "2"], grpc.StatusCode.UNAVAILABLE),
        ([], grpc.StatusCode.RESOURCE_EXHAUSTED),
        (["3"], None),
    ]

    def open_stream(attempt: int, token: str) -> Iterator[Change]:
        opened.append((attempt, token))
        tokens, failure = scripts[attempt]
        yield from (Change(t) for t in tokens)
        if failure is not None:
            raise Failed(failure)

    seen = [c.resume_token for c in watch_with_resume(open_stream, resume_token="0", sleep=sleeps.append)]

    assert seen == ["1", "2", "3"]
    assert opened == [(0, "0"), (1, "2"), (2, "2")]
    # Backoff doubles with failures in a row (0.1, then 0.2), plus at most half of it as jitter.
    assert 0.1 <= sleeps[0] <= 0.15
    assert 0.2 <= sleeps[1] <= 0.3


@pytest.mark.parametrize("code", [grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION])
def test_a_failure_that_will_not_pass_by_itself_is_raised(code: grpc.StatusCode) -> None:
    def open_stream(attempt: int, token: str) -> Iterator[Change]:
        raise Failed(code)
        yield Change("never")

    with pytest.raises(grpc.RpcError) as raised:
        list(watch_with_resume(open_stream, sleep=lambda _: None))

    assert raised.value.code() == code  # type: ignore[attr-defined]


def test_the_backoff_is_capped() -> None:
    backoff = Backoff(initial_seconds=0.1, max_seconds=1.0)

    assert all(1.0 <= backoff.delay_seconds(failures) <= 1.5 for failures in range(5, 40))
