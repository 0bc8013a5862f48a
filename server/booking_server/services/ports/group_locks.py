"""Port: a lock on a named group of work across every replica, held beyond one transaction."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol


class GroupLocks(Protocol):
    def hold(self, key: str, *, wait_seconds: float) -> AbstractContextManager[bool]:
        """Hold the lock named `key` for the block; yields False (the block then must not do the
        group's work) when another holder kept it for `wait_seconds`. No transaction stays open
        while it is held, and a process that dies lets it go."""
        ...
