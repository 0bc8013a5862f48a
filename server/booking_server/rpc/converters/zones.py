"""Zone messages <-> domain zones."""

from __future__ import annotations

from booking.v1 import booking_service_pb2, common_pb2

from booking_server.domain.model import Zone
from booking_server.domain.zone_rules import ZoneDraft, ZoneRecord
from booking_server.rpc.converters.common import geo_to_proto, optional_geo_point, timestamp_or_none
from booking_server.services.zones import ZoneMatch


def zone_draft_from_proto(zone: common_pb2.Zone) -> ZoneDraft:
    return ZoneDraft(
        zone_id=zone.zone_id,
        name=zone.name,
        franchise_id=zone.franchise_id,
        center=optional_geo_point(zone, "center"),
        radius_km=zone.radius_km,
        active=zone.active,
    )


def zone_to_proto(zone: Zone | ZoneRecord) -> common_pb2.Zone:
    """A Zone message; the timestamps are set when a stored record is given."""
    record = zone if isinstance(zone, ZoneRecord) else None
    values = zone.zone if isinstance(zone, ZoneRecord) else zone
    return common_pb2.Zone(
        zone_id=values.zone_id,
        name=values.name,
        franchise_id=values.franchise_id or "",
        center=geo_to_proto(values.center),
        radius_km=values.radius_km,
        active=values.active,
        create_time=timestamp_or_none(record.create_time if record else None),
        update_time=timestamp_or_none(record.update_time if record else None),
    )


def zone_match_to_proto(match: ZoneMatch) -> booking_service_pb2.ZoneMatch:
    return booking_service_pb2.ZoneMatch(zone=zone_to_proto(match.record), distance_km=match.distance_km)
