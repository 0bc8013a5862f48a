"""docs/api.md documents every element of the protos, with its comment (tools/api_reference.py)."""

from __future__ import annotations

from pathlib import Path

from booking.v1 import booking_service_pb2, common_pb2, error_reason_pb2, trainer_directory_pb2
from booking_server.rpc.roles import REQUIRED_ROLE
from google.protobuf.descriptor import FileDescriptor

ROOT = Path(__file__).resolve().parents[2]
API_MD = (ROOT / "docs" / "api.md").read_text()
FILES: tuple[FileDescriptor, ...] = (
    booking_service_pb2.DESCRIPTOR,
    common_pb2.DESCRIPTOR,
    error_reason_pb2.DESCRIPTOR,
    trainer_directory_pb2.DESCRIPTOR,
)


def test_every_rpc_message_field_and_enum_value_has_a_row() -> None:
    missing = []
    for file in FILES:
        for service in file.services_by_name.values():
            missing += [m.full_name for m in service.methods if f"| `{m.name}` |" not in API_MD]
        for message in file.message_types_by_name.values():
            if f'<a id="{message.full_name}"></a>' not in API_MD:
                missing.append(message.full_name)
            missing += [f.full_name for f in message.fields if f"| `{f.name}` | {f.number} |" not in API_MD]
        for enum in file.enum_types_by_name.values():
            missing += [v.name for v in enum.values if f"| `{v.name}` | {v.number} |" not in API_MD]
    assert missing == []


def test_the_comments_of_the_protos_are_the_descriptions() -> None:
    assert "One session a day on consecutive calendar days (Sundays included" in API_MD
    assert "| `SLOT_OVERLAP` | 11 | FAILED_PRECONDITION: the time overlaps a booked or blocked slot" in API_MD
    assert "| `AutoAssignTrainer` |" in API_MD.split("## Error reasons")[0]


def test_each_rpc_names_the_role_the_server_requires() -> None:
    header = "| RPC | request | response | roles | description |"
    assert API_MD.count(header) == 2
    for full_method, role in REQUIRED_ROLE.items():
        method = full_method.rsplit("/", 1)[1]
        rows = [line for line in API_MD.splitlines() if line.startswith(f"| `{method}` |")]
        assert rows, method
        assert f"| `{role}` |" in rows[0], rows[0]
