"""The hostile-input drill: property-based requests for every unary RPC, built from the descriptors.

Every unary method of booking.v1.BookingService and booking.v1.TrainerDirectoryService is found
in the generated descriptors (clients/booking/v1/*_pb2.py), so a new RPC is covered without a
change here; streaming methods are skipped (there are none today). For each method, hypothesis
generates `examples_per_rpc` request messages by walking the request descriptor: strings with
NUL and other control characters, very long text, unicode oddities, valid, real and near-valid
UUIDs, dates and HH:MM times; integers at and around the extremes, negatives and the documented
bounds; unknown enum numbers; NaN and infinite doubles; nested messages set or unset; repeated
fields of 0-5 elements or of a large count (20-5,000); map fields. Ids are sampled from a pool
of real ids (a little valid data is seeded through the RPCs first, and every OK answer adds the
ids it names), so some requests reach existing rows rather than NOT_FOUND. Most messages are
plausible but for one hostile field (a real or well-formed value in every other field), so the
hostile value gets past the first check; the others mix plausible and hostile fields by a coin,
or are hostile throughout. Requests are kept under the server's 1 MB receive limit (halving the
largest field), except about one in 40 that is padded over it with one 1.06 MB string.

Calls are sequential, on one channel with a 10 s deadline each. Expectations, each a finding
when violated (counted per RPC and kind, with the first request's shape and the answer):

- an answer within the deadline (DEADLINE_EXCEEDED from the drill's own deadline carries no
  ErrorInfo, so it is a finding by the next rule);
- never INTERNAL or UNKNOWN (gRPC's own INTERNAL for unparseable bytes cannot happen here: every
  request is a valid message);
- every error carries a google.rpc.Status with an ErrorInfo of domain booking.v1, except the
  RESOURCE_EXHAUSTED gRPC itself answers for a request over 1 MB (grpc.max_receive_message_length)
  before any handler runs: that answer is counted apart ("RESOURCE_EXHAUSTED (gRPC size limit)"),
  and a request over 1 MB answered any other way is a finding;
- error details stay under 8 KB (a default client's metadata limit): the bytes of the trailing
  metadata (keys and values, grpc-status-details-bin included) plus the status message. The drill's
  channel accepts up to 1 MB of metadata so that an oversized answer is measured, not lost;
- 0 writes from refused requests: a fingerprint of the database (per table of the public schema
  but alembic_version, `count(*)` and `sum(hashtext(row::text))`) is taken before and after every
  call, and must not change when the call answered an error. That needs a quiet database: the
  server under drill must run with its background jobs off (BOOKING_RECONCILER_INTERVAL_SECONDS=0,
  BOOKING_CERTIFICATE_SWEEP_INTERVAL_SECONDS=0, BOOKING_PROMOTION_INTERVAL_SECONDS=0,
  BOOKING_PROMOTION_POLL_SECONDS=0: QUIET_ENVIRONMENT) and nothing else may write to its
  database meanwhile.

Hypothesis runs programmatically (`@given` inside a function) with `phases=(Phase.generate,)`:
a violation is recorded, never raised, so there is no shrinking and the drill's time is bounded
by the number of examples (and a budget: past it, the remaining examples send nothing and a
finding says so). Seeded per RPC (`seed` xor the CRC-32 of the method path), hypothesis draws
the same choices on every run; the values behind pool indexes (server-made ids) differ.
Methods whose name starts with Delete, Cancel or Unblock run last so they do not remove the
seeded rows the others aim at.
"""

from __future__ import annotations

import math
import random
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import grpc
import hypothesis
import psycopg
from booking.v1 import (
    booking_service_pb2,
    common_pb2,
    trainer_directory_pb2,
)
from google.protobuf import descriptor, message_factory
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from psycopg import sql

from chaos.report import DrillResult

SERVICE_MODULES = (booking_service_pb2, trainer_directory_pb2)
ERROR_DOMAIN = "booking.v1"
MAX_REQUEST_BYTES = 1024 * 1024  # the server's grpc.max_receive_message_length (product 1.1)
MAX_ERROR_BYTES = 8 * 1024  # a default client's grpc.max_metadata_size
CALL_TIMEOUT_SECONDS = 10.0
# The environment of the server under drill: no background job may write between two fingerprints.
QUIET_ENVIRONMENT = {
    "BOOKING_RECONCILER_INTERVAL_SECONDS": "0",
    "BOOKING_CERTIFICATE_SWEEP_INTERVAL_SECONDS": "0",
    "BOOKING_PROMOTION_INTERVAL_SECONDS": "0",
    "BOOKING_PROMOTION_POLL_SECONDS": "0",
}
STATUS_DETAILS_KEY = "grpc-status-details-bin"
SIZE_LIMIT_ANSWER = "RESOURCE_EXHAUSTED (gRPC size limit)"
DESTRUCTIVE_PREFIXES = ("Delete", "Cancel", "Unblock")
OVERSIZE_ONE_IN = 40  # about one request in 40 is padded over 1 MB
MAX_DEPTH = 3  # nested messages deeper than this are left unset
POOL_LIMIT = 128  # remembered values per kind
CHANNEL_OPTIONS = [
    ("grpc.max_metadata_size", 1024 * 1024),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", -1),
]

_FieldDescriptor = descriptor.FieldDescriptor


# --- the RPCs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rpc:
    """One unary method, with the message classes the descriptors name."""

    service: str
    name: str
    request: type[Message]
    response: type[Message]

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"

    @property
    def label(self) -> str:
        return f"{self.service.rsplit('.', 1)[-1]}.{self.name}"


def unary_rpcs() -> list[Rpc]:
    """Every unary method of the services in SERVICE_MODULES, destructive verbs last."""
    found: list[Rpc] = []
    for module in SERVICE_MODULES:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                if method.client_streaming or method.server_streaming:
                    continue
                found.append(
                    Rpc(
                        service=service.full_name,
                        name=method.name,
                        request=message_factory.GetMessageClass(method.input_type),
                        response=message_factory.GetMessageClass(method.output_type),
                    )
                )
    return sorted(found, key=lambda rpc: rpc.name.startswith(DESTRUCTIVE_PREFIXES))


# --- real values seen in answers -----------------------------------------------------------------


def value_kind(field_descriptor: _FieldDescriptor) -> str:
    """What a field holds, so values seen in one field can be tried in another of the same kind:
    ids by the thing they name (trainer_id, ranked_trainer_ids -> trainer_id; Student.id ->
    student_id), next_page_token -> page_token, else the field name."""
    name = field_descriptor.name
    if name == "id":
        parent: descriptor.Descriptor | None = field_descriptor.containing_type
        return f"{parent.name.lower() if parent else 'message'}_id"
    if name.endswith("_ids"):
        name = name[:-1]
    if name.endswith("_id"):
        return name.split("_")[-2] + "_id"
    if name.startswith("next_"):
        return name.removeprefix("next_")
    return name


def is_id(field_descriptor: _FieldDescriptor) -> bool:
    return field_descriptor.name == "id" or field_descriptor.name.endswith(("_id", "_ids"))


@dataclass
class Pools:
    """Values the server returned (or the seed sent), by kind; strategies sample them by index, so
    values added during the drill are tried by later examples."""

    values: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, kind: str, value: Any) -> None:
        if value in ("", None) or isinstance(value, Message):
            return
        bucket = self.values.setdefault(kind, [])
        if value not in bucket and len(bucket) < POOL_LIMIT:
            bucket.append(value)

    def absorb(self, message: Message) -> None:
        """Every scalar of `message` and its sub-messages, by value_kind."""
        for field_descriptor, value in message.ListFields():
            kind = value_kind(field_descriptor)
            if field_descriptor.type == _FieldDescriptor.TYPE_MESSAGE:
                if _is_map(field_descriptor):
                    continue
                items = value if _is_repeated(field_descriptor) else [value]
                for item in list(items)[:POOL_LIMIT]:
                    self.absorb(item)
            elif _is_repeated(field_descriptor):
                for item in list(value)[:POOL_LIMIT]:
                    self.add(kind, item)
            else:
                self.add(kind, value)

    def sample(self, kind: str, fallback: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        def pick(choice: tuple[int, Any]) -> Any:
            bucket = self.values.get(kind)
            return bucket[choice[0] % len(bucket)] if bucket else choice[1]

        return st.tuples(st.integers(0, 2**16), fallback).map(pick)


def _is_repeated(field_descriptor: Any) -> bool:
    return bool(field_descriptor.is_repeated)


def _message_type(field_descriptor: Any) -> descriptor.Descriptor:
    message_type: descriptor.Descriptor | None = field_descriptor.message_type
    if message_type is None:
        raise TypeError(f"{field_descriptor.full_name} is not a message field")
    return message_type


def _is_map(field_descriptor: Any) -> bool:
    return field_descriptor.type == _FieldDescriptor.TYPE_MESSAGE and bool(
        _message_type(field_descriptor).GetOptions().map_entry
    )


def _enum_numbers(field_descriptor: Any) -> list[int]:
    enum_type: descriptor.EnumDescriptor | None = field_descriptor.enum_type
    if enum_type is None:
        raise TypeError(f"{field_descriptor.full_name} is not an enum field")
    return sorted(value.number for value in enum_type.values)


# --- strategies from the descriptors -------------------------------------------------------------

_TRICKY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\t\n\r",
    "\x1b[31m",
    "\x7f",
    "\u0085",
    "\u2028\u2029",
    "\u200b",
    "\u202eevil",
    "\ufeff",
    "\ufffd",
    "ﬃ",
    "é",
    "e\u0301",
    "\U0001f600",
    "中文",
    "' OR 1=1 --",
    "%_\\",
    "${jndi:x}",
    '{"a": 1}',
    "null",
    "NaN",
]
_LONG_FILL = ["x", "é", "中", "\U0001f600", "\x00", " ", "a\x00"]
_LONG_LENGTHS = [
    31, 32, 33, 199, 200, 201, 254, 255, 500, 501, 1_000, 1_001, 4_096, 8_193, 65_536, 200_000,
]  # fmt: skip
_NEAR_UUIDS = [
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "00000000000000000000000000000000",
    "{12345678-1234-1234-1234-123456789abc}",
    "urn:uuid:12345678-1234-1234-1234-123456789abc",
    "12345678-1234-1234-1234-123456789ab",
    "12345678-1234-1234-1234-123456789abcd",
    "g2345678-1234-1234-1234-123456789abc",
    "12345678_1234_1234_1234_123456789abc",
    "１２３４５６７８-1234-1234-1234-123456789abc",
]
_DATES = [
    "0001-01-01", "9999-12-31", "0000-01-01", "2026-02-29", "2028-02-29", "2026-02-30", "2026-13-01",
    "2026-00-10", "2026-1-5", "20261205", "2026-12-05T00:00", "2026/12/05", "-001-01-01", "２０２６-12-05",
    "10000-01-01",
]  # fmt: skip
_TIMES = [
    "00:00", "06:00", "10:00", "10:20", "22:40", "22:41", "23:59", "24:00", "23:60", "7:00", "07:00:00",
    "07-00", "0700", "１０:００", "-1:00", "99:99",
]  # fmt: skip
_INT32_EDGES = [
    0, 1, -1, 2, 3, 4, 5, 10, 20, 29, 30, 31, 40, 50, 51, 60, 61, 99, 100, 101, 200, 201, 500, 501,
    1440, 1441, 2**31 - 1, -(2**31), 2**15, 2**16,
]  # fmt: skip
_INT_RANGES: dict[int, tuple[int, int]] = {
    _FieldDescriptor.CPPTYPE_INT32: (-(2**31), 2**31 - 1),
    _FieldDescriptor.CPPTYPE_INT64: (-(2**63), 2**63 - 1),
    _FieldDescriptor.CPPTYPE_UINT32: (0, 2**32 - 1),
    _FieldDescriptor.CPPTYPE_UINT64: (0, 2**64 - 1),
}
_DOUBLE_EDGES = [0.0, -0.0, 1e-9, 90.0, -90.0, 90.000001, 180.0, -180.0, 180.000001, 1e308, -1e308, 5e-324]
_LARGE_COUNTS = [20, 21, 50, 51, 100, 101, 500, 501, 5_000]


def _hostile_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(_TRICKY_TEXT),
        st.text(max_size=40),
        st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Zs"]), min_size=1, max_size=8),
        st.tuples(
            st.text(max_size=10),
            st.sampled_from(["\x00", "\x01", "\n", "\x1f", "\x7f"]),
            st.text(max_size=10),
        ).map("".join),
        st.tuples(st.sampled_from(_LONG_FILL), st.sampled_from(_LONG_LENGTHS)).map(lambda p: p[0] * p[1]),
    )


def _uuid_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.uuids().map(str),
        st.uuids().map(lambda u: str(u).upper()),
        st.sampled_from(_NEAR_UUIDS),
        st.uuids().map(lambda u: f" {u}"),
        st.uuids().map(lambda u: f"{u}\x00"),
        st.uuids().map(lambda u: f"{u}\n"),
        st.uuids().map(lambda u: u.hex),
    )


def _date_text() -> st.SearchStrategy[str]:
    today = datetime.now(UTC).date()
    return st.one_of(
        st.integers(-3, 120).map(lambda days: (today + timedelta(days=days)).isoformat()),
        st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
        st.sampled_from(_DATES),
    )


def _time_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(st.integers(0, 23), st.sampled_from([0, 20, 40])).map(lambda p: f"{p[0]:02d}:{p[1]:02d}"),
        st.tuples(st.integers(0, 99), st.integers(0, 99)).map(lambda p: f"{p[0]:02d}:{p[1]:02d}"),
        st.sampled_from(_TIMES),
    )


class StrategyBuilder:
    """Hypothesis strategies for any message type, from its descriptor alone."""

    def __init__(self, pools: Pools) -> None:
        self.pools = pools
        self._cache: dict[tuple[str, int], st.SearchStrategy[Message | None]] = {}

    def request(self, message_type: type[Message]) -> st.SearchStrategy[Message]:
        """A request message, under 1 MB but for about one in OVERSIZE_ONE_IN padded over it."""
        request_descriptor: descriptor.Descriptor = message_type.DESCRIPTOR  # type: ignore[assignment]
        base = self.message(request_descriptor, depth=0, optional=False)
        selector = st.integers(0, OVERSIZE_ONE_IN - 1)
        return st.tuples(base, selector).map(lambda p: _sized(p[0], oversize=p[1] == OVERSIZE_ONE_IN - 1))

    def message(
        self, message_descriptor: descriptor.Descriptor, *, depth: int, optional: bool = True
    ) -> st.SearchStrategy[Any]:
        if depth > MAX_DEPTH:
            return st.none()
        key = (message_descriptor.full_name, depth)
        if key not in self._cache:
            self._cache[key] = st.deferred(lambda: self._build_message(message_descriptor, depth))
        built = self._cache[key]
        return st.one_of(st.none(), built) if optional else built

    def _build_message(self, message_descriptor: descriptor.Descriptor, depth: int) -> st.SearchStrategy[Any]:
        """Mostly a plausible message with one hostile field; else each field plausible or hostile
        by a coin, or every field hostile."""
        fields = list(message_descriptor.fields)
        build = _builder(message_descriptor)
        hostile = [self.field(f, depth) for f in fields]
        plausible = [self.plausible_field(f, depth, message_descriptor) for f in fields]

        @st.composite
        def draw_message(draw: st.DrawFn) -> Message:
            mode = draw(st.sampled_from(_MODES))
            target = draw(st.integers(0, len(fields) - 1)) if fields else -1
            values = {}
            for index, field_descriptor in enumerate(fields):
                hostile_here = mode == "hostile" or index == target
                use_hostile = draw(st.booleans()) if mode == "mixed" else hostile_here
                values[field_descriptor.name] = draw(hostile[index] if use_hostile else plausible[index])
            return build(values)

        return draw_message()

    def plausible_message(
        self, message_descriptor: descriptor.Descriptor, depth: int
    ) -> st.SearchStrategy[Any]:
        """Every field plausible: real values where the pools have them, else values of the
        documented shape."""
        if depth > MAX_DEPTH:
            return st.none()
        key = (message_descriptor.full_name, -1 - depth)
        if key not in self._cache:
            fields = {
                f.name: self.plausible_field(f, depth, message_descriptor) for f in message_descriptor.fields
            }
            self._cache[key] = st.deferred(
                lambda: st.fixed_dictionaries(fields).map(_builder(message_descriptor))
            )
        return self._cache[key]

    def plausible_field(
        self, field_descriptor: _FieldDescriptor, depth: int, parent: descriptor.Descriptor
    ) -> st.SearchStrategy[Any]:
        if field_descriptor.type == _FieldDescriptor.TYPE_MESSAGE:
            if _is_map(field_descriptor):
                return st.just({})
            element = self.plausible_message(_message_type(field_descriptor), depth + 1)
            if _message_type(field_descriptor).full_name == "google.protobuf.FieldMask":
                # The paths a mask may name: the fields of its sibling message fields.
                names = sorted(
                    {
                        f.name
                        for sibling in parent.fields
                        if sibling.type == _FieldDescriptor.TYPE_MESSAGE and sibling is not field_descriptor
                        for f in _message_type(sibling).fields
                    }
                    or {"name"}
                )
                mask_class = message_factory.GetMessageClass(_message_type(field_descriptor))
                element = st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True).map(
                    lambda paths: mask_class(paths=paths)
                )
        else:
            element = self.plausible_scalar(field_descriptor)
        if not _is_repeated(field_descriptor):
            return element
        if field_descriptor.type == _FieldDescriptor.TYPE_MESSAGE:
            element = element.filter(lambda value: value is not None)
            return st.lists(element, min_size=1, max_size=3).map(_distinct_ids)
        return st.lists(element, min_size=1, max_size=3)

    def plausible_scalar(self, field_descriptor: _FieldDescriptor) -> st.SearchStrategy[Any]:
        kind = value_kind(field_descriptor)
        cpp = field_descriptor.cpp_type
        if cpp == _FieldDescriptor.CPPTYPE_STRING:
            if field_descriptor.type == _FieldDescriptor.TYPE_BYTES:
                return st.binary(max_size=16)
            return self.plausible_text(field_descriptor, kind)
        if cpp == _FieldDescriptor.CPPTYPE_BOOL:
            return st.booleans()
        if cpp == _FieldDescriptor.CPPTYPE_ENUM:
            known = _enum_numbers(field_descriptor)
            return st.sampled_from([number for number in known if number] or known)
        if cpp in (_FieldDescriptor.CPPTYPE_DOUBLE, _FieldDescriptor.CPPTYPE_FLOAT):
            seen = self.pools.sample(kind, st.floats(0.5, 20.0))
            return st.one_of(seen, st.tuples(seen, st.floats(-0.05, 0.05)).map(lambda p: float(p[0]) + p[1]))
        return st.one_of(self.pools.sample(kind, st.just(10)), st.sampled_from([1, 2, 3, 10, 20, 30, 40, 60]))

    def plausible_text(self, field_descriptor: _FieldDescriptor, kind: str) -> st.SearchStrategy[str]:
        name = field_descriptor.name
        if is_id(field_descriptor):
            return st.one_of(self.pools.sample(kind, st.uuids().map(str)), st.uuids().map(str))
        if "date" in name:
            today = datetime.now(UTC).date()
            return st.integers(1, 60).map(lambda days: (today + timedelta(days=days)).isoformat())
        if "time" in name or "slot" in name:
            return st.tuples(st.integers(6, 20), st.sampled_from([0, 20, 40])).map(
                lambda p: f"{p[0]:02d}:{p[1]:02d}"
            )
        if name == "email":
            return st.just("student@example.com")
        if "token" in name:  # a token from another list is refused: mostly the first page
            return st.one_of(st.just(""), st.just(""), self.pools.sample(kind, st.just("")))
        readable = st.text(
            st.characters(categories=["L", "N", "Zs"], max_codepoint=0x2FF), min_size=1, max_size=30
        )
        return self.pools.sample(kind, readable.map(str.strip).filter(bool))

    def field(self, field_descriptor: _FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
        if _is_map(field_descriptor):
            entry = _message_type(field_descriptor)
            keys = self.scalar(entry.fields_by_name["key"], depth + 1)
            values = self.single(entry.fields_by_name["value"], depth + 1)
            return st.one_of(
                st.dictionaries(keys, values, max_size=4),
                st.tuples(values, st.sampled_from(_LARGE_COUNTS)).map(
                    lambda p: {str(i): p[0] for i in range(p[1])}
                ),
            )
        element = self.single(field_descriptor, depth)
        if not _is_repeated(field_descriptor):
            return element
        if field_descriptor.type == _FieldDescriptor.TYPE_MESSAGE:
            element = element.filter(lambda value: value is not None)
        return st.one_of(
            st.lists(element, max_size=5),
            st.tuples(element, st.sampled_from(_LARGE_COUNTS), st.booleans()).map(
                lambda p: _copies(p[0], p[1], distinct=p[2])
            ),
        )

    def single(self, field_descriptor: _FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
        if field_descriptor.type == _FieldDescriptor.TYPE_MESSAGE:
            return self.message(_message_type(field_descriptor), depth=depth + 1)
        return self.scalar(field_descriptor, depth)

    def scalar(self, field_descriptor: _FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
        kind = value_kind(field_descriptor)
        cpp = field_descriptor.cpp_type
        if cpp == _FieldDescriptor.CPPTYPE_STRING:
            if field_descriptor.type == _FieldDescriptor.TYPE_BYTES:
                return st.one_of(st.binary(max_size=64), st.sampled_from([b"\x00" * 1024, b"\xff" * 70_000]))
            return self.text(field_descriptor, kind)
        if cpp == _FieldDescriptor.CPPTYPE_BOOL:
            return st.booleans()
        if cpp == _FieldDescriptor.CPPTYPE_ENUM:
            known = _enum_numbers(field_descriptor)
            return st.one_of(
                st.sampled_from(known),
                st.sampled_from([-1, known[-1] + 1, 99, 2**31 - 1, -(2**31)]),
                st.integers(-(2**31), 2**31 - 1),
            )
        if cpp in (_FieldDescriptor.CPPTYPE_DOUBLE, _FieldDescriptor.CPPTYPE_FLOAT):
            seen = self.pools.sample(kind, st.just(0.0))
            return st.one_of(
                st.floats(width=64 if cpp == _FieldDescriptor.CPPTYPE_DOUBLE else 32),
                st.sampled_from([*_DOUBLE_EDGES, math.nan, math.inf, -math.inf]),
                seen,
                st.tuples(seen, st.floats(-0.5, 0.5)).map(lambda p: float(p[0]) + p[1]),
            )
        low, high = _INT_RANGES[cpp]
        edges = sorted({low, high, *(v for v in _INT32_EDGES if low <= v <= high)})
        return st.one_of(
            st.sampled_from(edges),
            st.integers(max(low, -5), min(high, 600)),
            st.integers(low, high),
            self.pools.sample(kind, st.sampled_from(edges)),
        )

    def text(self, field_descriptor: _FieldDescriptor, kind: str) -> st.SearchStrategy[str]:
        name = field_descriptor.name
        hostile = _hostile_text()
        if is_id(field_descriptor):
            real = self.pools.sample(kind, st.uuids().map(str))
            return st.one_of(
                real,
                real,
                real.map(lambda v: str(v).upper()),
                self.pools.sample("any_id", st.uuids().map(str)),
                _uuid_text(),
                hostile,
            )
        if "date" in name:
            return st.one_of(self.pools.sample(kind, _date_text()), _date_text(), hostile)
        if "time" in name or "slot" in name:
            return st.one_of(self.pools.sample(kind, _time_text()), _time_text(), hostile)
        if name == "paths":  # google.protobuf.FieldMask
            return st.one_of(st.sampled_from(_field_names()), hostile)
        if name == "email":
            return st.one_of(st.emails(), st.just("a@b"), hostile)
        return st.one_of(self.pools.sample(kind, hostile), hostile)


_MODES = ("one", "one", "one", "mixed", "hostile")


def _builder(message_descriptor: descriptor.Descriptor) -> Callable[[dict[str, Any]], Message]:
    message_class = message_factory.GetMessageClass(message_descriptor)

    def build(values: dict[str, Any]) -> Message:
        message = message_class()
        for field_descriptor in message_descriptor.fields:
            _assign(message, field_descriptor, values[field_descriptor.name])
        return message

    return build


def _distinct_ids(elements: list[Message]) -> list[Message]:
    """Plausible repeated messages: an id that repeats an earlier element's becomes a new UUID."""
    seen: set[str] = set()
    for element in elements:
        for field_descriptor, value in element.ListFields():
            if is_id(field_descriptor) and isinstance(value, str):
                unique = str(uuid.UUID(int=2**100 + len(seen))) if value in seen else value
                setattr(element, field_descriptor.name, unique)
                seen.add(unique)
    return elements


def _field_names() -> list[str]:
    names = {"", "*", "zone.name", "center.latitude", "name.", "update_time", "zone_id"}
    for module in (common_pb2, booking_service_pb2, trainer_directory_pb2):
        for message_descriptor in module.DESCRIPTOR.message_types_by_name.values():
            names.update(f.name for f in message_descriptor.fields)
    return sorted(names)


def _assign(message: Message, field_descriptor: _FieldDescriptor, value: Any) -> None:
    target = getattr(message, field_descriptor.name)
    if _is_map(field_descriptor):
        value_field = _message_type(field_descriptor).fields_by_name["value"]
        for key, item in value.items():
            if value_field.type == _FieldDescriptor.TYPE_MESSAGE:
                if item is not None:
                    target[key].CopyFrom(item)
            else:
                target[key] = item
    elif _is_repeated(field_descriptor):
        target.extend(value)
    elif field_descriptor.type == _FieldDescriptor.TYPE_MESSAGE:
        if value is not None:
            target.CopyFrom(value)
    else:
        setattr(message, field_descriptor.name, value)


def _copies(element: Any, count: int, *, distinct: bool) -> list[Any]:
    """`count` copies of one element; with `distinct`, ids differ (UUIDs from the index)."""
    if not distinct:
        return [element] * count
    if isinstance(element, Message):
        copies = []
        for index in range(count):
            copy = type(element)()
            copy.CopyFrom(element)
            for field_descriptor, value in copy.ListFields():
                if is_id(field_descriptor) and isinstance(value, str):
                    setattr(copy, field_descriptor.name, str(uuid.UUID(int=index + 1)))
            copies.append(copy)
        return copies
    if isinstance(element, str):
        return [str(uuid.UUID(int=index + 1)) for index in range(count)]
    return [element] * count


def _sized(message: Message, *, oversize: bool) -> Message:
    """Padded over MAX_REQUEST_BYTES when `oversize` (and it has a string to pad), else halved
    until it fits under it."""
    if oversize and _pad(message, MAX_REQUEST_BYTES + 64 * 1024):
        return message
    for _ in range(200):
        if message.ByteSize() <= MAX_REQUEST_BYTES:
            break
        _shrink_largest(message)
    return message


def _pad(message: Message, size: int) -> bool:
    """Fill the first string field found (depth first) with `size` bytes."""
    for field_descriptor in message.DESCRIPTOR.fields:
        if field_descriptor.type == _FieldDescriptor.TYPE_STRING:
            if _is_repeated(field_descriptor):
                getattr(message, field_descriptor.name).append("x" * size)
            else:
                setattr(message, field_descriptor.name, "x" * size)
            return True
    for field_descriptor in message.DESCRIPTOR.fields:
        nested = field_descriptor.type == _FieldDescriptor.TYPE_MESSAGE and not _is_repeated(field_descriptor)
        if nested and _pad(getattr(message, field_descriptor.name), size):
            return True
    return False


def _size_of(field_descriptor: _FieldDescriptor, value: Any) -> int:
    items = list(value) if _is_repeated(field_descriptor) else [value]
    total = 0
    for item in items:
        if isinstance(item, Message):
            total += item.ByteSize()
        elif isinstance(item, str):
            total += len(item.encode("utf-8", "surrogatepass"))
        elif isinstance(item, bytes):
            total += len(item)
        else:
            total += 8
    return total


def _shrink_largest(message: Message) -> None:
    """Halve the largest field: a repeated field loses its second half, a string its second half,
    a message field shrinks its own largest field."""
    fields = message.ListFields()
    if not fields:
        return
    field_descriptor, value = max(fields, key=lambda item: _size_of(*item))
    if _is_map(field_descriptor):
        for key in list(value)[len(value) // 2 :]:
            del value[key]
    elif _is_repeated(field_descriptor):
        if len(value) > 1:
            del value[len(value) // 2 :]
        elif isinstance(value[0], Message):
            _shrink_largest(value[0])
        else:
            value[0] = value[0][: len(value[0]) // 2]
    elif isinstance(value, Message):
        _shrink_largest(value)
    elif isinstance(value, str | bytes):
        setattr(message, field_descriptor.name, value[: len(value) // 2])


# --- the database fingerprint --------------------------------------------------------------------


class Fingerprint:
    """Per table of the public schema (alembic_version aside): row count and a sum of row hashes."""

    def __init__(self, libpq_url: str) -> None:
        self.connection = psycopg.connect(libpq_url, autocommit=True)
        rows = self.connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' "
            "ORDER BY tablename"
        ).fetchall()
        self.tables = [str(row[0]) for row in rows]
        self.query = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {}, count(*), coalesce(sum(hashtext(t::text)), 0) FROM {} t").format(
                sql.Literal(table), sql.Identifier("public", table)
            )
            for table in self.tables
        )

    def take(self) -> dict[str, tuple[int, int]]:
        rows = self.connection.execute(self.query).fetchall()
        return {str(row[0]): (int(row[1]), int(row[2])) for row in rows}

    def close(self) -> None:
        self.connection.close()


def describe_changes(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> str:
    changes = []
    for table, (count, digest) in after.items():
        old_count, old_digest = before.get(table, (0, 0))
        if (count, digest) != (old_count, old_digest):
            delta = count - old_count
            changes.append(f"{table} {delta:+d} rows" if delta else f"{table} rows changed")
    return ", ".join(changes)


# --- one call and its verdict --------------------------------------------------------------------


def shape(message: Message, limit: int = 400) -> str:
    """A short description of a request: field names, string lengths and notable characters,
    numbers as they are; enough to reproduce the kind of request, never a whole long value."""
    parts = []
    for field_descriptor, value in message.ListFields():
        name = field_descriptor.name
        if _is_map(field_descriptor):
            parts.append(f"{name}{{{len(value)}}}")
        elif _is_repeated(field_descriptor):
            first = _value_shape(value[0]) if len(value) else ""
            parts.append(f"{name}[{len(value)}]({first})")
        else:
            parts.append(f"{name}={_value_shape(value)}")
    text = "{" + ", ".join(parts) + "}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _value_shape(value: Any) -> str:
    if isinstance(value, Message):
        return shape(value, limit=200)
    if isinstance(value, str):
        if len(value) <= 40:
            return repr(value)
        notes = [f"{len(value)} chars", f"{len(value.encode())} bytes"]
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            notes.append("control chars")
        return f"{value[:12]!r}...<{', '.join(notes)}>"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return repr(value)


@dataclass
class Answer:
    code: grpc.StatusCode
    reason: str = ""
    domain: str = ""
    has_status: bool = False
    error_bytes: int = 0
    message: str = ""
    response: Message | None = None

    @property
    def key(self) -> str:
        if self.code == grpc.StatusCode.OK:
            return "OK"
        return f"{self.code.name} {self.reason or '-'}"


def call(channel: grpc.Channel, rpc: Rpc, request: Message) -> Answer:
    stub = channel.unary_unary(
        rpc.path,
        request_serializer=rpc.request.SerializeToString,
        response_deserializer=rpc.response.FromString,
    )
    try:
        response = stub(request, timeout=CALL_TIMEOUT_SECONDS)
    except grpc.RpcError as error:
        return _error_answer(error)
    return Answer(grpc.StatusCode.OK, response=response)


def _error_answer(error: grpc.RpcError) -> Answer:
    call_error: Any = error  # a grpc.Call as well as an RpcError
    code: grpc.StatusCode = call_error.code()
    message: str = call_error.details() or ""
    trailing: tuple[tuple[str, str | bytes], ...] = tuple(call_error.trailing_metadata() or ())
    answer = Answer(code, message=message)
    answer.error_bytes = len(message.encode("utf-8", "replace"))
    for key, value in trailing:
        raw = value if isinstance(value, bytes) else str(value).encode()
        answer.error_bytes += len(key) + len(raw)
        if key == STATUS_DETAILS_KEY:
            status = status_pb2.Status.FromString(raw)
            answer.has_status = True
            for detail in status.details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    answer.reason, answer.domain = info.reason, info.domain
    return answer


@dataclass
class _Tally:
    """Findings by (RPC, kind): how many, and the first request and answer."""

    first: dict[tuple[str, str], str] = field(default_factory=dict)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, rpc: Rpc, kind: str, detail: str) -> None:
        key = (rpc.label, kind)
        self.counts[key] = self.counts.get(key, 0) + 1
        self.first.setdefault(key, detail)

    def counts_for(self, kind: str) -> int:
        return sum(count for (_, each), count in self.counts.items() if each == kind)

    def findings(self) -> Iterator[str]:
        for (label, kind), count in self.counts.items():
            yield f"{label}: {kind} x{count} (first: {self.first[(label, kind)]})"


@dataclass
class _Drill:
    channel: grpc.Channel
    fingerprint: Fingerprint
    pools: Pools
    result: DrillResult
    deadline: float
    tally: _Tally = field(default_factory=_Tally)
    calls_per_rpc: dict[str, int] = field(default_factory=dict)
    refused: int = 0
    oversized: int = 0
    max_error_bytes: int = 0
    max_request_bytes: int = 0
    max_response_bytes: int = 0
    skipped: int = 0
    state: dict[str, tuple[int, int]] = field(default_factory=dict)

    def send(self, rpc: Rpc, request: Message) -> None:
        if time.monotonic() > self.deadline:
            self.skipped += 1
            return
        size = request.ByteSize()
        over = size > MAX_REQUEST_BYTES
        answer = call(self.channel, rpc, request)
        after = self.fingerprint.take()
        self.calls_per_rpc[rpc.label] = self.calls_per_rpc.get(rpc.label, 0) + 1
        where = f"{shape(request)} ({size} bytes) -> {answer.key}"
        if over:
            self.oversized += 1
        else:
            self.max_request_bytes = max(self.max_request_bytes, size)
        if answer.code == grpc.StatusCode.OK:
            self.result.answer("OK")
            if answer.response is not None:
                self.max_response_bytes = max(self.max_response_bytes, answer.response.ByteSize())
                self.pools.absorb(answer.response)
                _add_any_ids(self.pools)
            if over:
                self.tally.add(rpc, "a request over 1 MB was accepted", where)
            self.state = after
            return
        self.refused += 1
        self.max_error_bytes = max(self.max_error_bytes, answer.error_bytes)
        if over and answer.code == grpc.StatusCode.RESOURCE_EXHAUSTED and not answer.has_status:
            self.result.answer(SIZE_LIMIT_ANSWER)
        else:
            self.result.answer(answer.key)
            self._judge_error(rpc, answer, where, over=over)
        if after != self.state:
            self.tally.add(rpc, "a refused request wrote", f"{where}: {describe_changes(self.state, after)}")
        self.state = after

    def _judge_error(self, rpc: Rpc, answer: Answer, where: str, *, over: bool) -> None:
        detail = f"{where} {answer.message[:120]!r}"
        if over:
            self.tally.add(rpc, "a request over 1 MB was not refused by the size limit", detail)
        if answer.code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
            self.tally.add(rpc, answer.code.name, detail)
        if answer.domain != ERROR_DOMAIN:
            kind = (
                "no google.rpc.Status" if not answer.has_status else f"no ErrorInfo of domain {ERROR_DOMAIN}"
            )
            self.tally.add(rpc, f"{answer.code.name} with {kind}", detail)
        if answer.error_bytes > MAX_ERROR_BYTES:
            self.tally.add(
                rpc, f"error details over {MAX_ERROR_BYTES} bytes", f"{detail}: {answer.error_bytes} bytes"
            )


def _add_any_ids(pools: Pools) -> None:
    """Ids of every kind also go to "any_id": a trainer id where a zone id is expected, say."""
    for kind, values in list(pools.values.items()):
        if kind.endswith("_id") and kind != "any_id":
            for value in values[:16]:
                pools.add("any_id", value)


# --- the seed ------------------------------------------------------------------------------------


@dataclass
class Seeded:
    zones: int = 0
    trainers: int = 0
    purchases: dict[str, int] = field(default_factory=dict)
    slots: int = 0

    def describe(self) -> str:
        purchases = ", ".join(f"{count} {status}" for status, count in self.purchases.items()) or "none"
        return (
            f"{self.zones} zones, {self.trainers} trainers, purchases {purchases}, {self.slots} blocked slot"
        )


def seed_data(channel: grpc.Channel, pools: Pools, seed: int) -> Seeded:
    """A little valid data through the RPCs: two zones, three trainers near the first zone's centre
    certified for one course, one assigned purchase, one blocked slot, and page tokens."""
    rng = random.Random(seed)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    rpcs = {rpc.name: rpc for rpc in unary_rpcs()}
    seeded = Seeded()

    def seed_call(name: str, request: Message) -> Message | None:
        pools.absorb(request)
        answer = call(channel, rpcs[name], request)
        if answer.response is None:
            return None
        pools.absorb(answer.response)
        return answer.response

    center = common_pb2.GeoPoint(latitude=12.9716, longitude=77.5946)
    zone_id, franchise_id, course_id = new_id(), new_id(), new_id()
    for zone in (
        common_pb2.Zone(
            zone_id=zone_id, name=f"chaos {zone_id[:8]}", center=center, radius_km=15, active=True
        ),
        common_pb2.Zone(
            zone_id=new_id(),
            name="chaos franchise",
            franchise_id=franchise_id,
            center=common_pb2.GeoPoint(latitude=13.05, longitude=77.65),
            radius_km=5,
            active=True,
        ),
    ):
        if seed_call("CreateZone", booking_service_pb2.CreateZoneRequest(zone=zone)) is not None:
            seeded.zones += 1
    trainer_ids = [new_id() for _ in range(3)]
    for index, trainer_id in enumerate(trainer_ids):
        trainer = common_pb2.Trainer(
            trainer_id=trainer_id,
            display_name=f"Chaos Trainer {index}",
            active=True,
            zone_id=zone_id,
            certified_course_ids=[course_id],
            location=common_pb2.GeoPoint(latitude=12.97 + index * 0.01, longitude=77.59),
            has_location=True,
        )
        if (
            seed_call("UpsertTrainer", trainer_directory_pb2.UpsertTrainerRequest(trainer=trainer))
            is not None
        ):
            seeded.trainers += 1
    start = datetime.now(UTC).date() + timedelta(days=3)
    purchase = seed_call(
        "AutoAssignTrainer",
        booking_service_pb2.AutoAssignTrainerRequest(
            booking_id=new_id(),
            course_id=course_id,
            class_type=common_pb2.CLASS_TYPE_ONE_ON_ONE,
            total_sessions=10,
            delivery_mode=common_pb2.DELIVERY_MODE_WEEKDAY_DAILY,
            start_date=start.isoformat(),
            preferred_time_slot="10:00",
            student_location=center,
            students=[common_pb2.Student(id=new_id(), name="Chaos Student", email="student@example.com")],
        ),
    )
    if isinstance(purchase, booking_service_pb2.AutoAssignTrainerResponse):
        status = common_pb2.PurchaseStatus.Name(purchase.purchase.status).removeprefix("PURCHASE_STATUS_")
        seeded.purchases[status] = seeded.purchases.get(status, 0) + 1
    blocked = seed_call(
        "BlockTrainerTime",
        booking_service_pb2.BlockTrainerTimeRequest(
            trainer_id=trainer_ids[-1],
            date=(start + timedelta(days=30)).isoformat(),
            start_time="18:00",
            duration_minutes=60,
            reason="chaos seed",
        ),
    )
    seeded.slots += blocked is not None
    seed_call("ListZones", booking_service_pb2.ListZonesRequest(page_size=1))
    seed_call("ListTrainers", trainer_directory_pb2.ListTrainersRequest(page_size=1))
    _add_any_ids(pools)
    return seeded


# --- the drill -----------------------------------------------------------------------------------


def hostile_input_drill(
    target: str, libpq_url: str, *, examples_per_rpc: int, seed: int, budget_seconds: float | None = None
) -> DrillResult:
    """Hypothesis-generated requests for every unary RPC, against the server at `target` whose
    database `libpq_url` names (background jobs off, nothing else writing). `budget_seconds`
    (default: 1 s per call planned, at least 60) bounds the drill: past it, nothing more is sent."""
    result = DrillResult(name="hostile input")
    started = time.monotonic()
    rpcs = unary_rpcs()
    budget = budget_seconds if budget_seconds is not None else max(60.0, float(examples_per_rpc * len(rpcs)))
    pools = Pools()
    fingerprint = Fingerprint(libpq_url)
    try:
        with grpc.insecure_channel(target, options=CHANNEL_OPTIONS) as channel:
            seeded = seed_data(channel, pools, seed)
            drill = _Drill(channel, fingerprint, pools, result, deadline=started + budget)
            drill.state = fingerprint.take()
            builder = StrategyBuilder(pools)
            for rpc in rpcs:
                _run_examples(drill, rpc, builder.request(rpc.request), examples_per_rpc, seed)
    finally:
        fingerprint.close()
    for finding in drill.tally.findings():
        result.find(finding)
    for rpc in rpcs:
        if not drill.calls_per_rpc.get(rpc.label):
            result.find(f"{rpc.label}: no request sent")
    if drill.skipped:
        result.find(f"budget of {budget:.0f} s exhausted: {drill.skipped} examples not sent")
    result.seconds = time.monotonic() - started
    called = sum(1 for rpc in rpcs if drill.calls_per_rpc.get(rpc.label))
    result.figures.update(
        {
            "rpcs": str(len(rpcs)),
            "rpcs called": str(called),
            "examples per rpc": str(examples_per_rpc),
            "min calls per rpc": str(min(drill.calls_per_rpc.values(), default=0)),
            "seed": str(seed),
            "seeded": seeded.describe(),
            "refused": str(drill.refused),
            "refused with writes": str(drill.tally.counts_for("a refused request wrote")),
            "INTERNAL/UNKNOWN": str(drill.tally.counts_for("INTERNAL") + drill.tally.counts_for("UNKNOWN")),
            "over 1 MB": str(drill.oversized),
            "max request bytes under 1 MB": str(drill.max_request_bytes),
            "max error bytes": str(drill.max_error_bytes),
            "max response bytes": str(drill.max_response_bytes),
        }
    )
    return result


def _run_examples(
    drill: _Drill, rpc: Rpc, strategy: st.SearchStrategy[Message], examples: int, seed: int
) -> None:
    send: Callable[[Message], None] = lambda request: drill.send(rpc, request)  # noqa: E731

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    @hypothesis.seed(seed ^ zlib.crc32(rpc.path.encode()))
    @given(strategy)
    def run(request: Message) -> None:
        send(request)

    run()
