"""UTF-8 of every string field, checked by upb in C: a validating twin of each envelope.

proto2 parsing keeps invalid UTF-8 in ``string`` fields and hands it back as ``bytes``;
typed code downstream must only ever see ``str``. Reading every string field from Python
to find out costs far more than the parse itself (25–40 µs for an order status under
load, against 2–5 µs to parse it). Editions let a ``.proto`` ask the parser to verify
UTF-8 (``features.utf8_validation = VERIFY``, what proto3 does). :func:`validator_of`
builds, once, a twin of a message type in a private descriptor pool: the same files,
re-declared as edition 2023 with that feature, closed enums and no required fields (a
validation parse checks UTF-8, nothing else). Parsing a frame with the twin raises
``DecodeError`` exactly when a string field holds invalid UTF-8; it costs about one more
parse and replaces the walk. The wire is the same, so the twin parses every frame the
real type does; our generated code and ``.proto`` files are untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FileDescriptor
from google.protobuf.message import Message

__all__ = ["validator_of"]

_FEATURES = descriptor_pb2.FeatureSet


def _files(file: FileDescriptor, out: list[descriptor_pb2.FileDescriptorProto]) -> None:
    """``file`` and its dependencies as protos, dependencies first (each once)."""
    if any(p.name == file.name for p in out):
        return
    for dependency in file.dependencies:
        _files(dependency, out)
    proto = descriptor_pb2.FileDescriptorProto()
    file.CopyToProto(proto)
    out.append(proto)


def _fields(
    messages: Iterator[descriptor_pb2.DescriptorProto] | list[descriptor_pb2.DescriptorProto],
) -> Iterator[descriptor_pb2.FieldDescriptorProto]:
    for message in messages:
        yield from message.field
        yield from _fields(list(message.nested_type))


def _verifying(proto: descriptor_pb2.FileDescriptorProto) -> None:
    """Re-declare a proto2 file as edition 2023 that verifies UTF-8 (proto3 already does)."""
    if proto.syntax not in ("", "proto2"):
        return
    proto.syntax = "editions"
    proto.edition = descriptor_pb2.EDITION_2023
    features = proto.options.features
    features.utf8_validation = _FEATURES.VERIFY
    features.enum_type = _FEATURES.CLOSED  # proto2's: first values need not be zero
    features.json_format = _FEATURES.LEGACY_BEST_EFFORT
    features.repeated_field_encoding = _FEATURES.EXPANDED  # parsing accepts both anyway
    for field in _fields(list(proto.message_type)):
        if field.label == field.LABEL_REQUIRED:
            field.label = field.LABEL_OPTIONAL  # checked apart (IsInitialized)
        if field.options.HasField("packed"):
            field.options.ClearField("packed")  # not an editions option


@cache
def validator_of(descriptor: Descriptor) -> type[Message]:
    """The UTF-8-verifying twin of the message type ``descriptor`` (built once)."""
    protos: list[descriptor_pb2.FileDescriptorProto] = []
    _files(descriptor.file, protos)
    pool = descriptor_pool.DescriptorPool()
    for proto in protos:
        _verifying(proto)
        pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(descriptor.full_name))
