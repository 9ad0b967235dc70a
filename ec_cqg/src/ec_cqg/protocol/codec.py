"""Frames ⇄ envelopes. One WebSocket binary frame holds exactly one serialized envelope:
``ClientMsg`` from client to server, ``ServerMsg`` back. No length prefix, no text frames.

Decoding never lets a library exception escape: anything wrong with a frame (corrupt wire
format, a string field that is not UTF-8, a frame over the size limit, a missing required
field when ``strict``) raises :class:`ec_core.errors.ProtocolError`, so the reader loop can
count the frame, drop it and go on. A malformed frame never kills the session.

Encoding checks required fields (protobuf refuses to serialize without them) and reports
the missing ones by name in a :class:`ProtocolError` too: sending such a frame would break
the protocol for a strict peer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias, TypeVar, final

from ec_core.errors import ProtocolError
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import EncodeError, Message

from ec_cqg.protocol.pb import ClientMsg, ServerMsg
from ec_cqg.protocol.utf8 import validator_of

__all__ = [
    "DEFAULT_MAX_FRAME_BYTES",
    "Fields",
    "decode_client",
    "decode_server",
    "decode_server_fields",
    "encode_client",
    "encode_server",
    "is_market_data_only",
]

#: Frames above this size are refused before parsing (CQG's own reports stay far below).
DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024

_M = TypeVar("_M", bound=Message)

#: The populated fields of a message, as ``Message.ListFields()`` gives them.
Fields: TypeAlias = Sequence[tuple[FieldDescriptor, Any]]
_STRING = FieldDescriptor.TYPE_STRING
_MESSAGE = FieldDescriptor.TYPE_MESSAGE


def encode_client(msg: ClientMsg) -> bytes:
    """Serialize a ``ClientMsg``; raises :class:`ProtocolError` naming missing required fields."""
    return _encode(msg, ClientMsg)


def encode_server(msg: ServerMsg) -> bytes:
    """Serialize a ``ServerMsg`` (for the CQG-dialect server); same checks as the client side."""
    return _encode(msg, ServerMsg)


def decode_server(
    data: bytes, *, strict: bool = False, max_bytes: int = DEFAULT_MAX_FRAME_BYTES
) -> ServerMsg:
    """Parse one server frame. ``strict`` also refuses missing required fields."""
    return _decode(data, ServerMsg, strict=strict, max_bytes=max_bytes)


def decode_server_fields(
    data: bytes, *, strict: bool = False, max_bytes: int = DEFAULT_MAX_FRAME_BYTES
) -> tuple[ServerMsg, Fields]:
    """As :func:`decode_server`, also returning the envelope's populated fields.

    The UTF-8 check lists them anyway; the router (``Correlator.feed(fields=…)``) reuses
    the list instead of asking protobuf again, once per frame on the hot path.
    """
    msg = _parse(data, ServerMsg, max_bytes)
    fields = msg.ListFields()
    if not _plain_market_data(data, fields):
        _check_utf8(data, msg)
    if strict and not msg.IsInitialized():
        raise ProtocolError(f"WebAPI_2.ServerMsg frame misses required fields: {_missing(msg)}")
    return msg, fields


#: Tag of ``ServerMsg.real_time_market_data`` (field 9, length-delimited).
_MARKET_DATA_TAG = 0x4A

_MARKET_DATA_FIELD = ServerMsg.DESCRIPTOR.fields_by_name["real_time_market_data"]
#: ``RealTimeMarketData.detailed_dom`` (field 16, length-delimited: tag 130) is the only
#: field below a market data entry that can hold a string. Any varint form of tag 130
#: starts with one of these two byte pairs (0x82, then 0x01 or 0x81 and zero bytes).
_DETAILED_DOM_TAGS = (b"\x82\x01", b"\x82\x81")


def _plain_market_data(data: bytes, fields: Fields) -> bool:
    """Whether a parsed frame is market data with no detailed DOM, so holds no string and
    needs no UTF-8 twin parse: most frames on the hot path (a byte search, not a parse)."""
    if len(fields) != 1 or fields[0][0] is not _MARKET_DATA_FIELD:
        return False
    return b"\x82" not in data or not any(tag in data for tag in _DETAILED_DOM_TAGS)


def is_market_data_only(frame: bytes) -> bool:
    """Whether ``frame`` holds nothing but ``real_time_market_data`` entries, read from the
    wire bytes without parsing (tag, length, skip; a malformed frame says ``False``).

    Such frames can be joined and parsed as one: protobuf merges concatenated messages,
    and a repeated field concatenates. The market-data hot path uses this to decode a
    burst of frames at once. It proves nothing about the entries' contents.
    """
    size = len(frame)
    if size > 2 and frame[0] == _MARKET_DATA_TAG and frame[1] + 2 == size:
        return True  # the usual frame: one entry shorter than 128 bytes
    index = 0
    while index < size:
        if frame[index] != _MARKET_DATA_TAG:
            return False
        index += 1
        length = shift = 0
        while True:
            if index >= size or shift > 28:
                return False
            byte = frame[index]
            index += 1
            length |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
        index += length
    return index == size and size > 0


def decode_client(
    data: bytes, *, strict: bool = False, max_bytes: int = DEFAULT_MAX_FRAME_BYTES
) -> ClientMsg:
    """Parse one client frame (for the CQG-dialect server)."""
    return _decode(data, ClientMsg, strict=strict, max_bytes=max_bytes)


def _encode(msg: Message, expected: type[Message]) -> bytes:
    if not isinstance(msg, expected):
        raise ProtocolError(
            f"expected {expected.DESCRIPTOR.full_name}, got {type(msg).__qualname__}"
        )
    try:  # upb checks the required fields while serializing: no second walk first
        return msg.SerializeToString()
    except EncodeError:
        raise ProtocolError(
            f"{expected.DESCRIPTOR.full_name} misses required fields: {_missing(msg)}"
        ) from None


def _decode(data: bytes, cls: type[_M], *, strict: bool, max_bytes: int) -> _M:
    msg = _parse(data, cls, max_bytes)
    _check_utf8(data, msg)
    if strict and not msg.IsInitialized():
        raise ProtocolError(
            f"{cls.DESCRIPTOR.full_name} frame misses required fields: {_missing(msg)}"
        )
    return msg


def _parse(data: bytes | bytearray | memoryview, cls: type[_M], max_bytes: int) -> _M:
    if type(data) is not bytes:  # the common case first, exactly
        if not isinstance(data, bytearray | memoryview):
            raise ProtocolError(
                f"{cls.DESCRIPTOR.full_name} frame must be bytes, got {type(data).__qualname__}"
            )
        data = bytes(data)
    if len(data) > max_bytes:
        raise ProtocolError(
            f"{cls.DESCRIPTOR.full_name} frame of {len(data)} bytes exceeds limit {max_bytes}"
        )
    msg = cls()
    try:
        msg.ParseFromString(data)
    except Exception as exc:  # DecodeError, RecursionError, …: all mean a bad frame
        raise ProtocolError(
            f"malformed {cls.DESCRIPTOR.full_name} frame ({len(data)} bytes): {exc}"
        ) from exc
    return msg


def _missing(msg: Message) -> str:
    """Dotted paths of the required fields not set (the runtime has it; the stubs do not)."""
    errors: list[str] = getattr(msg, "FindInitializationErrors")()  # noqa: B009
    return ", ".join(errors)


def _check_utf8(data: bytes | bytearray | memoryview, msg: Message) -> None:
    """Refuse a frame with a string field that is not valid UTF-8, naming the field.

    proto2 parsing keeps invalid UTF-8 in ``string`` fields and hands back ``bytes``;
    typed code downstream must always see ``str``. upb checks it in C while parsing the
    frame again with the message's UTF-8-verifying twin (:mod:`.utf8`), far cheaper than
    reading every string from Python; only a refused frame is walked, for the field's name.
    """
    try:
        validator_of(msg.DESCRIPTOR).FromString(bytes(data))
    except Exception as exc:  # DecodeError: a string field had bad UTF-8
        full_name = msg.DESCRIPTOR.full_name
        bad = _first_non_utf8(msg) or f"? ({exc})"
        raise ProtocolError(
            f"malformed {full_name} frame: field {bad} is not valid UTF-8"
        ) from None


def _first_non_utf8(msg: Message) -> str | None:
    """Path of the first string field that holds bytes, else ``None`` (a refused frame's).

    Each message type has a plan (see :class:`_StringPlan`): its string fields are read by
    name (an unset one reads as ``""``), and only the message fields that can hold a
    string somewhere below them are entered, when set.
    """
    plan = _plan_of(msg.DESCRIPTOR)  # type: ignore[arg-type]  # upb's descriptor type
    for name, full_name, repeated in plan.strings:
        value = getattr(msg, name)
        if repeated:
            if value and any(type(v) is bytes for v in value[:]):
                return full_name
        elif type(value) is bytes:
            return full_name
    for name, repeated in plan.children:
        if repeated:
            items = getattr(msg, name)
            if not items:
                continue
            for child in items[:]:  # slicing a upb container beats iterating it
                found = _first_non_utf8(child)
                if found is not None:
                    return found
        elif msg.HasField(name):
            found = _first_non_utf8(getattr(msg, name))
            if found is not None:
                return found
    return None


def _plan_of(descriptor: Descriptor) -> _StringPlan:
    plan = _PLANS.get(descriptor)
    if plan is None:
        plan = _PLANS[descriptor] = _StringPlan(descriptor)
    return plan


@final
class _StringPlan:
    """For one message type: its string fields, and the message fields that may hold one."""

    __slots__ = ("children", "strings", "wanted")

    def __init__(self, descriptor: Descriptor) -> None:
        self.wanted = _plan(descriptor, frozenset())
        fields = [f for f in descriptor.fields if f.number in self.wanted]
        self.strings = tuple(
            (f.name, f.full_name, f.is_repeated) for f in fields if f.type == _STRING
        )
        self.children = tuple((f.name, f.is_repeated) for f in fields if f.type == _MESSAGE)


_PLANS: dict[Descriptor, _StringPlan] = {}


def _plan(descriptor: Descriptor, seen: frozenset[str]) -> frozenset[int]:
    numbers = set()
    for f in descriptor.fields:
        if f.type == _STRING:
            numbers.add(f.number)
        elif f.type == _MESSAGE:
            child = f.message_type
            assert child is not None
            if child.full_name in seen or child.full_name == descriptor.full_name:
                numbers.add(f.number)  # recursive type: walk it, cannot prove it string-free
            elif _plan(child, seen | {descriptor.full_name}):
                numbers.add(f.number)
    return frozenset(numbers)
