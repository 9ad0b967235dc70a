"""Our hand-written .proto subset agrees with CQG's reference descriptors, field by field."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import pytest
from cqg_proto_support import our_file_protos
from cqg_reference import reference_set
from google.protobuf import descriptor_pb2

FieldProto = descriptor_pb2.FieldDescriptorProto
MessageProto = descriptor_pb2.DescriptorProto
EnumProto = descriptor_pb2.EnumDescriptorProto


def _messages(prefix: str, messages: list[MessageProto]) -> Iterator[tuple[str, MessageProto]]:
    for message in messages:
        name = f"{prefix}.{message.name}"
        yield name, message
        yield from _messages(name, list(message.nested_type))


def _enums(
    prefix: str, enums: list[EnumProto], messages: list[MessageProto]
) -> Iterator[tuple[str, EnumProto]]:
    for enum in enums:
        yield f"{prefix}.{enum.name}", enum
    for message in messages:
        yield from _enums(
            f"{prefix}.{message.name}", list(message.enum_type), list(message.nested_type)
        )


def _index_messages(files: list[descriptor_pb2.FileDescriptorProto]) -> dict[str, MessageProto]:
    return {
        name: message
        for file in files
        for name, message in _messages(file.package, list(file.message_type))
    }


def _index_enums(files: list[descriptor_pb2.FileDescriptorProto]) -> dict[str, EnumProto]:
    return {
        name: enum
        for file in files
        for name, enum in _enums(file.package, list(file.enum_type), list(file.message_type))
    }


@cache
def reference_messages() -> dict[str, MessageProto]:
    return _index_messages(list(reference_set().file))


@cache
def reference_enums() -> dict[str, EnumProto]:
    return _index_enums(list(reference_set().file))


OUR_FILES = our_file_protos()
OUR_MESSAGES = _index_messages(OUR_FILES)
OUR_ENUMS = _index_enums(OUR_FILES)
OUR_FIELDS = [
    (f"{message_name}.{field.name}", message_name, field)
    for message_name, message in OUR_MESSAGES.items()
    for field in message.field
]


def _describe(field: FieldProto) -> dict[str, object]:
    """Everything about a field that changes its wire form or its meaning."""
    return {
        "name": field.name,
        "number": field.number,
        "label": FieldProto.Label.Name(field.label),
        "type": FieldProto.Type.Name(field.type),
        "type_name": field.type_name,
        "default_value": field.default_value if field.HasField("default_value") else None,
        "packed": field.options.packed if field.options.HasField("packed") else None,
        "jstype": field.options.jstype if field.options.HasField("jstype") else None,
        "deprecated": field.options.deprecated,
        "oneof": field.HasField("oneof_index"),
    }


def test_subset_is_not_trivially_small() -> None:
    assert len(OUR_MESSAGES) >= 60
    assert len(OUR_FIELDS) >= 600


@pytest.mark.cqg_reference
def test_every_file_has_the_reference_package() -> None:
    reference = {file.name: file for file in reference_set().file}
    for file in OUR_FILES:
        assert file.name in reference, file.name
        assert file.package == reference[file.name].package
        assert file.syntax in ("", "proto2")
        assert set(file.dependency) <= set(reference[file.name].dependency), file.name


@pytest.mark.cqg_reference
@pytest.mark.parametrize("name", sorted(OUR_MESSAGES))
def test_message_exists_in_reference(name: str) -> None:
    assert name in reference_messages()


@pytest.mark.cqg_reference
@pytest.mark.parametrize(
    ("full_name", "message_name", "field"), OUR_FIELDS, ids=[f[0] for f in OUR_FIELDS]
)
def test_field_matches_reference(full_name: str, message_name: str, field: FieldProto) -> None:
    reference = {f.number: f for f in reference_messages()[message_name].field}
    assert field.number in reference, f"{full_name}: number {field.number} not in reference"
    assert _describe(field) == _describe(reference[field.number])


@pytest.mark.cqg_reference
@pytest.mark.parametrize("name", sorted(OUR_MESSAGES))
def test_every_required_field_of_a_message_we_keep_is_kept(name: str) -> None:
    ours = {f.number for f in OUR_MESSAGES[name].field}
    required = {
        f.number: f.name
        for f in reference_messages()[name].field
        if f.label == FieldProto.LABEL_REQUIRED
    }
    missing = {number: field for number, field in required.items() if number not in ours}
    assert not missing, f"{name} drops required fields {missing}"


@pytest.mark.cqg_reference
@pytest.mark.parametrize("name", sorted(OUR_ENUMS))
def test_enum_matches_reference(name: str) -> None:
    ours = {v.name: v.number for v in OUR_ENUMS[name].value}
    reference = {v.name: v.number for v in reference_enums()[name].value}
    assert ours == reference


def test_message_field_types_we_reference_are_in_our_subset() -> None:
    for name, message in OUR_MESSAGES.items():
        for field in message.field:
            if field.type == FieldProto.TYPE_MESSAGE:
                target = field.type_name.lstrip(".")
                assert target in OUR_MESSAGES or target == "google.protobuf.Timestamp", (
                    f"{name}.{field.name} -> {target}"
                )
