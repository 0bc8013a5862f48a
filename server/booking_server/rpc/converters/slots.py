"""Proto <-> domain for trainer slots."""

from __future__ import annotations

from booking.v1 import common_pb2

from booking_server.domain.slots import SlotStatus, TrainerSlot

_SLOT_STATUSES = {
    SlotStatus.BOOKED: common_pb2.SLOT_STATUS_BOOKED,
    SlotStatus.BLOCKED: common_pb2.SLOT_STATUS_BLOCKED,
}


def slot_to_proto(slot: TrainerSlot) -> common_pb2.Slot:
    return common_pb2.Slot(
        trainer_id=slot.trainer_id,
        date=slot.slot_date.isoformat(),
        start_time=slot.start_time,
        duration_minutes=slot.duration_minutes,
        status=_SLOT_STATUSES[slot.status],
        purchase_id=slot.purchase_id or "",
        session_id=slot.session_id or "",
        reason=slot.reason,
        slot_id=slot.slot_id,
    )
