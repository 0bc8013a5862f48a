"""The change log on real PostgreSQL with real concurrent transactions (migration 0006,
docs/watch.md): positions are handed out at commit, so they follow commit order, not start order,
and a reader that has read up to a position never finds a change below it later.

These commit for real with fresh trainer ids, and filter what they read by them.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from booking_server.db.unit_of_work import SqlUnitOfWork
from booking_server.domain.changes import ChangeKind
from booking_server.domain.slots import SlotStatus, TrainerSlot
from sqlalchemy import Engine, text

DAY = date(2033, 3, 1)


def _time_off(trainer_id: str, day: date) -> TrainerSlot:
    return TrainerSlot(
        trainer_id=trainer_id,
        slot_date=day,
        start_time="09:00",
        duration_minutes=30,
        status=SlotStatus.BLOCKED,
        reason="log test",
    )


def test_a_transaction_that_started_first_but_commits_last_gets_the_later_position(engine: Engine) -> None:
    slow_trainer, fast_trainer = str(uuid.uuid4()), str(uuid.uuid4())
    slow_wrote = threading.Event()
    fast_committed = threading.Event()

    def slow() -> None:
        with SqlUnitOfWork(engine) as uow:
            uow.slots.block(_time_off(slow_trainer, DAY))
            slow_wrote.set()
            assert fast_committed.wait(10)
            uow.commit()

    with ThreadPoolExecutor(max_workers=1) as pool:
        done = pool.submit(slow)
        assert slow_wrote.wait(10)
        with SqlUnitOfWork(engine) as uow:
            uow.slots.block(_time_off(fast_trainer, DAY))
            uow.commit()
        with SqlUnitOfWork(engine) as uow:
            between = uow.changes.schedule_changes(0, trainer_ids=[slow_trainer, fast_trainer], limit=10)
        fast_committed.set()
        done.result()
    with SqlUnitOfWork(engine) as uow:
        both = uow.changes.schedule_changes(0, trainer_ids=[slow_trainer, fast_trainer], limit=10)

    assert [c.subject.trainer_id for c in between.changes] == [fast_trainer]
    assert [c.subject.trainer_id for c in both.changes] == [fast_trainer, slow_trainer]
    assert both.changes[0].position < both.changes[1].position
    assert {c.kind for c in both.changes} == {ChangeKind.SLOT_BLOCKED}


def test_a_reader_following_concurrent_writers_misses_nothing_and_never_goes_back(engine: Engine) -> None:
    trainers = [str(uuid.uuid4()) for _ in range(4)]
    writing = threading.Event()
    writing.set()

    def write(trainer_id: str) -> None:
        for day in range(15):
            with SqlUnitOfWork(engine) as uow:
                uow.slots.block(_time_off(trainer_id, DAY + timedelta(days=day)))
                uow.commit()

    seen: list[int] = []
    cursor = 0
    with SqlUnitOfWork(engine) as uow:
        cursor = uow.changes.head()
    with ThreadPoolExecutor(max_workers=4) as pool:
        writers = [pool.submit(write, t) for t in trainers]
        while not all(w.done() for w in writers) or len(seen) < 60:
            with SqlUnitOfWork(engine) as uow:
                page = uow.changes.schedule_changes(cursor, trainer_ids=trainers, limit=7)
            assert all(c.position > cursor for c in page.changes)
            seen += [c.position for c in page.changes]
            cursor = page.read_to
        for w in writers:
            w.result()
    with engine.connect() as conn:
        logged = conn.execute(
            text(
                "SELECT position FROM watch_changes WHERE trainer_id = ANY(CAST(:t AS uuid[])) "
                "ORDER BY position"
            ),
            {"t": trainers},
        ).scalars()
        all_positions = list(logged)

    assert seen == sorted(seen)
    assert seen == all_positions
    assert len(seen) == 60


def test_positions_are_gap_free_and_a_removed_prefix_is_no_longer_retained(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.slots.block(_time_off(str(uuid.uuid4()), DAY))
        uow.commit()
    with engine.connect() as conn:
        positions = list(conn.execute(text("SELECT position FROM watch_changes ORDER BY position")).scalars())
        head = conn.execute(text("SELECT position FROM watch_state")).scalar_one()
    with SqlUnitOfWork(engine) as uow:
        retained_before = uow.changes.is_retained(head - 1)
        with uow.savepoint():
            uow.changes.remove_committed_before(datetime.now(UTC) + timedelta(days=1), limit=len(positions))
            still_retained = uow.changes.is_retained(head - 1)
            at_head = uow.changes.is_retained(head)

    assert positions == list(range(positions[0], positions[0] + len(positions)))
    assert positions[-1] == head
    assert retained_before
    assert not still_retained
    assert at_head
