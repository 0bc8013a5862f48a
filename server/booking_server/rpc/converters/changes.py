"""Watch events to ScheduleChange and PurchaseChange messages (product 6)."""

from __future__ import annotations

from booking.v1 import booking_service_pb2 as pb

from booking_server.domain.changes import ChangeKind
from booking_server.domain.purchase import StoredPurchase
from booking_server.domain.slots import TrainerSlot
from booking_server.rpc.converters.common import timestamp_or_none
from booking_server.rpc.converters.purchases import purchase_to_proto
from booking_server.rpc.converters.slots import slot_to_proto
from booking_server.services.watch_changes import WatchEvent

_CHANGE_TYPES = {
    ChangeKind.HEARTBEAT: pb.CHANGE_TYPE_HEARTBEAT,
    ChangeKind.SLOT_BOOKED: pb.CHANGE_TYPE_SLOT_BOOKED,
    ChangeKind.SLOT_BLOCKED: pb.CHANGE_TYPE_SLOT_BLOCKED,
    ChangeKind.SLOT_RELEASED: pb.CHANGE_TYPE_SLOT_RELEASED,
    ChangeKind.PURCHASE_CHANGED: pb.CHANGE_TYPE_PURCHASE_CHANGED,
}


def schedule_change_to_proto(event: WatchEvent[TrainerSlot]) -> pb.WatchScheduleChangesResponse:
    return pb.WatchScheduleChangesResponse(
        change=pb.ScheduleChange(
            type=_CHANGE_TYPES[event.kind],
            slot=None if event.subject is None else slot_to_proto(event.subject),
            resume_token=event.resume_token,
            commit_time=timestamp_or_none(event.commit_time),
        )
    )


def purchase_change_to_proto(event: WatchEvent[StoredPurchase]) -> pb.WatchPurchaseChangesResponse:
    return pb.WatchPurchaseChangesResponse(
        change=pb.PurchaseChange(
            type=_CHANGE_TYPES[event.kind],
            purchase=None if event.subject is None else purchase_to_proto(event.subject),
            resume_token=event.resume_token,
            commit_time=timestamp_or_none(event.commit_time),
        )
    )
