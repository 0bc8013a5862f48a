"""Write docs/api.md, the booking.v1 API reference, from the protos' comments.

`make generate` runs `python tools/api_reference.py clients/booking/v1/booking.binpb > docs/api.md`.
The input is the descriptor set protoc wrote with --include_source_info, so every comment in
protos/booking/v1 is here, and `make check-generated` fails when docs/api.md is not what the
protos say. protoc-gen-doc would do this, but it is a Go program and not installable from PyPI or
npm; the comments themselves are the documentation, this script only lays them out.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from booking_server.rpc.roles import REQUIRED_ROLE
from google.protobuf.descriptor_pb2 import (
    DescriptorProto,
    EnumDescriptorProto,
    FieldDescriptorProto,
    FileDescriptorProto,
    FileDescriptorSet,
)

PACKAGE = "booking.v1"
ERROR_REASON = f"{PACKAGE}.ErrorReason"
# FileDescriptorProto / DescriptorProto / ServiceDescriptorProto field numbers, as source-info
# paths name them (descriptor.proto).
MESSAGE_TYPE, ENUM_TYPE, SERVICE = 4, 5, 6
FIELD, NESTED_TYPE, NESTED_ENUM = 2, 3, 4
ENUM_VALUE = 2
METHOD = 2

SCALARS = {
    value: name.removeprefix("TYPE_").lower()
    for name, value in FieldDescriptorProto.Type.items()
    if name not in ("TYPE_MESSAGE", "TYPE_ENUM", "TYPE_GROUP")
}


@dataclass(frozen=True, slots=True)
class Comments:
    """The comment above (or after) each element of one file, by its source-info path."""

    by_path: dict[tuple[int, ...], str]

    @classmethod
    def of(cls, proto: FileDescriptorProto) -> Comments:
        by_path = {}
        for location in proto.source_code_info.location:
            text = location.leading_comments or location.trailing_comments
            if text.strip():
                by_path[tuple(location.path)] = " ".join(line.strip() for line in text.strip().splitlines())
        return cls(by_path)

    def at(self, *path: int) -> str:
        return self.by_path.get(path, "")


def roles_of(method_full_name: str) -> str:
    """The role that may call a method, from the one table the server enforces (rpc/roles.py)."""
    service, _, method = method_full_name.rpartition(".")
    role = REQUIRED_ROLE.get(f"/{service}/{method}")
    return f"`{role}`" if role else "denied to every caller (no row in the role table)"


def link(type_name: str) -> str:
    """A field or method type, linked when it is ours."""
    name = type_name.lstrip(".")
    return (
        f"[`{name.removeprefix(PACKAGE + '.')}`](#{name})" if name.startswith(PACKAGE + ".") else f"`{name}`"
    )


def field_type(field: FieldDescriptorProto) -> str:
    shown = link(field.type_name) if field.type_name else f"`{SCALARS[field.type]}`"
    if field.label == FieldDescriptorProto.LABEL_REPEATED:
        return f"repeated {shown}"
    return f"optional {shown}" if field.proto3_optional else shown


def cell(text: str) -> str:
    return text.replace("|", "\\|") or " "


def heading(full_name: str, shown: str, comment: str) -> Iterator[str]:
    """An element's heading, with an anchor on its full name, and its comment."""
    yield f'### <a id="{full_name}"></a>{shown}'
    yield ""
    yield comment
    yield ""


def render_services(proto: FileDescriptorProto, comments: Comments) -> Iterator[str]:
    for s_index, service in enumerate(proto.service):
        full_name = f"{proto.package}.{service.name}"
        yield from heading(full_name, full_name, comments.at(SERVICE, s_index))
        yield "| RPC | request | response | roles | description |"
        yield "|---|---|---|---|---|"
        for m_index, method in enumerate(service.method):
            description = cell(comments.at(SERVICE, s_index, METHOD, m_index))
            yield (
                f"| `{method.name}` | {link(method.input_type)} | {link(method.output_type)} "
                f"| {roles_of(f'{full_name}.{method.name}')} | {description} |"
            )
        yield ""


def render_message(
    prefix: str, message: DescriptorProto, path: Sequence[int], comments: Comments
) -> Iterator[str]:
    full_name = f"{prefix}.{message.name}"
    yield from heading(full_name, full_name.removeprefix(PACKAGE + "."), comments.at(*path))
    if message.field:
        yield "| field | number | type | description |"
        yield "|---|---|---|---|"
        for f_index, field in enumerate(message.field):
            description = cell(comments.at(*path, FIELD, f_index))
            yield f"| `{field.name}` | {field.number} | {field_type(field)} | {description} |"
    else:
        yield "No fields."
    yield ""
    for n_index, nested in enumerate(message.nested_type):
        yield from render_message(full_name, nested, (*path, NESTED_TYPE, n_index), comments)
    for e_index, enum in enumerate(message.enum_type):
        yield from render_enum(full_name, enum, (*path, NESTED_ENUM, e_index), comments)


def render_enum(
    prefix: str, enum: EnumDescriptorProto, path: Sequence[int], comments: Comments
) -> Iterator[str]:
    full_name = f"{prefix}.{enum.name}"
    yield from heading(full_name, full_name.removeprefix(PACKAGE + "."), comments.at(*path))
    yield "| value | number | description |"
    yield "|---|---|---|"
    for v_index, value in enumerate(enum.value):
        yield f"| `{value.name}` | {value.number} | {cell(comments.at(*path, ENUM_VALUE, v_index))} |"
    yield ""


def render(descriptor_set: FileDescriptorSet) -> Iterator[str]:
    ours = sorted((f for f in descriptor_set.file if f.package == PACKAGE), key=lambda f: f.name)
    yield "# booking.v1 API reference"
    yield ""
    yield (
        "Generated by `make generate` (tools/api_reference.py) from the comments in `protos/booking/v1`; "
        "do not edit it by hand. `make test` fails when it differs from the protos. Every error carries a "
        "`google.rpc.ErrorInfo` (domain `booking.v1`) whose `reason` is a name from "
        "[Error reasons](#error-reasons), and `INVALID_ARGUMENT` also a `google.rpc.BadRequest`."
    )
    yield ""
    yield "## Services"
    yield ""
    for proto in ours:
        yield from render_services(proto, Comments.of(proto))
    yield "## Error reasons"
    yield ""
    for proto in ours:
        comments = Comments.of(proto)
        for index, enum in enumerate(proto.enum_type):
            if f"{proto.package}.{enum.name}" == ERROR_REASON:
                yield from render_enum(proto.package, enum, (ENUM_TYPE, index), comments)
    for proto in ours:
        comments = Comments.of(proto)
        if not proto.message_type and all(f"{PACKAGE}.{e.name}" == ERROR_REASON for e in proto.enum_type):
            continue
        yield f"## {proto.name}"
        yield ""
        for index, message in enumerate(proto.message_type):
            yield from render_message(proto.package, message, (MESSAGE_TYPE, index), comments)
        for index, enum in enumerate(proto.enum_type):
            if f"{proto.package}.{enum.name}" != ERROR_REASON:
                yield from render_enum(proto.package, enum, (ENUM_TYPE, index), comments)


def main(argv: Sequence[str]) -> int:
    descriptor_set = FileDescriptorSet.FromString(Path(argv[1]).read_bytes())
    lines = list(render(descriptor_set))
    while lines and not lines[-1]:
        lines.pop()
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
