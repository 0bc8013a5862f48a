"""The watch use case on fakes: slow watchers, shutdown and cancellation end a stream as documented."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any

import pytest
from booking_server.domain.changes import ChangeKind, ChangePage, LoggedChange
from booking_server.domain.errors import ResourceExhaustedError, UnavailableError
from booking_server.domain.resume_tokens import ResumeTokens
from booking_server.domain.slots import SlotStatus, TrainerSlot
from booking_server.services.watch_changes import WatchChanges, WatchSettings

KEY = "test-key"
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _slot(day: int) -> TrainerSlot:
    return TrainerSlot(
        trainer_id="t",
        slot_date=date(2030, 1, day),
        start_time="09:00",
        duration_minutes=30,
        status=SlotStatus.BLOCKED,
    )


class FakeChangeLog:
    def __init__(self, changes: int) -> None:
        self.changes = [
            LoggedChange(p, ChangeKind.SLOT_BLOCKED, NOW, _slot(p)) for p in range(1, changes + 1)
        ]

    def head(self) -> int:
        return len(self.changes)

    def is_retained(self, after: int) -> bool:
        return True

    def token_key(self) -> str:
        return KEY

    def schedule_changes(
        self, after: int, *, trainer_ids: Sequence[str], limit: int
    ) -> ChangePage[TrainerSlot]:
        page = tuple(c for c in self.changes if c.position > after)[:limit]
        return ChangePage(changes=page, read_to=page[-1].position if page else self.head())


class FakeUnitOfWork:
    def __init__(self, log: FakeChangeLog) -> None:
        self.changes = log

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class FakeWakeups:
    def __init__(self) -> None:
        self.closing = False

    def generation(self) -> int:
        return 0

    def wait(self, seen_generation: int, timeout_seconds: float) -> None:
        time.sleep(min(timeout_seconds, 0.01))

    def wake_all(self) -> None:
        return None


def _watch(log: FakeChangeLog, wakeups: FakeWakeups, *, send_timeout_seconds: float = 30.0) -> WatchChanges:
    settings = WatchSettings(
        retention=timedelta(hours=24), heartbeat_seconds=5.0, send_timeout_seconds=send_timeout_seconds
    )
    uow: Any = FakeUnitOfWork(log)
    return WatchChanges(lambda: uow, wakeups=wakeups, settings=settings, now=lambda: NOW)


def test_a_watcher_whose_message_took_longer_than_the_send_timeout_is_ended_as_too_slow() -> None:
    events = _watch(FakeChangeLog(3), FakeWakeups(), send_timeout_seconds=0.05).schedule(
        trainer_ids=[], resume_token=ResumeTokens(KEY.encode()).issue(0, NOW), is_active=lambda: True
    )
    assert next(events).kind == ChangeKind.SLOT_BLOCKED
    time.sleep(0.1)  # the send of that message "blocked" this long

    with pytest.raises(ResourceExhaustedError) as raised:
        next(events)

    assert raised.value.reason == "WATCHER_TOO_SLOW"


def test_a_stream_ends_with_unavailable_when_the_server_shuts_down() -> None:
    wakeups = FakeWakeups()
    events = _watch(FakeChangeLog(0), wakeups).schedule(
        trainer_ids=[], resume_token="", is_active=lambda: True
    )
    assert next(events).kind == ChangeKind.HEARTBEAT
    wakeups.closing = True

    with pytest.raises(UnavailableError) as raised:
        next(events)

    assert raised.value.reason == "SHUTTING_DOWN"


def test_a_cancelled_stream_ends_quietly() -> None:
    active = [True]
    events = _watch(FakeChangeLog(0), FakeWakeups()).schedule(
        trainer_ids=[], resume_token="", is_active=lambda: active[0]
    )
    assert next(events).kind == ChangeKind.HEARTBEAT
    active[0] = False

    assert list(events) == []
