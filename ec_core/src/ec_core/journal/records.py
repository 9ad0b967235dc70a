"""What the journal holds: one tagged record per thing that happened to our orders.

Records are msgspec structs encoded as MessagePack, so a journal written by one
version reads back exactly (Decimal prices included). The order of records is the
order things happened; replaying them into a fresh tracker rebuilds its state.
"""

from __future__ import annotations

from typing import TypeAlias

import msgspec

from ec_core.model import ExecutionReport, OrderRequest, Position, TradeEvent

__all__ = [
    "AdoptedPosition",
    "EventReceived",
    "IntentRecorded",
    "JournalRecord",
    "MarkedUnknown",
    "OrderVoided",
    "RequestSent",
    "SendFailed",
]


class IntentRecorded(msgspec.Struct, frozen=True, kw_only=True, tag="intent"):
    """We are about to send ``request`` (written, and committed, before the send)."""

    request: OrderRequest
    request_id: int = 0
    direct: bool = False  # the expert path: optional validators skipped
    ts_ns: int = 0


class RequestSent(msgspec.Struct, frozen=True, kw_only=True, tag="sent"):
    """The gateway took the request: it left the process."""

    cl_order_id: str
    ts_ns: int = 0


class SendFailed(msgspec.Struct, frozen=True, kw_only=True, tag="send_failed"):
    """The gateway could not send it (connection down before the write): nothing left."""

    cl_order_id: str
    reason: str = ""
    ts_ns: int = 0


class MarkedUnknown(msgspec.Struct, frozen=True, kw_only=True, tag="unknown"):
    """No answer (timeout, disconnect): the order is UNKNOWN until reconciled."""

    cl_order_id: str
    reason: str = ""
    ts_ns: int = 0


class EventReceived(msgspec.Struct, frozen=True, kw_only=True, tag="event"):
    """A trade-stream event from the venue (reports carry fills and state changes)."""

    event: TradeEvent
    ts_ns: int = 0


class AdoptedPosition(msgspec.Struct, frozen=True, kw_only=True, tag="adopt_position"):
    """Reconciliation took the venue's position; ``difference_id`` names the difference."""

    position: Position
    difference_id: str = ""
    ts_ns: int = 0


class OrderVoided(msgspec.Struct, frozen=True, kw_only=True, tag="voided"):
    """We closed an order the venue does not have: ``by`` reconcile (status "not found",
    no fills) or an operator (``ec orders void``). ``report`` is what the tracker applied."""

    chain_id: str
    report: ExecutionReport
    reason: str
    by: str
    ts_ns: int = 0

    @property
    def cl_order_id(self) -> str:
        return self.chain_id


JournalRecord: TypeAlias = (
    IntentRecorded
    | RequestSent
    | SendFailed
    | MarkedUnknown
    | EventReceived
    | AdoptedPosition
    | OrderVoided
)
