"""Conversions shared by every area: timestamps and points."""

from __future__ import annotations

from datetime import UTC, datetime

from booking.v1 import common_pb2
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from booking_server.domain.model import GeoPoint

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp_from_datetime(value: datetime) -> timestamp_pb2.Timestamp:
    """A Timestamp for an aware datetime (the database gives timestamptz values).

    Integer arithmetic on the timedelta is exact and several times faster than
    Timestamp.FromDatetime, which matters for listings of hundreds of trainers.
    """
    delta = value - _EPOCH
    return timestamp_pb2.Timestamp(
        seconds=delta.days * 86_400 + delta.seconds, nanos=delta.microseconds * 1_000
    )


def timestamp_or_none(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    """A Timestamp, or None so that the message field stays unset."""
    return None if value is None else timestamp_from_datetime(value)


def geo_from_proto(point: common_pb2.GeoPoint) -> GeoPoint:
    return GeoPoint(latitude=point.latitude, longitude=point.longitude)


def optional_geo_point(parent: Message, field: str) -> GeoPoint | None:
    """The point in `parent.field`, or None when the caller did not set that message field.

    proto3 message fields know whether they were set; an unset point must be reported as
    "is required", not silently read as (0, 0) in the Gulf of Guinea.
    """
    if not parent.HasField(field):
        return None
    point: common_pb2.GeoPoint = getattr(parent, field)
    return geo_from_proto(point)


def geo_to_proto(point: GeoPoint) -> common_pb2.GeoPoint:
    return common_pb2.GeoPoint(latitude=point.latitude, longitude=point.longitude)
