"""Domain -> proto for the sync RPCs."""

from __future__ import annotations

from booking.v1 import booking_service_pb2 as pb

from booking_server.services.sync_sessions import SyncAllResult, SyncError, SyncResult


def sync_error_to_proto(error: SyncError) -> pb.SyncError:
    return pb.SyncError(purchase_id=error.purchase_id, session_id=error.session_id, message=error.message)


def sync_result_to_proto(result: SyncResult) -> pb.SyncResult:
    return pb.SyncResult(
        sessions_created=result.counts.sessions_created,
        sessions_updated=result.counts.sessions_updated,
        errors=[sync_error_to_proto(e) for e in result.errors],
    )


def sync_all_to_proto(result: SyncAllResult) -> pb.SyncAllUnsyncedSessionsResponse:
    return pb.SyncAllUnsyncedSessionsResponse(
        purchases_processed=result.purchases_processed,
        sessions_created=result.counts.sessions_created,
        sessions_updated=result.counts.sessions_updated,
        errors=[sync_error_to_proto(e) for e in result.errors],
    )
