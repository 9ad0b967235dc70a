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

from functools import cache
from typing import TypeVar

from ec_core.errors import ProtocolError
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from ec_cqg.protocol.pb import ClientMsg, ServerMsg

__all__ = [
    "DEFAULT_MAX_FRAME_BYTES",
    "decode_client",
    "decode_server",
    "encode_client",
    "encode_server",
]

#: Frames above this size are refused before parsing (CQG's own reports stay far below).
DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024

_M = TypeVar("_M", bound=Message)
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
    if not msg.IsInitialized():
        raise ProtocolError(
            f"{expected.DESCRIPTOR.full_name} misses required fields: {_missing(msg)}"
        )
    return msg.SerializeToString()


def _decode(data: bytes, cls: type[_M], *, strict: bool, max_bytes: int) -> _M:
    name = cls.DESCRIPTOR.full_name
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ProtocolError(f"{name} frame must be bytes, got {type(data).__qualname__}")
    if len(data) > max_bytes:
        raise ProtocolError(f"{name} frame of {len(data)} bytes exceeds limit {max_bytes}")
    msg = cls()
    try:
        msg.ParseFromString(bytes(data))
    except Exception as exc:  # DecodeError, RecursionError, …: all mean a bad frame
        raise ProtocolError(f"malformed {name} frame ({len(data)} bytes): {exc}") from exc
    bad = _first_non_utf8(msg)
    if bad is not None:
        raise ProtocolError(f"malformed {name} frame: field {bad} is not valid UTF-8")
    if strict and not msg.IsInitialized():
        raise ProtocolError(f"{name} frame misses required fields: {_missing(msg)}")
    return msg


def _missing(msg: Message) -> str:
    """Dotted paths of the required fields not set (the runtime has it; the stubs do not)."""
    errors: list[str] = getattr(msg, "FindInitializationErrors")()  # noqa: B009
    return ", ".join(errors)


def _first_non_utf8(msg: Message) -> str | None:
    """Path of the first string field that holds bytes, else ``None``.

    proto2 parsing keeps invalid UTF-8 in ``string`` fields and hands back ``bytes``; we
    refuse such frames here so typed code downstream always sees ``str``. Only message
    types that can contain a string somewhere are walked (see :func:`_string_plan`).
    """
    plan = _string_plan(msg.DESCRIPTOR)
    if plan is None:
        return None
    strings, children = plan
    for field in strings:
        if field.is_repeated:
            values = getattr(msg, field.name)
            if any(isinstance(v, bytes) for v in values):
                return field.full_name
        elif isinstance(getattr(msg, field.name), bytes):
            return field.full_name
    for field in children:
        if field.is_repeated:
            for child in getattr(msg, field.name):
                found = _first_non_utf8(child)
                if found is not None:
                    return found
        elif msg.HasField(field.name):
            found = _first_non_utf8(getattr(msg, field.name))
            if found is not None:
                return found
    return None


@cache
def _string_plan(
    descriptor: Descriptor,
) -> tuple[tuple[FieldDescriptor, ...], tuple[FieldDescriptor, ...]] | None:
    """For one message type: its string fields and the message fields that may hold strings."""
    return _plan(descriptor, frozenset())


def _plan(
    descriptor: Descriptor, seen: frozenset[str]
) -> tuple[tuple[FieldDescriptor, ...], tuple[FieldDescriptor, ...]] | None:
    strings = tuple(f for f in descriptor.fields if f.type == _STRING)
    children = []
    for f in descriptor.fields:
        if f.type != _MESSAGE:
            continue
        child = f.message_type
        assert child is not None
        if child.full_name in seen or child.full_name == descriptor.full_name:
            children.append(f)  # recursive type: walk it, cannot prove it string-free
        elif _plan(child, seen | {descriptor.full_name}) is not None:
            children.append(f)
    if not strings and not children:
        return None
    return strings, tuple(children)
