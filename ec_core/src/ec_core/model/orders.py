"""Order requests (what we ask for), orders (what we track) and fills (what happened).

Requests are a tagged union on ``request_type`` so a journal or a wire codec
can round-trip them with msgspec. Requests are deliberately *not* validated on
construction: pre-trade validation (:mod:`ec_core.safety`) checks them and
reports every violation at once, naming field and rule, before anything is sent.

Requests, orders and fills are made and kept per order action (a replay keeps every
one), so, like the market records, they are structs without garbage-collector
tracking (``gc=False``): their fields are scalars, enums, dates, frozensets and other
such structs, which cannot form a reference cycle, and every untracked object kept is
one less for each full collection to walk.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TypeAlias

import msgspec

from ec_core.model.enums import (
    Duration,
    ExecInstruction,
    OrderType,
    RequestType,
    Side,
    SmpInstruction,
)
from ec_core.model.state import OrderState

__all__ = [
    "CancelAll",
    "CancelOrder",
    "Fill",
    "GoFlat",
    "LiquidateAll",
    "ModifyOrder",
    "NewOrder",
    "Order",
    "OrderRequest",
    "RequestBase",
]


class RequestBase(
    msgspec.Struct, tag_field="request_type", frozen=True, forbid_unknown_fields=True, gc=False
):
    """What every order request shares: a frozen struct, tagged on ``request_type`` (so
    the union :data:`OrderRequest` round-trips through a journal or a wire codec), that
    refuses unknown fields. Each request type adds its tag and its own fields."""

    @property
    def request_type(self) -> RequestType:
        """The request's kind (its tag)."""
        return _REQUEST_TYPES[type(self)]


class NewOrder(RequestBase, tag="NEW", frozen=True, kw_only=True):
    """Place a new order. ``cl_order_id`` is assigned by the executor when left empty.

    The order qualifiers are optional and off by default (``None``):

    * ``display_qty``: an iceberg order shows only this much at a time (limit and
      stop-limit orders that may rest; ``0 < display_qty <= qty``);
    * ``min_qty``: an IOC order trades only if at least this much can fill at once
      (CME Globex minimum quantity is a fill-and-kill qualifier; ``0 < min_qty <= qty``);
    * ``smp_id`` / ``smp_instruction``: self-match prevention for this order: it does
      not trade with a resting order of the same SMP id; the instruction says which of
      the two is cancelled (default: the resting one).

    A venue without one of them rejects the order before anything is sent.
    """

    account_id: str
    symbol: str
    side: Side
    qty: int
    order_type: OrderType
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    duration: Duration = Duration.DAY
    good_thru_date: date | None = None
    exec_instructions: frozenset[ExecInstruction] = frozenset()
    cl_order_id: str = ""
    is_manual: bool = False
    display_qty: int | None = None
    min_qty: int | None = None
    smp_id: str | None = None
    smp_instruction: SmpInstruction | None = None


class ModifyOrder(RequestBase, tag="MODIFY", frozen=True, kw_only=True):
    """Change a working order. Fields left ``None`` keep their value."""

    account_id: str
    symbol: str
    orig_cl_order_id: str
    cl_order_id: str = ""
    qty: int | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    duration: Duration | None = None
    good_thru_date: date | None = None


class CancelOrder(RequestBase, tag="CANCEL", frozen=True, kw_only=True):
    account_id: str
    symbol: str
    orig_cl_order_id: str
    cl_order_id: str = ""


class CancelAll(RequestBase, tag="CANCEL_ALL", frozen=True, kw_only=True):
    """Cancel every working order of the account, or of one instrument if ``symbol`` is set."""

    account_id: str
    symbol: str | None = None
    cl_order_id: str = ""


class LiquidateAll(RequestBase, tag="LIQUIDATE_ALL", frozen=True, kw_only=True):
    """Cancel working orders, then flatten the position, of one instrument or all."""

    account_id: str
    symbol: str | None = None
    cl_order_id: str = ""


class GoFlat(RequestBase, tag="GO_FLAT", frozen=True, kw_only=True):
    """Cancel everything and flatten every position of the account."""

    account_id: str
    cl_order_id: str = ""


OrderRequest: TypeAlias = NewOrder | ModifyOrder | CancelOrder | CancelAll | LiquidateAll | GoFlat

_REQUEST_TYPES: dict[type[RequestBase], RequestType] = {
    kind: RequestType(str(kind.__struct_config__.tag))
    for kind in (NewOrder, ModifyOrder, CancelOrder, CancelAll, LiquidateAll, GoFlat)
}


class Fill(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """One execution. ``fill_id`` is unique per venue, so a duplicate is recognised.

    ``is_aggressor`` says which side of the match this order was: ``True`` it arrived
    and took liquidity (the aggressor, who pays the taker fee), ``False`` it rested and
    was taken (passive), ``None`` the venue does not say (an auction fill has neither
    side; journals written before the field read as ``None``).
    """

    fill_id: str
    account_id: str
    symbol: str
    side: Side
    qty: int
    price: Decimal
    ts_ns: int
    cl_order_id: str = ""
    chain_id: str = ""
    venue_order_id: str = ""
    commission: Decimal = Decimal(0)
    is_aggressor: bool | None = None


class Order(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """The state of one order chain as last known. ``chain_id`` stays the same across modifies."""

    chain_id: str
    cl_order_id: str
    account_id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: int
    state: OrderState
    filled_qty: int = 0
    avg_fill_price: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    duration: Duration = Duration.DAY
    good_thru_date: date | None = None
    exec_instructions: frozenset[ExecInstruction] = frozenset()
    venue_order_id: str = ""
    reject_code: str = ""
    reject_text: str = ""
    updated_ns: int = 0

    @property
    def remaining_qty(self) -> int:
        return 0 if self.state.is_final else max(self.qty - self.filled_qty, 0)
