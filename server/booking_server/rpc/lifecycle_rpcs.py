"""BookingService RPCs that change a purchase after assignment (a mixin of BookingServicer)."""

from __future__ import annotations

import grpc
from booking.v1 import booking_service_pb2 as pb

from booking_server.rpc.assignment_rpcs import remaining_seconds
from booking_server.rpc.converters.purchases import decision_to_proto, purchase_to_proto, session_to_proto
from booking_server.services.cancel_purchase import CancelPurchase
from booking_server.services.promote_waitlisted import PromoteWaitlisted
from booking_server.services.reschedule_session import RescheduleSession
from booking_server.services.substitute_trainer import SubstituteTrainer


class LifecycleRpcs:
    cancel_purchase: CancelPurchase
    reschedule_session: RescheduleSession
    substitute_trainer: SubstituteTrainer
    promote_waitlisted: PromoteWaitlisted

    def CancelPurchase(  # noqa: N802 - gRPC method names are PascalCase
        self, request: pb.CancelPurchaseRequest, context: grpc.ServicerContext
    ) -> pb.CancelPurchaseResponse:
        purchase = self.cancel_purchase(purchase_id=request.purchase_id, reason=request.reason)
        return pb.CancelPurchaseResponse(purchase=purchase_to_proto(purchase))

    def RescheduleSession(  # noqa: N802
        self, request: pb.RescheduleSessionRequest, context: grpc.ServicerContext
    ) -> pb.RescheduleSessionResponse:
        session = self.reschedule_session(
            session_id=request.session_id,
            new_date=request.new_date,
            new_time=request.new_time,
            allow_substitute=request.allow_substitute,
            budget_seconds=remaining_seconds(context),
        )
        return pb.RescheduleSessionResponse(session=session_to_proto(session))

    def SubstituteTrainer(  # noqa: N802
        self, request: pb.SubstituteTrainerRequest, context: grpc.ServicerContext
    ) -> pb.SubstituteTrainerResponse:
        result = self.substitute_trainer(
            purchase_id=request.purchase_id,
            from_date=request.from_date,
            trainer_id=request.trainer_id,
            reason=request.reason,
            budget_seconds=remaining_seconds(context),
        )
        return pb.SubstituteTrainerResponse(
            purchase=purchase_to_proto(result.purchase),
            sessions=[session_to_proto(s) for s in result.sessions],
            decision=decision_to_proto(result.decision),
        )

    def PromoteWaitlisted(  # noqa: N802
        self, request: pb.PromoteWaitlistedRequest, context: grpc.ServicerContext
    ) -> pb.PromoteWaitlistedResponse:
        result = self.promote_waitlisted(purchase_id=request.purchase_id, max_purchases=request.max_purchases)
        return pb.PromoteWaitlistedResponse(
            promoted=[purchase_to_proto(p) for p in result.promoted], purchases_tried=result.tried
        )
