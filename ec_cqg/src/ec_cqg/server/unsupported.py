"""Answers for the client requests this server does not serve: never silence.

CQG's ``ClientMsg`` has requests beyond our ``.proto`` subset (volume profiles, rules, OTC,
RFQ, account logons, password changes …). They reach the server as unknown fields. Each
has an answer in CQG's vocabulary: its own result message with a failure or "not
supported" code, the request's id copied back, and a text saying it is not served.
:data:`ANSWERS` is that table, one row per ``ClientMsg`` field number: the ``ServerMsg``
field of the answer, and how to build it from the request's bytes. The answers are
encoded here by hand (the messages are outside our subset), field numbers and wire types
from CQG 2.230; ``tests/cqg/server/test_cqgserver_never_silent.py`` decodes every one with
CQG's own descriptors when ``EC_CQG_REFERENCE`` is set.

A request field no row knows (a newer protocol) gets a warning ``user_messages`` entry
naming its field number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final, NamedTuple

from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet

from ec_cqg.protocol.pb import PROTOCOL_VERSION_MAJOR, PROTOCOL_VERSION_MINOR
from ec_cqg.protocol.timestamps import BaseTime

__all__ = ["ANSWERS", "Context", "Row", "unknown_requests"]

_VARINT = 0
_LENGTH = 2
_FAILURE = 101
_NOT_SUPPORTED = 110


# -- a minimal protobuf writer and reader (wire format only) ------------------------------


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _uint(number: int, value: int) -> bytes:
    return _key(number, _VARINT) + _varint(value)


def _sint(number: int, value: int) -> bytes:
    return _uint(number, (value << 1) ^ (value >> 63))


def _bytes(number: int, payload: bytes) -> bytes:
    return _key(number, _LENGTH) + _varint(len(payload)) + payload


def _text(number: int, text: str) -> bytes:
    """A ``shared_1.Text{text}`` field."""
    return _bytes(number, _bytes(2, text.encode()))


def _timestamp(number: int, ns: int) -> bytes:
    seconds, nanos = divmod(ns, 1_000_000_000)
    return _bytes(number, _uint(1, seconds) + _uint(2, nanos))


def _fields(payload: bytes) -> dict[int, int | bytes]:
    """The first value of each varint or length-delimited field of a serialized message."""
    found: dict[int, int | bytes] = {}
    pos, end = 0, len(payload)

    def read_varint() -> int:
        nonlocal pos
        shift = result = 0
        while pos < end:
            byte = payload[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
        raise ValueError("truncated varint")

    try:
        while pos < end:
            key = read_varint()
            number, wire = key >> 3, key & 7
            if wire == _VARINT:
                value: int | bytes = read_varint()
            elif wire == _LENGTH:
                size = read_varint()
                value, pos = payload[pos : pos + size], pos + size
            elif wire == 1:
                value, pos = payload[pos : pos + 8], pos + 8
            elif wire == 5:
                value, pos = payload[pos : pos + 4], pos + 4
            else:
                break
            found.setdefault(number, value)
    except ValueError:
        pass
    return found


def _as_int(value: int | bytes | None) -> int:
    return value if isinstance(value, int) else 0


def _as_sint(value: int | bytes | None) -> int:
    raw = _as_int(value)
    return (raw >> 1) ^ -(raw & 1)


def _as_str(value: int | bytes | None) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


# -- the table ----------------------------------------------------------------------------


class Context(NamedTuple):
    """What an answer may need beside the request: its text and the session's times."""

    text: str
    now_ns: int
    base_time: str  # LogonResult.base_time of the session
    server_time_ms: int  # now, ms relative to base_time


Build = Callable[[dict[int, int | bytes], Context], bytes]


class Row(NamedTuple):
    """How to answer one unserved ``ClientMsg`` request field."""

    name: str
    answer_field: int  # the ServerMsg field of the answer
    build: Build  # (request fields, text, now_ns) -> the answer message's bytes
    before_logon: bool = False  # also answered as the first message of a connection


def _request_id_status(
    id_number: int = 1,
    code_number: int = 2,
    text_number: int = 3,
    *,
    code: int = _NOT_SUPPORTED,
    string_id: bool = False,
) -> Build:
    def build(request: dict[int, int | bytes], ctx: Context) -> bytes:
        rid = request.get(1)
        head = (
            _bytes(id_number, _as_str(rid).encode())
            if string_id
            else _uint(id_number, _as_int(rid))
        )
        return head + _uint(code_number, code) + _text(text_number, ctx.text)

    return build


def _account_result(*, timestamp: bool) -> Build:
    def build(request: dict[int, int | bytes], ctx: Context) -> bytes:
        out = _sint(1, _as_sint(request.get(1))) + _uint(2, _FAILURE) + _text(3, ctx.text)
        return out + (_timestamp(4, ctx.now_ns) if timestamp else b"")

    return build


def _code_and_string(text_number: int) -> Build:
    def build(request: dict[int, int | bytes], ctx: Context) -> bytes:
        return _uint(1, _FAILURE) + _bytes(text_number, ctx.text.encode())

    return build


def _session_state(request: dict[int, int | bytes], ctx: Context) -> bytes:
    return _bytes(1, _as_str(request.get(1)).encode()) + _uint(2, _FAILURE)


def _collapsing(request: dict[int, int | bytes], ctx: Context) -> bytes:
    return _uint(1, _FAILURE) + _text(2, ctx.text)


def _password_change_result(text: str) -> bytes:
    """``user_session_2.PasswordChangeResult{result_code: 101, text_message}``."""
    return _uint(1, _FAILURE) + _bytes(2, text.encode())


def _password_routine(request: dict[int, int | bytes], ctx: Context) -> bytes:
    return _bytes(2, _password_change_result(ctx.text))


def _account_logon_routine(request: dict[int, int | bytes], ctx: Context) -> bytes:
    """``AccountLogonRoutineServer{account_id, logon_result: LogonResult{101 …}}``."""
    result = (
        _uint(1, _FAILURE)
        + _bytes(2, ctx.base_time.encode())
        + _bytes(4, ctx.text.encode())
        + _uint(6, PROTOCOL_VERSION_MINOR)
        + _uint(7, PROTOCOL_VERSION_MAJOR)
        + _sint(9, ctx.server_time_ms)
    )
    return _sint(1, _as_sint(request.get(1))) + _bytes(2, result)


def _account_password_routine(request: dict[int, int | bytes], ctx: Context) -> bytes:
    account = _as_sint(request.get(1))
    return _sint(1, account) + _bytes(3, _password_change_result(ctx.text))


#: ``ClientMsg`` field number → how it is answered (CQG WebAPI 2.230).
ANSWERS: Final[dict[int, Row]] = {
    9: Row("volume_profile_requests", 14, _request_id_status(text_number=9)),
    10: Row("rule_requests", 15, _request_id_status(code=_FAILURE, string_id=True)),
    11: Row("account_logon_requests", 16, _account_result(timestamp=True)),
    12: Row("account_password_change_requests", 17, _account_result(timestamp=False)),
    13: Row("account_logoff_requests", 18, _account_result(timestamp=True)),
    14: Row("non_timed_bar_requests", 19, _request_id_status()),
    15: Row("metadata_admin_requests", 20, _request_id_status(code=_FAILURE, string_id=True)),
    16: Row("otc_requests", 21, _request_id_status(code=_FAILURE, string_id=True)),
    17: Row("rfq_requests", 22, _request_id_status(code_number=3, text_number=4, code=_FAILURE)),
    18: Row("option_calculation_requests", 23, _request_id_status(text_number=7, code=_FAILURE)),
    19: Row("account_logon_routines_client", 26, _account_logon_routine),
    20: Row("account_password_change_routines_client", 27, _account_password_routine),
    103: Row("password_change", 103, _code_and_string(2)),
    104: Row("obtain_demo_credentials", 105, _code_and_string(4), before_logon=True),
    105: Row("user_session_state_request", 106, _session_state),
    110: Row("password_change_routine_client", 110, _password_routine),
    111: Row("set_collapsing_level_request", 112, _collapsing),
    200: Row("rfq_subscription_requests", 200, _request_id_status(code=_FAILURE)),
}


def unknown_requests(
    msg: Message, *, now_ns: int, base: BaseTime, logged_on: bool
) -> Iterator[tuple[int, Row | None, bytes]]:
    """``(field number, row or None, answer ServerMsg bytes)`` for each unknown request.

    The bytes are a whole ``ServerMsg`` holding the answer in its field; for a field no row
    knows they are empty and the caller answers with a ``user_messages`` warning.
    """
    unknown = UnknownFieldSet(msg)
    for index in range(len(unknown)):
        field = unknown[index]
        number = field.field_number
        row = ANSWERS.get(number)
        if row is None or (not logged_on and not row.before_logon):
            yield number, row, b""
            continue
        payload = field.data if isinstance(field.data, bytes) else b""
        text = f"{row.name} is not supported by the ec-mock CQG server"
        ctx = Context(text, now_ns, base.text, base.to_offset_ms(now_ns))
        answer = row.build(_fields(payload), ctx)
        yield number, row, _bytes(row.answer_field, answer)
