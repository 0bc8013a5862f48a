"""Use cases: WatchScheduleChanges and WatchPurchaseChanges (product.md section 6).

A watch follows the change log from a position: it reads the changes after it (one short unit
of work per page, no connection held while waiting), sends them with their resume tokens, then
waits for a wake-up hint or the heartbeat interval, whichever comes first. Hints only shorten
the wait: every wake-up (and every heartbeat) re-reads the log, so a lost hint delays a change
by one heartbeat at most and loses nothing. docs/watch.md has the whole design.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

import structlog

from booking_server.domain.changes import ChangeKind, ChangePage
from booking_server.domain.errors import (
    FieldViolation,
    InvalidRequestError,
    ResourceExhaustedError,
    UnavailableError,
    require_no_violations,
)
from booking_server.domain.purchase import StoredPurchase
from booking_server.domain.resume_tokens import ResumeTokens, require_unexpired, resume_token_expired
from booking_server.domain.slots import TrainerSlot
from booking_server.domain.validation import validate_uuid_field
from booking_server.services.ports.changes import ChangeWakeups
from booking_server.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

T = TypeVar("T")
MAX_WATCHED_TRAINERS = 500
PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class WatchSettings:
    retention: timedelta
    heartbeat_seconds: float
    # A watcher whose one message took longer than this to send is too slow: it is ended
    # (RESOURCE_EXHAUSTED) and resumes from its last token, instead of holding a thread.
    send_timeout_seconds: float


@dataclass(frozen=True, slots=True)
class WatchEvent(Generic[T]):
    kind: ChangeKind
    resume_token: str
    commit_time: datetime | None  # None for a heartbeat
    subject: T | None  # the slot or purchase; None for a heartbeat


def _now() -> datetime:
    return datetime.now(UTC)


class WatchChanges:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        wakeups: ChangeWakeups,
        settings: WatchSettings,
        now: Callable[[], datetime] = _now,
    ) -> None:
        self._uow_factory = uow_factory
        self._wakeups = wakeups
        self._settings = settings
        self._now = now
        self._tokens: ResumeTokens | None = None

    def wake_watchers(self) -> None:
        """A stream ended from outside (its caller cancelled): wake the waiting ones to notice."""
        self._wakeups.wake_all()

    def schedule(
        self, *, trainer_ids: Sequence[str], resume_token: str, is_active: Callable[[], bool]
    ) -> Iterator[WatchEvent[TrainerSlot]]:
        violations: list[FieldViolation] = []
        if len(trainer_ids) > MAX_WATCHED_TRAINERS:
            violations.append(FieldViolation("trainer_ids", f"at most {MAX_WATCHED_TRAINERS} trainers"))
        for i, trainer_id in enumerate(trainer_ids[:MAX_WATCHED_TRAINERS]):
            validate_uuid_field(trainer_id, f"trainer_ids[{i}]", violations)
        require_no_violations(violations)
        ids = sorted({t.lower() for t in trainer_ids})
        start = self._start(resume_token)

        def read(uow: UnitOfWork, after: int) -> ChangePage[TrainerSlot]:
            return uow.changes.schedule_changes(after, trainer_ids=ids, limit=PAGE_SIZE)

        return self._follow(start, read, heartbeat_first=not resume_token, is_active=is_active)

    def purchases(
        self, *, zone_id: str, resume_token: str, is_active: Callable[[], bool]
    ) -> Iterator[WatchEvent[StoredPurchase]]:
        violations: list[FieldViolation] = []
        if zone_id:
            validate_uuid_field(zone_id, "zone_id", violations)
        require_no_violations(violations)
        zone = zone_id.lower() or None
        start = self._start(resume_token)

        def read(uow: UnitOfWork, after: int) -> ChangePage[StoredPurchase]:
            return uow.changes.purchase_changes(after, zone_id=zone, limit=PAGE_SIZE)

        return self._follow(start, read, heartbeat_first=not resume_token, is_active=is_active)

    def _token_codec(self) -> ResumeTokens:
        if self._tokens is None:
            with self._uow_factory() as uow:
                self._tokens = ResumeTokens(uow.changes.token_key().encode())
        return self._tokens

    def _start(self, resume_token: str) -> int:
        """The position to follow from: the head for an empty token, else the token's (checked)."""
        tokens = self._token_codec()
        if not resume_token:
            with self._uow_factory() as uow:
                return uow.changes.head()
        point = tokens.parse(resume_token)
        require_unexpired(point, now=self._now(), retention=self._settings.retention)
        with self._uow_factory() as uow:
            head = uow.changes.head()
            retained = uow.changes.is_retained(point.position)
        if point.position > head:  # signed, yet names a change never made: another database's key
            raise InvalidRequestError([FieldViolation("resume_token", "names no change of this service")])
        if not retained:
            raise resume_token_expired()
        return point.position

    def _heartbeat(self, position: int) -> WatchEvent[T]:
        token = self._token_codec().issue(position, self._now())
        return WatchEvent(kind=ChangeKind.HEARTBEAT, resume_token=token, commit_time=None, subject=None)

    def _follow(
        self,
        position: int,
        read: Callable[[UnitOfWork, int], ChangePage[T]],
        *,
        heartbeat_first: bool,
        is_active: Callable[[], bool],
    ) -> Iterator[WatchEvent[T]]:
        """Changes after `position`, then heartbeats and new changes, until the caller goes away."""
        tokens = self._token_codec()
        if heartbeat_first:
            yield self._heartbeat(position)
        last_sent = time.monotonic()
        while is_active():
            if self._wakeups.closing:
                raise UnavailableError(
                    "the server is shutting down; resume elsewhere", reason="SHUTTING_DOWN"
                )
            generation = self._wakeups.generation()  # before the read: a later hint is not missed
            with self._uow_factory() as uow:
                page = read(uow, position)
            for change in page.changes:
                started = time.monotonic()
                token = tokens.issue(change.position, change.commit_time)
                yield WatchEvent(change.kind, token, change.commit_time, change.subject)
                self._require_keeping_up(time.monotonic() - started)
            position = page.read_to
            now = time.monotonic()
            if page.changes:
                last_sent = now
                if len(page.changes) == PAGE_SIZE:
                    continue  # more may be waiting: read on without waiting
            quiet_seconds = now - last_sent
            if quiet_seconds >= self._settings.heartbeat_seconds:
                yield self._heartbeat(position)
                last_sent = time.monotonic()
                continue
            self._wakeups.wait(generation, self._settings.heartbeat_seconds - quiet_seconds)

    def _require_keeping_up(self, send_seconds: float) -> None:
        if send_seconds > self._settings.send_timeout_seconds:
            log.warning("watcher_too_slow", send_seconds=round(send_seconds, 1))
            raise ResourceExhaustedError(
                "the watcher is too slow to keep up; resume from the last token",
                reason="WATCHER_TOO_SLOW",
            )
