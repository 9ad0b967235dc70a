"""What the correlator hands out: pending requests, answers, updates and dead letters.

Their reprs never show a credential (a logon's password): items go through
:func:`ec_cqg.protocol.redact.safe_repr`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeAlias

import msgspec
from google.protobuf.message import Message

from ec_cqg.protocol.correlation_table import ItemKind, RequestKind
from ec_cqg.protocol.redact import safe_repr

__all__ = [
    "Answer",
    "DeadLetter",
    "DeadReason",
    "DuplicateRequestError",
    "Event",
    "PendingRequest",
    "Update",
]


class DeadReason(StrEnum):
    UNMATCHED = "unmatched"  # an answer-only item no request waits for
    LATE = "late"  # the request was already answered, expired or failed
    UNKNOWN_FIELD = "unknown_field"  # a ServerMsg field outside our .proto subset


class PendingRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One request waiting for its answer. ``key`` is unique per ``kind``."""

    kind: RequestKind
    key: int | str
    deadline_ns: int
    request: Message | None = None  # the client sub-message, for the caller's bookkeeping
    request_id: int | None = None
    cl_order_id: str = ""

    def __repr__(self) -> str:  # a logon's password never shows (see protocol.redact)
        return (
            f"PendingRequest(kind={self.kind!r}, key={self.key!r}, deadline_ns="
            f"{self.deadline_ns}, request={safe_repr(self.request)}, request_id="
            f"{self.request_id!r}, cl_order_id={self.cl_order_id!r})"
        )


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    request: PendingRequest
    kind: ItemKind
    item: Message
    final: bool

    def __repr__(self) -> str:
        return (
            f"Answer(request={self.request!r}, kind={self.kind!r}, item={safe_repr(self.item)},"
            f" final={self.final})"
        )


class Update(msgspec.Struct, frozen=True, kw_only=True):
    kind: ItemKind
    item: Message

    def __repr__(self) -> str:
        return f"Update(kind={self.kind!r}, item={safe_repr(self.item)})"


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    reason: DeadReason
    kind: ItemKind | None
    item: Message | None
    detail: str
    at_ns: int = 0

    def __repr__(self) -> str:
        return (
            f"DeadLetter(reason={self.reason!r}, kind={self.kind!r}, item="
            f"{safe_repr(self.item)}, detail={self.detail!r}, at_ns={self.at_ns})"
        )


Event: TypeAlias = Answer | Update | DeadLetter


class DuplicateRequestError(ValueError):
    """A request with the same kind and key is already pending."""

    def __init__(self, kind: RequestKind, key: int | str) -> None:
        super().__init__(f"a {kind} request with key {key!r} is already pending")
        self.kind = kind
        self.key = key


class _State:
    """Mutable progress of one pending request."""

    __slots__ = ("accounts", "pending", "scopes", "subscribe")

    def __init__(self, pending: PendingRequest) -> None:
        self.pending = pending
        self.scopes: set[int] = set()  # trade subscription: scopes not yet complete
        self.accounts: set[int] = set()  # go flat: accounts not yet reported
        self.subscribe = False
