"""Server reflection that describes methods and shows the protos' comments.

grpcio-reflection looks symbols up in a DescriptorPool, which falls short twice: the pool cannot
find a method (`grpcurl describe booking.v1.BookingService.AutoAssignTrainer` answers "Symbol not
found", grpc/grpc#34743), and the servicer serializes files with `CopyToProto`, which drops the
comments (`source_code_info`). So the library's servicer keeps the protocol, and gets, in place of
a pool, `DescribedFiles`: the FileDescriptorProtos that `make generate` wrote with source info into
the committed descriptor set (clients/booking/v1/booking.binpb), indexed by every symbol they
declare. Files outside that set (health, reflection itself) come from the default pool as before.

protoc fills every field's `json_name` in that set, which the default pool's files leave out;
grpcurl then prints lowerCamelCase names (`purchaseId`) instead of the proto names it printed so
far (`purchase_id`). The served files leave `json_name` out too, so grpcurl's output (the
README's examples, developers' scripts) stays what it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib import resources
from typing import Any

from google.protobuf import descriptor_pool
from google.protobuf.descriptor_pb2 import (
    DescriptorProto,
    EnumDescriptorProto,
    FileDescriptorProto,
    FileDescriptorSet,
)

DESCRIPTOR_SET_PACKAGE = "booking.v1"
DESCRIPTOR_SET_FILE = "booking.binpb"


class DescribedFile:
    """One file as the reflection servicer reads it: `name`, `dependencies`, `CopyToProto`."""

    def __init__(self, proto: FileDescriptorProto, dependencies: tuple[DescribedFile, ...]) -> None:
        self._proto = proto
        self.dependencies = dependencies

    @property
    def name(self) -> str:
        return self._proto.name

    def CopyToProto(self, target: FileDescriptorProto) -> None:  # noqa: N802 - the pool's method name
        target.CopyFrom(self._proto)  # source_code_info (the comments) included


class DescribedFiles:
    """The lookups the reflection servicer makes of its pool, answered from a descriptor set."""

    def __init__(self, descriptor_set: FileDescriptorSet, fallback: descriptor_pool.DescriptorPool) -> None:
        self._files: dict[str, DescribedFile] = {}
        self._file_by_symbol: dict[str, DescribedFile] = {}
        # protoc writes a set built with --include_imports dependencies first.
        for proto in descriptor_set.file:
            _clear_json_names(proto.message_type)
            described = DescribedFile(proto, tuple(self._files[name] for name in proto.dependency))
            self._files[proto.name] = described
            self._file_by_symbol.update(dict.fromkeys(file_symbols(proto), described))
        self._fallback = fallback

    def FindFileByName(self, name: str) -> Any:  # noqa: N802 - DescriptorPool's interface
        return self._files.get(name) or self._fallback.FindFileByName(name)

    def FindFileContainingSymbol(self, symbol: str) -> Any:  # noqa: N802
        found = self._file_by_symbol.get(symbol)
        if found is not None:
            return found
        try:
            return self._fallback.FindFileContainingSymbol(symbol)
        except KeyError:
            # The default pool misses methods too (grpc.health.v1.Health.Check): look up the service.
            service_name, _, method = symbol.rpartition(".")
            service = self._fallback.FindServiceByName(service_name)  # KeyError: not found, as before
            if method not in service.methods_by_name:
                raise
            return service.file

    # Extensions: this API declares none, so the default pool (which holds the same messages) answers.
    def FindMessageTypeByName(self, name: str) -> Any:  # noqa: N802
        return self._fallback.FindMessageTypeByName(name)

    def FindExtensionByNumber(self, message: Any, number: int) -> Any:  # noqa: N802
        return self._fallback.FindExtensionByNumber(message, number)

    def FindAllExtensions(self, message: Any) -> Any:  # noqa: N802
        return self._fallback.FindAllExtensions(message)


def file_symbols(proto: FileDescriptorProto) -> Iterator[str]:
    """Every fully qualified name a file declares: services, methods, messages, fields, enums, values."""
    prefix = f"{proto.package}." if proto.package else ""
    for service in proto.service:
        yield prefix + service.name
        yield from (f"{prefix}{service.name}.{method.name}" for method in service.method)
    yield from _enum_symbols(prefix, proto.enum_type)
    yield from _message_symbols(prefix, proto.message_type)


def _enum_symbols(prefix: str, enums: Iterable[EnumDescriptorProto]) -> Iterator[str]:
    for enum in enums:
        yield prefix + enum.name
        # Enum values are scoped beside their enum, as in C++.
        yield from (prefix + value.name for value in enum.value)


def _message_symbols(prefix: str, messages: Iterable[DescriptorProto]) -> Iterator[str]:
    for message in messages:
        name = prefix + message.name
        yield name
        yield from (f"{name}.{field.name}" for field in message.field)
        yield from _enum_symbols(f"{name}.", message.enum_type)
        yield from _message_symbols(f"{name}.", message.nested_type)


def _clear_json_names(messages: Iterable[DescriptorProto]) -> None:
    for message in messages:
        for field in message.field:
            field.ClearField("json_name")
        _clear_json_names(message.nested_type)


def load_described_files() -> DescribedFiles:
    """The committed descriptor set (written by `make generate`), over the default pool."""
    data = resources.files(DESCRIPTOR_SET_PACKAGE).joinpath(DESCRIPTOR_SET_FILE).read_bytes()
    return DescribedFiles(FileDescriptorSet.FromString(data), descriptor_pool.Default())
