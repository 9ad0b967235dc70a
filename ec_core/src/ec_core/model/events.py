"""What a vendor tells the core about orders, positions and its own session.

Every vendor adapter turns its venue's messages into these events and delivers
them through the trade monitor's stream (never through pluggy). The model is an
execution report, as in FIX: each report carries the order's *whole* state as
the venue sees it now plus what just happened (``kind``, a fill, a reject), so
a consumer can apply reports idempotently and recover from a lost one.
An :class:`ExecutionReport` is kept in its order's history, so it is not tracked by
the garbage collector (``gc=False``), like the orders and fills it carries.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TypeAlias

import msgspec

from ec_core.model.account import Account, Position
from ec_core.model.enums import Duration, OrderType, RequestType, Side
from ec_core.model.orders import Fill
from ec_core.model.state import OrderState

__all__ = [
    "AccountReport",
    "ExecutionReport",
    "MarginCall",
    "PositionReport",
    "ReportKind",
    "SessionEvent",
    "SessionEventKind",
    "SnapshotComplete",
    "TradeEvent",
]


class ReportKind(StrEnum):
    ACCEPTED = "ACCEPTED"  # a new order is working
    MODIFIED = "MODIFIED"  # a modify took effect
    CANCELLED = "CANCELLED"
    FILL = "FILL"  # carries ``fill``
    REJECTED = "REJECTED"  # a request was refused; ``request_type`` says which
    EXPIRED = "EXPIRED"
    STATUS = "STATUS"  # snapshot or answer to a status query: nothing new happened


class ExecutionReport(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False, tag="execution"
):
    """The venue's word on one order.

    ``cl_order_id`` is the client id of the request this report answers (after a
    modify, the new id); ``orig_cl_order_id`` the id it replaced. ``chain_id`` is the
    first client id of the chain when the vendor can tell, else empty and the
    tracker links it through ``orig_cl_order_id``.

    ``side``, ``order_type`` and ``qty`` are the order's; a reject of a modify or
    cancel naming an order the venue does not have leaves them unset (``None``, ``0``):
    the venue cannot know them (:func:`ec_core.reports.unknown_order`).
    """

    kind: ReportKind
    account_id: str
    symbol: str
    cl_order_id: str
    state: OrderState
    side: Side | None = None
    order_type: OrderType | None = None
    qty: int = 0
    filled_qty: int = 0
    avg_fill_price: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    duration: Duration = Duration.DAY
    good_thru_date: date | None = None
    orig_cl_order_id: str = ""
    chain_id: str = ""
    venue_order_id: str = ""
    fill: Fill | None = None
    request_type: RequestType | None = None
    reject_code: str = ""
    reject_text: str = ""
    ts_ns: int = 0


class PositionReport(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="position"
):
    position: Position
    ts_ns: int = 0


class AccountReport(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="account"
):
    account: Account
    ts_ns: int = 0


class SnapshotComplete(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="snapshot_complete"
):
    """Everything the venue had at subscription (or resubscription) time has been sent."""

    account_id: str
    ts_ns: int = 0


class MarginCall(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="margin_call"
):
    """The account's equity fell below its maintenance margin at a daily settlement.

    ``equity`` is the balance plus open P&L; ``maintenance_margin`` and
    ``initial_margin`` are the account's requirements for the positions it holds;
    ``call_amount`` is what brings the equity back to the initial margin (the
    exchange's performance-bond rule). ``liquidating``: the venue flattens the
    account's positions (at the next open if the market is closed) because the
    account is configured so; otherwise the positions stay and the call stands.
    """

    account_id: str
    currency: str
    equity: Decimal
    maintenance_margin: Decimal
    initial_margin: Decimal
    call_amount: Decimal
    trade_date: date
    liquidating: bool = False
    ts_ns: int = 0


class SessionEventKind(StrEnum):
    CONNECTED = "CONNECTED"
    DISCONNECTED = "DISCONNECTED"
    RECONNECTED = "RECONNECTED"
    GAP = "GAP"  # events may have been missed; a reconcile follows
    RECONCILED = "RECONCILED"  # state agrees with the venue again


class SessionEvent(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="session"
):
    kind: SessionEventKind
    detail: str = ""
    ts_ns: int = 0


TradeEvent: TypeAlias = (
    ExecutionReport | PositionReport | AccountReport | MarginCall | SnapshotComplete | SessionEvent
)
