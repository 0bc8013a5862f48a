"""Helpers for the tests of changes after assignment: calls, schedules, events, refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import common_pb2 as common
from sqlalchemy import Engine, text

from tests.support.rpc_errors import RichError, rich_error
from tests.support.world import World


def assigned(world: World, **fields: object) -> pb.AutoAssignTrainerResponse:
    response = world.booking.AutoAssignTrainer(world.request(**fields))
    assert response.purchase.status == common.PURCHASE_STATUS_ASSIGNED
    return response


def schedule(world: World, trainer_id: str, *, around: str, days: int = 40) -> list[common.Slot]:
    first = date.fromisoformat(around) - timedelta(days=2)
    return list(
        world.booking.GetTrainerSchedule(
            pb.GetTrainerScheduleRequest(
                trainer_id=trainer_id,
                from_date=first.isoformat(),
                to_date=(first + timedelta(days=days)).isoformat(),
            )
        ).slots
    )


def sessions_of(world: World, purchase_id: str) -> list[common.PurchaseSession]:
    return list(
        world.booking.ListPurchaseSessions(pb.ListPurchaseSessionsRequest(purchase_id=purchase_id)).sessions
    )


def refused(call: Callable[[], Any]) -> RichError:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return rich_error(raised.value)


def capacity_events(engine: Engine, trainer_id: str) -> list[str]:
    """The changes recorded as freeing this trainer's time (its own upserts left out)."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT cause FROM capacity_events WHERE trainer_id = :t AND cause <> 'trainer_changed' "
                    "ORDER BY id"
                ),
                {"t": trainer_id},
            ).scalars()
        )


def allocation_statuses(engine: Engine, student_id: str) -> dict[str, str]:
    """trainer id -> status of the student's allocations."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT trainer_id::text, status FROM trainer_allocations WHERE student_id = :s"),
            {"s": student_id},
        ).all()
    return dict(rows)  # type: ignore[arg-type]
