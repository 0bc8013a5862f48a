"""GroupLocks on PostgreSQL session-level advisory locks: one pooled connection per held lock.

The lock lives as long as that connection's session, not a transaction, so the work done under
it (directory calls, one transaction per purchase) keeps no transaction open; a process that
dies closes its connections and PostgreSQL lets the lock go.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

# The two-int4 form of advisory locks lives in a key space of its own, apart from the bigint
# keys of the read model's transaction-level locks (db/repositories/read_model.py): a hash
# collision between the two could otherwise make a pass wait for its own group lock. A collision
# between two group keys only makes two groups take turns.
_TRY = text("SELECT pg_try_advisory_lock(hashtext('booking-group'), hashtext(:key))")
_UNLOCK = text("SELECT pg_advisory_unlock(hashtext('booking-group'), hashtext(:key))")
_POLL_SECONDS = 0.05


class AdvisoryGroupLocks:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @contextmanager
    def hold(self, key: str, *, wait_seconds: float) -> Iterator[bool]:
        with self._engine.connect() as conn:
            deadline = time.monotonic() + wait_seconds
            while True:
                held = bool(conn.execute(_TRY, {"key": key}).scalar())
                conn.commit()  # the session keeps the lock; no transaction stays open
                if held or time.monotonic() >= deadline:
                    break
                time.sleep(_POLL_SECONDS)
            try:
                yield held
            finally:
                if held:
                    conn.execute(_UNLOCK, {"key": key})
                    conn.commit()
