"""The change log as watchers see it (product 6): what changed, at which position, when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class ChangeKind(StrEnum):
    HEARTBEAT = "HEARTBEAT"
    SLOT_BOOKED = "SLOT_BOOKED"
    SLOT_BLOCKED = "SLOT_BLOCKED"
    SLOT_RELEASED = "SLOT_RELEASED"
    PURCHASE_CHANGED = "PURCHASE_CHANGED"


@dataclass(frozen=True, slots=True)
class LoggedChange(Generic[T]):
    """One committed change: positions are gap-free and in commit order."""

    position: int
    kind: ChangeKind
    commit_time: datetime
    subject: T  # the slot or the purchase as the change left it


@dataclass(frozen=True, slots=True)
class ChangePage(Generic[T]):
    """The changes a watcher's filter keeps after a position, in order.

    `read_to` is how far the log was read: every change up to it is in `changes` or was
    filtered out, so a watcher that handled the page resumes after `read_to`.
    """

    changes: tuple[LoggedChange[T], ...]
    read_to: int
