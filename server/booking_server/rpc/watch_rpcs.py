"""BookingService RPCs that stream changes (a mixin of BookingServicer; product 6)."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
from booking.v1 import booking_service_pb2 as pb

from booking_server.rpc.auth import caller_of
from booking_server.rpc.converters.changes import purchase_change_to_proto, schedule_change_to_proto
from booking_server.rpc.stream_limits import StreamLimits
from booking_server.services.watch_changes import WatchChanges


class WatchRpcs:
    watch_changes: WatchChanges
    stream_limits: StreamLimits

    def WatchScheduleChanges(  # noqa: N802 - gRPC method names are PascalCase
        self, request: pb.WatchScheduleChangesRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.WatchScheduleChangesResponse]:
        with self.stream_limits.hold(caller_of(context)):
            context.add_callback(self.watch_changes.wake_watchers)  # a cancel ends the wait at once
            events = self.watch_changes.schedule(
                trainer_ids=list(request.trainer_ids),
                resume_token=request.resume_token,
                is_active=context.is_active,
            )
            for event in events:
                yield schedule_change_to_proto(event)

    def WatchPurchaseChanges(  # noqa: N802
        self, request: pb.WatchPurchaseChangesRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.WatchPurchaseChangesResponse]:
        with self.stream_limits.hold(caller_of(context)):
            context.add_callback(self.watch_changes.wake_watchers)
            events = self.watch_changes.purchases(
                zone_id=request.zone_id, resume_token=request.resume_token, is_active=context.is_active
            )
            for event in events:
                yield purchase_change_to_proto(event)
