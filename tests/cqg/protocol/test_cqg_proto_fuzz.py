"""Property tests: our classes and the reference pool agree on random messages; the codec
turns any bad frame into ``ProtocolError`` and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from cqg_reference import reference_class
from ec_core.errors import ProtocolError
from ec_cqg.protocol import codec
from ec_cqg.protocol.pb import ClientMsg, ServerMsg
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FD = FieldDescriptor
_INTS = {
    FD.TYPE_INT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FD.TYPE_INT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FD.TYPE_UINT32: (0, 2**32 - 1),
    FD.TYPE_FIXED32: (0, 2**32 - 1),
    FD.TYPE_UINT64: (0, 2**64 - 1),
    FD.TYPE_FIXED64: (0, 2**64 - 1),
}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _scalar(data: st.DataObject, field: FieldDescriptor) -> Any:
    if field.type in _INTS:
        low, high = _INTS[field.type]
        return data.draw(st.one_of(st.integers(low, high), st.sampled_from([0, 1, low, high])))
    if field.type == FD.TYPE_BOOL:
        return data.draw(st.booleans())
    if field.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
        return data.draw(
            st.floats(allow_nan=False, width=64 if field.type == FD.TYPE_DOUBLE else 32)
        )
    if field.type == FD.TYPE_STRING:
        return data.draw(st.text(max_size=8))
    if field.type == FD.TYPE_BYTES:
        return data.draw(st.binary(max_size=8))
    if field.type == FD.TYPE_ENUM:
        assert field.enum_type is not None
        return data.draw(st.sampled_from([v.number for v in field.enum_type.values]))
    raise AssertionError(field.type)


def fill(data: st.DataObject, msg: Message, depth: int = 0, *, width: int = 6) -> Message:
    """Set a random subset of fields, recursively, to random valid values."""
    descriptor: Any = msg.DESCRIPTOR  # the upb and python descriptor stubs differ
    if depth > 3 or not descriptor.fields:
        return msg
    fields: list[FieldDescriptor] = list(descriptor.fields)
    chosen = data.draw(st.sets(st.sampled_from(range(len(fields))), max_size=width))
    for field in (fields[i] for i in sorted(chosen)):
        count = data.draw(st.integers(1, 2)) if field.is_repeated else 1
        for _ in range(count):
            if field.type == FD.TYPE_MESSAGE:
                if field.is_repeated:
                    fill(data, getattr(msg, field.name).add(), depth + 1, width=width)
                else:
                    child = getattr(msg, field.name)
                    child.SetInParent()
                    fill(data, child, depth + 1, width=width)
            elif field.is_repeated:
                getattr(msg, field.name).append(_scalar(data, field))
            else:
                setattr(msg, field.name, _scalar(data, field))
    return msg


def _same_known_fields(ours: Message, reference: Message) -> None:
    """Every field we know has the same value in the reference message."""
    for field in ours.DESCRIPTOR.fields:
        mine, theirs = getattr(ours, field.name), getattr(reference, field.name)
        if field.type == FD.TYPE_MESSAGE:
            if field.is_repeated:
                assert len(mine) == len(theirs), field.full_name
                for a, b in zip(mine, theirs, strict=True):
                    _same_known_fields(a, b)
            else:
                assert ours.HasField(field.name) == reference.HasField(field.name), field.full_name
                if ours.HasField(field.name):
                    _same_known_fields(mine, theirs)
        elif field.is_repeated:
            assert list(mine) == list(theirs), field.full_name
        else:
            assert mine == theirs, field.full_name


@pytest.mark.cqg_reference
@pytest.mark.parametrize("ours", [ClientMsg, ServerMsg], ids=["client", "server"])
@SETTINGS
@given(data=st.data())
def test_ours_decode_identically_with_the_reference(
    ours: type[Message], data: st.DataObject
) -> None:
    msg = fill(data, ours())
    wire = msg.SerializePartialToString()
    reference = reference_class(ours.DESCRIPTOR.full_name).FromString(wire)
    assert reference.SerializePartialToString() == wire
    _same_known_fields(msg, reference)


@pytest.mark.cqg_reference
@pytest.mark.parametrize("ours", [ClientMsg, ServerMsg], ids=["client", "server"])
@SETTINGS
@given(data=st.data())
def test_reference_messages_survive_our_classes(ours: type[Message], data: st.DataObject) -> None:
    reference_cls = reference_class(ours.DESCRIPTOR.full_name)
    original = fill(data, reference_cls(), width=4)
    wire = original.SerializePartialToString()
    mine = ours.FromString(wire)
    _same_known_fields(mine, original)
    # Fields outside our subset are kept and sent on unchanged.
    assert reference_cls.FromString(mine.SerializePartialToString()) == original


@SETTINGS
@given(frame=st.binary(max_size=256))
def test_random_bytes_raise_only_protocol_error(frame: bytes) -> None:
    for decode in (codec.decode_server, codec.decode_client):
        try:
            decode(frame)
            decode(frame, strict=True)
        except ProtocolError:
            pass


@SETTINGS
@given(data=st.data())
def test_truncated_and_corrupted_frames_raise_only_protocol_error(data: st.DataObject) -> None:
    frame = fill(data, ServerMsg()).SerializePartialToString()
    cut = data.draw(st.integers(0, len(frame)))
    flips = data.draw(
        st.lists(st.tuples(st.integers(0, max(len(frame) - 1, 0)), st.integers(0, 255)), max_size=3)
    )
    corrupted = bytearray(frame[:cut])
    for index, value in flips:
        if index < len(corrupted):
            corrupted[index] = value
    try:
        msg = codec.decode_server(bytes(corrupted))
    except ProtocolError:
        return
    for field in msg.DESCRIPTOR.fields:  # whatever decoded is typed: strings are str
        getattr(msg, field.name)


def test_non_utf8_string_is_a_protocol_error() -> None:
    # ServerMsg{user_messages{message_type:1 source:"\xff" text:"t"}}
    inner = bytes([0x08, 0x01, 0x12, 0x01, 0xFF, 0x22, 0x01, 0x74])
    frame = bytes([0xC2, 0x06, len(inner)]) + inner
    with pytest.raises(ProtocolError, match="UTF-8"):
        codec.decode_server(frame)


def test_strict_decoding_names_missing_required_fields() -> None:
    frame = bytes.fromhex("2a00")  # ServerMsg{order_statuses{}}: every required field missing
    assert len(codec.decode_server(frame).order_statuses) == 1
    with pytest.raises(ProtocolError, match="order_statuses"):
        codec.decode_server(frame, strict=True)


def test_encoding_refuses_missing_required_fields_and_wrong_types() -> None:
    msg = ClientMsg()
    msg.order_requests.add()  # request_id is required
    with pytest.raises(ProtocolError, match="request_id"):
        codec.encode_client(msg)
    with pytest.raises(ProtocolError, match=r"expected WebAPI_2\.ServerMsg"):
        codec.encode_server(msg)  # type: ignore[arg-type]


def test_oversized_and_non_bytes_frames() -> None:
    with pytest.raises(ProtocolError, match="exceeds"):
        codec.decode_server(b"\x00" * 11, max_bytes=10)
    with pytest.raises(ProtocolError, match="bytes"):
        codec.decode_server("text")  # type: ignore[arg-type]


def _string_slots(msg: Message) -> list[tuple[Message, FieldDescriptor, int]]:
    """Every string value in ``msg``, found by a naive full walk (the oracle)."""
    slots: list[tuple[Message, FieldDescriptor, int]] = []
    for field, value in msg.ListFields():
        if field.type == FD.TYPE_STRING:
            count = len(value) if field.is_repeated else 1
            slots.extend((msg, field, i) for i in range(count))
        elif field.type == FD.TYPE_MESSAGE:
            for child in value if field.is_repeated else [value]:
                slots.extend(_string_slots(child))
    return slots


_MARK = "\x01\x02ZQ"


@pytest.mark.parametrize("ours", [ClientMsg, ServerMsg], ids=["client", "server"])
@SETTINGS
@given(data=st.data())
def test_invalid_utf8_in_any_string_field_at_any_depth_is_refused(
    ours: type[Message], data: st.DataObject
) -> None:
    # upb verifies UTF-8 in C (the codec's validating twin) and the walk names the field;
    # a naive walk of everything says where the strings are, one is made invalid UTF-8.
    msg = fill(data, ours(), width=8)
    slots = _string_slots(msg)
    if not slots:
        return
    owner, field, index = data.draw(st.sampled_from(slots))
    if field.is_repeated:
        getattr(owner, field.name)[index] = _MARK
    else:
        setattr(owner, field.name, _MARK)
    wire = msg.SerializePartialToString()
    assert _MARK.encode() in wire
    bad = wire.replace(_MARK.encode(), b"\xff\x02ZQ")
    decoders = (
        [codec.decode_client]
        if ours is ClientMsg
        else [codec.decode_server, lambda frame: codec.decode_server_fields(frame)[0]]
    )
    for decode in decoders:
        with pytest.raises(ProtocolError, match="UTF-8") as refused:
            decode(bad)
        assert f"field {field.full_name} " in str(refused.value)  # named, found by the walk
        decoded = decode(wire)  # the same frame with valid text passes
        assert _string_slots(decoded)
        assert all(
            all(type(v) is str for v in getattr(o, f.name))
            if f.is_repeated
            else type(getattr(o, f.name)) is str
            for o, f, _ in _string_slots(decoded)
        )


def test_decode_server_fields_lists_the_populated_envelope_fields() -> None:
    msg = ServerMsg()
    msg.real_time_market_data.add(contract_id=3)
    msg.ping.token = "t"
    msg.ping.ping_utc_time = 1
    decoded, fields = codec.decode_server_fields(msg.SerializeToString())
    assert decoded == msg
    assert sorted(f.name for f, _ in fields) == ["ping", "real_time_market_data"]


@SETTINGS
@given(data=st.data())
def test_market_data_only_frames_are_told_from_the_bytes(data: st.DataObject) -> None:
    msg = ServerMsg()
    if data.draw(st.booleans()):  # other fields, or none
        fill(data, msg)
    if data.draw(st.booleans()):  # market data, alone or with company
        for _ in range(data.draw(st.integers(1, 3))):
            fill(data, msg.real_time_market_data.add(contract_id=1))
    wire = msg.SerializePartialToString()
    names = {field.name for field, _ in msg.ListFields()}
    assert codec.is_market_data_only(wire) == (names == {"real_time_market_data"})


@SETTINGS
@given(data=st.data(), count=st.integers(1, 4))
def test_market_data_frames_joined_decode_as_their_items_in_order(
    data: st.DataObject, count: int
) -> None:
    frames: list[bytes] = []
    items: list[Message] = []
    for _ in range(count):
        msg = ServerMsg()
        for _ in range(data.draw(st.integers(1, 2))):
            item = msg.real_time_market_data.add(contract_id=data.draw(st.integers(0, 9)))
            fill(data, item)
        frames.append(msg.SerializePartialToString())
        items.extend(msg.real_time_market_data)
    joined = b"".join(frames)
    assert codec.is_market_data_only(joined)
    assert list(codec.decode_server(joined).real_time_market_data) == items


def test_market_data_only_refuses_other_and_broken_frames() -> None:
    assert not codec.is_market_data_only(b"")
    assert not codec.is_market_data_only(bytes([0x4A]))  # no length
    assert not codec.is_market_data_only(bytes([0x4A, 0x05, 0x08]))  # short body
    assert not codec.is_market_data_only(bytes([0x4A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]))
    assert codec.is_market_data_only(bytes([0x4A, 0x00, 0x4A, 0x02, 0x08, 0x01]))
    assert codec.is_market_data_only(bytes([0x4A, 0x80, 0x00]))  # a padded length varint


def _dom_frame(order_id: str) -> bytes:
    msg = ServerMsg()
    item = msg.real_time_market_data.add()
    item.contract_id = 7
    level = item.detailed_dom.price_levels.add()
    level.scaled_price = 101
    level.orders.add(detailed_dom_order_id=order_id)
    return msg.SerializePartialToString()


@pytest.mark.parametrize("overlong_tag", [False, True], ids=["tag", "overlong-tag"])
def test_market_data_only_frame_with_bad_utf8_in_detailed_dom_is_refused(
    overlong_tag: bool,
) -> None:
    # Market-data-only frames skip the UTF-8 twin unless the detailed DOM tag (field 16,
    # the only string holder below RealTimeMarketData) may be on the wire, in any varint form.
    bad = _dom_frame(_MARK).replace(_MARK.encode(), b"\xff\x02ZQ")
    assert bad.count(b"\x82\x01") == 1
    if overlong_tag:
        body = bad[2:].replace(b"\x82\x01", b"\x82\x81\x00")
        bad = bytes([0x4A, len(body)]) + body
    assert codec.is_market_data_only(bad)
    for decode in (codec.decode_server, lambda frame: codec.decode_server_fields(frame)[0]):
        with pytest.raises(ProtocolError, match="detailed_dom_order_id is not valid UTF-8"):
            decode(bad)
    decoded, _ = codec.decode_server_fields(_dom_frame("o-1"))
    dom = decoded.real_time_market_data[0].detailed_dom
    assert dom.price_levels[0].orders[0].detailed_dom_order_id == "o-1"


def test_only_detailed_dom_holds_strings_below_market_data() -> None:
    # The skip above relies on it: a new string field under RealTimeMarketData must fail here.
    item = ServerMsg.DESCRIPTOR.fields_by_name["real_time_market_data"].message_type
    assert item is not None
    assert item.fields_by_name["detailed_dom"].number == 16
    assert codec._plan_of(item).wanted == {16}
