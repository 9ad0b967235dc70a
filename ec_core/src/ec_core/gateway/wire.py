"""The gateway's wire: msgspec MessagePack of the core structs in a versioned envelope.

Every stream entry carries one field, ``m``: the encoded :class:`Envelope`, whose
``v`` is :data:`WIRE_VERSION` and whose ``body`` is one message of a tagged union
(``kind``). Requests, orders, trade and market events travel as the core structs
themselves, so a ``Decimal`` price, a ``date`` and every enum round-trip exactly.
A reader that meets another version or a malformed entry gets a
:class:`WireError` naming it; it never guesses.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import TypeAlias

import msgspec

from ec_core.errors import EcError, SessionError, Violation
from ec_core.model import (
    BookDepth,
    Instrument,
    Order,
    OrderRequest,
    Position,
    Quote,
    Trade,
    TradeEvent,
)

__all__ = [
    "FIELD",
    "WIRE_VERSION",
    "Answer",
    "Envelope",
    "GatewayRefusedError",
    "Heartbeat",
    "Hello",
    "IntentMsg",
    "Lookup",
    "MarketMsg",
    "Message",
    "Outcome",
    "Snapshot",
    "Subscribe",
    "TradeMsg",
    "WireError",
    "decode",
    "encode",
    "request_head",
]

WIRE_VERSION = 1
FIELD = b"m"  # the one field of every stream entry


class WireError(EcError):
    """A stream entry that is not a message of this wire version (counted, never acted on)."""


class GatewayRefusedError(SessionError):
    """The gateway refused a worker's hello or subscription (a worker its config does not
    list, an account outside the worker's list or not traded there, a subscription it
    could not make): ``violations`` name each rule; nothing of the account was sent."""

    def __init__(self, request: str, violations: Iterable[Violation]) -> None:
        self.request = request
        self.violations = tuple(violations)
        rules = "; ".join(str(v) for v in self.violations) or "no reason given"
        super().__init__(f"the gateway refused {request}: {rules}")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(v.code for v in self.violations)


class _Msg(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="kind"):
    pass


class IntentMsg(_Msg, frozen=True, tag="intent"):
    """Execute ``request`` for ``worker``. ``request.cl_order_id`` is the intent's id: the
    gateway journals it with the order before sending, so a redelivery is answered from
    the journal and never sent twice. ``sent_ns``: the worker's wall clock (ns since the
    epoch) when it sent the intent, 0 when unknown; the gateway's status shows how long
    intents waited for it (:mod:`~ec_core.gateway.workers`)."""

    worker: str
    request: OrderRequest
    request_id: int = 0
    sent_ns: int = 0

    @property
    def intent_id(self) -> str:
        return self.request.cl_order_id


class Hello(_Msg, frozen=True, tag="hello"):
    """A worker (re)starts: the gateway answers with a :class:`Snapshot` of the account."""

    worker: str
    account_id: str
    hello_id: str


class Subscribe(_Msg, frozen=True, tag="subscribe"):
    """Publish market data of ``symbols`` (the gateway answers with a :class:`Snapshot`)."""

    worker: str
    symbols: tuple[str, ...]
    hello_id: str = ""


class Lookup(_Msg, frozen=True, tag="lookup"):
    """The instruments of ``symbols`` (multiplier, tick, currency), without market data:
    the gateway answers with a :class:`Snapshot` whose ``instruments`` are those it could
    resolve. A worker asks before it first trades a symbol, so its tracker books that
    symbol's P&L in money."""

    worker: str
    symbols: tuple[str, ...]
    hello_id: str = ""


class Heartbeat(_Msg, frozen=True, tag="heartbeat"):
    """A worker is alive; ``market_gaps`` is what it lost to MAXLEN trimming so far."""

    worker: str
    market_gaps: int = 0


class Outcome(StrEnum):
    """The one answer every intent gets."""

    ACCEPTED = "ACCEPTED"  # the venue has it (``order``), or a bulk request ended
    DENIED = "DENIED"  # refused by the gateway's checks: nothing was sent
    REJECTED = "REJECTED"  # the venue refused it
    UNKNOWN = "UNKNOWN"  # sent, fate unknown: the gateway reconciles it
    NOT_SENT = "NOT_SENT"  # not sent (window closed, connection or journal down)


class Answer(_Msg, frozen=True, tag="answer"):
    """The answer to intent ``intent_id``; ``replayed``: taken from the journal (a redelivery).

    A hello or subscription the gateway refuses is answered with one too: ``DENIED``,
    ``intent_id`` its ``hello_id``, ``violations`` the rules it breaks (the client raises
    :class:`GatewayRefusedError`)."""

    intent_id: str
    outcome: Outcome
    order: Order | None = None
    violations: tuple[Violation, ...] = ()
    code: str = ""
    text: str = ""
    replayed: bool = False


class TradeMsg(_Msg, frozen=True, tag="trade_event"):
    """One event of an account as the venue said it; ``seq`` counts per account stream."""

    seq: int
    event: TradeEvent


class MarketMsg(_Msg, frozen=True, tag="market"):
    """One market event; ``seq`` counts per symbol, so a reader sees what trimming took."""

    seq: int
    event: Quote | Trade | BookDepth


class Snapshot(_Msg, frozen=True, tag="snapshot"):
    """The account as the gateway knows it, and where each stream goes on from.

    ``account_from``: the account stream's id to read after, ``account_seq`` the
    sequence number published there last; ``instruments``: every one the gateway
    resolved (published, traded or looked up): the worker's tracker books P&L with their
    multipliers. The answer to a :class:`Lookup` holds only the instruments asked for.
    """

    hello_id: str
    account_id: str
    orders: tuple[Order, ...] = ()
    positions: tuple[Position, ...] = ()
    realized_pnl: Decimal = Decimal(0)
    account_from: str = "0-0"
    account_seq: int = 0
    instruments: tuple[Instrument, ...] = ()


Message: TypeAlias = (
    IntentMsg | Hello | Subscribe | Lookup | Heartbeat | Answer | TradeMsg | MarketMsg | Snapshot
)


class Envelope(msgspec.Struct, frozen=True, array_like=True):
    v: int
    body: Message


_ENCODER = msgspec.msgpack.Encoder(decimal_format="string")
_BODY: msgspec.msgpack.Decoder[Message] = msgspec.msgpack.Decoder(Message)
_VERSION = msgspec.msgpack.Decoder(tuple[int, msgspec.Raw])


def encode(message: Message) -> bytes:
    return _ENCODER.encode(Envelope(v=WIRE_VERSION, body=message))


def decode(data: bytes) -> Message:
    """The message of ``data``; raises :class:`WireError` for another version or bad bytes."""
    try:
        version, body = _VERSION.decode(data)
    except msgspec.DecodeError as exc:
        raise WireError(f"malformed gateway message: {exc}") from None
    if version != WIRE_VERSION:
        raise WireError(f"wire version {version} is not {WIRE_VERSION}: upgrade the older side")
    try:
        return _BODY.decode(body)
    except msgspec.DecodeError as exc:
        raise WireError(f"malformed gateway message: {exc}") from None


class _RequestHead(msgspec.Struct):
    cl_order_id: str = ""


class _Head(msgspec.Struct):
    kind: str = ""
    worker: str = ""
    request: _RequestHead = msgspec.field(default_factory=_RequestHead)
    hello_id: str = ""


_HEAD = msgspec.msgpack.Decoder(tuple[int, _Head])
_ASKED_BY_ID = frozenset({"hello", "subscribe", "lookup"})  # answered by their hello_id


def request_head(data: bytes) -> tuple[str, str, str] | None:
    """``(kind, worker, request id)`` of a request :func:`decode` refused, when those
    still read (the id: an intent's ``cl_order_id``, a hello's, subscription's or
    lookup's ``hello_id``): the gateway can then refuse it instead of leaving the
    worker waiting."""
    try:
        _, head = _HEAD.decode(data)
    except msgspec.DecodeError:
        return None
    if head.kind == "intent":
        request_id = head.request.cl_order_id
    elif head.kind in _ASKED_BY_ID:
        request_id = head.hello_id
    else:
        return None
    if not head.worker or not request_id:
        return None
    return head.kind, head.worker, request_id
