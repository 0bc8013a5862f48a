"""The zone RPCs of BookingService, as a mixin composed by BookingServicer.

Each method converts, calls one ZoneService use case and converts back; DomainErrors travel
to the error-boundary interceptor, so there is no try and no abort here.
"""

from __future__ import annotations

import grpc
from booking.v1 import booking_service_pb2 as pb

from booking_server.rpc.converters.common import optional_geo_point
from booking_server.rpc.converters.zones import zone_draft_from_proto, zone_match_to_proto, zone_to_proto
from booking_server.services.zones import ZoneService


class ZoneRpcs:
    """CreateZone, GetZone, ListZones, UpdateZone, FindZones."""

    zones: ZoneService

    def CreateZone(  # noqa: N802 - gRPC method names are PascalCase
        self, request: pb.CreateZoneRequest, context: grpc.ServicerContext
    ) -> pb.CreateZoneResponse:
        record = self.zones.create_zone(zone_draft_from_proto(request.zone))
        return pb.CreateZoneResponse(zone=zone_to_proto(record))

    def GetZone(  # noqa: N802
        self, request: pb.GetZoneRequest, context: grpc.ServicerContext
    ) -> pb.GetZoneResponse:
        return pb.GetZoneResponse(zone=zone_to_proto(self.zones.get_zone(request.zone_id)))

    def ListZones(  # noqa: N802
        self, request: pb.ListZonesRequest, context: grpc.ServicerContext
    ) -> pb.ListZonesResponse:
        page = self.zones.list_zones(
            active_only=request.active_only,
            franchise_id=request.franchise_id,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        zones = [zone_to_proto(record) for record in page.zones]
        return pb.ListZonesResponse(zones=zones, next_page_token=page.next_page_token)

    def UpdateZone(  # noqa: N802
        self, request: pb.UpdateZoneRequest, context: grpc.ServicerContext
    ) -> pb.UpdateZoneResponse:
        record = self.zones.update_zone(zone_draft_from_proto(request.zone), tuple(request.update_mask.paths))
        return pb.UpdateZoneResponse(zone=zone_to_proto(record))

    def FindZones(  # noqa: N802
        self, request: pb.FindZonesRequest, context: grpc.ServicerContext
    ) -> pb.FindZonesResponse:
        matches = self.zones.find_zones(optional_geo_point(request, "location"))
        return pb.FindZonesResponse(matches=[zone_match_to_proto(match) for match in matches])
