"""BookingService RPCs for trainer schedules and time off (a mixin of BookingServicer)."""

from __future__ import annotations

import grpc
from booking.v1 import booking_service_pb2 as pb

from booking_server.rpc.assignment_rpcs import remaining_seconds
from booking_server.rpc.converters.slots import slot_to_proto
from booking_server.services.trainer_schedule import TrainerSchedule


class ScheduleRpcs:
    trainer_schedule: TrainerSchedule

    def GetTrainerSchedule(  # noqa: N802 - gRPC method names are PascalCase
        self, request: pb.GetTrainerScheduleRequest, context: grpc.ServicerContext
    ) -> pb.GetTrainerScheduleResponse:
        slots = self.trainer_schedule.get(
            trainer_id=request.trainer_id, from_date=request.from_date, to_date=request.to_date
        )
        return pb.GetTrainerScheduleResponse(slots=[slot_to_proto(s) for s in slots])

    def BlockTrainerTime(  # noqa: N802
        self, request: pb.BlockTrainerTimeRequest, context: grpc.ServicerContext
    ) -> pb.BlockTrainerTimeResponse:
        slot = self.trainer_schedule.block(
            trainer_id=request.trainer_id,
            day=request.date,
            start_time=request.start_time,
            duration_minutes=request.duration_minutes,
            reason=request.reason,
            budget_seconds=remaining_seconds(context),
        )
        return pb.BlockTrainerTimeResponse(slot=slot_to_proto(slot))

    def UnblockTrainerTime(  # noqa: N802
        self, request: pb.UnblockTrainerTimeRequest, context: grpc.ServicerContext
    ) -> pb.UnblockTrainerTimeResponse:
        self.trainer_schedule.unblock(slot_id=request.slot_id)
        return pb.UnblockTrainerTimeResponse()
