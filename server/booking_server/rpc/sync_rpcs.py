"""BookingService RPCs for the read-model sync (a mixin of BookingServicer)."""

from __future__ import annotations

import grpc
from booking.v1 import booking_service_pb2 as pb

from booking_server.rpc.converters.sync import sync_all_to_proto, sync_result_to_proto
from booking_server.services.sync_sessions import SyncSessions


class SyncRpcs:
    """SyncPurchaseSessions, SyncSession, SyncAllUnsyncedSessions."""

    sync_sessions: SyncSessions

    def SyncPurchaseSessions(  # noqa: N802 - gRPC method names are PascalCase
        self, request: pb.SyncPurchaseSessionsRequest, context: grpc.ServicerContext
    ) -> pb.SyncPurchaseSessionsResponse:
        result = self.sync_sessions.sync_purchase(request.purchase_id)
        return pb.SyncPurchaseSessionsResponse(result=sync_result_to_proto(result))

    def SyncSession(  # noqa: N802
        self, request: pb.SyncSessionRequest, context: grpc.ServicerContext
    ) -> pb.SyncSessionResponse:
        result = self.sync_sessions.sync_session(request.session_id)
        return pb.SyncSessionResponse(result=sync_result_to_proto(result))

    def SyncAllUnsyncedSessions(  # noqa: N802
        self, request: pb.SyncAllUnsyncedSessionsRequest, context: grpc.ServicerContext
    ) -> pb.SyncAllUnsyncedSessionsResponse:
        return sync_all_to_proto(self.sync_sessions.sync_unsynced(request.max_purchases))
