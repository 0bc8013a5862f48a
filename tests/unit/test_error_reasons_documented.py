"""Every ErrorInfo reason the server code sends is a documented booking.v1.ErrorReason value.

The reasons are string literals where the errors are raised; this reads the server's source for
them (`reason="X"`, `reason = "X"`, `reason=CONSTANT`, rich_status(..., "X", ...)) so that a new
reason without its line in protos/booking/v1/error_reason.proto (and so in docs/api.md, reflection
and the generated clients) fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

from booking.v1 import error_reason_pb2

SERVER = Path(__file__).resolve().parents[2] / "server" / "booking_server"
LITERAL = re.compile(r'\breason\s*=\s*"([A-Z][A-Z_]+)"')
BY_CONSTANT = re.compile(r"\breason=([A-Z][A-Z_]+)\b")
CONSTANT = re.compile(r'^([A-Z][A-Z_]+) = "([A-Z][A-Z_]+)"$', re.MULTILINE)
RICH_STATUS = re.compile(r'rich_status\(\s*grpc\.StatusCode\.\w+,\s*[^,]+,\s*"([A-Z][A-Z_]+)"')


def server_reasons() -> set[str]:
    sources = [path.read_text() for path in SERVER.rglob("*.py")]
    constants = {name: value for text in sources for name, value in CONSTANT.findall(text)}
    found: set[str] = set()
    for text in sources:
        found.update(LITERAL.findall(text))
        found.update(RICH_STATUS.findall(text))
        found.update(constants[name] for name in BY_CONSTANT.findall(text) if name in constants)
    return found


def test_the_scan_finds_the_reasons_of_each_kind_of_source() -> None:
    assert {
        "SLOT_OVERLAP",
        "INVALID_REQUEST",
        "ZONE_NAME_TAKEN",
        "NOT_IMPLEMENTED",
        "INTERNAL",
    } <= server_reasons()


def test_every_reason_the_server_sends_is_an_error_reason_value() -> None:
    documented = set(error_reason_pb2.ErrorReason.keys())

    assert server_reasons() - documented == set()
